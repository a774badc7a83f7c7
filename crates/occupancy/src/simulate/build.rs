//! Building the estate: buildings, doors, households and the people in them.

use gatehouse_core::CardNumber;
use gatehouse_core::config::{Config, Door, DoorKind, DoorReader, Verify, Zone, ZoneKind};
use gatehouse_core::estate::{EstateData, Household, Pass, Person, Role, Tenure, VisitorGrant};
use gatehouse_core::event::Direction;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{
    GIVEN, PER_UNIT_FLOORS, ROOMS, Routine, SURNAMES, SimConfig, SimHousehold, SimPerson,
    Simulation, UNITS,
};

impl Simulation {
    /// Builds the estate: buildings of 2 units × 6 floors × 2 rooms, three gates (the north
    /// gate asks for phone digits), one entry reader per unit door.
    pub fn new(cfg: SimConfig) -> Simulation {
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        let tz = jiff::tz::TimeZone::get(&cfg.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
        let t0 = cfg
            .start
            .to_datetime(jiff::civil::Time::midnight())
            .to_zoned(tz)
            .map(|z| z.timestamp().as_second())
            .unwrap_or(0);
        let per_building = UNITS * PER_UNIT_FLOORS * ROOMS;
        let buildings = cfg.households.div_ceil(per_building).max(1);
        let mut zones = vec![Zone {
            id: "area-a".into(),
            name: "小区".into(),
            parent: "site".into(),
            kind: Some(ZoneKind::Area),
            number: None,
        }];
        let mut doors = Vec::new();
        for (id, name, verify) in [
            ("gate-north", "北门", Verify::CardPhone),
            ("gate-south", "南门", Verify::Card),
            ("gate-east", "东门", Verify::Card),
        ] {
            doors.push(door(
                id,
                name,
                DoorKind::Pedestrian,
                "outside",
                "area-a",
                verify,
                // The east gate's exit reader is missing: its exits are never recorded.
                id != "gate-east",
            ));
        }
        let mut estate = EstateData::default();
        let mut households = Vec::new();
        let mut people = Vec::new();
        for b in 1..=buildings {
            let bz = zones.len();
            zones.push(Zone {
                id: format!("bldg-{b}"),
                name: format!("{b}号楼"),
                parent: "area-a".into(),
                kind: Some(ZoneKind::Building),
                number: Some(b.to_string()),
            });
            for u in 1..=UNITS {
                let uz = zones.len();
                zones.push(Zone {
                    id: format!("bldg-{b}-u{u}"),
                    name: format!("{b}号楼{u}单元"),
                    parent: format!("bldg-{b}"),
                    kind: Some(ZoneKind::Unit),
                    number: Some(u.to_string()),
                });
                let unit_door = doors.len() as u32;
                doors.push(door(
                    &format!("unit-{b}-{u}"),
                    &format!("{b}号楼{u}单元门"),
                    DoorKind::Unit,
                    &format!("bldg-{b}"),
                    &format!("bldg-{b}-u{u}"),
                    Verify::Card,
                    false,
                ));
                for floor in 1..=PER_UNIT_FLOORS {
                    for room in 1..=ROOMS {
                        if households.len() >= cfg.households {
                            continue;
                        }
                        let id = format!("{b}-{u}-{floor}{room:02}");
                        households.push(SimHousehold {
                            kind: "",
                            unit_door,
                            unit_zone: uz,
                            building_zone: bz,
                            trip: None,
                            visitors_per_day: 0.0,
                            visitor_pass: None,
                        });
                        estate.households.push(Household {
                            id,
                            zone: format!("bldg-{b}-u{u}"),
                            tenure: Tenure::Owner,
                        });
                    }
                }
            }
        }
        let config_text = format!(
            "[site]\nid = \"sim-estate\"\nname = \"模拟小区\"\ntimezone = \"{}\"\ndata_dir = \"./data\"\n",
            cfg.timezone
        );
        let mut config: Config =
            toml::from_str(&config_text).expect("the simulator's own site table parses");
        config.zones = zones;
        config.doors = doors;
        let mut sim = Simulation {
            cfg,
            config,
            estate,
            people: Vec::new(),
            households,
            gates: vec![0, 1, 2],
            phone_gate: 0,
            lent: Vec::new(),
            lent_days: Default::default(),
            cloned: Vec::new(),
            shared: Vec::new(),
            cards: Default::default(),
            rng: ChaCha8Rng::seed_from_u64(0),
            t0,
        };
        for h in 0..sim.households.len() {
            sim.populate(h, &mut rng, &mut people);
        }
        sim.people = people;
        sim.rng = rng;
        sim
    }

    fn add_person(
        &mut self,
        h: usize,
        routine: Routine,
        with_pass: bool,
        rng: &mut ChaCha8Rng,
        people: &mut Vec<SimPerson>,
    ) -> usize {
        let idx = people.len();
        let pid = format!("R-{:06}", idx + 1);
        // Names are unique within a household: the residents import tells people apart by
        // name there.
        let taken = |n: &str| {
            people
                .iter()
                .rev()
                .take_while(|p| p.household == h)
                .enumerate()
                .any(|(i, _)| self.estate.people[idx - 1 - i].name == n)
        };
        let mut name = String::new();
        while name.is_empty() || taken(&name) {
            name = format!(
                "{}{}",
                SURNAMES[rng.random_range(0..SURNAMES.len())],
                GIVEN[rng.random_range(0..GIVEN.len())]
            );
        }
        let phone = format!(
            "13{}{:08}",
            rng.random_range(0..10),
            rng.random_range(0..100_000_000u32)
        );
        let registered = !matches!(routine, Routine::Outsider | Routine::Visitor);
        let role = match routine {
            Routine::Visitor => Role::Visitor,
            Routine::Child => Role::Family,
            _ => Role::Resident,
        };
        self.estate.people.push(Person {
            id: pid.clone(),
            name,
            phone,
            household: registered.then(|| self.estate.households[h].id.clone()),
            role,
        });
        let pass = with_pass.then(|| {
            let p = self.estate.passes.len() as u32;
            let mut card = rng.random::<u32>();
            while !self.cards.insert(card) {
                card = rng.random::<u32>();
            }
            self.estate.passes.push(Pass {
                id: format!("P-{:06}", p + 1),
                card: Some(CardNumber::from_u32(card)),
                holder: pid,
                valid_from: None,
                valid_until: None,
                status: Default::default(),
                groups: Vec::new(),
                override_modes: false,
                visitor: (routine == Routine::Visitor).then(|| {
                    Box::new(VisitorGrant {
                        host_household: self.estate.households[h].id.clone(),
                        entries_allowed: None,
                        entries_used: 0,
                        reason: Some("family visit".into()),
                    })
                }),
            });
            p
        });
        let gate = if rng.random_bool(0.6) {
            0
        } else {
            rng.random_range(0..3)
        };
        people.push(SimPerson {
            household: h,
            routine,
            pass,
            gate,
            tailgater: rng.random_bool(0.03),
            inside: routine.lives_here() && routine != Routine::WeekendHome,
            free_at: 0,
            since: self.t0,
            home: vec![0; self.cfg.days as usize],
            next_sample: 0,
            active_days: (0, 0),
            shift_offset: rng.random_range(0..2),
        });
        idx
    }

    /// Chooses the household's make-up and routines.
    fn populate(&mut self, h: usize, rng: &mut ChaCha8Rng, people: &mut Vec<SimPerson>) {
        let roll: f64 = rng.random();
        let days = self.cfg.days;
        let kind = match roll {
            r if r < 0.30 => "family",
            r if r < 0.40 => "retirees",
            r if r < 0.45 => "homebody",
            r if r < 0.51 => "shift",
            r if r < 0.56 => "night_shift",
            r if r < 0.64 => "travellers",
            r if r < 0.72 => "vacant",
            r if r < 0.78 => "weekend_home",
            r if r < 0.82 => "group_rental",
            r if r < 0.83 => "no_passes",
            _ => "single",
        };
        self.households[h].kind = kind;
        let first = people.len();
        match kind {
            "family" | "travellers" => {
                for _ in 0..rng.random_range(1..=2) {
                    self.add_person(h, Routine::Commuter, true, rng, people);
                }
                for _ in 0..rng.random_range(0..=2) {
                    // Young children often hold no card.
                    let card = rng.random_bool(0.6);
                    self.add_person(h, Routine::Child, card, rng, people);
                }
                if rng.random_bool(0.2) {
                    self.add_person(h, Routine::Retiree, true, rng, people);
                }
                if kind == "travellers" {
                    let len = rng.random_range(5..=14).min(days.saturating_sub(1).max(1));
                    let start = rng.random_range(0..days.saturating_sub(len).max(1));
                    self.households[h].trip = Some((start, start + len));
                }
            }
            "retirees" => {
                for _ in 0..rng.random_range(1..=2) {
                    self.add_person(h, Routine::Retiree, true, rng, people);
                }
            }
            "homebody" => {
                for _ in 0..rng.random_range(1..=2) {
                    self.add_person(h, Routine::Homebody, true, rng, people);
                }
            }
            "night_shift" => {
                self.add_person(h, Routine::NightWorker, true, rng, people);
                if rng.random_bool(0.3) {
                    self.add_person(h, Routine::NightWorker, true, rng, people);
                }
            }
            "shift" => {
                self.add_person(h, Routine::ShiftWorker, true, rng, people);
                if rng.random_bool(0.5) {
                    self.add_person(h, Routine::Commuter, true, rng, people);
                }
            }
            "vacant" => {
                // The owner checks on the flat by day now and then, or never comes.
                let owner = if rng.random_bool(0.5) {
                    Routine::OwnerCheck
                } else {
                    Routine::Absent
                };
                self.add_person(h, owner, true, rng, people);
                if rng.random_bool(0.3) {
                    self.add_person(h, Routine::Absent, true, rng, people);
                }
                self.estate.households[h].tenure = if rng.random_bool(0.3) {
                    Tenure::DeclaredVacant
                } else {
                    Tenure::Owner
                };
            }
            "weekend_home" => {
                for _ in 0..rng.random_range(1..=2) {
                    self.add_person(h, Routine::WeekendHome, true, rng, people);
                }
            }
            "group_rental" => {
                let a = self.add_person(h, Routine::Commuter, true, rng, people);
                let b = self.add_person(h, Routine::Commuter, true, rng, people);
                self.estate.households[h].tenure = Tenure::Tenant;
                for i in 0..rng.random_range(2..=4) {
                    // Unregistered renters carry copies of the two registered cards.
                    let x = self.add_person(h, Routine::Commuter, false, rng, people);
                    self.estate.people.last_mut().expect("just added").household = None;
                    people[x].pass = people[if i % 2 == 0 { a } else { b }].pass;
                }
                for p in [a, b] {
                    if let Some(pass) = people[p].pass {
                        self.shared.push(pass);
                    }
                }
            }
            "no_passes" => {
                for _ in 0..rng.random_range(1..=2) {
                    self.add_person(h, Routine::Commuter, false, rng, people);
                }
            }
            _ => {
                self.add_person(h, Routine::Commuter, true, rng, people);
            }
        }
        let living = people.len() - first;
        if living > 0 && kind != "vacant" && rng.random_bool(0.05) {
            self.add_person(h, Routine::MovedOut, true, rng, people);
        }
        if living > 0 && kind != "vacant" && rng.random_bool(0.04) {
            self.add_person(h, Routine::Absent, true, rng, people);
        }
        // Overlays on one resident pass: lent for a stretch, or cloned by an outsider.
        let holders: Vec<usize> = (first..people.len())
            .filter(|&p| people[p].routine.lives_here() && people[p].pass.is_some())
            .collect();
        if !holders.is_empty() && kind != "group_rental" {
            let holder = holders[rng.random_range(0..holders.len())];
            let pass = people[holder].pass;
            if rng.random_bool(0.012) {
                let o = self.add_outsider(h, pass, rng, people);
                let start = rng.random_range(0..days.saturating_sub(7).max(1));
                people[o].active_days = (start, (start + rng.random_range(7..=14)).min(days));
                self.lent.extend(pass);
                if let Some(pass) = pass {
                    self.lent_days.insert(pass, people[o].active_days);
                }
            } else if rng.random_bool(0.006) {
                let o = self.add_outsider(h, pass, rng, people);
                people[o].active_days = (0, days);
                self.cloned.extend(pass);
            }
        }
        if rng.random_bool(0.03) {
            self.households[h].visitors_per_day = rng.random_range(1.0..3.0);
        } else if rng.random_bool(0.3) {
            self.households[h].visitors_per_day = 0.1;
        }
        if self.households[h].visitors_per_day > 0.0 {
            let v = self.add_person(h, Routine::Visitor, true, rng, people);
            self.households[h].visitor_pass = people[v].pass;
            self.estate.people[v].household = None;
        }
    }

    /// An outsider who carries `pass` (lent or cloned); not registered anywhere.
    fn add_outsider(
        &mut self,
        h: usize,
        pass: Option<u32>,
        rng: &mut ChaCha8Rng,
        people: &mut Vec<SimPerson>,
    ) -> usize {
        let o = self.add_person(h, Routine::Outsider, false, rng, people);
        people[o].pass = pass;
        o
    }
}

fn door(
    id: &str,
    name: &str,
    kind: DoorKind,
    outside: &str,
    inside: &str,
    verify: Verify,
    exit_reader: bool,
) -> Door {
    let mut readers = vec![DoorReader {
        id: format!("{id}-in"),
        direction: Direction::In,
    }];
    if exit_reader {
        readers.push(DoorReader {
            id: format!("{id}-out"),
            direction: Direction::Out,
        });
    }
    let mut text = format!(
        "id = \"{id}\"\nname = \"{name}\"\nkind = \"pedestrian\"\noutside = \"{outside}\"\ninside = \"{inside}\"\n"
    );
    text.push_str("controller = \"mqtt\"\n");
    let mut d: Door = toml::from_str(&text).expect("the simulator's own door table parses");
    d.kind = kind;
    d.verify = verify;
    d.readers = readers;
    d
}
