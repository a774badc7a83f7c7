//! Occupancy inference: reads access events in time order, one at a time, and keeps only a
//! few bytes per pass and per night, so ten million events need no more memory than the
//! estate itself. `observe` every event, then `finish` for the report.

use gatehouse_core::config::Config;
use gatehouse_core::estate::EstateData;
use gatehouse_core::event::Event;

use std::sync::Arc;

use crate::OccupancyError;
use crate::access::{AccessRead, Outcome, Seen};
use crate::anomaly::{self, PassSigns};
use crate::live;
use crate::presence::{Method, Read, inside_at, zone_of};
use crate::report::{
    Anomaly, DailyFlow, HeadCount, HouseholdVerdict, Report, WindowDates, ZoneCount,
};
use crate::site::Site;
use crate::verdict;
use crate::window::{Sample, Window};

/// Evening reads count towards "how many people use this pass" from this long before the
/// night's 03:00 (that is, from 12:00).
const EVENING: i64 = 15 * 3600;

/// What is known about one pass so far.
#[derive(Default)]
pub(crate) struct PassState {
    pub prev: Option<Read>,
    /// The first sample not yet judged for this pass.
    next_sample: u32,
    /// One bit per night of the window: was the holder inside at 03:00?
    pub nights: Vec<u64>,
    /// Per night: entries and exits between 12:00 and 03:00 (saturating).
    pub evening_in: Vec<u8>,
    pub evening_out: Vec<u8>,
    pub signs: PassSigns,
    /// Local day index of the last read, to count days seen.
    last_day: Option<usize>,
}

impl PassState {
    pub fn night(&self, n: u32) -> bool {
        self.nights
            .get(n as usize / 64)
            .is_some_and(|w| w >> (n % 64) & 1 == 1)
    }
    pub fn nights_present(&self) -> u32 {
        self.nights.iter().map(|w| w.count_ones()).sum()
    }
}

/// The streaming inference. See the crate documentation for the rules.
pub struct Occupancy {
    pub(crate) site: Arc<Site>,
    pub(crate) window: Window,
    method: Method,
    samples: Vec<Sample>,
    night_anchors: Vec<i64>,
    midnights: Vec<i64>,
    pub(crate) passes: Vec<PassState>,
    /// sample index × zone → people counted inside.
    head: Vec<u32>,
    /// day × door → (entries, exits).
    flows: Vec<(u32, u32)>,
    pub(crate) visitor_entries: Vec<u32>,
    pub(crate) anomalies: Vec<Anomaly>,
    as_of: Option<i64>,
    events_read: u64,
    events_unusable: u64,
}

impl Occupancy {
    /// Occupancy of the estate over `window`, judged with `method`.
    pub fn new(
        config: &Config,
        estate: &EstateData,
        window: Window,
        method: Method,
    ) -> Result<Occupancy, OccupancyError> {
        let site = Arc::new(Site::new(config, estate)?);
        if window.to <= window.from {
            return Err(OccupancyError::Input(format!(
                "the window {} to {} holds no night; give --from before --to",
                window.from, window.to
            )));
        }
        let samples = window.samples(&site.tz);
        let night_anchors = samples.iter().filter(|s| s.night).map(|s| s.t).collect();
        let midnights = window.midnights(&site.tz);
        let days = midnights.len().saturating_sub(1);
        Ok(Occupancy {
            head: vec![0; samples.len() * site.zones.len()],
            flows: vec![(0, 0); days * site.doors.len()],
            passes: (0..site.passes.len())
                .map(|_| PassState::default())
                .collect(),
            visitor_entries: vec![0; site.households.len()],
            anomalies: Vec::new(),
            samples,
            night_anchors,
            midnights,
            site,
            window,
            method,
            as_of: None,
            events_read: 0,
            events_unusable: 0,
        })
    }

    /// Takes one event into account. Events must come in time order (the log's order);
    /// a read older than the pass's previous one is used for counts but not for presence.
    pub fn observe(&mut self, e: &Event) {
        let seen = self.site.seen(e);
        self.observe_seen(seen);
    }

    /// [`Occupancy::observe`] for an event already read with [`Site::seen`] (on another
    /// thread, for big scans).
    pub fn observe_seen(&mut self, seen: Seen) {
        self.events_read += 1;
        match seen {
            Seen::Other => {}
            Seen::Unusable => self.events_unusable += 1,
            Seen::Access(a) => self.observe_access(a),
        }
    }

    /// The estate as indexed for reading events (to read them with [`Site::seen`]).
    pub fn site(&self) -> &Arc<Site> {
        &self.site
    }

    fn observe_access(&mut self, a: AccessRead) {
        let AccessRead { t, pass, door, .. } = a;
        self.as_of = Some(self.as_of.map_or(t, |a| a.max(t)));
        let state = &mut self.passes[pass as usize];
        let direction = match a.outcome {
            Outcome::Denied { phone } => {
                if phone {
                    anomaly::settle_denial(&mut state.signs, None);
                    state.signs.pending_denial = Some((t, door));
                }
                return;
            }
            Outcome::Granted(direction) => direction,
        };
        let read = self.site.read(door, t, direction, state.prev);
        let (boundary, crossed_in, inward) = (read.boundary, read.crossed_in, read.inward);
        let day = self.midnights.partition_point(|&m| m <= t);
        if day >= 1 && day < self.midnights.len() {
            let slot = &mut self.flows[(day - 1) * self.site.doors.len() + door as usize];
            if crossed_in { slot.0 += 1 } else { slot.1 += 1 }
        }
        if let Some(host) = self.site.passes[pass as usize].visitor_host {
            if crossed_in && boundary && day >= 1 && day < self.midnights.len() {
                self.visitor_entries[host as usize] += 1;
            }
            return;
        }
        if state.prev.is_some_and(|p| p.t > t) {
            return;
        }
        let nights = self.window.nights() as usize;
        if state.nights.is_empty() {
            state.nights = vec![0; nights.div_ceil(64).max(1)];
            state.evening_in = vec![0; nights];
            state.evening_out = vec![0; nights];
        }
        judge_samples(
            state,
            Some(read),
            self.method,
            &self.samples,
            &self.site,
            &mut self.head,
        );
        match state.prev {
            Some(prev) => {
                if let Some(a) = anomaly::between(prev, read, &self.site, pass, &mut state.signs) {
                    self.anomalies.push(a);
                }
            }
            None => anomaly::settle_denial(&mut state.signs, Some(read)),
        }
        let n = self.night_anchors.partition_point(|&a| a <= t);
        if boundary && n < nights && t >= self.night_anchors[n] - EVENING {
            let slot = if inward {
                &mut state.evening_in[n]
            } else {
                &mut state.evening_out[n]
            };
            *slot = slot.saturating_add(1);
        }
        if day >= 1 && day < self.midnights.len() && state.last_day != Some(day) {
            state.last_day = Some(day);
            state.signs.days_seen += 1;
        }
        state.prev = Some(read);
    }

    /// Judges what is left and writes the report.
    pub fn finish(mut self) -> Report {
        for state in &mut self.passes {
            anomaly::settle_denial(&mut state.signs, None);
            if !state.nights.is_empty() {
                judge_samples(
                    state,
                    None,
                    self.method,
                    &self.samples,
                    &self.site,
                    &mut self.head,
                );
            }
        }
        let tz = self.site.tz.clone();
        let fmt = |t: i64| {
            jiff::Timestamp::from_second(t)
                .map(|ts| gatehouse_core::time::rfc3339(ts, &tz))
                .unwrap_or_default()
        };
        let mut inside_now = Vec::new();
        let mut now_count = vec![0u32; self.site.zones.len()];
        if let Some(as_of) = self.as_of {
            for (i, state) in self.passes.iter().enumerate() {
                let (Some(read), Some(zone)) =
                    (state.prev, live::inside_now(state.prev, as_of, &self.site))
                else {
                    continue;
                };
                if let Some(z) = zone {
                    for z in self.site.zone_chain(z) {
                        now_count[z as usize] += 1;
                    }
                }
                inside_now.push(live::inside_entry(&self.site, i as u32, read, zone, &fmt));
            }
        }
        let zones = self
            .site
            .zones
            .iter()
            .zip(&now_count)
            .map(|(z, &c)| ZoneCount {
                zone: z.id.clone(),
                inside_now: c,
            })
            .collect();
        let mut head_counts = Vec::new();
        let zn = self.site.zones.len();
        for (si, s) in self.samples.iter().enumerate() {
            for (z, zone) in self.site.zones.iter().enumerate() {
                head_counts.push(HeadCount {
                    at: fmt(s.t),
                    zone: zone.id.clone(),
                    count: self.head[si * zn + z],
                });
            }
        }
        let dates = self.window.dates();
        let mut flows = Vec::new();
        for (d, date) in dates.iter().enumerate() {
            for (k, door) in self.site.doors.iter().enumerate() {
                if let Some(&(entries, exits)) = self.flows.get(d * self.site.doors.len() + k) {
                    flows.push(DailyFlow {
                        door: door.id.clone(),
                        date: date.to_string(),
                        entries,
                        exits,
                    });
                }
            }
        }
        let mut anomalies = std::mem::take(&mut self.anomalies);
        anomalies.extend(anomaly::per_pass(&self, &fmt));
        let households: Vec<HouseholdVerdict> = (0..self.site.households.len())
            .map(|h| verdict::household(&self, h as u32))
            .collect();
        anomalies.sort_by(|a, b| a.at.cmp(&b.at).then(a.pass.cmp(&b.pass)));
        Report {
            site: self.site.site_id.clone(),
            window: WindowDates {
                from: self.window.from.to_string(),
                to: self.window.to.to_string(),
            },
            households,
            zones,
            inside_now,
            anomalies,
            as_of: self.as_of.map(fmt),
            method: self.method.as_str().to_string(),
            events_read: self.events_read,
            events_unusable: self.events_unusable,
            head_counts,
            flows,
        }
    }
}

/// Judges every sample up to `next` (or to the end when `next` is none) for one pass.
fn judge_samples(
    state: &mut PassState,
    next: Option<Read>,
    method: Method,
    samples: &[Sample],
    site: &Site,
    head: &mut [u32],
) {
    let zn = site.zones.len();
    while let Some(s) = samples.get(state.next_sample as usize) {
        if next.is_some_and(|r| s.t > r.t) {
            break;
        }
        if inside_at(method, state.prev, next, s.t, s.night) {
            if s.night {
                state.nights[s.n as usize / 64] |= 1 << (s.n % 64);
            }
            if let Some(zone) = zone_of(state.prev, next, &site.doors) {
                for z in site.zone_chain(zone) {
                    head[state.next_sample as usize * zn + z as usize] += 1;
                }
            }
        }
        state.next_sample += 1;
    }
}
