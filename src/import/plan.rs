//! The pure part of the residents import: rows of a file, the configuration and the estate data
//! already stored go in; either the changes to write or every bad row comes out. No I/O here.
//!
//! People are known by household, name and phone ([`identity`]): a row for a known person
//! updates that person, a row for a new one adds them with the next free id (`R-000001`,
//! passes `P-000001`), in file order. Importing the same file twice therefore changes nothing
//! the second time.

mod duplicates;
mod identity;

use super::columns;
use super::household::{self, Zones};
use super::table::Row;
use gatehouse_core::config::Config;
use gatehouse_core::estate::{EstateData, Household, Pass, PassStatus, Person, Role, Tenure};
use gatehouse_core::phone::{self, PhoneError};
use gatehouse_core::{CardNumber, time};
use std::collections::HashMap;

/// A row that cannot be imported: its number as a spreadsheet shows it (the header is row 1)
/// and every problem it has. A problem's text names what is wrong without repeating the row's
/// own cells where they are not the problem, so that rows with the same problem say it alike
/// and can be counted together ([`group`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    pub row: usize,
    pub problems: Vec<String>,
}

impl RowError {
    /// The row's problems in one sentence.
    pub fn reason(&self) -> String {
        self.problems.join("; ")
    }
}

/// One distinct problem and the rows that have it, in row order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub reason: String,
    pub rows: Vec<usize>,
}

/// The distinct problems of `errors`, in the order of their first row.
pub fn group(errors: &[RowError]) -> Vec<Problem> {
    let mut out: Vec<Problem> = Vec::new();
    let mut at: HashMap<&str, usize> = HashMap::new();
    for e in errors {
        for p in &e.problems {
            match at.get(p.as_str()) {
                Some(&i) => out[i].rows.push(e.row),
                None => {
                    at.insert(p, out.len());
                    out.push(Problem {
                        reason: p.clone(),
                        rows: vec![e.row],
                    });
                }
            }
        }
    }
    out
}

/// How many records an import adds or changes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub rows: usize,
    /// Rows by what they did: a new person, a changed person or pass, nothing.
    pub rows_new: usize,
    pub rows_updated: usize,
    pub rows_unchanged: usize,
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
            "{} rows ({} new, {} updated, {} unchanged): people {} added, {} updated, {} unchanged; passes {} added, {} updated; households {} added, {} updated",
            self.rows,
            self.rows_new,
            self.rows_updated,
            self.rows_unchanged,
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
    let zones = Zones::new(config);
    let tz = jiff::tz::TimeZone::get(&config.site.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
    let mut errors: Vec<RowError> = Vec::new();
    let mut checked = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        if i % 256 == 0 {
            progress(i, rows.len());
        }
        match check_row(row, &zones, &tz) {
            Ok(c) => checked.push(c),
            Err(problems) => errors.push(RowError {
                row: row.number,
                problems,
            }),
        }
    }
    let keys: Vec<identity::Key> = checked
        .iter()
        .map(|c| identity::Key {
            household: &c.household,
            name: &c.name,
            phone: &c.phone,
            card: c.card.as_deref(),
        })
        .collect();
    let who = identity::identify(existing, &keys);
    duplicates::duplicates(&checked, &who, existing, &mut errors);
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.row);
        return Err(errors);
    }
    progress(rows.len(), rows.len());
    Ok(merge(existing, &checked, &who, rows.len()))
}

/// Checks the cells of one row; every problem of the row is said.
fn check_row(row: &Row, zones: &Zones, tz: &jiff::tz::TimeZone) -> Result<Checked, Vec<String>> {
    let mut reasons = Vec::new();
    let household = where_lives(&row.household, zones)
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
            "role '{}' is not one of {}; correct it or leave it empty",
            row.role.trim(),
            columns::role_words()
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

/// The household id (canonical) and the zone of the household `cell` names.
fn where_lives(cell: &str, zones: &Zones) -> Result<(String, String), String> {
    let cell = cell.trim();
    if cell.is_empty() {
        return Err("household is empty; write building-unit-room, like 18-2-501".into());
    }
    let Some(code) = household::parse(cell) else {
        return Err(
            "household is not building-unit-room; write it like 18-2-501 (or 18栋2单元501室)"
                .into(),
        );
    };
    let zone = zones.zone_of(&code).map_err(|miss| miss.to_string())?;
    Ok((code.id(), zone.id.clone()))
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

/// The next free number after the highest `{prefix}NNNNNN` id.
fn next_number<'a>(ids: impl Iterator<Item = &'a str>, prefix: &str) -> u64 {
    ids.filter_map(|id| id.strip_prefix(prefix)?.parse::<u64>().ok())
        .max()
        .unwrap_or(0)
        + 1
}

/// Applies checked rows to the stored data and keeps what changed.
fn merge(existing: &EstateData, checked: &[Checked], who: &[Option<&Person>], rows: usize) -> Plan {
    let mut counts = Counts {
        rows,
        ..Counts::default()
    };
    let mut changes = EstateData::default();
    let mut next_person = next_number(existing.people.iter().map(|p| p.id.as_str()), "R-");
    let mut next_pass = next_number(existing.passes.iter().map(|p| p.id.as_str()), "P-");
    let mut by_holder: HashMap<&str, Vec<&Pass>> = HashMap::new();
    for pass in existing.passes.iter().filter(|p| p.visitor.is_none()) {
        by_holder
            .entry(pass.holder.as_str())
            .or_default()
            .push(pass);
    }

    for (c, known) in checked.iter().zip(who) {
        let changed_before = changes.people.len() + changes.passes.len();
        let person = match known {
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
        pass_of(
            c,
            &person,
            &by_holder,
            &mut next_pass,
            &mut changes,
            &mut counts,
        );
        if known.is_none() {
            counts.rows_new += 1;
        } else if changes.people.len() + changes.passes.len() > changed_before {
            counts.rows_updated += 1;
        } else {
            counts.rows_unchanged += 1;
        }
    }
    households(existing, checked, &mut changes, &mut counts);
    Plan { changes, counts }
}

/// The row's card: the holder's pass updated, or a new pass.
fn pass_of(
    c: &Checked,
    person: &Person,
    by_holder: &HashMap<&str, Vec<&Pass>>,
    next_pass: &mut u64,
    changes: &mut EstateData,
    counts: &mut Counts,
) {
    let Some(card) = &c.card else { return };
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
            *next_pass += 1;
            counts.passes_added += 1;
        }
    }
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
