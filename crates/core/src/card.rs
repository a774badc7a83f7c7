//! Card numbers: the one rule that turns what a reader sends, what a controller's buffer holds,
//! what a guard types and what a residents spreadsheet says into the same text, so that they
//! can be compared. Every adapter parses with [`CardNumber::parse`]; nothing else normalises a
//! card number.
//!
//! The rule (also in `docs/configuration.md`, "Card numbers"):
//!
//! 1. Spaces (also the full-width one), `:` between bytes and a leading `0x` are ignored;
//!    full-width digits and letters count as their ASCII forms; case does not matter.
//! 2. Two decimal numbers joined by `,` or `-` (or `，`) are the printed Wiegand form
//!    *facility,card*: 26-bit cards print `123,45678` (facility 0–255), 34-bit cards
//!    `12345,45678` (facility 0–65535); the card part is 0–65535. The number is
//!    `facility × 65536 + card`, the Wiegand payload without its parity bits.
//! 3. Exactly ten decimal digits are the decimal number printed on most cards (`0010597059`),
//!    0–4294967295.
//! 4. Anything else is hexadecimal, at most 32 digits (a 4, 7 or 10-byte UID).
//! 5. The result is upper-case hexadecimal, leading zeros removed and then padded back to
//!    whole bytes and at least 8 digits: `a1b2c3`, `00A1B2C3`, `0x00a1b2c3` and `0010597059`
//!    are `00A1B2C3`; a 7-byte UID keeps its 14 digits (`04A1B2C3D4E5F6`).
//!    A spreadsheet that dropped a card's leading zeros therefore still matches its reader.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Most hex digits a card number may have (a 16-byte identifier).
pub const MAX_HEX_DIGITS: usize = 32;
/// Fewest digits of the canonical form: shorter numbers are zero-padded to it.
const MIN_DIGITS: usize = 8;

/// A card number in its one canonical form (see the module's rule). Compares, hashes and
/// prints as that text.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct CardNumber(String);

/// Why a text is not a card number; the message says how to write one.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CardError {
    #[error("no card number was given; write it as the reader shows it, e.g. 04A1B2C3")]
    Empty,
    #[error(
        "card number '{0}' is not hexadecimal, ten decimal digits or facility,card; write it as the reader shows it, e.g. 04A1B2C3, 0010597059 or 123,45678"
    )]
    Unreadable(String),
    #[error(
        "card number '{0}' has more than {MAX_HEX_DIGITS} hex digits; check it was copied whole"
    )]
    TooLong(String),
    #[error(
        "card number '{0}' is not a Wiegand facility,card pair: the facility is 0-65535 and the card 0-65535"
    )]
    Wiegand(String),
    #[error("card number '{0}' is above 4294967295, the largest ten-digit decimal card number")]
    Decimal(String),
}

impl CardNumber {
    /// Reads a card number written in any accepted form (see the module's rule).
    pub fn parse(text: &str) -> Result<CardNumber, CardError> {
        let raw = text.trim();
        let mut s = String::with_capacity(raw.len());
        for c in raw.chars() {
            match ascii(c) {
                ' ' | ':' | '\t' => {}
                c => s.push(c.to_ascii_uppercase()),
            }
        }
        if s.is_empty() {
            return Err(CardError::Empty);
        }
        if let Some((facility, card)) = s.split_once([',', '-'])
            && !facility.is_empty()
            && !card.is_empty()
            && all_decimal(facility)
            && all_decimal(card)
        {
            return match (facility.parse::<u32>(), card.parse::<u32>()) {
                (Ok(f), Ok(c)) if f <= 0xFFFF && c <= 0xFFFF => {
                    Ok(CardNumber::from_u64((u64::from(f) << 16) | u64::from(c)))
                }
                _ => Err(CardError::Wiegand(raw.to_string())),
            };
        }
        if s.len() == 10 && all_decimal(&s) {
            return match s.parse::<u32>() {
                Ok(n) => Ok(CardNumber::from_u64(u64::from(n))),
                Err(_) => Err(CardError::Decimal(raw.to_string())),
            };
        }
        let hex = s.strip_prefix("0X").unwrap_or(&s);
        if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(CardError::Unreadable(raw.to_string()));
        }
        let digits = hex.trim_start_matches('0');
        if digits.len() > MAX_HEX_DIGITS {
            return Err(CardError::TooLong(raw.to_string()));
        }
        let width = MIN_DIGITS.max(digits.len().div_ceil(2) * 2);
        Ok(CardNumber(format!("{digits:0>width$}")))
    }

    /// The card number of a controller's read buffer (a 32-bit number).
    pub fn from_u32(n: u32) -> CardNumber {
        CardNumber::from_u64(u64::from(n))
    }

    fn from_u64(n: u64) -> CardNumber {
        CardNumber(format!("{n:0MIN_DIGITS$X}"))
    }

    /// The canonical text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Full-width forms (what Chinese input methods type) as ASCII.
fn ascii(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        c => c,
    }
}

fn all_decimal(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit())
}

impl std::str::FromStr for CardNumber {
    type Err = CardError;
    fn from_str(s: &str) -> Result<CardNumber, CardError> {
        CardNumber::parse(s)
    }
}

impl fmt::Display for CardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for CardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CardNumber({})", self.0)
    }
}

/// Read-only access to the canonical text, so `Option<CardNumber>::as_deref()` gives a `&str`.
impl std::ops::Deref for CardNumber {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for CardNumber {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for CardNumber {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for CardNumber {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for CardNumber {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

/// Stored passes written before this rule are read through it, so an old `A1B2C3` becomes
/// `00A1B2C3` when the store is opened.
impl<'de> Deserialize<'de> for CardNumber {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<CardNumber, D::Error> {
        let text = String::deserialize(d)?;
        CardNumber::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(s: &str) -> String {
        CardNumber::parse(s).unwrap().to_string()
    }

    #[test]
    fn every_accepted_writing_of_one_card_is_the_same_number() {
        // 0x00A1B2C3 = 10597059 = facility 161, card 45763.
        for written in [
            "00A1B2C3",
            "a1b2c3",
            "A1B2C3",
            "0xa1b2c3",
            "0000000000A1B2C3",
            " 00 A1 B2 C3 ",
            "00:a1:b2:c3",
            "０Ａ１Ｂ２Ｃ３",
            "0010597059",
            "161,45763",
            "161-45763",
            "161，45763",
        ] {
            assert_eq!(card(written), "00A1B2C3", "{written:?}");
        }
    }

    #[test]
    fn long_uids_keep_their_digits_and_short_ones_are_padded() {
        assert_eq!(card("04A1B2C3D4E5F6"), "04A1B2C3D4E5F6");
        assert_eq!(card("004A1B2C3D4E5F6"), "04A1B2C3D4E5F6");
        assert_eq!(card("1A1B2C3D4"), "01A1B2C3D4", "whole bytes");
        assert_eq!(card("1"), "00000001");
        assert_eq!(card("0"), "00000000");
        assert_eq!(card("12345678"), "12345678", "eight digits are hex");
        assert_eq!(card("65535,65535"), "FFFFFFFF", "34-bit facility,card");
        assert_eq!(card("4294967295"), "FFFFFFFF");
        assert_eq!(card(&"F".repeat(32)), "F".repeat(32));
        assert_eq!(CardNumber::from_u32(0xA1B2C3).as_str(), "00A1B2C3");
    }

    #[test]
    fn what_is_not_a_card_says_how_to_write_one() {
        for (text, want) in [
            ("", CardError::Empty),
            ("  ", CardError::Empty),
            ("XYZ", CardError::Unreadable("XYZ".into())),
            ("0x", CardError::Unreadable("0x".into())),
            ("12,", CardError::Unreadable("12,".into())),
            ("1,2,3", CardError::Unreadable("1,2,3".into())),
            ("65536,1", CardError::Wiegand("65536,1".into())),
            ("1,65536", CardError::Wiegand("1,65536".into())),
            ("4294967296", CardError::Decimal("4294967296".into())),
        ] {
            assert_eq!(CardNumber::parse(text), Err(want), "{text:?}");
        }
        let long = "1".repeat(33);
        assert_eq!(CardNumber::parse(&long), Err(CardError::TooLong(long)));
        assert!(
            CardError::Unreadable("x".into())
                .to_string()
                .contains("e.g. 04A1B2C3")
        );
    }

    #[test]
    fn stored_text_is_read_through_the_rule() {
        let c: CardNumber = serde_json::from_str("\"a1b2c3\"").unwrap();
        assert_eq!(c, "00A1B2C3");
        assert_eq!(serde_json::to_string(&c).unwrap(), "\"00A1B2C3\"");
        assert!(serde_json::from_str::<CardNumber>("\"nope\"").is_err());
    }
}
