//! Rows that cannot all be true: the same person or card twice in the file, and cards the store
//! already gives to someone else.

use super::{Checked, RowError};
use gatehouse_core::estate::{EstateData, Pass, Person};
use std::collections::HashMap;

/// Duplicate people and cards within the file, and cards that already belong to someone else.
/// `who` is the stored person of each checked row ([`identity::identify`]).
pub(super) fn duplicates(
    checked: &[Checked],
    who: &[Option<&Person>],
    existing: &EstateData,
    errors: &mut Vec<RowError>,
) {
    let mut fail = |row: usize, problem: String| match errors.iter_mut().find(|e| e.row == row) {
        Some(e) => e.problems.push(problem),
        None => errors.push(RowError {
            row,
            problems: vec![problem],
        }),
    };
    let mut people: HashMap<(&str, &str, &str), usize> = HashMap::new();
    let mut cards: HashMap<&str, usize> = HashMap::new();
    for c in checked {
        let key = (c.household.as_str(), c.name.as_str(), c.phone.as_str());
        if let Some(&first) = people.get(&key) {
            fail(
                c.row,
                format!(
                    "{} of household {} is also on row {first} with the same phone; list each person once",
                    c.name, c.household
                ),
            );
        } else {
            people.insert(key, c.row);
        }
        if let Some(card) = c.card.as_deref() {
            if let Some(&first) = cards.get(card) {
                fail(
                    c.row,
                    format!("pass {card} is also on row {first}; each card belongs to one person"),
                );
            } else {
                cards.insert(card, c.row);
            }
        }
    }
    // Against the store: a card held by another person is a conflict unless this file gives
    // that person a different card (a swap).
    let card_in_file: HashMap<&str, Option<&str>> = checked
        .iter()
        .zip(who)
        .filter_map(|(c, p)| Some((p.as_ref()?.id.as_str(), c.card.as_deref())))
        .collect();
    let mut by_card: HashMap<&str, Vec<&Pass>> = HashMap::new();
    for pass in &existing.passes {
        if let Some(card) = pass.card.as_deref() {
            by_card.entry(card).or_default().push(pass);
        }
    }
    for (c, person) in checked.iter().zip(who) {
        let Some(card) = c.card.as_deref() else {
            continue;
        };
        for pass in by_card.get(card).into_iter().flatten() {
            if person.is_some_and(|p| p.id == pass.holder) {
                continue;
            }
            let swapped = card_in_file
                .get(pass.holder.as_str())
                .copied()
                .flatten()
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
