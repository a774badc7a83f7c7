//! The estate as occupancy needs it: doors with their zones, passes by id and card, holders
//! and households, and each household's building. Indexed once so that reading ten million
//! events does only integer work per event.

use gatehouse_core::CardNumber;
use gatehouse_core::config::{Config, Verify, ZoneKind};
use gatehouse_core::estate::{EstateData, Role};
use jiff::tz::TimeZone;
use std::collections::HashMap;

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

#[derive(Clone, Debug)]
pub struct PersonInfo {
    pub id: String,
    pub name: String,
    /// Stored once; only ever shown through `gatehouse_core::phone::mask`.
    pub phone: String,
    pub household: Option<u32>,
    pub role: Role,
}

#[derive(Clone, Debug)]
pub struct PassInfo {
    pub id: String,
    pub card: Option<String>,
    pub holder: Option<u32>,
    /// The household the holder lives in (for visitors: none).
    pub household: Option<u32>,
    /// A visitor's pass counts for its host, never as a resident.
    pub visitor_host: Option<u32>,
}

#[derive(Clone, Debug)]
pub struct HouseholdInfo {
    pub id: String,
    pub zone: Option<u32>,
    /// The building zone the household lives in (its zone or the nearest building above).
    pub building: Option<u32>,
    /// People who live here by registration (residents, owners, tenants, family).
    pub members: Vec<u32>,
    /// The household's resident passes (visitor passes excluded).
    pub passes: Vec<u32>,
    pub declared_vacant: bool,
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
    pass_by_id: HashMap<String, u32>,
    pass_by_card: HashMap<String, u32>,
    household_by_id: HashMap<String, u32>,
}

impl Site {
    /// Indexes `config` and `estate`. Fails only when the site's time zone is unknown.
    pub fn new(config: &Config, estate: &EstateData) -> Result<Site, OccupancyError> {
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
        let mut household_by_id = HashMap::new();
        let mut households = Vec::with_capacity(estate.households.len());
        for h in &estate.households {
            let zone = zone_by_id.get(&h.zone).copied();
            household_by_id.insert(h.id.clone(), households.len() as u32);
            households.push(HouseholdInfo {
                id: h.id.clone(),
                zone,
                building: None,
                members: Vec::new(),
                passes: Vec::new(),
                declared_vacant: h.tenure == gatehouse_core::estate::Tenure::DeclaredVacant,
            });
        }
        let mut person_by_id = HashMap::new();
        let mut people = Vec::with_capacity(estate.people.len());
        for p in &estate.people {
            let household = p
                .household
                .as_ref()
                .and_then(|h| household_by_id.get(h).copied());
            let idx = people.len() as u32;
            person_by_id.insert(p.id.clone(), idx);
            if let Some(h) = household
                && p.role.lives_here()
            {
                households[h as usize].members.push(idx);
            }
            people.push(PersonInfo {
                id: p.id.clone(),
                name: p.name.clone(),
                phone: p.phone.clone(),
                household,
                role: p.role,
            });
        }
        let mut pass_by_id = HashMap::new();
        let mut pass_by_card = HashMap::new();
        let mut passes = Vec::with_capacity(estate.passes.len());
        for p in &estate.passes {
            let idx = passes.len() as u32;
            let holder = person_by_id.get(&p.holder).copied();
            let visitor_host = p
                .visitor
                .as_ref()
                .and_then(|v| household_by_id.get(&v.host_household).copied());
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
            pass_by_id.insert(p.id.clone(), idx);
            if let Some(card) = &p.card {
                pass_by_card.insert(card.to_string(), idx);
            }
            passes.push(PassInfo {
                id: p.id.clone(),
                card: p.card.as_ref().map(ToString::to_string),
                holder,
                household,
                visitor_host,
            });
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

    pub fn zone(&self, id: &str) -> Option<u32> {
        self.zone_by_id.get(id).copied()
    }
    pub fn door(&self, id: &str) -> Option<u32> {
        self.door_by_id.get(id).copied()
    }
    pub fn pass(&self, id: &str) -> Option<u32> {
        self.pass_by_id.get(id).copied()
    }
    /// The pass a card number names, written in any form [`CardNumber`] accepts.
    pub fn pass_by_card(&self, card: &str) -> Option<u32> {
        let card = CardNumber::parse(card).ok()?;
        self.pass_by_card.get(card.as_str()).copied()
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
