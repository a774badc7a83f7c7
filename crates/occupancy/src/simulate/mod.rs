//! A seeded estate with realistic routines, its swipe records and the ground truth they came
//! from, so that inference can be measured rather than believed.
//!
//! Each person has a routine (commuter, school child, retiree, shift worker, night worker,
//! homebody, weekend-home owner, group renter, owner checking an empty flat, …) that plans,
//! day by day, when they leave and come back. Plans become reads at the gates (outside ↔
//! estate; the east gate records entries only) and at unit doors (entry readers only; unit
//! doors are left by the exit button, as in most buildings). A share of gate exits is never
//! recorded, different at each gate, and some entries are tailgated. Some children hold no
//! card. Overlays add lent passes (the holder goes without meanwhile), cloned cards,
//! residents who moved out, ghost members and visitors. The truth records what really
//! happened: who slept where each night (inside for at least 6 h between noon and noon) and
//! how many people were inside at each sample. A second, differently built simulator is in
//! [`episodes`].
//!
//! Local days are taken as 86 400 s from the first midnight, which is exact for zones
//! without daylight saving (the estates this is for) and off by an hour twice a year
//! elsewhere.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use gatehouse_core::config::Config;
use gatehouse_core::estate::EstateData;
use jiff::civil::Date;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::window::Window;

mod build;
mod days;
pub mod episodes;
mod output;
mod truth;

pub use output::{csv_row, event, log};
pub use truth::{TrueHousehold, Truth};

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
    /// Works nights: out from about 21:00 to 06:30 on workdays.
    NightWorker,
    /// Stays in; a short outing every few days.
    Homebody,
    WeekendHome,
    /// The owner of an empty flat, who checks on it by day now and then.
    OwnerCheck,
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
                | Routine::NightWorker
                | Routine::Homebody
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
    /// Truth: since when `inside` has held, and seconds inside in each night (noon to noon).
    since: i64,
    home: Vec<u32>,
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
    /// Lent passes: the days the holder is without it.
    lent_days: std::collections::HashMap<u32, (u32, u32)>,
    cloned: Vec<u32>,
    /// Cards a group rental's unregistered tenants carry copies of (shared, not cloned).
    shared: Vec<u32>,
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
    /// Runs the simulation, handing every swipe record to `sink` in time order, and returns
    /// the truth.
    pub fn run(&mut self, mut sink: impl FnMut(&Swipe)) -> Truth {
        let window = self.cfg.window();
        let tz = jiff::tz::TimeZone::get(&self.cfg.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
        let samples = window.samples(&tz);
        let noons = window.noons(&tz);
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
                self.truth_until(p as usize, t, &samples, &noons, &mut head);
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
            self.truth_until(p as usize, t, &samples, &noons, &mut head);
            self.people[p as usize].inside = inward;
        }
        while let Some(Reverse(s)) = swipes.pop() {
            count += 1;
            sink(&s);
        }
        for p in 0..self.people.len() {
            self.truth_until(p, i64::MAX, &samples, &noons, &mut head);
        }
        self.truth(window, &samples, &head, count, &tz)
    }
}
