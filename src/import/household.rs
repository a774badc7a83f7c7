//! Household codes and the zones they live in. A code names building, unit and room
//! (`18-2-501`, or `18栋2单元501室` as offices write it); the building is the zone whose
//! `number`, id or name is that number (`number = "18"`, id `18`, `bldg-18`, name `18号楼`),
//! the unit the building's child zone numbered so, when the building has unit zones at all.
//! `kind` and `number` are optional: a zone of kind `area` or `unit` is never a building, one
//! of kind `building` or without a kind may be.

use gatehouse_core::config::{Config, Zone, ZoneKind};
use std::collections::HashMap;

/// A household code read into its numbers: building and unit without leading zeros, the room
/// as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Code {
    pub building: String,
    pub unit: String,
    pub room: String,
}

impl Code {
    /// The household id as stored: `18-2-501`.
    pub fn id(&self) -> String {
        format!("{}-{}-{}", self.building, self.unit, self.room)
    }
}

/// Words and marks that may stand between the numbers of a code.
const CODE_WORDS: [&str; 13] = [
    "号楼", "单元", "号", "栋", "幢", "座", "楼", "室", "房", "户", "第", "门", "#",
];

/// Reads a household code: three numbers separated by `-`, spaces, `/`, `.`, `_` or by the
/// words of [`CODE_WORDS`] (`18号楼2单元501室`). `None` when it is not one.
pub fn parse(text: &str) -> Option<Code> {
    let mut numbers = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits > 0 {
            numbers.push(&rest[..digits]);
            rest = &rest[digits..];
            continue;
        }
        let between = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        if !only_code_words(&rest[..between]) {
            return None;
        }
        rest = &rest[between..];
    }
    match numbers[..] {
        [b, u, r] => Some(Code {
            building: canonical(b),
            unit: canonical(u),
            room: r.to_string(),
        }),
        _ => None,
    }
}

/// Whether `s` is nothing but separators and [`CODE_WORDS`].
fn only_code_words(mut s: &str) -> bool {
    loop {
        s = s.trim_start_matches(['-', ' ', '/', '.', '_']);
        if s.is_empty() {
            return true;
        }
        match CODE_WORDS.iter().find(|w| s.starts_with(**w)) {
            Some(w) => s = &s[w.len()..],
            None => return false,
        }
    }
}

/// A number without leading zeros (`07` → `7`, `0` stays).
pub fn canonical(n: &str) -> String {
    let t = n.trim().trim_start_matches('0');
    if t.is_empty() { "0".into() } else { t.into() }
}

/// The one number a zone's id or name gives, when the rest of it is a building or unit word:
/// `18`, `18号楼`, `第18栋`, `bldg-18`, `Building 18`, `2单元`, `unit-2`.
fn number_in(text: &str, words: &[&str]) -> Option<String> {
    let t = text.trim().to_lowercase();
    let start = t.find(|c: char| c.is_ascii_digit())?;
    let len = t[start..]
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(t.len() - start);
    let (before, digits, after) = (&t[..start], &t[start..start + len], &t[start + len..]);
    let word = |s: &str| {
        let s = s.trim_matches(['-', ' ', '_', '#']);
        s.is_empty() || words.contains(&s)
    };
    (word(before) && word(after)).then(|| canonical(digits))
}

const BUILDING_WORDS: [&str; 12] = [
    "号楼", "号", "栋", "幢", "座", "楼", "第", "bldg", "building", "b", "block", "号院",
];
const UNIT_WORDS: [&str; 5] = ["单元", "unit", "u", "第", "门"];

/// How sure a zone's number is: written as `number`, or read from its id or name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Source {
    Number,
    IdOrName,
}

/// The zones of a configuration indexed by the numbers household codes use.
pub struct Zones<'a> {
    /// building number → candidate zones, each with where its number came from.
    buildings: HashMap<String, Vec<(Source, &'a Zone)>>,
    /// zone id → its child zones.
    children: HashMap<&'a str, Vec<&'a Zone>>,
}

/// Why a code found no zone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Miss {
    NoBuilding {
        building: String,
    },
    Ambiguous {
        building: String,
        zones: Vec<String>,
    },
    NoUnit {
        building: String,
        unit: String,
        zone: String,
    },
}

impl std::fmt::Display for Miss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Miss::NoBuilding { building } => write!(
                f,
                "building {building} is not in the configuration; check the number, or add a zone whose id or name is the building's number (name = \"{building}号楼\", or number = \"{building}\")"
            ),
            Miss::Ambiguous { building, zones } => write!(
                f,
                "building {building} could be zone {}; give the right one number = \"{building}\" in the configuration",
                zones
                    .iter()
                    .map(|z| format!("'{z}'"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
            Miss::NoUnit {
                building,
                unit,
                zone,
            } => write!(
                f,
                "building {building} has no unit {unit} in the configuration; check the number, or add a zone with parent = \"{zone}\" and name = \"{unit}单元\" (or number = \"{unit}\")"
            ),
        }
    }
}

impl<'a> Zones<'a> {
    pub fn new(config: &'a Config) -> Self {
        let mut buildings: HashMap<String, Vec<(Source, &Zone)>> = HashMap::new();
        let mut children: HashMap<&str, Vec<&Zone>> = HashMap::new();
        for z in &config.zones {
            children.entry(z.parent.as_str()).or_default().push(z);
            if matches!(z.kind, Some(ZoneKind::Area | ZoneKind::Unit)) {
                continue;
            }
            let mut numbers: Vec<(Source, String)> = Vec::new();
            if let Some(n) = z.number.as_deref() {
                numbers.push((Source::Number, canonical(n)));
            }
            for text in [&z.id, &z.name] {
                if let Some(n) = number_in(text, &BUILDING_WORDS) {
                    numbers.push((Source::IdOrName, n));
                }
            }
            numbers.sort();
            numbers.dedup_by(|a, b| a.1 == b.1);
            for (source, n) in numbers {
                buildings.entry(n).or_default().push((source, z));
            }
        }
        Zones {
            buildings,
            children,
        }
    }

    /// The zone a household of `code` lives in: its unit zone, or its building when the
    /// building has no unit zones.
    pub fn zone_of(&self, code: &Code) -> Result<&'a Zone, Miss> {
        let building = self.building(&code.building)?;
        let units: Vec<(String, &Zone)> = self
            .children
            .get(building.id.as_str())
            .into_iter()
            .flatten()
            .filter(|z| matches!(z.kind, None | Some(ZoneKind::Unit)))
            .filter_map(|z| Some((unit_number(z, building)?, *z)))
            .collect();
        if units.is_empty() {
            return Ok(building);
        }
        units
            .iter()
            .find(|(n, _)| *n == code.unit)
            .map(|(_, z)| *z)
            .ok_or_else(|| Miss::NoUnit {
                building: code.building.clone(),
                unit: code.unit.clone(),
                zone: building.id.clone(),
            })
    }

    fn building(&self, number: &str) -> Result<&'a Zone, Miss> {
        let candidates = self.buildings.get(number).map_or(&[][..], Vec::as_slice);
        let Some(best) = candidates.iter().map(|c| c.0).min() else {
            return Err(Miss::NoBuilding {
                building: number.to_string(),
            });
        };
        let best: Vec<&Zone> = candidates
            .iter()
            .filter(|c| c.0 == best)
            .map(|c| c.1)
            .collect();
        match best[..] {
            [one] => Ok(one),
            _ => Err(Miss::Ambiguous {
                building: number.to_string(),
                zones: best.iter().map(|z| z.id.clone()).collect(),
            }),
        }
    }
}

/// The unit number of a child zone of `building`: its `number`, else its id (`bldg-18-2` under
/// `bldg-18`, `2`, `unit-2`), else its name (`2单元`, `18号楼2单元`).
fn unit_number(zone: &Zone, building: &Zone) -> Option<String> {
    if let Some(n) = zone.number.as_deref() {
        return Some(canonical(n));
    }
    let id = zone
        .id
        .strip_prefix(building.id.as_str())
        .unwrap_or(&zone.id);
    if let Some(n) = number_in(id, &UNIT_WORDS) {
        return Some(n);
    }
    let name = zone
        .name
        .strip_prefix(building.name.as_str())
        .unwrap_or(&zone.name);
    number_in(name, &UNIT_WORDS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_read_as_offices_write_them() {
        let code = |b: &str, u: &str, r: &str| {
            Some(Code {
                building: b.into(),
                unit: u.into(),
                room: r.into(),
            })
        };
        assert_eq!(parse("18-2-501"), code("18", "2", "501"));
        assert_eq!(parse("018-02-0501"), code("18", "2", "0501"));
        assert_eq!(parse("18栋2单元501室"), code("18", "2", "501"));
        assert_eq!(parse("18号楼-2单元-501室"), code("18", "2", "501"));
        assert_eq!(parse("第18幢 2单元 501"), code("18", "2", "501"));
        assert_eq!(parse("18/2/501"), code("18", "2", "501"));
        assert_eq!(parse("18-2"), None);
        assert_eq!(parse("18-2-501-1"), None);
        assert_eq!(parse("A18-2-501"), None);
        assert_eq!(parse(""), None);
        assert_eq!(parse("北京市18-2-501"), None);
    }

    #[test]
    fn zone_numbers_come_from_ids_and_names() {
        let b = BUILDING_WORDS;
        assert_eq!(number_in("18号楼", &b).as_deref(), Some("18"));
        assert_eq!(number_in("bldg-18", &b).as_deref(), Some("18"));
        assert_eq!(number_in("Building 07", &b).as_deref(), Some("7"));
        assert_eq!(number_in("第3栋", &b).as_deref(), Some("3"));
        assert_eq!(number_in("18", &b).as_deref(), Some("18"));
        assert_eq!(number_in("area-1", &b), None);
        assert_eq!(number_in("1号楼2单元", &b), None);
        assert_eq!(number_in("单号片区", &b), None);
        assert_eq!(number_in("2单元", &UNIT_WORDS).as_deref(), Some("2"));
    }
}
