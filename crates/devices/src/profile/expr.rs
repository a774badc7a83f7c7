//! Address expressions of profile points: `ch`, `4 + ch`, `0x0100 + ch`, `2 * ch + 1`, `0x0010`.
//! A sum of terms, each a number (decimal or `0x` hex), `ch`, or `N * ch`; that is all vendor
//! maps need, and it stays readable in a TOML file.

use std::fmt;

/// `scale * ch + offset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddressExpr {
    pub scale: u32,
    pub offset: u32,
}

impl AddressExpr {
    /// Parses an expression; the error says what was not understood.
    pub fn parse(text: &str) -> Result<AddressExpr, String> {
        let mut expr = AddressExpr {
            scale: 0,
            offset: 0,
        };
        if text.trim().is_empty() {
            return Err("the address is empty".into());
        }
        for term in text.split('+') {
            let term = term.trim();
            let factors: Vec<&str> = term.split(['*', '·']).map(str::trim).collect();
            match factors.as_slice() {
                ["ch"] => expr.scale += 1,
                [n, "ch"] | ["ch", n] => expr.scale += number(n)?,
                [n] => expr.offset += number(n)?,
                _ => return Err(format!("cannot read the term '{term}'")),
            }
        }
        Ok(expr)
    }

    /// The protocol address for channel `ch`, if it fits in 16 bits.
    pub fn at(self, ch: u16) -> Option<u16> {
        let value = u64::from(self.scale) * u64::from(ch) + u64::from(self.offset);
        u16::try_from(value).ok()
    }

    /// Whether the address depends on the channel (a per-door point) or not (controller-wide).
    pub fn per_channel(self) -> bool {
        self.scale != 0
    }
}

impl fmt::Display for AddressExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.scale, self.offset) {
            (0, o) => write!(f, "0x{o:04X}"),
            (1, 0) => f.write_str("ch"),
            (1, o) => write!(f, "0x{o:04X} + ch"),
            (s, 0) => write!(f, "{s} * ch"),
            (s, o) => write!(f, "0x{o:04X} + {s} * ch"),
        }
    }
}

fn number(text: &str) -> Result<u32, String> {
    let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16),
        None => text.parse(),
    };
    parsed.map_err(|_| format!("'{text}' is not a number (write 12 or 0x000C)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_forms_vendor_maps_use() {
        let cases = [
            ("ch", 0, 3, 3),
            ("4 + ch", 4, 1, 5),
            ("0x0100 + ch", 0x100, 2, 0x102),
            ("0x0010", 0x10, 7, 0x10),
            ("2 * ch + 1", 1, 3, 7),
            ("ch*3", 0, 2, 6),
        ];
        for (text, offset, ch, want) in cases {
            let e = AddressExpr::parse(text).unwrap();
            assert_eq!(e.offset, offset, "{text}");
            assert_eq!(e.at(ch), Some(want), "{text}");
        }
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        for bad in ["", "ch - 1", "x + 1", "0xZZ", "ch * ch"] {
            assert!(AddressExpr::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(AddressExpr::parse("0xFFFF + ch").unwrap().at(1), None);
    }
}
