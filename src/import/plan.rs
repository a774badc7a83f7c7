//! The pure part of the residents import: rows of a file, the configuration and the estate data
//! already stored go in; either the changes to write or every bad row comes out. No I/O here.
//!
//! People are keyed by (household, name): a row for a known person updates that person, a row
//! for a new one adds them with the next free id (`R-000001`, passes `P-000001`), in file order.
//! Importing the same file twice therefore changes nothing the second time.

use super::columns;
use super::table::Row;
use gatehouse_core::config::{Config, ZoneKind};
use gatehouse_core::estate::{EstateData, Household, Pass, PassStatus, Person, Role, Tenure};
use gatehouse_core::phone::{self, PhoneError};
use gatehouse_core::{CardNumber, time};
use std::collections::HashMap;

/// A row that cannot be imported: its number as a spreadsheet shows it (the header is row 1)
/// and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    pub row: usize,
    pub reason: String,
}

/// How many records an import adds or changes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub rows: usize,
    pub people_added: usize,
    pub people_updated: usize,
    pub people_unchanged: usize,
    pub passes_added: usize,
    pub passes_updated: usize,
    pub households_added: usize,
    pub households_updated: usize,
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} rows: people {} added, {} updated, {} unchanged; passes {} added, {} updated; households {} added, {} updated",
            self.rows,
            self.people_added,
            self.people_updated,
            self.people_unchanged,
            self.passes_added,
            self.passes_updated,
            self.households_added,
            self.households_updated
        )
    }
}

/// What an import would write: only new and changed records (the store upserts them).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan {
    pub changes: EstateData,
    pub counts: Counts,
}

impl Plan {
    pub fn changes_anything(&self) -> bool {
        let c = &self.changes;
        !(c.households.is_empty() && c.people.is_empty() && c.passes.is_empty())
    }
}

/// A row after its cells were checked.
struct Checked {
    row: usize,
    household: String,
    zone: String,
    name: String,
    phone: String,
    role: Role,
    card: Option<CardNumber>,
    valid_until: Option<jiff::Timestamp>,
}

/// Plans the import of `rows` against the data already stored. All or nothing: any bad row
/// gives every bad row, and nothing to write.
pub fn plan(config: &Config, existing: &EstateData, rows: &[Row]) -> Result<Plan, Vec<RowError>> {
    plan_with_progress(config, existing, rows, &mut |_, _| {})
}

/// [`plan`], telling `progress` (rows checked, rows in all) as it goes.
pub fn plan_with_progress(
    config: &Config,
    existing: &EstateData,
    rows: &[Row],
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Plan, Vec<RowError>> {
    let units = UnitZones::new(config);
    let tz = jiff::tz::TimeZone::get(&config.site.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
    let mut errors: Vec<RowError> = Vec::new();
    let mut checked = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        if i % 256 == 0 {
            progress(i, rows.len());
        }
        match check_row(row, &units, &tz) {
            Ok(c) => checked.push(c),
            Err(reasons) => errors.push(RowError {
                row: row.number,
                reason: reasons.join("; "),
            }),
        }
    }
    duplicates(&checked, existing, &mut errors);
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.row);
        return Err(errors);
    }
    progress(rows.len(), rows.len());
    Ok(merge(existing, &checked, rows.len()))
}

/// Which unit zone a household id's building and unit numbers name.
struct UnitZones {
    /// building number → building zone id.
    buildings: HashMap<String, String>,
    /// (building zone id, unit number) → unit zone id.
    units: HashMap<(String, String), String>,
}

impl UnitZones {
    fn new(config: &Config) -> Self {
        let number = |n: &Option<String>| n.as_deref().map(canonical_number);
        let mut buildings = HashMap::new();
        let mut units = HashMap::new();
        for z in &config.zones {
            match (z.kind, number(&z.number)) {
                (Some(ZoneKind::Building), Some(n)) => {
                    buildings.insert(n, z.id.clone());
                }
                (Some(ZoneKind::Unit), Some(n)) => {
                    units.insert((z.parent.clone(), n), z.id.clone());
                }
                _ => {}
            }
        }
        UnitZones { buildings, units }
    }

    /// The household id written canonically (no leading zeros in the building and unit) and its
    /// unit zone.
    fn resolve(&self, household: &str) -> Result<(String, String), String> {
        let parts: Vec<&str> = household.split('-').collect();
        let well_formed = parts.len() == 3
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        if !well_formed {
            return Err(format!(
                "household '{household}' is not building-unit-room; write it like 18-2-501"
            ));
        }
        let (building, unit) = (canonical_number(parts[0]), canonical_number(parts[1]));
        let Some(bldg_zone) = self.buildings.get(&building) else {
            return Err(format!(
                "household '{household}': building {building} is not in the configuration; check the number, or add a zone with kind = \"building\", number = \"{building}\""
            ));
        };
        let Some(unit_zone) = self.units.get(&(bldg_zone.clone(), unit.clone())) else {
            return Err(format!(
                "household '{household}': building {building} has no unit {unit} in the configuration; check the number, or add a zone with kind = \"unit\", number = \"{unit}\", parent = \"{bldg_zone}\""
            ));
        };
        Ok((format!("{building}-{unit}-{}", parts[2]), unit_zone.clone()))
    }
}

fn canonical_number(n: &str) -> String {
    let t = n.trim().trim_start_matches('0');
    if t.is_empty() { "0".into() } else { t.into() }
}

/// Checks the cells of one row; every problem of the row is said.
fn check_row(
    row: &Row,
    units: &UnitZones,
    tz: &jiff::tz::TimeZone,
) -> Result<Checked, Vec<String>> {
    let mut reasons = Vec::new();
    let household = units
        .resolve(row.household.trim())
        .map_err(|e| reasons.push(e))
        .ok();
    let name = row.name.trim().to_string();
    if name.is_empty() {
        reasons.push("name is empty; write the person's name as on their ID".into());
    } else if name.chars().count() > 40 {
        reasons.push("name is longer than 40 characters; shorten it".into());
    }
    // The reason never repeats the number: error lists end up in mail and chat.
    let phone = match phone::normalize(&row.phone) {
        Ok(p) => Some(p),
        Err(_) if row.phone.trim().is_empty() => {
            reasons.push(
                "phone is empty; every resident needs the mobile number registered with their pass"
                    .into(),
            );
            None
        }
        Err(PhoneError::NotDigits(_)) => {
            reasons.push("phone has characters other than digits (allowed: digits, spaces, dashes, a leading +86); correct it".into());
            None
        }
        Err(PhoneError::NotMobile(_)) => {
            reasons.push("phone is not a mainland mobile number (11 digits starting with 1, e.g. 13812345678); correct it".into());
            None
        }
    };
    let role = columns::role(&row.role);
    if role.is_none() {
        reasons.push(format!(
            "role '{}' is not one of owner, tenant, family, staff (业主, 租户, 家属, 工作人员); correct it or leave it empty",
            row.role.trim()
        ));
    }
    let card = card_number(&row.pass).map_err(|e| reasons.push(e)).ok();
    let valid_until = time::valid_until(&row.valid_until, tz)
        .map_err(|e| reasons.push(format!("valid_until {e}")))
        .ok();
    match (household, phone, role, card, valid_until) {
        (Some((household, zone)), Some(phone), Some(role), Some(card), Some(valid_until))
            if reasons.is_empty() =>
        {
            Ok(Checked {
                row: row.number,
                household,
                zone,
                name,
                phone,
                role,
                card,
                valid_until,
            })
        }
        _ => Err(reasons),
    }
}

/// The card number of the pass cell, by the core's one rule (the same a reader's goes through).
fn card_number(cell: &str) -> Result<Option<CardNumber>, String> {
    if cell.trim().is_empty() {
        return Ok(None);
    }
    CardNumber::parse(cell)
        .map(Some)
        .map_err(|e| format!("pass '{}' is not a card number: {e}", cell.trim()))
}

/// Duplicate people and cards within the file, and cards that already belong to someone else.
fn duplicates(checked: &[Checked], existing: &EstateData, errors: &mut Vec<RowError>) {
    let mut fail = |row: usize, reason: String| match errors.iter_mut().find(|e| e.row == row) {
        Some(e) => e.reason = format!("{}; {reason}", e.reason),
        None => errors.push(RowError { row, reason }),
    };
    let mut people: HashMap<(&str, &str), usize> = HashMap::new();
    let mut cards: HashMap<&str, usize> = HashMap::new();
    for c in checked {
        if let Some(first) = people.insert((&c.household, &c.name), c.row) {
            people.insert((&c.household, &c.name), first);
            fail(
                c.row,
                format!(
                    "{} of household {} is also on row {first}; list each person once",
                    c.name, c.household
                ),
            );
        }
        if let Some(card) = c.card.as_deref()
            && let Some(first) = cards.insert(card, c.row)
        {
            cards.insert(card, first);
            fail(
                c.row,
                format!("pass {card} is also on row {first}; each card belongs to one person"),
            );
        }
    }
    // Against the store: a card held by another person is a conflict unless this file gives
    // that person a different card (a swap).
    let person_key: HashMap<&str, (&str, &str)> = existing
        .people
        .iter()
        .filter_map(|p| {
            p.household
                .as_deref()
                .map(|h| (p.id.as_str(), (h, p.name.as_str())))
        })
        .collect();
    let card_in_file: HashMap<(&str, &str), Option<&str>> = checked
        .iter()
        .map(|c| ((c.household.as_str(), c.name.as_str()), c.card.as_deref()))
        .collect();
    let mut by_card: HashMap<&str, Vec<&Pass>> = HashMap::new();
    for pass in &existing.passes {
        if let Some(card) = pass.card.as_deref() {
            by_card.entry(card).or_default().push(pass);
        }
    }
    for c in checked {
        let Some(card) = c.card.as_deref() else {
            continue;
        };
        for pass in by_card.get(card).into_iter().flatten() {
            let holder = person_key.get(pass.holder.as_str()).copied();
            if holder == Some((c.household.as_str(), c.name.as_str())) {
                continue;
            }
            let swapped = holder
                .and_then(|k| card_in_file.get(&k).copied().flatten())
                .is_some_and(|new| new != card);
            if !swapped {
                fail(
                    c.row,
                    format!(
                        "pass {card} is already the card of pass {} held by {}; give this person another card, or take the card off {} first",
                        pass.id, pass.holder, pass.id
                    ),
                );
            }
        }
    }
}

/// The next free number after the highest `{prefix}NNNNNN` id.
fn next_number<'a>(ids: impl Iterator<Item = &'a str>, prefix: &str) -> u64 {
    ids.filter_map(|id| id.strip_prefix(prefix)?.parse::<u64>().ok())
        .max()
        .unwrap_or(0)
        + 1
}

/// Applies checked rows to the stored data and keeps what changed.
fn merge(existing: &EstateData, checked: &[Checked], rows: usize) -> Plan {
    let mut counts = Counts {
        rows,
        ..Counts::default()
    };
    let mut changes = EstateData::default();
    let mut next_person = next_number(existing.people.iter().map(|p| p.id.as_str()), "R-");
    let mut next_pass = next_number(existing.passes.iter().map(|p| p.id.as_str()), "P-");
    let people: HashMap<(&str, &str), &Person> = existing
        .people
        .iter()
        .filter_map(|p| Some(((p.household.as_deref()?, p.name.as_str()), p)))
        .collect();
    let mut by_holder: HashMap<&str, Vec<&Pass>> = HashMap::new();
    for pass in existing.passes.iter().filter(|p| p.visitor.is_none()) {
        by_holder
            .entry(pass.holder.as_str())
            .or_default()
            .push(pass);
    }

    for c in checked {
        let person = match people.get(&(c.household.as_str(), c.name.as_str())) {
            Some(old) => {
                let new = Person {
                    phone: c.phone.clone(),
                    role: c.role,
                    ..(*old).clone()
                };
                if &new == *old {
                    counts.people_unchanged += 1;
                } else {
                    counts.people_updated += 1;
                    changes.people.push(new.clone());
                }
                new
            }
            None => {
                let new = Person {
                    id: format!("R-{next_person:06}"),
                    name: c.name.clone(),
                    phone: c.phone.clone(),
                    household: Some(c.household.clone()),
                    role: c.role,
                };
                next_person += 1;
                counts.people_added += 1;
                changes.people.push(new.clone());
                new
            }
        };
        let Some(card) = &c.card else { continue };
        // The holder's pass with this card, else their own card pass (a replaced card).
        let held = by_holder
            .get(person.id.as_str())
            .map_or(&[][..], Vec::as_slice);
        let old = held
            .iter()
            .find(|p| p.card.as_ref() == Some(card))
            .or_else(|| held.iter().find(|p| p.card.is_some()))
            .copied();
        match old {
            Some(old) => {
                let new = Pass {
                    card: Some(card.clone()),
                    valid_until: c.valid_until,
                    ..old.clone()
                };
                if &new != old {
                    counts.passes_updated += 1;
                    changes.passes.push(new);
                }
            }
            None => {
                changes.passes.push(Pass {
                    id: format!("P-{next_pass:06}"),
                    card: Some(card.clone()),
                    holder: person.id.clone(),
                    valid_from: None,
                    valid_until: c.valid_until,
                    status: PassStatus::Active,
                    groups: Vec::new(),
                    override_modes: false,
                    visitor: None,
                });
                next_pass += 1;
                counts.passes_added += 1;
            }
        }
    }
    households(existing, checked, &mut changes, &mut counts);
    Plan { changes, counts }
}

/// Households of the file: new ones are added; a known one follows the file's unit and tenure
/// (an office's `declared_vacant` is left alone).
fn households(
    existing: &EstateData,
    checked: &[Checked],
    changes: &mut EstateData,
    counts: &mut Counts,
) {
    let mut order: Vec<&str> = Vec::new();
    let mut seen: HashMap<&str, (&str, bool, bool)> = HashMap::new();
    for c in checked {
        let entry = seen.entry(&c.household).or_insert_with(|| {
            order.push(&c.household);
            (c.zone.as_str(), false, false)
        });
        entry.1 |= c.role == Role::Owner;
        entry.2 |= c.role == Role::Tenant;
    }
    let known: HashMap<&str, &Household> = existing
        .households
        .iter()
        .map(|h| (h.id.as_str(), h))
        .collect();
    for id in order {
        let (zone, owner, tenant) = seen[id];
        let tenure = if tenant && !owner {
            Tenure::Tenant
        } else {
            Tenure::Owner
        };
        match known.get(id) {
            None => {
                changes.households.push(Household {
                    id: id.to_string(),
                    zone: zone.to_string(),
                    tenure,
                });
                counts.households_added += 1;
            }
            Some(old) => {
                let tenure = if old.tenure == Tenure::DeclaredVacant {
                    old.tenure
                } else {
                    tenure
                };
                let new = Household {
                    zone: zone.to_string(),
                    tenure,
                    ..(*old).clone()
                };
                if &new != *old {
                    changes.households.push(new);
                    counts.households_updated += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
