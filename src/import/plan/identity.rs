//! Who each row of a residents file is: a person already stored, or someone new.
//!
//! A person is known by household, name and phone together, so that two people of the same
//! name in one flat (a father and son both called 王伟) are two people. A row matches a stored
//! person, in this order:
//!
//! 1. of the same household, name and phone;
//! 2. of the same household and name who holds the row's card (their phone changed);
//! 3. the only stored person of that household and name not matched by 1 or 2, when the file
//!    has only one row of that household and name not matched by 1 or 2 (their phone
//!    changed, and no card says otherwise);
//!
//! else the row is a new person. Re-importing a file therefore matches every row by rule 1
//! and changes nothing; a changed phone updates the person unless two people of that name in
//! that flat make it impossible to tell which one changed.

use gatehouse_core::estate::{EstateData, Person};
use std::collections::{HashMap, HashSet};

/// What identifies a row: household id (canonical), name, phone (normalised), card.
pub struct Key<'a> {
    pub household: &'a str,
    pub name: &'a str,
    pub phone: &'a str,
    pub card: Option<&'a str>,
}

/// For each row, the stored person it is, or `None` for a new person.
pub fn identify<'e>(existing: &'e EstateData, rows: &[Key<'_>]) -> Vec<Option<&'e Person>> {
    let mut by_name: HashMap<(&str, &str), Vec<&Person>> = HashMap::new();
    for p in &existing.people {
        if let Some(h) = p.household.as_deref() {
            by_name.entry((h, p.name.as_str())).or_default().push(p);
        }
    }
    let holder_of: HashMap<&str, &str> = existing
        .passes
        .iter()
        .filter(|p| p.visitor.is_none())
        .filter_map(|p| Some((p.card.as_deref()?, p.holder.as_str())))
        .collect();
    let mut claimed: HashSet<&str> = HashSet::new();
    let mut found: Vec<Option<&Person>> = vec![None; rows.len()];

    // Rules 1 and 2.
    for (i, row) in rows.iter().enumerate() {
        let candidates = by_name
            .get(&(row.household, row.name))
            .map_or(&[][..], Vec::as_slice);
        let same_phone = candidates
            .iter()
            .find(|p| p.phone == row.phone && !claimed.contains(p.id.as_str()));
        let holds_card = || {
            let holder = holder_of.get(row.card?)?;
            candidates
                .iter()
                .find(|p| p.id == *holder && !claimed.contains(p.id.as_str()))
        };
        if let Some(p) = same_phone.or_else(holds_card) {
            claimed.insert(p.id.as_str());
            found[i] = Some(*p);
        }
    }

    // Rule 3.
    let mut open_rows: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
    for (i, row) in rows.iter().enumerate() {
        if found[i].is_none() {
            open_rows
                .entry((row.household, row.name))
                .or_default()
                .push(i);
        }
    }
    for (key, open) in open_rows {
        let left: Vec<&&Person> = by_name
            .get(&key)
            .into_iter()
            .flatten()
            .filter(|p| !claimed.contains(p.id.as_str()))
            .collect();
        if let ([row], [person]) = (&open[..], &left[..]) {
            found[*row] = Some(**person);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_core::estate::{Pass, PassStatus, Role};

    fn person(id: &str, name: &str, phone: &str) -> Person {
        Person {
            id: id.into(),
            name: name.into(),
            phone: phone.into(),
            household: Some("18-2-501".into()),
            role: Role::Family,
        }
    }

    fn key<'a>(name: &'a str, phone: &'a str, card: Option<&'a str>) -> Key<'a> {
        Key {
            household: "18-2-501",
            name,
            phone,
            card,
        }
    }

    fn ids(found: &[Option<&Person>]) -> Vec<Option<String>> {
        found.iter().map(|p| p.map(|p| p.id.clone())).collect()
    }

    #[test]
    fn two_of_one_name_in_one_flat_are_two_people_and_stay_so() {
        let stored = EstateData {
            people: vec![
                person("R-000001", "王伟", "13900000001"),
                person("R-000002", "王伟", "13900000002"),
            ],
            ..EstateData::default()
        };
        let rows = [
            key("王伟", "13900000002", None),
            key("王伟", "13900000001", None),
        ];
        assert_eq!(
            ids(&identify(&stored, &rows)),
            [Some("R-000002".into()), Some("R-000001".into())]
        );
        // One namesake keeps their phone: the other row is the other, whose phone changed.
        let rows = [
            key("王伟", "13900000001", None),
            key("王伟", "13900000009", None),
        ];
        assert_eq!(
            ids(&identify(&stored, &rows)),
            [Some("R-000001".into()), Some("R-000002".into())],
            "the one left over is the one whose phone changed"
        );
    }

    #[test]
    fn a_changed_phone_updates_the_person_and_a_card_tells_namesakes_apart() {
        let mut stored = EstateData {
            people: vec![person("R-000001", "李娜", "13900000001")],
            ..EstateData::default()
        };
        let found = identify(&stored, &[key("李娜", "13900000099", None)]);
        assert_eq!(ids(&found), [Some("R-000001".into())]);

        stored
            .people
            .push(person("R-000002", "李娜", "13900000002"));
        stored.passes.push(Pass {
            id: "P-000001".into(),
            card: Some(gatehouse_core::CardNumber::parse("0BADCAFE").unwrap()),
            holder: "R-000002".into(),
            valid_from: None,
            valid_until: None,
            status: PassStatus::Active,
            groups: Vec::new(),
            override_modes: false,
            visitor: None,
        });
        let rows = [
            key("李娜", "13900000077", None),
            key("李娜", "13900000088", Some("0BADCAFE")),
        ];
        assert_eq!(
            ids(&identify(&stored, &rows)),
            [Some("R-000001".into()), Some("R-000002".into())]
        );
        // Two new phones and no card: neither can be told; both are new people.
        let rows = [
            key("李娜", "13900000077", None),
            key("李娜", "13900000088", None),
        ];
        assert_eq!(ids(&identify(&stored, &rows)), [None, None]);
    }
}
