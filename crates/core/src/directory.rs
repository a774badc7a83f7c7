//! The people directory: an immutable picture of who lives where and holds what, for reads
//! that must not run on the core's task (console searches, household tables, the guard's pass
//! lookups). The runtime keeps one up to date from the core's saved changes and publishes each
//! version as an `Arc<Directory>`; readers search it on their own tasks.
//!
//! People search goes through indexes, never a scan of every pass for every person: by name
//! (the people whose name holds each character), by the last four phone digits, by the whole
//! phone, by household, by card and by pass number.

use crate::card::CardNumber;
use crate::estate::{EstateData, Household, Pass, Person};
use foldhash::HashMap;
use std::sync::Arc;

/// Estate data indexed for reads. Cloning shares every person and pass (`Arc`), so a new
/// version costs the indexes' size, not the estate's.
#[derive(Clone, Default)]
pub struct Directory {
    /// Every person, by slot; slots never move (people are not deleted).
    people: Vec<Arc<Person>>,
    slot: HashMap<Arc<str>, u32>,
    passes: HashMap<Arc<str>, Arc<Pass>>,
    /// holder person id → their pass ids.
    passes_of: HashMap<Arc<str>, Vec<Arc<str>>>,
    cards: HashMap<CardNumber, Arc<str>>,
    households: HashMap<Arc<str>, Arc<Household>>,
    /// household id → slots of its members.
    members: HashMap<Arc<str>, Vec<u32>>,
    /// A character of a name → slots of the people whose name holds it, ascending.
    by_char: HashMap<char, Vec<u32>>,
    /// The last four digits of a phone → slots, ascending.
    by_tail: HashMap<u16, Vec<u32>>,
    /// A whole (normalised) phone → slots.
    by_phone: HashMap<Arc<str>, Vec<u32>>,
    /// The zone tree (zone id → parent), from the configuration.
    zones: Arc<HashMap<String, String>>,
}

/// A person a search found, with their passes (by id).
pub struct Found<'a> {
    pub person: &'a Person,
    pub passes: Vec<&'a Pass>,
}

impl Directory {
    /// The directory of `estate`, in the zone tree `zones` (zone id, parent id).
    pub fn new(
        estate: &EstateData,
        zones: impl IntoIterator<Item = (String, String)>,
    ) -> Directory {
        let mut d = Directory {
            zones: Arc::new(zones.into_iter().collect()),
            ..Directory::default()
        };
        d.load(estate);
        d
    }

    /// Households that live in `zone` or below it, by id.
    pub fn households_within(&self, zone: &str) -> Vec<&Household> {
        let mut out: Vec<&Household> = self
            .households()
            .filter(|h| crate::model::zone_within(&self.zones, &h.zone, zone))
            .collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out
    }

    /// Adds or replaces households, people and passes.
    pub fn load(&mut self, estate: &EstateData) {
        for h in &estate.households {
            self.put_household(h.clone());
        }
        for p in &estate.people {
            self.put_person(p.clone());
        }
        for p in &estate.passes {
            self.put_pass(p.clone());
        }
    }

    pub fn put_household(&mut self, h: Household) {
        let id: Arc<str> = h.id.as_str().into();
        self.households.insert(id, Arc::new(h));
    }

    /// Adds or replaces one person, keeping every index right.
    pub fn put_person(&mut self, p: Person) {
        let slot = match self.slot.get(p.id.as_str()) {
            Some(&slot) => {
                let old = self.people[slot as usize].clone();
                self.unindex(slot, &old);
                slot
            }
            None => {
                let slot = self.people.len() as u32;
                self.slot.insert(p.id.as_str().into(), slot);
                slot
            }
        };
        let p = Arc::new(p);
        self.index(slot, &p);
        match self.people.get_mut(slot as usize) {
            Some(place) => *place = p,
            None => self.people.push(p),
        }
    }

    /// Adds or replaces one pass, keeping the card and holder indexes right.
    pub fn put_pass(&mut self, pass: Pass) {
        let id: Arc<str> = pass.id.as_str().into();
        if let Some(old) = self.passes.get(&id).cloned() {
            if let Some(card) = &old.card {
                self.cards.remove(card);
            }
            if let Some(list) = self.passes_of.get_mut(old.holder.as_str()) {
                list.retain(|p| *p != id);
            }
        }
        if let Some(card) = &pass.card {
            self.cards.insert(card.clone(), id.clone());
        }
        let list = self
            .passes_of
            .entry(pass.holder.as_str().into())
            .or_default();
        if let Err(at) = list.binary_search(&id) {
            list.insert(at, id.clone());
        }
        self.passes.insert(id, Arc::new(pass));
    }

    fn index(&mut self, slot: u32, p: &Person) {
        for c in distinct_chars(&p.name) {
            insert_sorted(self.by_char.entry(c).or_default(), slot);
        }
        if let Some(tail) = tail(&p.phone) {
            insert_sorted(self.by_tail.entry(tail).or_default(), slot);
        }
        insert_sorted(
            self.by_phone.entry(p.phone.as_str().into()).or_default(),
            slot,
        );
        if let Some(h) = &p.household {
            insert_sorted(self.members.entry(h.as_str().into()).or_default(), slot);
        }
    }

    fn unindex(&mut self, slot: u32, p: &Person) {
        for c in distinct_chars(&p.name) {
            remove_from(self.by_char.get_mut(&c), slot);
        }
        if let Some(tail) = tail(&p.phone) {
            remove_from(self.by_tail.get_mut(&tail), slot);
        }
        remove_from(self.by_phone.get_mut(p.phone.as_str()), slot);
        if let Some(h) = &p.household {
            remove_from(self.members.get_mut(h.as_str()), slot);
        }
    }

    pub fn person(&self, id: &str) -> Option<&Person> {
        self.slot
            .get(id)
            .map(|&slot| self.people[slot as usize].as_ref())
    }

    pub fn household(&self, id: &str) -> Option<&Household> {
        self.households.get(id).map(Arc::as_ref)
    }

    /// Every household, in no order.
    pub fn households(&self) -> impl Iterator<Item = &Household> {
        self.households.values().map(Arc::as_ref)
    }

    /// The members of a household, by person id.
    pub fn members(&self, household: &str) -> Vec<&Person> {
        let mut out: Vec<&Person> = self
            .members
            .get(household)
            .into_iter()
            .flatten()
            .map(|&slot| self.people[slot as usize].as_ref())
            .collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out
    }

    /// The passes a person holds, by pass id.
    pub fn passes_of(&self, person: &str) -> Vec<&Pass> {
        self.passes_of
            .get(person)
            .into_iter()
            .flatten()
            .filter_map(|id| self.passes.get(id).map(Arc::as_ref))
            .collect()
    }

    /// The pass a pass number (any case) or a card number (any form [`CardNumber`] reads)
    /// names.
    pub fn find_pass(&self, card_or_number: &str) -> Option<&Pass> {
        let text = card_or_number.trim();
        self.passes
            .get(text)
            .or_else(|| self.passes.get(text.to_ascii_uppercase().as_str()))
            .or_else(|| {
                let card = CardNumber::parse(text).ok()?;
                self.passes.get(self.cards.get(&card)?)
            })
            .map(Arc::as_ref)
    }

    /// People whose name contains `q`, whose id, household, pass number or card is `q`, whose
    /// phone is `q` or ends in `q` (four digits): at most `limit`, by person id.
    pub fn search(&self, q: &str, limit: usize) -> Vec<Found<'_>> {
        let q = q.trim();
        let mut slots: Vec<u32> = Vec::new();
        if q.is_empty() {
            return Vec::new();
        }
        // Name: the candidates of the rarest character, then the whole text.
        let lists: Option<Vec<&Vec<u32>>> =
            distinct_chars(q).map(|c| self.by_char.get(&c)).collect();
        if let Some(rarest) = lists.and_then(|l| l.into_iter().min_by_key(|l| l.len())) {
            slots.extend(
                rarest
                    .iter()
                    .copied()
                    .filter(|&s| self.people[s as usize].name.contains(q)),
            );
        }
        for id in [q.to_string(), q.to_ascii_uppercase()] {
            slots.extend(self.slot.get(id.as_str()).copied());
        }
        slots.extend(self.members.get(q).into_iter().flatten().copied());
        if let Some(pass) = self.find_pass(q) {
            slots.extend(self.slot.get(pass.holder.as_str()).copied());
        }
        let digits: String = q.chars().filter(char::is_ascii_digit).collect();
        let only_digits = q
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '+'));
        if only_digits && digits.len() == 4 {
            slots.extend(
                tail(&digits)
                    .and_then(|t| self.by_tail.get(&t))
                    .into_iter()
                    .flatten(),
            );
        }
        if let Ok(phone) = crate::phone::normalize(q) {
            slots.extend(self.by_phone.get(phone.as_str()).into_iter().flatten());
        }
        let mut people: Vec<&Person> = slots
            .into_iter()
            .map(|s| self.people[s as usize].as_ref())
            .collect();
        people.sort_by(|a, b| a.id.cmp(&b.id));
        people.dedup_by(|a, b| a.id == b.id);
        people
            .into_iter()
            .take(limit)
            .map(|person| Found {
                person,
                passes: self.passes_of(&person.id),
            })
            .collect()
    }

    /// How many people the directory holds.
    pub fn people_count(&self) -> usize {
        self.people.len()
    }
}

fn distinct_chars(s: &str) -> impl Iterator<Item = char> + '_ {
    s.char_indices()
        .filter(move |&(i, c)| !s[..i].contains(c))
        .map(|(_, c)| c)
}

/// The last four digits of a phone as a number.
fn tail(phone: &str) -> Option<u16> {
    let digits = phone.as_bytes();
    let last = digits.get(digits.len().checked_sub(4)?..)?;
    last.iter().try_fold(0u16, |n, &b| {
        b.is_ascii_digit().then(|| n * 10 + u16::from(b - b'0'))
    })
}

fn insert_sorted(list: &mut Vec<u32>, slot: u32) {
    if let Err(at) = list.binary_search(&slot) {
        list.insert(at, slot);
    }
}

fn remove_from(list: Option<&mut Vec<u32>>, slot: u32) {
    if let Some(list) = list
        && let Ok(at) = list.binary_search(&slot)
    {
        list.remove(at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estate::Role;

    fn estate() -> EstateData {
        let person = |id: &str, name: &str, phone: &str, h: &str| {
            Person::new(id, name, phone, Some(h), Role::Owner)
        };
        EstateData {
            households: vec![Household {
                id: "18-2-501".into(),
                zone: "bldg-18".into(),
                tenure: Default::default(),
            }],
            people: vec![
                person("R-2", "王伟", "13812345678", "18-2-501"),
                person("R-1", "王卫平", "13900005678", "18-2-501"),
                person("R-3", "李秀英", "13700001111", "3-1-101"),
            ],
            passes: vec![
                Pass::card("P-1", "04A1B2C3".parse().unwrap(), "R-1"),
                Pass::card("P-3", "A1".parse().unwrap(), "R-3"),
            ],
        }
    }

    fn directory() -> Directory {
        Directory::new(&estate(), [("bldg-18".into(), "area-a".into())])
    }

    fn ids(d: &Directory, q: &str) -> Vec<String> {
        d.search(q, 100)
            .into_iter()
            .map(|f| f.person.id.clone())
            .collect()
    }

    #[test]
    fn finds_by_every_key_in_person_id_order() {
        let d = directory();
        assert_eq!(ids(&d, "王"), ["R-1", "R-2"]);
        assert_eq!(ids(&d, "王伟"), ["R-2"]);
        assert_eq!(ids(&d, "卫平"), ["R-1"]);
        assert_eq!(ids(&d, "5678"), ["R-1", "R-2"], "last four phone digits");
        assert_eq!(ids(&d, "138 1234 5678"), ["R-2"], "whole phone");
        assert_eq!(ids(&d, "18-2-501"), ["R-1", "R-2"]);
        assert_eq!(ids(&d, "p-3"), ["R-3"], "pass number in any case");
        assert_eq!(ids(&d, "0x000000a1"), ["R-3"], "card in another form");
        assert_eq!(ids(&d, "r-1"), ["R-1"]);
        assert!(ids(&d, "赵").is_empty());
        assert_eq!(d.search("王", 1).len(), 1, "limited");
        let found = d.search("卫平", 10);
        assert_eq!(found[0].passes[0].id, "P-1");
        let within: Vec<_> = d
            .households_within("area-a")
            .iter()
            .map(|h| &h.id)
            .collect();
        assert_eq!(within, ["18-2-501"]);
        assert!(d.households_within("area-b").is_empty());
    }

    #[test]
    fn changes_keep_the_indexes_right() {
        let mut d = directory();
        let before = d.clone();
        d.put_person(Person::new(
            "R-2",
            "赵伟",
            "13811112222",
            Some("3-1-101"),
            Role::Owner,
        ));
        assert_eq!(ids(&d, "王"), ["R-1"]);
        assert_eq!(ids(&d, "赵伟"), ["R-2"]);
        assert!(ids(&d, "1234 5678").is_empty());
        assert_eq!(ids(&d, "2222"), ["R-2"]);
        assert_eq!(ids(&d, "3-1-101"), ["R-2", "R-3"]);
        d.put_pass(Pass::card("P-1", "B2".parse().unwrap(), "R-2"));
        assert!(d.find_pass("04A1B2C3").is_none(), "the old card is gone");
        assert_eq!(d.find_pass("b2").map(|p| p.holder.as_str()), Some("R-2"));
        assert!(d.passes_of("R-1").is_empty());
        // An earlier version is untouched.
        assert_eq!(ids(&before, "王"), ["R-1", "R-2"]);
        assert_eq!(before.people_count(), 3);
    }
}
