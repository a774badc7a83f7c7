//! Each day's plans and the reads they leave at the gates and unit doors.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::{DAY, HOUR, MIN, Routine, Simulation, Swipe};

impl Simulation {
    /// The plan of one person for day `d`: intervals away from home for residents, visits
    /// for everyone else (seconds from the day's midnight; a return may fall on a later day).
    pub(super) fn plan(&mut self, p: usize, d: u32) -> Vec<(i64, i64)> {
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
            Routine::NightWorker => {
                if workday {
                    vec![(u(rng, 20.5, 22.0), DAY + u(rng, 6.0, 7.5))]
                } else if rng.random_bool(0.5) {
                    let s = u(rng, 10.0, 16.0);
                    vec![(s, s + u(rng, 1.0, 4.0))]
                } else {
                    Vec::new()
                }
            }
            Routine::Homebody => {
                if rng.random_bool(0.3) {
                    let s = u(rng, 9.0, 17.0);
                    vec![(s, s + u(rng, 0.5, 2.0))]
                } else {
                    Vec::new()
                }
            }
            Routine::OwnerCheck => {
                if rng.random_bool(0.08) {
                    let s = u(rng, 9.0, 16.0);
                    vec![(s, s + u(rng, 0.5, 3.0))]
                } else {
                    Vec::new()
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

    /// The reads one crossing leaves: at a gate, then (inwards) at the unit door.
    pub(super) fn reads(
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
        // A holder who lent the pass goes without it meanwhile (follows others in, leaves by
        // the button): no reads.
        let day = ((t - self.t0) / DAY) as u32;
        if person.routine != Routine::Outsider
            && self
                .lent_days
                .get(&pass)
                .is_some_and(|&(a, b)| day >= a && day < b)
        {
            return;
        }
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
            // Visitors and outsiders do not go to the holder's unit.
            if !matches!(person.routine, Routine::Visitor | Routine::Outsider)
                && !rng.random_bool(0.05)
            {
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
        } else if !rng.random_bool(exit_lost(gate, missing_exits)) {
            out.push(Reverse(Swipe {
                t,
                pass,
                door: gate,
                inward: false,
                grant: true,
            }));
        }
    }
}

/// The share of exits gate `gate` loses: half again the estate's share at the north gate,
/// half of it at the south gate, all of them at the east gate (no exit reader).
fn exit_lost(gate: u32, share: f64) -> f64 {
    match gate {
        0 => (share * 1.5).min(1.0),
        1 => share * 0.5,
        _ => 1.0,
    }
}
