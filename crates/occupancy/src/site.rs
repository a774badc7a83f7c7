//! The estate as occupancy needs it: doors with their zones, passes by id and card, holders
//! and households, and each household's building. Indexed once so that reading ten million
//! events does only integer work per event.

use foldhash::{HashMap, HashMapExt};
use gatehouse_core::CardNumber;
use gatehouse_core::config::{Config, Verify, ZoneKind};
use gatehouse_core::estate::{
    ById, CardIndex, EstateData, Household, Pass, Person, SharedEstate, SlotIndex,
};
use jiff::tz::TimeZone;
use std::sync::Arc;

use crate::OccupancyError;

/// A door: where a person is after passing it in either direction.
#[derive(Clone, Debug)]
pub struct DoorInfo {
    pub id: String,
    pub name: String,
    /// Zone index of the outer side (`None` for the street).
    pub outside: Option<u32>,
    /// Zone index of the inner side.
    pub inside: Option<u32>,
    /// The guard asks for phone digits here, so denials mean a holder who did not know them.
    pub checks_phone: bool,
}

#[derive(Clone, Debug)]
pub struct ZoneInfo {
    pub id: String,
    pub name: String,
    pub parent: Option<u32>,
    pub kind: Option<ZoneKind>,
    pub number: Option<String>,
}

/// A person as occupancy sees them: the core's own record (shared, not copied; its fields
/// read through, e.g. `info.id`, `info.name`) and the index of their household.
#[derive(Clone, Debug)]
pub struct PersonInfo {
    pub person: Arc<Person>,
    /// Shadows `Person::household` (an id): the household's index here.
    pub household: Option<u32>,
}

impl std::ops::Deref for PersonInfo {
    type Target = Person;
    fn deref(&self) -> &Person {
        &self.person
    }
}

/// A pass as occupancy sees it: the core's own record (shared; `info.id`, `info.card`) and
/// indexes of its holder and household.
#[derive(Clone, Debug)]
pub struct PassInfo {
    pub pass: Arc<Pass>,
    /// Shadows `Pass::holder` (an id): the holder's index here.
    pub holder: Option<u32>,
    /// The household the holder lives in (for visitors: none).
    pub household: Option<u32>,
    /// A visitor's pass counts for its host, never as a resident.
    pub visitor_host: Option<u32>,
}

impl std::ops::Deref for PassInfo {
    type Target = Pass;
    fn deref(&self) -> &Pass {
        &self.pass
    }
}

/// A household as occupancy sees it: the core's own record (shared; `info.id`) and indexes.
#[derive(Clone, Debug)]
pub struct HouseholdInfo {
    pub household: Arc<Household>,
    /// Shadows `Household::zone` (an id): the zone's index here.
    pub zone: Option<u32>,
    /// The building zone the household lives in (its zone or the nearest building above).
    pub building: Option<u32>,
    /// People who live here by registration (residents, owners, tenants, family).
    pub members: Vec<u32>,
    /// The household's resident passes (visitor passes excluded).
    pub passes: Vec<u32>,
    pub declared_vacant: bool,
}

impl std::ops::Deref for HouseholdInfo {
    type Target = Household;
    fn deref(&self) -> &Household {
        &self.household
    }
}

impl gatehouse_core::estate::HasId for PassInfo {
    fn id(&self) -> &str {
        &self.pass.id
    }
}

/// The estate indexed by small integers.
pub struct Site {
    pub site_id: String,
    pub site_name: String,
    pub tz: TimeZone,
    pub zones: Vec<ZoneInfo>,
    pub doors: Vec<DoorInfo>,
    pub people: Vec<PersonInfo>,
    pub passes: Vec<PassInfo>,
    pub households: Vec<HouseholdInfo>,
    zone_by_id: HashMap<String, u32>,
    door_by_id: HashMap<String, u32>,
    /// Keyed by the passes and households themselves (by id), so no id is copied.
    pass_by_id: SlotIndex,
    /// A card names the latest pass to claim it.
    pass_by_card: CardIndex,
    household_by_id: HashMap<ById<Household>, u32>,
}

impl Site {
    /// Indexes `config` and `estate` (a copy of each record is made; see
    /// [`Site::shared`]). Fails only when the site's time zone is unknown.
    pub fn new(config: &Config, estate: &EstateData) -> Result<Site, OccupancyError> {
        Site::build(
            config,
            estate.households.iter().cloned().map(Arc::new),
            estate.people.iter().cloned().map(Arc::new),
            estate.passes.iter().cloned().map(Arc::new),
        )
    }

    /// Indexes `config` and `estate`, sharing its records (the daemon's: the core's own).
    pub fn shared(config: &Config, estate: &SharedEstate) -> Result<Site, OccupancyError> {
        Site::build(
            config,
            estate.households.iter().cloned(),
            estate.people.iter().cloned(),
            estate.passes.iter().cloned(),
        )
    }

    fn build(
        config: &Config,
        estate_households: impl ExactSizeIterator<Item = Arc<Household>>,
        estate_people: impl ExactSizeIterator<Item = Arc<Person>>,
        estate_passes: impl ExactSizeIterator<Item = Arc<Pass>>,
    ) -> Result<Site, OccupancyError> {
        let tz = TimeZone::get(&config.site.timezone)
            .map_err(|e| OccupancyError::Estate(format!("site.timezone '{}' is not a known time zone ({e}); use an IANA name like Asia/Shanghai", config.site.timezone)))?;
        let mut zone_by_id = HashMap::new();
        for (i, z) in config.zones.iter().enumerate() {
            zone_by_id.insert(z.id.clone(), i as u32);
        }
        let zones: Vec<ZoneInfo> = config
            .zones
            .iter()
            .map(|z| ZoneInfo {
                id: z.id.clone(),
                name: z.name.clone(),
                parent: zone_by_id.get(&z.parent).copied(),
                kind: z.kind,
                number: z.number.clone(),
            })
            .collect();
        let doors: Vec<DoorInfo> = config
            .doors
            .iter()
            .map(|d| DoorInfo {
                id: d.id.clone(),
                name: d.name.clone(),
                outside: zone_by_id.get(&d.outside).copied(),
                inside: zone_by_id.get(&d.inside).copied(),
                checks_phone: d.verify == Verify::CardPhone,
            })
            .collect();
        let door_by_id = doors
            .iter()
            .enumerate()
            .map(|(i, d)| (d.id.clone(), i as u32))
            .collect();
        let mut household_by_id = HashMap::with_capacity(estate_households.len());
        let mut households = Vec::with_capacity(estate_households.len());
        for h in estate_households {
            let zone = zone_by_id.get(&h.zone).copied();
            household_by_id.insert(ById(h.clone()), households.len() as u32);
            households.push(HouseholdInfo {
                zone,
                building: None,
                members: Vec::new(),
                passes: Vec::new(),
                declared_vacant: h.tenure == gatehouse_core::estate::Tenure::DeclaredVacant,
                household: h,
            });
        }
        let mut person_by_id: HashMap<ById<Person>, u32> =
            HashMap::with_capacity(estate_people.len());
        let mut people = Vec::with_capacity(estate_people.len());
        for p in estate_people {
            let household = p
                .household
                .as_deref()
                .and_then(|h| household_by_id.get(h).copied());
            let idx = people.len() as u32;
            person_by_id.insert(ById(p.clone()), idx);
            if let Some(h) = household
                && p.role.lives_here()
            {
                households[h as usize].members.push(idx);
            }
            people.push(PersonInfo {
                person: p,
                household,
            });
        }
        let mut pass_by_id = SlotIndex::default();
        let mut pass_by_card = CardIndex::default();
        let mut passes: Vec<PassInfo> = Vec::with_capacity(estate_passes.len());
        pass_by_id.reserve(&passes, estate_passes.len());
        pass_by_card.reserve(estate_passes.len());
        for p in estate_passes {
            let idx = passes.len() as u32;
            let holder = person_by_id.get(p.holder.as_str()).copied();
            let visitor_host = p
                .visitor
                .as_ref()
                .and_then(|v| household_by_id.get(v.host_household.as_str()).copied());
            let household = if visitor_host.is_some() {
                None
            } else {
                holder.and_then(|h| {
                    let person = &people[h as usize];
                    person.household.filter(|_| person.role.lives_here())
                })
            };
            if let Some(h) = household {
                households[h as usize].passes.push(idx);
            }
            pass_by_card.claim(&p);
            passes.push(PassInfo {
                pass: p,
                holder,
                household,
                visitor_host,
            });
            pass_by_id.insert(&passes, idx);
        }
        let mut site = Site {
            site_id: config.site.id.clone(),
            site_name: config.site.name.clone(),
            tz,
            zones,
            doors,
            people,
            passes,
            households,
            zone_by_id,
            door_by_id,
            pass_by_id,
            pass_by_card,
            household_by_id,
        };
        for h in 0..site.households.len() {
            site.households[h].building = site.households[h].zone.and_then(|z| site.building_of(z));
        }
        Ok(site)
    }

    /// The building a zone lies in: the zone itself or its nearest ancestor of kind building.
    /// A zone tree without kinds falls back to the zone itself.
    pub fn building_of(&self, zone: u32) -> Option<u32> {
        let mut cur = Some(zone);
        let mut steps = 0;
        while let Some(z) = cur {
            if self.zones[z as usize].kind == Some(ZoneKind::Building) {
                return Some(z);
            }
            steps += 1;
            if steps > 64 {
                break;
            }
            cur = self.zones[z as usize].parent;
        }
        if self
            .zones
            .iter()
            .any(|z| z.kind == Some(ZoneKind::Building))
        {
            None
        } else {
            Some(zone)
        }
    }

    /// `zone` and every zone above it, `zone` first.
    pub fn zone_chain(&self, zone: u32) -> impl Iterator<Item = u32> + '_ {
        let mut cur = Some(zone);
        let mut steps = 0;
        std::iter::from_fn(move || {
            let z = cur?;
            steps += 1;
            cur = if steps > 64 {
                None
            } else {
                self.zones[z as usize].parent
            };
            Some(z)
        })
    }

    /// Registered residents (members of households) per zone, counting the zones within
    /// each, in zone order; and in the whole estate.
    pub fn registered_per_zone(&self) -> (Vec<u32>, u32) {
        let mut per_zone = vec![0u32; self.zones.len()];
        let mut site = 0;
        for h in &self.households {
            let members = h.members.len() as u32;
            site += members;
            if let Some(z) = h.zone {
                for c in self.zone_chain(z) {
                    per_zone[c as usize] += members;
                }
            }
        }
        (per_zone, site)
    }

    /// The site's offset from UTC at Unix second `t`, in seconds.
    pub fn utc_offset(&self, t: i64) -> i64 {
        jiff::Timestamp::from_second(t)
            .map(|ts| i64::from(self.tz.to_offset(ts).seconds()))
            .unwrap_or(0)
    }

    /// The local day `t` falls in, counted from 1970-01-01 (days taken as 86,400 s).
    pub fn local_day(&self, t: i64) -> i64 {
        (t + self.utc_offset(t)).div_euclid(86_400)
    }

    /// The local midnight that begins the day `t` falls in, as a Unix second.
    pub fn day_start(&self, t: i64) -> i64 {
        t - (t + self.utc_offset(t)).rem_euclid(86_400)
    }

    pub fn zone(&self, id: &str) -> Option<u32> {
        self.zone_by_id.get(id).copied()
    }
    pub fn door(&self, id: &str) -> Option<u32> {
        self.door_by_id.get(id).copied()
    }
    pub fn pass(&self, id: &str) -> Option<u32> {
        self.pass_by_id.get(&self.passes, id)
    }
    /// The pass a card number names, written in any form [`CardNumber`] accepts.
    pub fn pass_by_card(&self, card: &str) -> Option<u32> {
        let card = CardNumber::parse(card).ok()?;
        self.pass(&self.pass_by_card.get(&card)?.id)
    }
    pub fn household(&self, id: &str) -> Option<u32> {
        self.household_by_id.get(id).copied()
    }

    /// Households of a building (given by zone id, or by its number as in household ids).
    pub fn building_households(&self, building: &str) -> Option<(u32, Vec<u32>)> {
        let zone = self.zone(building).or_else(|| {
            self.zones
                .iter()
                .position(|z| {
                    z.kind == Some(ZoneKind::Building) && z.number.as_deref() == Some(building)
                })
                .map(|i| i as u32)
        })?;
        let list = (0..self.households.len() as u32)
            .filter(|&h| self.households[h as usize].building == Some(zone))
            .collect();
        Some((zone, list))
    }
}
