//! The second simulator, built differently from the first so that the inference is measured
//! on behaviour it was not written against.
//!
//! The first simulator plans each person's day from a routine. This one draws each person's
//! time as a chain of **activity episodes**, the way time-use surveys describe a day: every
//! ten minutes at home a person leaves with a probability that depends on who they are, the
//! hour and the day of the week (a hazard), for an activity (work, night work, school,
//! errand, leisure, a trip) whose length is drawn from a log-normal distribution of its own.
//! People whose home is elsewhere (weekend-home owners, owners checking an empty flat, members
//! who moved out, borrowers and cloners of cards) are the other way round: away by default,
//! with a hazard of coming.
//!
//! The estate is laid out differently too: buildings of 4–11 floors with 1–3 units of 2–4
//! flats; a main gate (asks for phone digits), a side gate that records entries only, a back
//! gate that loses more exits than the main one; unit doors that record entries only in
//! odd-numbered buildings and both ways in even ones. Households: working families (half
//! the children hold no card), elders, homebodies, night workers, travellers (the family away
//! together for about a week), weekend homes, empty flats (half checked on by day), group
//! rentals (3–6 people on two registered cards), singles; overlays of lent passes (the holder
//! goes without meanwhile), cloned cards, moved-out members, ghost members.
//!
//! The truth is computed as in the first simulator (inside at least 6 h between noon and
//! noon is a night at home), from the episodes themselves.

use gatehouse_core::config::{Config, Door, DoorKind, DoorReader, Verify, Zone, ZoneKind};
use gatehouse_core::estate::{EstateData, Household, Pass, Person, Role, Tenure};
use gatehouse_core::event::Direction;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::truth::{TrueHousehold, add_home};
use super::{SimConfig, Swipe, Truth};
use crate::model::HOME_NIGHT_S;
use crate::report::{HeadCount, Status, WindowDates};
use crate::verdict::status_of;

const MIN: i64 = 60;
const HOUR: i64 = 3600;
const DAY: i64 = 86_400;
const TICK: i64 = 10 * MIN;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Persona {
    /// Leaves on workdays around `leave` (hours) for about `work` hours.
    DayWorker {
        leave: f64,
        work: f64,
    },
    NightWorker {
        leave: f64,
    },
    Student,
    Elder,
    Homebody,
    /// Lives elsewhere; comes for the weekend.
    Weekender,
    /// Owner of an empty flat, comes by day now and then.
    OwnerVisits,
    MovedOut,
    /// Carries a lent pass in `from..to`.
    Borrower,
    /// Carries a copy of someone's card.
    Cloner,
    /// Registered, never comes.
    Ghost,
}

impl Persona {
    fn lives_here(self) -> bool {
        matches!(
            self,
            Persona::DayWorker { .. }
                | Persona::NightWorker { .. }
                | Persona::Student
                | Persona::Elder
                | Persona::Homebody
                | Persona::Weekender
        )
    }
    /// Away by default, present in episodes.
    fn comes_and_goes(self) -> bool {
        !self.lives_here() || self == Persona::Weekender
    }
}

struct Member {
    home: usize,
    persona: Persona,
    pass: Option<u32>,
    /// Gate preference (index into the gates).
    gate: usize,
    tailgater: bool,
    /// When the person is without their card (they lent it).
    without_card: Option<(i64, i64)>,
    /// When a borrower or cloner may come.
    active: (i64, i64),
}

struct Home {
    kind: &'static str,
    unit_door: u32,
    unit_zone: usize,
    building_zone: usize,
    /// The whole family away: (from, to).
    trip: Option<(i64, i64)>,
}

/// The episode simulator. `new`, then `run`.
pub struct Episodes {
    pub cfg: SimConfig,
    pub config: Config,
    pub estate: EstateData,
    members: Vec<Member>,
    homes: Vec<Home>,
    rng: ChaCha8Rng,
    t0: i64,
    gates: [u32; 3],
    lent: Vec<u32>,
    cloned: Vec<u32>,
    shared: Vec<u32>,
    moved_out: Vec<u32>,
}

impl Episodes {
    pub fn new(cfg: SimConfig) -> Episodes {
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed ^ 0xe915_0de5);
        let tz = jiff::tz::TimeZone::get(&cfg.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
        let t0 = cfg
            .start
            .to_datetime(jiff::civil::Time::midnight())
            .to_zoned(tz)
            .map(|z| z.timestamp().as_second())
            .unwrap_or(0);
        let mut zones = vec![Zone {
            id: "estate".into(),
            name: "园区".into(),
            parent: "site".into(),
            kind: Some(ZoneKind::Area),
            number: None,
        }];
        let mut doors = vec![
            door(
                "main-gate",
                "正门",
                "outside",
                "estate",
                Verify::CardPhone,
                true,
            ),
            door(
                "side-gate",
                "侧门",
                "outside",
                "estate",
                Verify::Card,
                false,
            ),
            door("back-gate", "后门", "outside", "estate", Verify::Card, true),
        ];
        let mut estate = EstateData::default();
        let mut homes = Vec::new();
        let mut b = 0;
        while homes.len() < cfg.households {
            b += 1;
            let bz = zones.len();
            zones.push(Zone {
                id: format!("b{b}"),
                name: format!("{b}栋"),
                parent: "estate".into(),
                kind: Some(ZoneKind::Building),
                number: Some(b.to_string()),
            });
            let floors = rng.random_range(4..=11);
            let units = rng.random_range(1..=3);
            let rooms = rng.random_range(2..=4);
            for u in 1..=units {
                let uz = zones.len();
                zones.push(Zone {
                    id: format!("b{b}-u{u}"),
                    name: format!("{b}栋{u}单元"),
                    parent: format!("b{b}"),
                    kind: Some(ZoneKind::Unit),
                    number: Some(u.to_string()),
                });
                let unit_door = doors.len() as u32;
                doors.push(door(
                    &format!("b{b}-u{u}-door"),
                    &format!("{b}栋{u}单元门"),
                    &format!("b{b}"),
                    &format!("b{b}-u{u}"),
                    Verify::Card,
                    b % 2 == 0,
                ));
                for f in 1..=floors {
                    for r in 1..=rooms {
                        if homes.len() >= cfg.households {
                            continue;
                        }
                        estate.households.push(Household {
                            id: format!("{b}-{u}-{f}{r:02}"),
                            zone: format!("b{b}-u{u}"),
                            tenure: Tenure::Owner,
                        });
                        homes.push(Home {
                            kind: "",
                            unit_door,
                            unit_zone: uz,
                            building_zone: bz,
                            trip: None,
                        });
                    }
                }
            }
        }
        let text = format!(
            "[site]\nid = \"episode-estate\"\nname = \"情景小区\"\ntimezone = \"{}\"\ndata_dir = \"./data\"\n",
            cfg.timezone
        );
        let mut config: Config = toml::from_str(&text).expect("the simulator's site table parses");
        config.zones = zones;
        config.doors = doors;
        let mut sim = Episodes {
            cfg,
            config,
            estate,
            members: Vec::new(),
            homes,
            rng: ChaCha8Rng::seed_from_u64(0),
            t0,
            gates: [0, 1, 2],
            lent: Vec::new(),
            cloned: Vec::new(),
            shared: Vec::new(),
            moved_out: Vec::new(),
        };
        for h in 0..sim.homes.len() {
            sim.populate(h, &mut rng);
        }
        sim.rng = rng;
        sim
    }

    fn end(&self) -> i64 {
        self.t0 + (self.cfg.days as i64 + 1) * DAY
    }

    /// Adds a person; registered unless an outsider or an unregistered tenant.
    fn add(
        &mut self,
        h: usize,
        persona: Persona,
        card: bool,
        registered: bool,
        rng: &mut ChaCha8Rng,
    ) -> usize {
        let idx = self.estate.people.len();
        let id = format!("E-{:06}", idx + 1);
        self.estate.people.push(Person {
            id: id.clone(),
            name: format!("住户{}", idx + 1),
            phone: format!("139{:08}", rng.random_range(0..100_000_000u32)),
            household: registered.then(|| self.estate.households[h].id.clone()),
            role: if persona == Persona::Student {
                Role::Family
            } else {
                Role::Resident
            },
        });
        let pass = card.then(|| {
            let p = self.estate.passes.len() as u32;
            self.estate.passes.push(Pass {
                id: format!("Q-{:06}", p + 1),
                card: Some(gatehouse_core::CardNumber::from_u32(0xE000_0000 + p + 1)),
                holder: id,
                valid_from: None,
                valid_until: None,
                status: Default::default(),
                groups: Vec::new(),
                override_modes: false,
                visitor: None,
            });
            p
        });
        self.members.push(Member {
            home: h,
            persona,
            pass,
            gate: if rng.random_bool(0.5) {
                0
            } else {
                rng.random_range(0..3)
            },
            tailgater: rng.random_bool(0.05),
            without_card: None,
            active: (0, 0),
        });
        self.members.len() - 1
    }

    fn worker(rng: &mut ChaCha8Rng) -> Persona {
        Persona::DayWorker {
            leave: rng.random_range(6.5..9.5),
            work: rng.random_range(8.0..11.0),
        }
    }

    fn populate(&mut self, h: usize, rng: &mut ChaCha8Rng) {
        let roll: f64 = rng.random();
        let kind = match roll {
            r if r < 0.30 => "family",
            r if r < 0.42 => "elders",
            r if r < 0.47 => "homebody",
            r if r < 0.53 => "night_work",
            r if r < 0.61 => "travellers",
            r if r < 0.71 => "empty",
            r if r < 0.77 => "weekend_home",
            r if r < 0.81 => "group_rental",
            _ => "single",
        };
        self.homes[h].kind = kind;
        let first = self.members.len();
        let span = self.cfg.days as i64 * DAY;
        match kind {
            "family" | "travellers" => {
                for _ in 0..rng.random_range(1..=2) {
                    let p = Self::worker(rng);
                    self.add(h, p, true, true, rng);
                }
                for _ in 0..rng.random_range(0..=3) {
                    let card = rng.random_bool(0.5);
                    self.add(h, Persona::Student, card, true, rng);
                }
                if rng.random_bool(0.25) {
                    self.add(h, Persona::Elder, true, true, rng);
                }
                if kind == "travellers" {
                    let len = (rng.random_range(4.0..12.0) * DAY as f64) as i64;
                    let from = self.t0 + rng.random_range(0..span.max(1)) + 10 * HOUR;
                    self.homes[h].trip = Some((from, from + len));
                }
            }
            "elders" => {
                for _ in 0..rng.random_range(1..=2) {
                    self.add(h, Persona::Elder, true, true, rng);
                }
            }
            "homebody" => {
                self.add(h, Persona::Homebody, true, true, rng);
            }
            "night_work" => {
                let leave = rng.random_range(19.5..22.5);
                self.add(h, Persona::NightWorker { leave }, true, true, rng);
                if rng.random_bool(0.4) {
                    self.add(h, Persona::Homebody, true, true, rng);
                }
            }
            "empty" => {
                let owner = if rng.random_bool(0.5) {
                    Persona::OwnerVisits
                } else {
                    Persona::Ghost
                };
                self.add(h, owner, true, true, rng);
            }
            "weekend_home" => {
                for _ in 0..rng.random_range(1..=2) {
                    self.add(h, Persona::Weekender, true, true, rng);
                }
            }
            "group_rental" => {
                self.estate.households[h].tenure = Tenure::Tenant;
                let a = self.add(h, Self::worker(rng), true, true, rng);
                let b = self.add(h, Self::worker(rng), true, true, rng);
                for i in 0..rng.random_range(1..=4) {
                    let x = self.add(h, Self::worker(rng), false, false, rng);
                    self.members[x].pass = self.members[if i % 2 == 0 { a } else { b }].pass;
                }
                self.shared.extend(self.members[a].pass);
                self.shared.extend(self.members[b].pass);
            }
            _ => {
                let p = if rng.random_bool(0.7) {
                    Self::worker(rng)
                } else {
                    Persona::Elder
                };
                self.add(h, p, true, true, rng);
            }
        }
        if kind == "empty" || kind == "group_rental" {
            return;
        }
        if rng.random_bool(0.04) {
            let m = self.add(h, Persona::MovedOut, true, true, rng);
            self.moved_out.extend(self.members[m].pass);
        }
        if rng.random_bool(0.03) {
            self.add(h, Persona::Ghost, true, true, rng);
        }
        let holders: Vec<usize> = (first..self.members.len())
            .filter(|&m| self.members[m].persona.lives_here() && self.members[m].pass.is_some())
            .collect();
        if holders.is_empty() {
            return;
        }
        let holder = holders[rng.random_range(0..holders.len())];
        if rng.random_bool(0.015) {
            let from = self.t0 + rng.random_range(0..(span - 7 * DAY).max(1));
            let to = from + rng.random_range(7..=12) * DAY;
            self.members[holder].without_card = Some((from, to));
            let o = self.add(h, Persona::Borrower, false, false, rng);
            self.members[o].pass = self.members[holder].pass;
            self.members[o].active = (from, to);
            self.lent.extend(self.members[holder].pass);
        } else if rng.random_bool(0.008) {
            let o = self.add(h, Persona::Cloner, false, false, rng);
            self.members[o].pass = self.members[holder].pass;
            self.members[o].active = (self.t0, self.end());
            self.cloned.extend(self.members[holder].pass);
        }
    }

    /// Per tick: the chance of setting out, and the activity's median length and spread.
    fn hazard(&self, m: &Member, t: i64, busy_today: bool) -> Option<(f64, f64, f64)> {
        let local = t - self.t0;
        let hour = (local.rem_euclid(DAY)) as f64 / HOUR as f64;
        let weekday = (self.cfg.start.weekday().to_monday_zero_offset() as i64
            + local.div_euclid(DAY))
        .rem_euclid(7);
        let workday = weekday < 5;
        let near = |at: f64| (hour - at).abs() < 0.75;
        let by_day = (9.0..20.0).contains(&hour);
        match m.persona {
            Persona::DayWorker { leave, work } if workday && !busy_today && near(leave) => {
                Some((0.35, work, 0.1))
            }
            Persona::NightWorker { leave } if weekday != 5 && !busy_today && near(leave) => {
                Some((0.35, 9.0, 0.08))
            }
            Persona::Student if workday && !busy_today && near(7.3) => Some((0.4, 9.0, 0.1)),
            Persona::DayWorker { .. } | Persona::Student if !workday && by_day => {
                Some((0.012, 3.0, 0.6))
            }
            Persona::DayWorker { .. } | Persona::Student if (19.0..21.5).contains(&hour) => {
                Some((0.01, 1.5, 0.5))
            }
            Persona::NightWorker { .. } if (11.0..17.0).contains(&hour) => Some((0.006, 1.5, 0.5)),
            Persona::Elder if (7.0..18.0).contains(&hour) => Some((0.02, 1.2, 0.5)),
            Persona::Homebody if (9.0..18.0).contains(&hour) => Some((0.0035, 1.0, 0.5)),
            // Those who come and go: the chance of coming.
            Persona::Weekender if weekday == 4 && (17.0..22.0).contains(&hour) => {
                Some((0.08, 44.0, 0.15))
            }
            Persona::OwnerVisits if by_day => Some((0.0015, 1.2, 0.6)),
            Persona::MovedOut if by_day => Some((0.003, 1.5, 0.5)),
            Persona::Borrower | Persona::Cloner if by_day && t >= m.active.0 && t < m.active.1 => {
                Some((0.008, 2.0, 0.5))
            }
            _ => None,
        }
    }

    /// One person's episodes: for residents the times away, for the others the times present.
    fn episodes(&mut self, m: usize) -> Vec<(i64, i64)> {
        let mut out = Vec::new();
        let (start, end) = (self.t0 - DAY, self.end());
        let mut t = start;
        let mut busy_day = i64::MIN;
        while t < end {
            let day = (t - self.t0).div_euclid(DAY);
            let member = &self.members[m];
            if let Some((p, median, sigma)) = self.hazard(member, t, busy_day == day)
                && self.rng.random_bool(p)
            {
                let z = normal(&mut self.rng);
                let hours = median * (sigma * z).exp();
                let len = ((hours * HOUR as f64) as i64).max(10 * MIN);
                out.push((t, t + len));
                busy_day = day;
                t += len + TICK;
                continue;
            }
            t += TICK;
        }
        out
    }

    /// Runs the estate, handing every swipe to `sink` in time order; returns the truth.
    pub fn run(&mut self, mut sink: impl FnMut(&Swipe)) -> Truth {
        let window = self.cfg.window();
        let tz = jiff::tz::TimeZone::get(&self.cfg.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
        let samples = window.samples(&tz);
        let noons = window.noons(&tz);
        let nights = window.nights() as usize;
        let zn = self.config.zones.len();
        let mut head = vec![0u32; samples.len() * zn];
        let mut home_secs: Vec<Vec<u32>> = vec![vec![0; nights]; self.homes.len()];
        let mut living: Vec<u32> = vec![0; self.homes.len()];
        let mut swipes = Vec::new();
        let (start, end) = (self.t0 - DAY, self.end());
        for m in 0..self.members.len() {
            let mut eps = self.episodes(m);
            let member = &self.members[m];
            let (h, persona) = (member.home, member.persona);
            // The family trip overrides a resident's own episodes.
            if persona.lives_here()
                && persona != Persona::Weekender
                && let Some((a, b)) = self.homes[h].trip
            {
                eps.retain(|&(x, y)| y < a || x > b);
                eps.push((a, b));
                eps.sort_unstable();
            }
            // Inside intervals (truth) and the crossings that make them.
            let inside: Vec<(i64, i64)> = if persona.comes_and_goes() {
                eps.clone()
            } else {
                let mut v = Vec::new();
                let mut from = start;
                for &(a, b) in &eps {
                    v.push((from, a));
                    from = b;
                }
                v.push((from, end));
                v
            };
            if persona.lives_here() {
                living[h] += 1;
                let (uz, bz) = (self.homes[h].unit_zone, self.homes[h].building_zone);
                let mut k = 0;
                for (si, s) in samples.iter().enumerate() {
                    while k < inside.len() && inside[k].1 <= s.t {
                        k += 1;
                    }
                    if k < inside.len() && inside[k].0 <= s.t {
                        for z in [0, bz, uz] {
                            head[si * zn + z] += 1;
                        }
                    }
                }
                for &(a, b) in &inside {
                    add_home(&mut home_secs[h], &noons, a, b);
                }
            }
            for &(a, b) in &eps {
                let (arrive, leave) = if persona.comes_and_goes() {
                    (a, b)
                } else {
                    (b, a)
                };
                if arrive >= start && arrive < end {
                    self.arrival(m, arrive, &mut swipes);
                }
                if leave >= start && leave < end && leave > start + 1 {
                    self.departure(m, leave, &mut swipes);
                }
            }
        }
        swipes.sort_unstable();
        let count = swipes.len() as u64;
        for s in &swipes {
            sink(s);
        }
        let holding = super::truth::holding_passes(&self.estate);
        let mut households = Vec::new();
        for (h, home) in self.homes.iter().enumerate() {
            let presence: String = home_secs[h]
                .iter()
                .map(|&s| {
                    if i64::from(s) >= HOME_NIGHT_S {
                        '1'
                    } else {
                        '0'
                    }
                })
                .collect();
            let present = presence.chars().filter(|&c| c == '1').count() as u32;
            let status = status_of(present, nights as u32);
            let id = &self.estate.households[h].id;
            let registered = self
                .estate
                .people
                .iter()
                .enumerate()
                .filter(|(i, p)| {
                    p.household.as_deref() == Some(id)
                        && self.members[*i].persona != Persona::MovedOut
                })
                .count() as u32;
            let residents = if status == Status::Vacant {
                0
            } else {
                living[h]
            };
            households.push(TrueHousehold {
                household: id.clone(),
                kind: home.kind.to_string(),
                status,
                residents,
                registered,
                nights_present: present,
                over_occupied: residents > registered,
                many_visitors: false,
                presence,
                holds_pass: holding.contains(id.as_str()),
            });
        }
        let ids = |v: &[u32]| -> Vec<String> {
            let mut v: Vec<String> = v
                .iter()
                .map(|&p| self.estate.passes[p as usize].id.clone())
                .collect();
            v.sort();
            v.dedup();
            v
        };
        let mut head_counts = Vec::new();
        for (si, s) in samples.iter().enumerate() {
            for (z, zone) in self.config.zones.iter().enumerate() {
                if zone.kind == Some(ZoneKind::Unit) {
                    continue;
                }
                head_counts.push(HeadCount {
                    at: jiff::Timestamp::from_second(s.t)
                        .map(|t| gatehouse_core::time::rfc3339(t, &tz))
                        .unwrap_or_default(),
                    zone: zone.id.clone(),
                    count: head[si * zn + z],
                });
            }
        }
        let tailgaters: Vec<u32> = self
            .members
            .iter()
            .filter(|m| m.tailgater && m.persona.lives_here())
            .filter_map(|m| m.pass)
            .collect();
        let ghosts: Vec<String> = self
            .members
            .iter()
            .enumerate()
            .filter(|(_, m)| m.persona == Persona::Ghost && self.homes[m.home].kind != "empty")
            .map(|(i, _)| self.estate.people[i].id.clone())
            .collect();
        Truth {
            seed: self.cfg.seed,
            missing_exits: self.cfg.missing_exits,
            window: WindowDates {
                from: window.from.to_string(),
                to: window.to.to_string(),
            },
            nights: nights as u32,
            households,
            lent_passes: ids(&self.lent),
            cloned_cards: ids(&self.cloned),
            shared_cards: ids(&self.shared),
            moved_out_passes: ids(&self.moved_out),
            tailgaters: ids(&tailgaters),
            ghost_members: ghosts,
            passes: self.estate.passes.len(),
            head_counts,
            swipes: count,
        }
    }

    fn carries_card(&self, m: usize, t: i64) -> Option<u32> {
        let member = &self.members[m];
        if member.without_card.is_some_and(|(a, b)| t >= a && t < b) {
            return None;
        }
        member.pass
    }

    fn gate(&mut self, m: usize) -> u32 {
        let g = if self.rng.random_bool(0.8) {
            self.members[m].gate
        } else {
            self.rng.random_range(0..3)
        };
        self.gates[g]
    }

    fn arrival(&mut self, m: usize, t: i64, out: &mut Vec<Swipe>) {
        let Some(pass) = self.carries_card(m, t) else {
            return;
        };
        let gate = self.gate(m);
        let persona = self.members[m].persona;
        let tail = if self.members[m].tailgater {
            0.25
        } else {
            0.02
        };
        let swipe = |t, door, inward| Swipe {
            t,
            pass,
            door,
            inward,
            grant: true,
        };
        if persona == Persona::Borrower && gate == self.gates[0] && self.rng.random_bool(0.5) {
            // Does not know the holder's phone digits: refused, walks to the back gate.
            out.push(Swipe {
                grant: false,
                ..swipe(t, gate, true)
            });
            out.push(swipe(
                t + self.rng.random_range(300..900),
                self.gates[2],
                true,
            ));
            return;
        }
        if !self.rng.random_bool(tail) {
            out.push(swipe(t, gate, true));
        }
        if persona == Persona::Cloner && self.rng.random_bool(0.3) {
            let other = self.gates[(gate as usize + 1) % 3];
            out.push(swipe(t + self.rng.random_range(10..80), other, true));
        }
        if !matches!(persona, Persona::Borrower | Persona::Cloner) && !self.rng.random_bool(0.04) {
            let unit = self.homes[self.members[m].home].unit_door;
            out.push(swipe(t + self.rng.random_range(120..360), unit, true));
        }
    }

    fn departure(&mut self, m: usize, t: i64, out: &mut Vec<Swipe>) {
        let Some(pass) = self.carries_card(m, t) else {
            return;
        };
        let pm = self.cfg.missing_exits;
        let h = self.members[m].home;
        let persona = self.members[m].persona;
        let unit = self.homes[h].unit_door;
        let unit_reads_out = self.config.doors[unit as usize].readers.len() > 1;
        if unit_reads_out
            && !matches!(persona, Persona::Borrower | Persona::Cloner)
            && !self.rng.random_bool(pm * 0.5)
        {
            out.push(Swipe {
                t: t - self.rng.random_range(120..300),
                pass,
                door: unit,
                inward: false,
                grant: true,
            });
        }
        let gate = self.gate(m);
        let lost = match gate {
            0 => pm,
            1 => 1.0,
            _ => (pm * 1.3).min(1.0),
        };
        if !self.rng.random_bool(lost) {
            out.push(Swipe {
                t,
                pass,
                door: gate,
                inward: false,
                grant: true,
            });
        }
    }
}

/// A standard normal draw, by Box–Muller.
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let (u, v): (f64, f64) = (rng.random(), rng.random());
    (-2.0 * (1.0 - u).ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

fn door(id: &str, name: &str, outside: &str, inside: &str, verify: Verify, both: bool) -> Door {
    let text = format!(
        "id = \"{id}\"\nname = \"{name}\"\nkind = \"pedestrian\"\noutside = \"{outside}\"\ninside = \"{inside}\"\ncontroller = \"mqtt\"\n"
    );
    let mut d: Door = toml::from_str(&text).expect("the simulator's door table parses");
    if outside != "outside" {
        d.kind = DoorKind::Unit;
    }
    d.verify = verify;
    d.readers = vec![DoorReader {
        id: format!("{id}-in"),
        direction: Direction::In,
    }];
    if both {
        d.readers.push(DoorReader {
            id: format!("{id}-out"),
            direction: Direction::Out,
        });
    }
    d
}
