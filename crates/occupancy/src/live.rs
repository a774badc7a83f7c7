//! Live head counts: who is inside now, per zone, kept up to date one event at a time for the
//! daemon (the MQTT occupancy summary, the console's head-count panel). Sans-IO: events and
//! the time are handed in.
//!
//! The rules are the report's (`inside_now` and `zones` in [`crate::Report`]): a pass is
//! inside when its last granted read was inward and is at most [`INSIDE_NOW_REACH`] old; it
//! counts in the zone that read put it in and in every zone above. Each event costs a few
//! integer operations and a heap push: an entry's expiry waits in a heap until the clock
//! passes it.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use gatehouse_core::config::Config;
use gatehouse_core::estate::EstateData;
use gatehouse_core::event::Event;

use crate::OccupancyError;
use crate::access::{Outcome, Seen};
use crate::presence::{Read, zone_of};
use crate::report::{InsideNow, ZoneCount};
use crate::site::Site;

/// An entry is believed to still hold for "inside now" this long (the report's rule).
pub const INSIDE_NOW_REACH: i64 = 18 * 3600;

/// The zone a pass's last read puts its holder in now, when it says inside: `Some(None)` is
/// inside the estate in no configured zone (a gate into the implicit `site`).
pub(crate) fn inside_now(prev: Option<Read>, now: i64, site: &Site) -> Option<Option<u32>> {
    let p = prev.filter(|p| p.inward && now - p.t <= INSIDE_NOW_REACH)?;
    Some(zone_of(Some(p), None, &site.doors))
}

/// One inside-now entry as the report and the console list it.
pub(crate) fn inside_entry(
    site: &Site,
    pass: u32,
    read: Read,
    zone: Option<u32>,
    fmt: &dyn Fn(i64) -> String,
) -> InsideNow {
    let info = &site.passes[pass as usize];
    InsideNow {
        person: info
            .holder
            .map(|h| site.people[h as usize].id.clone())
            .unwrap_or_default(),
        household: info
            .household
            .map(|h| site.households[h as usize].id.clone()),
        zone: zone.map_or_else(|| "site".to_string(), |z| site.zones[z as usize].id.clone()),
        since: fmt(read.t),
        pass: info.id.clone(),
    }
}

/// The live tracker.
pub struct LiveOccupancy {
    site: std::sync::Arc<Site>,
    /// Per pass: the last granted read (residents' passes only, as in the report).
    last: Vec<Option<Read>>,
    /// Per pass: counted as inside now, and in which zone (`Some(None)`: the site only).
    counted: Vec<Option<Option<u32>>>,
    /// Per zone: passes inside now.
    counts: Vec<u32>,
    /// Passes inside now anywhere in the estate.
    inside_site: u32,
    /// (when an entry stops vouching, pass, the entry's time), earliest first.
    expiry: BinaryHeap<Reverse<(i64, u32, i64)>>,
    /// The tracker's clock: the latest event time or `advance` seen.
    now: Option<i64>,
    /// The seq of the last event observed (0 before any).
    seq: u64,
}

/// Head counts at an instant, without names (what MQTT may carry).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct HeadCounts {
    /// Unix seconds of the tracker's clock, if it has seen any time.
    pub now: Option<i64>,
    /// Passes inside anywhere in the estate.
    pub site: u32,
    /// Every configured zone, in configuration order.
    pub zones: Vec<ZoneCount>,
}

impl LiveOccupancy {
    pub fn new(config: &Config, estate: &EstateData) -> Result<LiveOccupancy, OccupancyError> {
        Ok(LiveOccupancy::with_site(std::sync::Arc::new(Site::new(
            config, estate,
        )?)))
    }

    /// A tracker over an indexed estate (which a report may share).
    pub fn with_site(site: std::sync::Arc<Site>) -> LiveOccupancy {
        let passes = site.passes.len();
        LiveOccupancy {
            last: vec![None; passes],
            counted: vec![None; passes],
            counts: vec![0; site.zones.len()],
            inside_site: 0,
            expiry: BinaryHeap::new(),
            now: None,
            seq: 0,
            site,
        }
    }

    pub fn site(&self) -> &Site {
        &self.site
    }

    /// The seq of the last event observed: a tracker rebuilt from the store carries on from
    /// the event after it.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// Takes one durable event into account (events in log order).
    pub fn observe(&mut self, e: &Event) {
        self.seq = self.seq.max(e.seq);
        let Seen::Access(a) = self.site.seen(e) else {
            return;
        };
        self.advance(a.t);
        let Outcome::Granted(direction) = a.outcome else {
            return;
        };
        let p = a.pass as usize;
        // Visitors count for their host household in the report, never as people inside.
        if self.site.passes[p].visitor_host.is_some() {
            return;
        }
        if self.last[p].is_some_and(|prev| prev.t > a.t) {
            return;
        }
        let read = self.site.read(a.door, a.t, direction, self.last[p]);
        self.last[p] = Some(read);
        self.recount(a.pass);
        if read.inward {
            self.expiry
                .push(Reverse((read.t + INSIDE_NOW_REACH, a.pass, read.t)));
        }
    }

    /// Moves the clock to `now` (never back): entries older than the reach stop counting.
    pub fn advance(&mut self, now: i64) {
        if self.now.is_some_and(|n| n >= now) {
            return;
        }
        self.now = Some(now);
        while let Some(&Reverse((until, pass, t))) = self.expiry.peek() {
            if until >= now {
                break;
            }
            self.expiry.pop();
            // A later read of the pass has already recounted it.
            if self.last[pass as usize].is_some_and(|r| r.t == t) {
                self.recount(pass);
            }
        }
    }

    /// Brings one pass's contribution to the counts in line with its last read.
    fn recount(&mut self, pass: u32) {
        let p = pass as usize;
        let now = self.now.unwrap_or(i64::MIN);
        let want = inside_now(self.last[p], now, &self.site);
        if want == self.counted[p] {
            return;
        }
        if let Some(zone) = self.counted[p].take() {
            self.inside_site -= 1;
            if let Some(z) = zone {
                for z in self.site.zone_chain(z) {
                    self.counts[z as usize] -= 1;
                }
            }
        }
        if let Some(zone) = want {
            self.inside_site += 1;
            if let Some(z) = zone {
                for z in self.site.zone_chain(z) {
                    self.counts[z as usize] += 1;
                }
            }
        }
        self.counted[p] = want;
    }

    /// Head counts now, per zone.
    pub fn head_counts(&self) -> HeadCounts {
        HeadCounts {
            now: self.now,
            site: self.inside_site,
            zones: self
                .site
                .zones
                .iter()
                .zip(&self.counts)
                .map(|(z, &c)| ZoneCount {
                    zone: z.id.clone(),
                    inside_now: c,
                })
                .collect(),
        }
    }

    /// Who is inside now, with the zone and since when (personal data: log who views it).
    /// `zone` narrows the list to that zone and the zones within it.
    pub fn inside_now(&self, zone: Option<u32>) -> Vec<InsideNow> {
        let tz = self.site.tz.clone();
        let fmt = move |t: i64| {
            jiff::Timestamp::from_second(t)
                .map(|ts| gatehouse_core::time::rfc3339(ts, &tz))
                .unwrap_or_default()
        };
        let mut out = Vec::new();
        for (p, counted) in self.counted.iter().enumerate() {
            let (Some(at), Some(read)) = (counted, self.last[p]) else {
                continue;
            };
            if let Some(want) = zone
                && !at.is_some_and(|z| self.site.zone_chain(z).any(|c| c == want))
            {
                continue;
            }
            out.push(inside_entry(&self.site, p as u32, read, *at, &fmt));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::{SimConfig, Simulation, log};
    use crate::{Method, Occupancy};

    #[test]
    fn live_counts_agree_with_the_report_at_every_sampled_instant() {
        let mut sim = Simulation::new(SimConfig::new(40, 7, 3, 0.2));
        let events = log(&mut sim);
        assert!(
            events.len() > 500,
            "the simulation made {} events",
            events.len()
        );
        let window = sim.cfg.window();
        // Cut the stream at several points; at each the live tracker, fed event by event,
        // must say what a report made from the events up to there says.
        let mut live = LiveOccupancy::new(&sim.config, &sim.estate).unwrap();
        let mut fed = 0;
        let mut compared = 0;
        for cut in (1..=8).map(|k| events.len() * k / 8) {
            for e in &events[fed..cut] {
                live.observe(e);
            }
            fed = cut;
            let mut occ = Occupancy::new(&sim.config, &sim.estate, window, Method::Ours).unwrap();
            for e in &events[..cut] {
                occ.observe(e);
            }
            let report = occ.finish();
            let counts = live.head_counts();
            assert_eq!(counts.zones, report.zones, "zones after {cut} events");
            let key = |i: &InsideNow| (i.pass.clone(), i.zone.clone(), i.since.clone());
            let mut mine: Vec<_> = live.inside_now(None).iter().map(key).collect();
            let mut theirs: Vec<_> = report.inside_now.iter().map(key).collect();
            mine.sort();
            theirs.sort();
            assert_eq!(mine, theirs, "inside now after {cut} events");
            assert_eq!(counts.site as usize, mine.len());
            compared += mine.len();
        }
        assert!(
            compared > 0,
            "nobody was ever inside: the comparison proved nothing"
        );
    }

    #[test]
    fn an_entry_stops_counting_after_the_reach_and_an_exit_at_once() {
        let mut sim = Simulation::new(SimConfig::new(4, 1, 1, 0.0));
        sim.run(|_| {});
        let pass = sim
            .estate
            .passes
            .iter()
            .find(|p| p.visitor.is_none())
            .unwrap();
        let gate = sim
            .config
            .doors
            .iter()
            .find(|d| d.outside == "outside")
            .unwrap();
        let tz = jiff::tz::TimeZone::get(&sim.cfg.timezone).unwrap();
        let access = |t: i64, dir: gatehouse_core::event::Direction, seq: u64| {
            let at = gatehouse_core::time::rfc3339(jiff::Timestamp::from_second(t).unwrap(), &tz);
            let mut e = Event::new(gatehouse_core::event::Kind::Access, at);
            e.seq = seq;
            e.pass = Some(pass.id.clone());
            e.door = Some(gate.id.clone());
            e.direction = Some(dir);
            e.decision = Some(gatehouse_core::event::Decision::Grant);
            e
        };
        let mut live = LiveOccupancy::new(&sim.config, &sim.estate).unwrap();
        let t0 = 1_790_000_000;
        assert_eq!(live.head_counts().site, 0);
        live.observe(&access(t0, gatehouse_core::event::Direction::In, 1));
        let gate_zone = live.site().zone(&gate.inside).unwrap();
        let in_zone =
            |live: &LiveOccupancy| live.head_counts().zones[gate_zone as usize].inside_now;
        assert_eq!((live.head_counts().site, in_zone(&live)), (1, 1));
        assert_eq!(live.inside_now(Some(gate_zone)).len(), 1);
        assert_eq!(live.seq(), 1);
        // Still inside at the edge of the reach; out one second later.
        live.advance(t0 + INSIDE_NOW_REACH);
        assert_eq!(live.head_counts().site, 1);
        live.advance(t0 + INSIDE_NOW_REACH + 1);
        assert_eq!((live.head_counts().site, in_zone(&live)), (0, 0));
        assert!(live.inside_now(None).is_empty());
        // In again, then out: the exit counts at once, and the old expiry does not undo it.
        let t1 = t0 + 2 * INSIDE_NOW_REACH;
        live.observe(&access(t1, gatehouse_core::event::Direction::In, 2));
        assert_eq!(live.head_counts().site, 1);
        live.observe(&access(t1 + 60, gatehouse_core::event::Direction::Out, 3));
        assert_eq!(live.head_counts().site, 0);
        live.observe(&access(t1 + 120, gatehouse_core::event::Direction::In, 4));
        live.advance(t1 + INSIDE_NOW_REACH + 60);
        assert_eq!(
            live.head_counts().site,
            1,
            "the expiry of the first entry must not count"
        );
        // A read older than the last one changes nothing.
        live.observe(&access(t1 + 90, gatehouse_core::event::Direction::Out, 5));
        assert_eq!(live.head_counts().site, 1);
    }

    #[test]
    fn registered_residents_add_up_the_zone_tree() {
        let mut sim = Simulation::new(SimConfig::new(40, 1, 7, 0.0));
        sim.run(|_| {});
        let live = LiveOccupancy::new(&sim.config, &sim.estate).unwrap();
        let site = live.site();
        let (per_zone, total) = site.registered_per_zone();
        // Counted straight from the estate data: members of households whose zone is the zone
        // or one within it.
        let members = |zone: &str| -> u32 {
            sim.estate
                .households
                .iter()
                .filter(|h| {
                    site.zone(&h.zone).is_some_and(|z| {
                        site.zone_chain(z)
                            .any(|c| site.zones[c as usize].id == zone)
                    })
                })
                .map(|h| {
                    site.households
                        .iter()
                        .find(|i| i.id == h.id)
                        .map_or(0, |i| i.members.len() as u32)
                })
                .sum()
        };
        assert!(total > 0, "the simulated estate has residents");
        for (z, info) in site.zones.iter().enumerate() {
            assert_eq!(per_zone[z], members(&info.id), "zone {}", info.id);
        }
        let roots: u32 = site
            .zones
            .iter()
            .enumerate()
            .filter(|(_, z)| z.parent.is_none())
            .map(|(i, _)| per_zone[i])
            .sum();
        assert!(roots <= total && per_zone.iter().any(|&n| n > 0 && n < total));
    }
}
