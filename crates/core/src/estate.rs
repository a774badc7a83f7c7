//! Estate data that lives in the store, not in the config file: households, people, passes.
//! Zones, doors and schedules come from the configuration ([`crate::config`]).

use crate::card::CardNumber;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A household (户), e.g. `18-2-501` (building-unit-room).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Household {
    pub id: String,
    /// The most specific zone the household lives in (its unit, else its building).
    pub zone: String,
    #[serde(default)]
    pub tenure: Tenure,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Tenure {
    #[default]
    Owner,
    Tenant,
    DeclaredVacant,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    #[default]
    Resident,
    Owner,
    Tenant,
    Family,
    Staff,
    Medical,
    Visitor,
    Guard,
}

impl Role {
    /// Residents of a household, as opposed to staff, visitors and guards.
    pub fn lives_here(self) -> bool {
        matches!(
            self,
            Role::Resident | Role::Owner | Role::Tenant | Role::Family
        )
    }
}

/// A person. The phone is stored once, here; it never goes into events, logs or MQTT, and
/// `Debug` prints it masked so a stray `?person` in a log line cannot leak it.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Person {
    /// `R-004211`.
    pub id: String,
    pub name: String,
    /// Normalised (digits only, no country code); see [`crate::phone`].
    pub phone: String,
    #[serde(default)]
    pub household: Option<String>,
    #[serde(default)]
    pub role: Role,
}

impl Person {
    /// A person with a normalised `phone`, living in `household` if any.
    pub fn new(id: &str, name: &str, phone: &str, household: Option<&str>, role: Role) -> Person {
        Person {
            id: id.into(),
            name: name.into(),
            phone: phone.into(),
            household: household.map(str::to_string),
            role,
        }
    }
}

impl std::fmt::Debug for Person {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Person")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("phone", &crate::phone::mask(&self.phone))
            .field("household", &self.household)
            .field("role", &self.role)
            .finish()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PassStatus {
    #[default]
    Active,
    Suspended,
    Revoked,
    Lost,
}

/// A credential: a card, a visitor's QR token, or a pass number the guard checks by eye.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pass {
    /// `P-000123`; also the number printed on a paper pass the guard can type.
    pub id: String,
    /// Card number, in its canonical form ([`CardNumber`]).
    #[serde(default)]
    pub card: Option<CardNumber>,
    /// The person who holds it.
    pub holder: String,
    #[serde(default)]
    pub valid_from: Option<jiff::Timestamp>,
    #[serde(default)]
    pub valid_until: Option<jiff::Timestamp>,
    #[serde(default)]
    pub status: PassStatus,
    /// Access-group ids; empty = the default rule (doors leading towards the holder's home).
    #[serde(default)]
    pub groups: Vec<String>,
    /// Staff and medical passes pass door and zone modes (`granted_override`).
    #[serde(default)]
    pub override_modes: bool,
    /// Set for a visitor's pass (boxed: few passes are visitors', and it would otherwise
    /// add a third to every resident's pass in memory).
    #[serde(default)]
    pub visitor: Option<Box<VisitorGrant>>,
}

impl Pass {
    /// An active card pass with no validity window, groups or override: the common case.
    /// Change fields with struct update syntax (`Pass { status, ..Pass::card(..) }`).
    pub fn card(id: &str, card: CardNumber, holder: &str) -> Pass {
        Pass {
            id: id.into(),
            card: Some(card),
            holder: holder.into(),
            valid_from: None,
            valid_until: None,
            status: PassStatus::Active,
            groups: vec![],
            override_modes: false,
            visitor: None,
        }
    }
}

/// What a visitor's pass allows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VisitorGrant {
    pub host_household: String,
    /// How many entries the pass allows; none = unlimited within its window.
    #[serde(default)]
    pub entries_allowed: Option<u32>,
    #[serde(default)]
    pub entries_used: u32,
    #[serde(default)]
    pub reason: Option<String>,
}

/// Everything the store holds about who lives where and who holds what.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EstateData {
    pub households: Vec<Household>,
    pub people: Vec<Person>,
    pub passes: Vec<Pass>,
}

/// Estate data as the core holds it: every household, person and pass behind an `Arc`, so
/// that the people directory (and anything else that keeps them) shares the core's copy
/// instead of making its own.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SharedEstate {
    pub households: Vec<Arc<Household>>,
    pub people: Vec<Arc<Person>>,
    pub passes: Vec<Arc<Pass>>,
}

impl From<EstateData> for SharedEstate {
    fn from(data: EstateData) -> SharedEstate {
        SharedEstate {
            households: data.households.into_iter().map(Arc::new).collect(),
            people: data.people.into_iter().map(Arc::new).collect(),
            passes: data.passes.into_iter().map(Arc::new).collect(),
        }
    }
}

/// What a household, person or pass is looked up by: its id.
pub trait HasId {
    fn id(&self) -> &str;
}

impl HasId for Household {
    fn id(&self) -> &str {
        &self.id
    }
}

impl HasId for Person {
    fn id(&self) -> &str {
        &self.id
    }
}

impl HasId for Pass {
    fn id(&self) -> &str {
        &self.id
    }
}

/// A shared household, person or pass that hashes and compares as its id, so that a set of
/// them is a map by id without a second copy of every id as the key (`set.get("P-1")`).
#[derive(Clone, Debug)]
pub struct ById<T>(pub Arc<T>);

impl<T: HasId> std::borrow::Borrow<str> for ById<T> {
    fn borrow(&self) -> &str {
        self.0.id()
    }
}

impl<T: HasId> std::hash::Hash for ById<T> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // As `str` hashes, which `Borrow<str>` requires.
        self.0.id().hash(state);
    }
}

impl<T: HasId> PartialEq for ById<T> {
    fn eq(&self, other: &Self) -> bool {
        self.0.id() == other.0.id()
    }
}

impl<T: HasId> Eq for ById<T> {}

impl<T> std::ops::Deref for ById<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// Households, people or passes by id.
pub type ByIdSet<T> = foldhash::HashSet<ById<T>>;

/// Passes by card number: each card names at most one pass, the latest to claim it. Holds
/// the passes themselves (shared), hashed by their card, so no card number is copied.
#[derive(Clone, Default)]
pub struct CardIndex {
    table: hashbrown::HashTable<ById<Pass>>,
    hasher: foldhash::fast::RandomState,
}

impl CardIndex {
    fn hash(&self, card: &CardNumber) -> u64 {
        std::hash::BuildHasher::hash_one(&self.hasher, card.as_str())
    }

    /// The pass that holds `card`.
    pub fn get(&self, card: &CardNumber) -> Option<&Arc<Pass>> {
        self.table
            .find(self.hash(card), |p| p.card.as_ref() == Some(card))
            .map(|p| &p.0)
    }

    /// `pass` takes its card (if any) from whichever pass held it.
    pub fn claim(&mut self, pass: &Arc<Pass>) {
        let Some(card) = &pass.card else { return };
        let hash = self.hash(card);
        if let Ok(entry) = self
            .table
            .find_entry(hash, |p| p.card.as_ref() == Some(card))
        {
            entry.remove();
        }
        let hasher = &self.hasher;
        self.table.insert_unique(hash, ById(pass.clone()), |p| {
            std::hash::BuildHasher::hash_one(hasher, p.card.as_ref().map_or("", CardNumber::as_str))
        });
    }

    /// Forgets `pass`'s card, if `pass` still holds it.
    pub fn release(&mut self, pass: &Pass) {
        let Some(card) = &pass.card else { return };
        if let Ok(entry) = self.table.find_entry(self.hash(card), |p| p.id == pass.id) {
            entry.remove();
        }
    }

    pub fn reserve(&mut self, more: usize) {
        let hasher = &self.hasher;
        self.table.reserve(more, |p| {
            std::hash::BuildHasher::hash_one(hasher, p.card.as_ref().map_or("", CardNumber::as_str))
        });
    }
}

impl<T: HasId> HasId for Arc<T> {
    fn id(&self) -> &str {
        (**self).id()
    }
}

/// Positions in a list of records by the records' ids: 4 bytes a record and no copy of any
/// id. The list is the caller's; a record must be in it before its position is inserted, and
/// a position's record must keep its id.
#[derive(Clone, Default)]
pub struct SlotIndex {
    table: hashbrown::HashTable<u32>,
    hasher: foldhash::fast::RandomState,
}

impl SlotIndex {
    /// The position of the record `id` in `records`.
    pub fn get<R: HasId>(&self, records: &[R], id: &str) -> Option<u32> {
        let hash = std::hash::BuildHasher::hash_one(&self.hasher, id);
        self.table
            .find(hash, |&i| records[i as usize].id() == id)
            .copied()
    }

    /// Indexes `records[slot]`, which has no position yet.
    pub fn insert<R: HasId>(&mut self, records: &[R], slot: u32) {
        let hasher = &self.hasher;
        let hash = |i: u32| std::hash::BuildHasher::hash_one(hasher, records[i as usize].id());
        self.table.insert_unique(hash(slot), slot, |&i| hash(i));
    }

    pub fn reserve<R: HasId>(&mut self, records: &[R], more: usize) {
        let hasher = &self.hasher;
        self.table.reserve(more, |&i| {
            std::hash::BuildHasher::hash_one(hasher, records[i as usize].id())
        });
    }
}
