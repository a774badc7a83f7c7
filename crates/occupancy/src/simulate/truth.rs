//! The ground truth: who slept where each night and how many were inside at each sample.

use gatehouse_core::config::ZoneKind;
use serde::{Deserialize, Serialize};

use super::{Routine, SimPerson, Simulation};
use crate::model::HOME_NIGHT_S;
use crate::report::Status;
use crate::verdict::status_of;
use crate::window::Window;

/// Adds the seconds of `[from, to)` to each night (noon `n` to noon `n + 1`) they fall in.
pub(crate) fn add_home(secs: &mut [u32], noons: &[i64], from: i64, to: i64) {
    let mut n = noons.partition_point(|&x| x <= from).saturating_sub(1);
    while n + 1 < noons.len() && n < secs.len() && noons[n] < to {
        let overlap = to.min(noons[n + 1]) - from.max(noons[n]);
        if overlap > 0 {
            secs[n] += overlap as u32;
        }
        n += 1;
    }
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
    /// Cards a household shares (copies carried by its own people): not anomalies.
    #[serde(default)]
    pub shared_cards: Vec<String>,
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
    /// Whether a registered member holds a resident pass: whether the swipes can speak for
    /// the household at all (truth files written before this field say yes).
    #[serde(default = "yes")]
    pub holds_pass: bool,
}

fn yes() -> bool {
    true
}

/// The households some registered member of which holds a pass.
pub(crate) fn holding_passes(
    estate: &gatehouse_core::estate::EstateData,
) -> std::collections::HashSet<&str> {
    let holders: std::collections::HashSet<&str> =
        estate.passes.iter().map(|p| p.holder.as_str()).collect();
    estate
        .people
        .iter()
        .filter(|p| holders.contains(p.id.as_str()))
        .filter_map(|p| p.household.as_deref())
        .collect()
}

impl Simulation {
    /// Records the truth for one person's samples up to `t`, while their state holds.
    pub(super) fn truth_until(
        &mut self,
        p: usize,
        t: i64,
        samples: &[crate::window::Sample],
        noons: &[i64],
        head: &mut [u32],
    ) {
        let zn = self.config.zones.len();
        let person = &mut self.people[p];
        let hh = &self.households[person.household];
        if person.inside && person.routine.lives_here() {
            add_home(&mut person.home, noons, person.since, t);
        }
        person.since = t;
        while let Some(s) = samples.get(person.next_sample) {
            if s.t >= t {
                break;
            }
            if person.inside && person.routine.lives_here() {
                for z in [0, hh.building_zone, hh.unit_zone] {
                    head[person.next_sample * zn + z] += 1;
                }
            }
            person.next_sample += 1;
        }
    }

    pub(super) fn truth(
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
        let holding = holding_passes(&self.estate);
        let mut households = Vec::new();
        for (h, sh) in self.households.iter().enumerate() {
            let living = &living_in[h];
            let presence: String = (0..nights)
                .map(|n| {
                    if living
                        .iter()
                        .any(|p| i64::from(p.home[n as usize]) >= HOME_NIGHT_S)
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
                holds_pass: holding.contains(self.estate.households[h].id.as_str()),
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
            shared_cards: pass_ids(&mut self.shared.iter().copied()),
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
