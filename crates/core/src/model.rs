//! The estate as the core sees it: configuration and store data indexed for fast lookups
//! (zone tree, doors, readers, passes by card, people, households).

use crate::card::CardNumber;
use crate::config::{AccessGroup, Config, Door, Policy, Schedule};
use crate::core::CoreError;
use crate::estate::{ById, ByIdSet, CardIndex, EstateData, Household, Pass, Person, SharedEstate};
use crate::event::Direction;
use foldhash::{HashMap, HashMapExt};
use jiff::tz::TimeZone;
use std::sync::Arc;

/// The root of the zone tree and the street, which are never configured.
pub const SITE: &str = "site";
pub const OUTSIDE: &str = "outside";

/// The chain of zones from `zone` up to `site`, `zone` first, in the tree `parents` (zone id →
/// parent id). The one walk of the zone tree: the model and the people directory use it.
pub fn ancestors<'a>(
    parents: &'a HashMap<String, String>,
    zone: &'a str,
) -> impl Iterator<Item = &'a str> + 'a {
    let mut next = Some(zone);
    let mut steps = 0;
    std::iter::from_fn(move || {
        let cur = next?;
        steps += 1;
        // A cycle cannot pass validation; the bound keeps a bad model from hanging.
        next = if cur == SITE || steps > 64 {
            None
        } else {
            parents
                .get(cur)
                .map(String::as_str)
                .or(Some(SITE))
                .filter(|p| *p != cur)
        };
        Some(cur)
    })
}

/// Whether `inner` is `outer` or lies below it in the tree `parents`.
pub fn zone_within(parents: &HashMap<String, String>, inner: &str, outer: &str) -> bool {
    inner != OUTSIDE && ancestors(parents, inner).any(|z| z == outer)
}

pub struct Model {
    pub site_id: String,
    pub site_name: String,
    pub tz: TimeZone,
    pub policy: Policy,
    /// zone id → parent zone id (`site` has none; `outside` is not in the tree).
    pub zone_parent: HashMap<String, String>,
    pub zone_names: HashMap<String, String>,
    pub doors: HashMap<String, Door>,
    /// Door ids in configuration order.
    pub door_order: Vec<String>,
    /// reader id → (door id, direction).
    pub readers: HashMap<String, (String, Direction)>,
    pub schedules: HashMap<String, Schedule>,
    pub groups: HashMap<String, AccessGroup>,
    /// Households, people and passes by id, each shared (`Arc`) with the people directory;
    /// changed only through [`Model::load_estate`], [`Model::put_person`] and
    /// [`Model::put_pass`], which keep `cards` right.
    households: ByIdSet<Household>,
    people: ByIdSet<Person>,
    passes: ByIdSet<Pass>,
    cards: CardIndex,
    /// door id → controller id (`mqtt` for MQTT doors).
    pub door_controller: HashMap<String, String>,
    /// controller id → the zone its fire input protects (see [`Model::fire_zone_of_door`]).
    pub controller_fire_zone: HashMap<String, String>,
    /// `[uplink]` is configured: a district broker has an outbox of its own (`replay`).
    pub uplink: bool,
    /// Event stamps in the site's zone.
    stamper: crate::time::Stamper,
}

impl Model {
    pub fn new(config: &Config, estate: EstateData) -> Result<Model, CoreError> {
        let tz = TimeZone::get(&config.site.timezone).map_err(|e| {
            CoreError::Config(format!("site.timezone '{}': {e}", config.site.timezone))
        })?;
        let mut zone_parent = HashMap::new();
        let mut zone_names = HashMap::new();
        zone_names.insert(SITE.to_string(), config.site.name.clone());
        zone_names.insert(OUTSIDE.to_string(), "outside".to_string());
        for z in &config.zones {
            zone_parent.insert(z.id.clone(), z.parent.clone());
            zone_names.insert(z.id.clone(), z.name.clone());
        }
        let mut readers = HashMap::new();
        let mut door_controller = HashMap::new();
        for d in &config.doors {
            for r in &d.readers {
                readers.insert(r.id.clone(), (d.id.clone(), r.direction));
            }
            if let Some(c) = &d.controller {
                door_controller.insert(d.id.clone(), c.clone());
            }
        }
        let mut model = Model {
            site_id: config.site.id.clone(),
            site_name: config.site.name.clone(),
            tz: tz.clone(),
            policy: config.policy.clone(),
            zone_parent,
            zone_names,
            doors: config
                .doors
                .iter()
                .map(|d| (d.id.clone(), d.clone()))
                .collect(),
            door_order: config.doors.iter().map(|d| d.id.clone()).collect(),
            readers,
            schedules: config
                .schedules
                .iter()
                .map(|s| (s.id.clone(), s.clone()))
                .collect(),
            groups: config
                .access_groups
                .iter()
                .map(|g| (g.id.clone(), g.clone()))
                .collect(),
            households: ByIdSet::default(),
            people: ByIdSet::default(),
            passes: ByIdSet::default(),
            cards: CardIndex::default(),
            door_controller,
            controller_fire_zone: HashMap::new(),
            uplink: config.uplink.is_some(),
            stamper: crate::time::Stamper::new(tz.clone()),
        };
        model.controller_fire_zone = model.controller_fire_zones(config);
        model.load_estate(estate);
        Ok(model)
    }

    /// The zone of each controller's fire input: the zone a `fire_inputs` entry on that
    /// controller names, else the smallest zone holding the inside of every door the
    /// controller drives. A controller-wide input is one input: it raises one alarm for one
    /// zone, never one per door.
    fn controller_fire_zones(&self, config: &Config) -> HashMap<String, String> {
        let mut insides: HashMap<&str, Vec<&str>> = HashMap::new();
        for d in &config.doors {
            if let Some(c) = d.controller.as_deref() {
                insides.entry(c).or_default().push(&d.inside);
            }
        }
        let mut out: HashMap<String, String> = HashMap::new();
        for (controller, zones) in insides {
            let mut common: Vec<&str> = self.ancestors(zones[0]).collect();
            for z in &zones[1..] {
                let chain: Vec<&str> = self.ancestors(z).collect();
                common.retain(|a| chain.contains(a));
            }
            if let Some(zone) = common.first() {
                out.insert(controller.to_string(), zone.to_string());
            }
        }
        let mut named: Vec<&str> = Vec::new();
        for f in &config.fire_inputs {
            if !named.contains(&f.controller.as_str()) {
                named.push(&f.controller);
                out.insert(f.controller.clone(), f.zone.clone());
            }
        }
        out
    }

    /// The zone a door's fire signal stands for, and the source to record: the controller's
    /// fire zone for a door on a Modbus controller (the input is the controller's, shared by
    /// all its doors), the door's own inside zone for a door that reports fire itself (MQTT).
    pub fn fire_zone_of_door(&self, door: &Door) -> (String, String) {
        match door
            .controller
            .as_deref()
            .and_then(|c| Some((c, self.controller_fire_zone.get(c)?)))
        {
            Some((c, zone)) if c != "mqtt" => (zone.clone(), format!("controller:{c}")),
            _ => (door.inside.clone(), format!("door:{}", door.id)),
        }
    }

    /// `now` as the site's stamp: RFC 3339 with the site's offset and milliseconds.
    pub fn stamp(&self, now: jiff::Timestamp) -> String {
        self.stamper.stamp(now)
    }

    /// Replaces or adds households, people and passes (import, console changes). Returns them
    /// as the model now holds them, for the people directory to share.
    pub fn load_estate(&mut self, estate: EstateData) -> SharedEstate {
        let shared = SharedEstate::from(estate);
        self.households.reserve(shared.households.len());
        for h in &shared.households {
            self.households.replace(ById(h.clone()));
        }
        self.people.reserve(shared.people.len());
        for p in &shared.people {
            self.put_person(p.clone());
        }
        self.passes.reserve(shared.passes.len());
        self.cards.reserve(shared.passes.len());
        for pass in &shared.passes {
            self.put_pass(pass.clone());
        }
        shared
    }

    /// Adds or replaces one person.
    pub fn put_person(&mut self, person: Arc<Person>) {
        self.people.replace(ById(person));
    }

    /// Adds or replaces one pass, keeping the card index right.
    pub fn put_pass(&mut self, pass: Arc<Pass>) {
        if let Some(old) = self.passes.get(pass.id.as_str()) {
            self.cards.release(old);
        }
        self.cards.claim(&pass);
        self.passes.replace(ById(pass));
    }

    pub fn pass(&self, id: &str) -> Option<&Pass> {
        self.passes.get(id).map(|p| &*p.0)
    }

    pub fn person(&self, id: &str) -> Option<&Person> {
        self.people.get(id).map(|p| &*p.0)
    }

    /// The pass that holds `card`.
    pub fn card_holder(&self, card: &CardNumber) -> Option<&Pass> {
        self.cards.get(card).map(|p| &**p)
    }

    /// Every household, person and pass, shared: what the people directory starts from.
    pub fn shared_estate(&self) -> SharedEstate {
        SharedEstate {
            households: self.households.iter().map(|h| h.0.clone()).collect(),
            people: self.people.iter().map(|p| p.0.clone()).collect(),
            passes: self.passes.iter().map(|p| p.0.clone()).collect(),
        }
    }

    /// The chain of zones from `zone` up to `site`, `zone` first.
    pub fn ancestors<'a>(&'a self, zone: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        ancestors(&self.zone_parent, zone)
    }

    /// Whether `inner` is `outer` or lies below it in the zone tree.
    pub fn zone_within(&self, inner: &str, outer: &str) -> bool {
        zone_within(&self.zone_parent, inner, outer)
    }

    /// The zone a household lives in, if the household is known.
    pub fn household_zone(&self, household: &str) -> Option<&str> {
        self.households.get(household).map(|h| h.zone.as_str())
    }

    /// The pass that a card number or pass number names.
    pub fn find_pass(&self, card_or_number: &str) -> Option<&Pass> {
        let text = card_or_number.trim();
        self.passes
            .get(text)
            .or_else(|| self.passes.get(text.to_ascii_uppercase().as_str()))
            .map(|p| &p.0)
            .or_else(|| self.cards.get(&CardNumber::parse(text).ok()?))
            .map(|p| &**p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        toml::from_str(
            r#"
            [site]
            id = "t"
            name = "T"
            [[zones]]
            id = "area-a"
            name = "A"
            parent = "site"
            [[zones]]
            id = "bldg-1"
            name = "1"
            parent = "area-a"
            "#,
        )
        .unwrap()
    }

    #[test]
    fn zones_nest_up_to_the_site() {
        let m = Model::new(&config(), EstateData::default()).unwrap();
        assert_eq!(
            m.ancestors("bldg-1").collect::<Vec<_>>(),
            ["bldg-1", "area-a", "site"]
        );
        assert!(m.zone_within("bldg-1", "site"));
        assert!(m.zone_within("bldg-1", "area-a"));
        assert!(!m.zone_within("area-a", "bldg-1"));
        assert!(!m.zone_within("outside", "site"));
    }
}
