//! A seeded estate with realistic routines, its swipe records and the ground truth they came
//! from, so that inference can be measured rather than believed.
//!
//! Each person has a routine (commuter, school child, retiree, shift worker, weekend-home
//! owner, group renter, …) that plans, day by day, when they leave and come back. Plans
//! become reads at the gates (outside ↔ estate) and at unit doors (entry readers only; unit
//! doors are left by the exit button, as in most buildings). A share of gate exits is never
//! recorded and some entries are tailgated. Overlays add lent passes, cloned cards,
//! residents who moved out, ghost members and visitors. The truth records what really
//! happened: who slept where each night and how many people were inside at each sample.
//!
//! Local days are taken as 86 400 s from the first midnight, which is exact for zones
//! without daylight saving (the estates this is for) and off by an hour twice a year
//! elsewhere.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use gatehouse_core::config::{Config, Door, DoorKind, DoorReader, Verify, Zone, ZoneKind};
use gatehouse_core::estate::{EstateData, Household, Pass, Person, Role, Tenure, VisitorGrant};
use gatehouse_core::event::{Decision, Direction, Event, Kind, Method};
use jiff::civil::Date;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::report::Status;
use crate::verdict::status_of;
use crate::window::Window;

/// What to simulate.
#[derive(Clone, Debug)]
pub struct SimConfig {
    pub households: usize,
    /// Nights in the window; one more day is simulated so that the last night has a morning.
    pub days: u32,
    pub seed: u64,
    /// Share of gate exits never recorded.
    pub missing_exits: f64,
    /// Share of anyone's entries that follow someone in without a read.
    pub tailgating: f64,
    pub start: Date,
    pub timezone: String,
}

impl SimConfig {
    pub fn new(households: usize, days: u32, seed: u64, missing_exits: f64) -> SimConfig {
        SimConfig {
            households,
            days,
            seed,
            missing_exits,
            tailgating: 0.01,
            start: jiff::civil::date(2026, 9, 1),
            timezone: "Asia/Shanghai".into(),
        }
    }
    /// The window the truth describes: `days` nights from `start`.
    pub fn window(&self) -> Window {
        Window {
            from: self.start,
            to: self
                .start
                .checked_add(jiff::Span::new().days(self.days as i64))
                .unwrap_or(self.start),
        }
    }
}

/// One swipe record as the simulator writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Swipe {
    pub t: i64,
    pub pass: u32,
    pub door: u32,
    pub inward: bool,
    pub grant: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Routine {
    Commuter,
    Child,
    Retiree,
    ShiftWorker,
    WeekendHome,
    /// Registered, holds a pass, never comes.
    Absent,
    /// Moved out; comes by day now and then with the old pass.
    MovedOut,
    /// Not a resident: uses someone's lent pass or a cloned card.
    Outsider,
    Visitor,
}

impl Routine {
    fn lives_here(self) -> bool {
        matches!(
            self,
            Routine::Commuter
                | Routine::Child
                | Routine::Retiree
                | Routine::ShiftWorker
                | Routine::WeekendHome
        )
    }
}

struct SimPerson {
    household: usize,
    routine: Routine,
    /// The card number the person swipes.
    pass: Option<u32>,
    gate: u32,
    tailgater: bool,
    /// Inside the estate now (truth).
    inside: bool,
    /// Plans may not start before this instant (the person is still out, or still in).
    free_at: i64,
    /// Truth: inside at each night anchor.
    nights: Vec<u64>,
    next_sample: usize,
    /// Lent-pass borrower or clone user: the days it is active.
    active_days: (u32, u32),
    shift_offset: u32,
}

struct SimHousehold {
    kind: &'static str,
    unit_door: u32,
    unit_zone: usize,
    building_zone: usize,
    /// A trip away: first day and the day back.
    trip: Option<(u32, u32)>,
    visitors_per_day: f64,
    visitor_pass: Option<u32>,
}

/// Ground truth of one simulation (`truth.json`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Truth {
    pub seed: u64,
    pub missing_exits: f64,
    pub window: crate::report::WindowDates,
    pub nights: u32,
    pub households: Vec<TrueHousehold>,
    pub lent_passes: Vec<String>,
    pub cloned_cards: Vec<String>,
    pub moved_out_passes: Vec<String>,
    pub tailgaters: Vec<String>,
    pub ghost_members: Vec<String>,
    /// Every resident pass, so false alarms can be counted.
    pub passes: usize,
    pub head_counts: Vec<crate::report::HeadCount>,
    pub swipes: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrueHousehold {
    pub household: String,
    pub kind: String,
    pub status: Status,
    pub residents: u32,
    pub registered: u32,
    pub nights_present: u32,
    pub over_occupied: bool,
    pub many_visitors: bool,
    /// '1' for each night someone slept there, else '0'.
    pub presence: String,
}

/// A built estate ready to run.
pub struct Simulation {
    pub cfg: SimConfig,
    pub config: Config,
    pub estate: EstateData,
    people: Vec<SimPerson>,
    households: Vec<SimHousehold>,
    gates: Vec<u32>,
    /// The gate that asks for phone digits.
    phone_gate: u32,
    lent: Vec<u32>,
    cloned: Vec<u32>,
    /// Card numbers handed out: each card belongs to one pass (the residents import
    /// refuses duplicates), so a repeated draw is drawn again.
    cards: std::collections::HashSet<u32>,
    rng: ChaCha8Rng,
    t0: i64,
}

const DAY: i64 = 86_400;
const HOUR: i64 = 3600;
const MIN: i64 = 60;
const PER_UNIT_FLOORS: usize = 6;
const ROOMS: usize = 2;
const UNITS: usize = 2;

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "马", "朱", "胡", "郭",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀兰", "霞", "平", "卫平", "建国",
];

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
                true,
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
            cloned: Vec::new(),
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
                card: Some(format!("{card:08X}")),
                holder: pid,
                valid_from: None,
                valid_until: None,
                status: Default::default(),
                groups: Vec::new(),
                override_modes: false,
                visitor: (routine == Routine::Visitor).then(|| VisitorGrant {
                    host_household: self.estate.households[h].id.clone(),
                    entries_allowed: None,
                    entries_used: 0,
                    reason: Some("family visit".into()),
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
            nights: vec![0; (self.cfg.days as usize).div_ceil(64).max(1)],
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
            r if r < 0.36 => "family",
            r if r < 0.50 => "retirees",
            r if r < 0.58 => "shift",
            r if r < 0.66 => "travellers",
            r if r < 0.74 => "vacant",
            r if r < 0.80 => "weekend_home",
            r if r < 0.84 => "group_rental",
            r if r < 0.85 => "no_passes",
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
                    self.add_person(h, Routine::Child, true, rng, people);
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
            "shift" => {
                self.add_person(h, Routine::ShiftWorker, true, rng, people);
                if rng.random_bool(0.5) {
                    self.add_person(h, Routine::Commuter, true, rng, people);
                }
            }
            "vacant" => {
                for _ in 0..rng.random_range(1..=2) {
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
                        self.cloned.push(pass);
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

    /// The plan of one person for day `d`: intervals away from home for residents, visits
    /// for everyone else (seconds from the day's midnight; a return may fall on a later day).
    fn plan(&mut self, p: usize, d: u32) -> Vec<(i64, i64)> {
        let rng = &mut self.rng;
        let person = &self.people[p];
        let hh = &self.households[person.household];
        let weekday = (self.cfg.start.weekday().to_monday_zero_offset() as u32 + d) % 7; // 0 = Monday
        let workday = weekday < 5;
        let u =
            |rng: &mut ChaCha8Rng, a: f64, b: f64| (rng.random_range(a..b) * HOUR as f64) as i64;
        if person.routine.lives_here()
            && let Some((start, end)) = hh.trip
        {
            if d == start {
                return vec![(
                    u(rng, 9.0, 11.0),
                    (end - start) as i64 * DAY + u(rng, 16.0, 20.0),
                )];
            }
            if d > start && d <= end {
                return Vec::new();
            }
        }
        match person.routine {
            Routine::Commuter if workday => {
                let mut v = vec![(u(rng, 7.0, 9.0), u(rng, 17.5, 20.5))];
                if rng.random_bool(0.2) {
                    let s = u(rng, 20.6, 21.0);
                    v.push((s, s + u(rng, 0.5, 2.0)));
                }
                v
            }
            Routine::Child if workday => vec![(u(rng, 7.0, 7.7), u(rng, 16.0, 17.5))],
            Routine::Commuter | Routine::Child => {
                if rng.random_bool(0.6) {
                    let s = u(rng, 9.0, 15.0);
                    vec![(s, s + u(rng, 2.0, 6.0))]
                } else {
                    Vec::new()
                }
            }
            Routine::Retiree => {
                let mut v = Vec::new();
                let mut at = u(rng, 7.5, 9.5);
                for _ in 0..rng.random_range(0..=3) {
                    let back = at + u(rng, 0.7, 3.0);
                    v.push((at, back));
                    at = back + u(rng, 1.0, 4.0);
                    if at > 18 * HOUR {
                        break;
                    }
                }
                v
            }
            Routine::ShiftWorker => {
                let week = (d / 7 + person.shift_offset) % 2;
                if weekday >= 5 {
                    Vec::new()
                } else if week == 0 {
                    vec![(u(rng, 6.0, 6.5), u(rng, 19.0, 19.75))]
                } else {
                    vec![(u(rng, 18.5, 19.0), DAY + u(rng, 7.0, 7.75))]
                }
            }
            Routine::WeekendHome => {
                if weekday == 4 && rng.random_bool(0.75) {
                    // Arrive Friday evening, leave on Sunday afternoon.
                    let arrive = u(rng, 18.0, 21.0);
                    vec![(arrive, 2 * DAY + u(rng, 14.0, 18.0))]
                } else {
                    Vec::new()
                }
            }
            Routine::MovedOut => {
                if rng.random_bool(0.2) {
                    let s = u(rng, 10.0, 16.0);
                    vec![(s, s + u(rng, 1.0, 3.0))]
                } else {
                    Vec::new()
                }
            }
            Routine::Outsider => {
                let (a, b) = person.active_days;
                // A borrower uses the pass most days; a clone's owner now and then.
                let often = if self.lent.contains(&person.pass.unwrap_or(u32::MAX)) {
                    0.8
                } else {
                    0.5
                };
                if d >= a && d < b && rng.random_bool(often) {
                    let s = u(rng, 9.0, 20.0);
                    vec![(s, s + u(rng, 1.0, 4.0))]
                } else {
                    Vec::new()
                }
            }
            Routine::Visitor => {
                let n = hh.visitors_per_day;
                let mut v = Vec::new();
                let count = n.floor() as u32 + u32::from(rng.random_bool(n.fract()));
                for _ in 0..count {
                    let s = u(rng, 9.0, 20.0);
                    v.push((s, s + u(rng, 0.5, 3.0)));
                }
                v
            }
            Routine::Absent => Vec::new(),
        }
    }

    /// Runs the simulation, handing every swipe record to `sink` in time order, and returns
    /// the truth.
    pub fn run(&mut self, mut sink: impl FnMut(&Swipe)) -> Truth {
        let window = self.cfg.window();
        let tz = jiff::tz::TimeZone::get(&self.cfg.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
        let samples = window.samples(&tz);
        let zn = self.config.zones.len();
        let mut head = vec![0u32; samples.len() * zn];
        // (time, person, inward) transitions of the truth, and swipes, both in time order.
        let mut moves: BinaryHeap<Reverse<(i64, u32, bool)>> = BinaryHeap::new();
        let mut swipes: BinaryHeap<Reverse<Swipe>> = BinaryHeap::new();
        let mut count = 0u64;
        let pm = self.cfg.missing_exits;
        for d in 0..=self.cfg.days {
            let midnight = self.t0 + d as i64 * DAY;
            for p in 0..self.people.len() {
                let plan = self.plan(p, d);
                let home = self.people[p].routine.lives_here()
                    && self.people[p].routine != Routine::WeekendHome;
                for (a, b) in plan {
                    let (a, b) = (midnight + a, midnight + b);
                    if a < self.people[p].free_at || b <= a {
                        continue;
                    }
                    self.people[p].free_at = b + 20 * MIN;
                    // Residents leave then return; everyone else arrives then leaves.
                    let (first_in, second_in) = if home { (false, true) } else { (true, false) };
                    for (t, inward) in [(a, first_in), (b, second_in)] {
                        moves.push(Reverse((t, p as u32, inward)));
                        self.reads(p, t, inward, pm, &mut swipes);
                    }
                }
            }
            let next_midnight = midnight + DAY;
            while let Some(&Reverse((t, p, inward))) = moves.peek() {
                if t >= next_midnight {
                    break;
                }
                moves.pop();
                self.truth_until(p as usize, t, &samples, &mut head);
                self.people[p as usize].inside = inward;
            }
            while let Some(&Reverse(s)) = swipes.peek() {
                if s.t >= next_midnight {
                    break;
                }
                swipes.pop();
                count += 1;
                sink(&s);
            }
        }
        while let Some(Reverse((t, p, inward))) = moves.pop() {
            self.truth_until(p as usize, t, &samples, &mut head);
            self.people[p as usize].inside = inward;
        }
        while let Some(Reverse(s)) = swipes.pop() {
            count += 1;
            sink(&s);
        }
        for p in 0..self.people.len() {
            self.truth_until(p, i64::MAX, &samples, &mut head);
        }
        self.truth(window, &samples, &head, count, &tz)
    }

    /// Records the truth for one person's samples up to `t`, while their state holds.
    fn truth_until(
        &mut self,
        p: usize,
        t: i64,
        samples: &[crate::window::Sample],
        head: &mut [u32],
    ) {
        let zn = self.config.zones.len();
        let person = &mut self.people[p];
        let hh = &self.households[person.household];
        while let Some(s) = samples.get(person.next_sample) {
            if s.t >= t {
                break;
            }
            if person.inside && person.routine.lives_here() {
                if s.night {
                    person.nights[s.n as usize / 64] |= 1 << (s.n % 64);
                }
                for z in [0, hh.building_zone, hh.unit_zone] {
                    head[person.next_sample * zn + z] += 1;
                }
            }
            person.next_sample += 1;
        }
    }

    /// The reads one crossing leaves: at a gate, then (inwards) at the unit door.
    fn reads(
        &mut self,
        p: usize,
        t: i64,
        inward: bool,
        missing_exits: f64,
        out: &mut BinaryHeap<Reverse<Swipe>>,
    ) {
        let rng = &mut self.rng;
        let person = &self.people[p];
        let Some(pass) = person.pass else { return };
        let gate = if rng.random_bool(0.85) {
            self.gates[person.gate as usize]
        } else {
            self.gates[rng.random_range(0..self.gates.len())]
        };
        let unit_door = self.households[person.household].unit_door;
        if inward {
            let tail = if person.tailgater {
                0.3
            } else {
                self.cfg.tailgating
            };
            let mut at = t;
            if gate == self.phone_gate
                && person.routine == Routine::Outsider
                && self.lent.contains(&pass)
                && rng.random_bool(0.6)
            {
                // The borrower does not know the holder's phone: refused, tries another gate.
                out.push(Reverse(Swipe {
                    t: at,
                    pass,
                    door: gate,
                    inward: true,
                    grant: false,
                }));
                at += rng.random_range(4 * MIN..10 * MIN);
                out.push(Reverse(Swipe {
                    t: at,
                    pass,
                    door: self.gates[1],
                    inward: true,
                    grant: true,
                }));
            } else if !rng.random_bool(tail) {
                if gate == self.phone_gate && rng.random_bool(0.004) {
                    out.push(Reverse(Swipe {
                        t: at - 20,
                        pass,
                        door: gate,
                        inward: true,
                        grant: false,
                    }));
                }
                out.push(Reverse(Swipe {
                    t: at,
                    pass,
                    door: gate,
                    inward: true,
                    grant: true,
                }));
            }
            if person.routine != Routine::Visitor && !rng.random_bool(0.05) {
                at += rng.random_range(150..420);
                out.push(Reverse(Swipe {
                    t: at,
                    pass,
                    door: unit_door,
                    inward: true,
                    grant: true,
                }));
            }
            if person.routine == Routine::Outsider
                && self.cloned.contains(&pass)
                && rng.random_bool(0.25)
            {
                // The clone shows itself: the same number read at another gate moments apart.
                let other = self.gates[(gate as usize + 1) % self.gates.len()];
                out.push(Reverse(Swipe {
                    t: t + rng.random_range(15..90),
                    pass,
                    door: other,
                    inward: true,
                    grant: true,
                }));
            }
        } else if !rng.random_bool(missing_exits) {
            out.push(Reverse(Swipe {
                t,
                pass,
                door: gate,
                inward: false,
                grant: true,
            }));
        }
    }

    fn truth(
        &self,
        window: Window,
        samples: &[crate::window::Sample],
        head: &[u32],
        swipes: u64,
        tz: &jiff::tz::TimeZone,
    ) -> Truth {
        let nights = window.nights();
        // People by household, found once: a scan per household is quadratic in the estate.
        let mut living_in: Vec<Vec<&SimPerson>> = vec![Vec::new(); self.households.len()];
        for p in self.people.iter().filter(|p| p.routine.lives_here()) {
            living_in[p.household].push(p);
        }
        let mut registered_in: std::collections::HashMap<&str, u32> = Default::default();
        for p in self.estate.people.iter().filter(|p| p.role.lives_here()) {
            if let Some(h) = p.household.as_deref() {
                *registered_in.entry(h).or_default() += 1;
            }
        }
        let mut households = Vec::new();
        for (h, sh) in self.households.iter().enumerate() {
            let living = &living_in[h];
            let presence: String = (0..nights)
                .map(|n| {
                    if living
                        .iter()
                        .any(|p| p.nights[n as usize / 64] >> (n % 64) & 1 == 1)
                    {
                        '1'
                    } else {
                        '0'
                    }
                })
                .collect();
            let present = presence.chars().filter(|&c| c == '1').count() as u32;
            let status = status_of(present, nights);
            let registered = registered_in
                .get(self.estate.households[h].id.as_str())
                .copied()
                .unwrap_or(0);
            let residents = if status == Status::Vacant {
                0
            } else {
                living.len() as u32
            };
            households.push(TrueHousehold {
                household: self.estate.households[h].id.clone(),
                kind: sh.kind.to_string(),
                status,
                residents,
                registered,
                nights_present: present,
                over_occupied: residents > registered,
                many_visitors: sh.visitors_per_day >= 1.0,
                presence,
            });
        }
        let pass_ids = |ps: &mut dyn Iterator<Item = u32>| -> Vec<String> {
            let mut v: Vec<String> = ps
                .map(|p| self.estate.passes[p as usize].id.clone())
                .collect();
            v.sort();
            v.dedup();
            v
        };
        let zn = self.config.zones.len();
        let mut head_counts = Vec::new();
        for (si, s) in samples.iter().enumerate() {
            for (z, zone) in self.config.zones.iter().enumerate() {
                if zone.kind == Some(ZoneKind::Unit) {
                    continue;
                }
                head_counts.push(crate::report::HeadCount {
                    at: jiff::Timestamp::from_second(s.t)
                        .map(|t| gatehouse_core::time::rfc3339(t, tz))
                        .unwrap_or_default(),
                    zone: zone.id.clone(),
                    count: head[si * zn + z],
                });
            }
        }
        let resident_passes = self
            .estate
            .passes
            .iter()
            .filter(|p| p.visitor.is_none())
            .count();
        Truth {
            seed: self.cfg.seed,
            missing_exits: self.cfg.missing_exits,
            window: crate::report::WindowDates {
                from: window.from.to_string(),
                to: window.to.to_string(),
            },
            nights,
            households,
            lent_passes: pass_ids(&mut self.lent.iter().copied()),
            cloned_cards: pass_ids(&mut self.cloned.iter().copied()),
            moved_out_passes: pass_ids(
                &mut self
                    .people
                    .iter()
                    .filter(|p| p.routine == Routine::MovedOut)
                    .filter_map(|p| p.pass),
            ),
            tailgaters: pass_ids(
                &mut self
                    .people
                    .iter()
                    .filter(|p| p.tailgater && p.routine.lives_here())
                    .filter_map(|p| p.pass),
            ),
            ghost_members: {
                let mut v: Vec<String> = self
                    .people
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| {
                        p.routine == Routine::Absent
                            && self.households[p.household].kind != "vacant"
                    })
                    .map(|(i, _)| self.estate.people[i].id.clone())
                    .collect();
                v.sort();
                v
            },
            passes: resident_passes,
            head_counts,
            swipes,
        }
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

/// A swipe as the spec's CSV columns: at, card, door, direction, result.
pub fn csv_row(
    config: &Config,
    estate: &EstateData,
    s: &Swipe,
    tz: &jiff::tz::TimeZone,
) -> [String; 5] {
    [
        jiff::Timestamp::from_second(s.t)
            .map(|t| gatehouse_core::time::rfc3339(t, tz))
            .unwrap_or_default(),
        estate.passes[s.pass as usize]
            .card
            .clone()
            .unwrap_or_default(),
        config.doors[s.door as usize].id.clone(),
        if s.inward { "in" } else { "out" }.into(),
        if s.grant { "grant" } else { "deny" }.into(),
    ]
}

/// Runs `sim` and returns its swipes as the log would hold them after an import: access
/// events numbered from seq 1 (tests and benchmarks that need a log in memory).
pub fn log(sim: &mut Simulation) -> Vec<Event> {
    let tz = jiff::tz::TimeZone::get(&sim.cfg.timezone).expect("the simulator's own time zone");
    let mut swipes = Vec::new();
    sim.run(|s| swipes.push(*s));
    swipes
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut e = event(&sim.config, &sim.estate, s, &tz);
            e.seq = i as u64 + 1;
            e
        })
        .collect()
}

/// A swipe as the access event an import of it would append.
pub fn event(config: &Config, estate: &EstateData, s: &Swipe, tz: &jiff::tz::TimeZone) -> Event {
    let pass = &estate.passes[s.pass as usize];
    let mut e = Event::new(
        Kind::Access,
        jiff::Timestamp::from_second(s.t)
            .map(|t| gatehouse_core::time::rfc3339(t, tz))
            .unwrap_or_default(),
    );
    e.door = Some(config.doors[s.door as usize].id.clone());
    e.direction = Some(if s.inward {
        Direction::In
    } else {
        Direction::Out
    });
    e.pass = Some(pass.id.clone());
    e.person = Some(pass.holder.clone());
    e.method = Some(Method::Import);
    e.decision = Some(if s.grant {
        Decision::Grant
    } else {
        Decision::Deny
    });
    e
}
