//! The people directory: an immutable picture of who lives where and holds what, for reads
//! that must not run on the core's task (console searches, household tables, the guard's pass
//! lookups). The runtime keeps one up to date from the core's saved changes and publishes each
//! version as an `Arc<Directory>`; readers search it on their own tasks.
//!
//! People search goes through indexes, never a scan of every pass for every person: by name
//! (the people whose name holds each character), by the last four phone digits, by the whole
//! phone, by household, by card and by pass number.

use crate::card::CardNumber;
use crate::estate::{ById, ByIdSet, CardIndex, Household, Pass, Person, SharedEstate, SlotIndex};
use foldhash::HashMap;
use foldhash::fast::RandomState;
use hashbrown::HashTable;
use std::hash::BuildHasher;
use std::sync::Arc;

/// Estate data indexed for reads. Every household, person and pass is the core's own (`Arc`,
/// shared with [`crate::model::Model`]), and the maps are keyed by them (no second copy of an
/// id), so a directory costs its indexes, not a copy of the estate; cloning one (a new
/// version) copies the indexes only.
#[derive(Clone, Default)]
pub struct Directory {
    /// Every person, by slot; slots never move (people are not deleted).
    people: Vec<Arc<Person>>,
    /// person id → slot.
    slot: SlotIndex,
    passes: ByIdSet<Pass>,
    /// Every pass, hashed by its holder's id (several per holder): a multimap without a list
    /// per holder or a copy of any id.
    by_holder: HashTable<ById<Pass>>,
    cards: CardIndex,
    households: ByIdSet<Household>,
    /// Slots of the people with a household, hashed by the household's id (a multimap).
    members: HashTable<u32>,
    /// Hashes the keys of `by_holder` and `members`.
    hasher: RandomState,
    /// A character of a name → slots of the people whose name holds it, ascending.
    by_char: HashMap<char, Vec<u32>>,
    /// The last four digits of a phone → slots, ascending; a whole phone is looked up here
    /// too, then compared (a few dozen people share four last digits in a large estate).
    by_tail: HashMap<u16, Vec<u32>>,
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
        estate: &SharedEstate,
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
    pub fn load(&mut self, estate: &SharedEstate) {
        self.households.reserve(estate.households.len());
        for h in &estate.households {
            self.put_household(h.clone());
        }
        self.people.reserve(estate.people.len());
        self.slot.reserve(&self.people, estate.people.len());
        for p in &estate.people {
            self.put_person(p.clone());
        }
        self.passes.reserve(estate.passes.len());
        self.cards.reserve(estate.passes.len());
        for p in &estate.passes {
            self.put_pass(p.clone());
        }
    }

    pub fn put_household(&mut self, h: Arc<Household>) {
        self.households.replace(ById(h));
    }

    /// Adds or replaces one person, keeping every index right.
    pub fn put_person(&mut self, p: Arc<Person>) {
        let slot = match self.slot_of(&p.id) {
            Some(slot) => {
                let old = self.people[slot as usize].clone();
                self.unindex(slot, &old);
                self.people[slot as usize] = p.clone();
                slot
            }
            None => {
                self.people.push(p.clone());
                let slot = (self.people.len() - 1) as u32;
                self.slot.insert(&self.people, slot);
                slot
            }
        };
        self.index(slot, &p);
    }

    fn slot_of(&self, id: &str) -> Option<u32> {
        self.slot.get(&self.people, id)
    }

    /// Adds or replaces one pass, keeping the card and holder indexes right.
    pub fn put_pass(&mut self, pass: Arc<Pass>) {
        if let Some(old) = self.passes.take(pass.id.as_str()) {
            self.cards.release(&old);
            if let Ok(entry) = self
                .by_holder
                .find_entry(self.hasher.hash_one(old.holder.as_str()), |p| {
                    p.id == old.id
                })
            {
                entry.remove();
            }
        }
        self.cards.claim(&pass);
        let hasher = &self.hasher;
        self.by_holder.insert_unique(
            hasher.hash_one(pass.holder.as_str()),
            ById(pass.clone()),
            |p| hasher.hash_one(p.holder.as_str()),
        );
        self.passes.insert(ById(pass));
    }

    fn index(&mut self, slot: u32, p: &Person) {
        for c in distinct_chars(&p.name) {
            insert_sorted(self.by_char.entry(c).or_default(), slot);
        }
        if let Some(tail) = tail(&p.phone) {
            insert_sorted(self.by_tail.entry(tail).or_default(), slot);
        }
        if let Some(h) = &p.household {
            let people = &self.people;
            let hasher = &self.hasher;
            self.members
                .insert_unique(hasher.hash_one(h.as_str()), slot, |&s| {
                    hasher.hash_one(people[s as usize].household.as_deref().unwrap_or(""))
                });
        }
    }

    fn unindex(&mut self, slot: u32, p: &Person) {
        for c in distinct_chars(&p.name) {
            remove_from(self.by_char.get_mut(&c), slot);
        }
        if let Some(tail) = tail(&p.phone) {
            remove_from(self.by_tail.get_mut(&tail), slot);
        }
        if let Some(h) = &p.household
            && let Ok(entry) = self
                .members
                .find_entry(self.hasher.hash_one(h.as_str()), |&s| s == slot)
        {
            entry.remove();
        }
    }

    pub fn person(&self, id: &str) -> Option<&Person> {
        self.slot_of(id)
            .map(|slot| self.people[slot as usize].as_ref())
    }

    pub fn household(&self, id: &str) -> Option<&Household> {
        self.households.get(id).map(|h| &*h.0)
    }

    /// Every household, in no order.
    pub fn households(&self) -> impl Iterator<Item = &Household> {
        self.households.iter().map(|h| &*h.0)
    }

    /// The members of a household, by person id.
    pub fn members(&self, household: &str) -> Vec<&Person> {
        let mut out: Vec<&Person> = self
            .member_slots(household)
            .map(|slot| self.people[slot as usize].as_ref())
            .collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out
    }

    fn member_slots<'a>(&'a self, household: &'a str) -> impl Iterator<Item = u32> + 'a {
        self.members
            .iter_hash(self.hasher.hash_one(household))
            .copied()
            .filter(move |&s| self.people[s as usize].household.as_deref() == Some(household))
    }

    /// The passes a person holds, by pass id.
    pub fn passes_of(&self, person: &str) -> Vec<&Pass> {
        let mut out: Vec<&Pass> = self
            .by_holder
            .iter_hash(self.hasher.hash_one(person))
            .filter(|p| p.holder == person)
            .map(|p| &*p.0)
            .collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out
    }

    /// The pass a pass number (any case) or a card number (any form [`CardNumber`] reads)
    /// names.
    pub fn find_pass(&self, card_or_number: &str) -> Option<&Pass> {
        let text = card_or_number.trim();
        self.passes
            .get(text)
            .or_else(|| self.passes.get(text.to_ascii_uppercase().as_str()))
            .map(|p| &p.0)
            .or_else(|| {
                let card = CardNumber::parse(text).ok()?;
                self.cards.get(&card)
            })
            .map(|p| &**p)
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
            slots.extend(self.slot_of(&id));
        }
        slots.extend(self.member_slots(q));
        if let Some(pass) = self.find_pass(q) {
            slots.extend(self.slot_of(&pass.holder));
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
            slots.extend(
                tail(&phone)
                    .and_then(|t| self.by_tail.get(&t))
                    .into_iter()
                    .flatten()
                    .filter(|&&s| self.people[s as usize].phone == phone),
            );
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

    /// Every household, person and pass, shared (not copied).
    pub fn shared_estate(&self) -> SharedEstate {
        SharedEstate {
            households: self.households.iter().map(|h| h.0.clone()).collect(),
            people: self.people.clone(),
            passes: self.passes.iter().map(|p| p.0.clone()).collect(),
        }
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
    use crate::estate::{EstateData, Role};

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
        Directory::new(&estate().into(), [("bldg-18".into(), "area-a".into())])
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
        d.put_person(Arc::new(Person::new(
            "R-2",
            "赵伟",
            "13811112222",
            Some("3-1-101"),
            Role::Owner,
        )));
        assert_eq!(ids(&d, "王"), ["R-1"]);
        assert_eq!(ids(&d, "赵伟"), ["R-2"]);
        assert!(ids(&d, "1234 5678").is_empty());
        assert_eq!(ids(&d, "2222"), ["R-2"]);
        assert_eq!(ids(&d, "3-1-101"), ["R-2", "R-3"]);
        d.put_pass(Arc::new(Pass::card("P-1", "B2".parse().unwrap(), "R-2")));
        assert!(d.find_pass("04A1B2C3").is_none(), "the old card is gone");
        assert_eq!(d.find_pass("b2").map(|p| p.holder.as_str()), Some("R-2"));
        assert!(d.passes_of("R-1").is_empty());
        // A second pass for the same holder, and a pass handed to another holder.
        d.put_pass(Arc::new(Pass::card("P-0", "C3".parse().unwrap(), "R-2")));
        d.put_pass(Arc::new(Pass::card("P-3", "A1".parse().unwrap(), "R-2")));
        let of = |d: &Directory, who: &str| -> Vec<String> {
            d.passes_of(who).iter().map(|p| p.id.clone()).collect()
        };
        assert_eq!(of(&d, "R-2"), ["P-0", "P-1", "P-3"]);
        assert!(of(&d, "R-3").is_empty());
        assert_eq!(ids(&d, "a1"), ["R-2"], "the card follows its pass");
        // A card claimed by another pass names that pass only.
        d.put_pass(Arc::new(Pass::card("P-9", "A1".parse().unwrap(), "R-1")));
        assert_eq!(d.find_pass("A1").map(|p| p.id.as_str()), Some("P-9"));
        // A person who moves leaves the old household's members.
        assert_eq!(d.members("3-1-101").len(), 2);
        d.put_person(Arc::new(Person::new(
            "R-3",
            "李秀英",
            "13700001111",
            Some("18-2-501"),
            Role::Owner,
        )));
        let members = |d: &Directory, h: &str| -> Vec<String> {
            d.members(h).iter().map(|p| p.id.clone()).collect()
        };
        assert_eq!(members(&d, "3-1-101"), ["R-2"]);
        assert_eq!(members(&d, "18-2-501"), ["R-1", "R-3"]);
        // An earlier version is untouched.
        assert_eq!(ids(&before, "王"), ["R-1", "R-2"]);
        assert_eq!(before.passes_of("R-1").len(), 1);
        assert_eq!(before.people_count(), 3);
    }
}
