//! Occupancy inference: `observe` every event (in any order), then `finish` for the report.
//!
//! Reading keeps, per pass, the reads that fall within the window (with a week before it, to
//! learn each holder's rhythm, and a day after it, for the last night's morning): about 16
//! bytes a read, so a 28-day window over 20,000 households holds a few million reads. The
//! judging happens in `finish`, on the reads sorted by time, so the order events arrive in
//! (an older file imported after a newer one) does not change the report, and a read stored
//! twice counts once. The presence model itself is in [`crate::model`].

use gatehouse_core::config::Config;
use gatehouse_core::estate::EstateData;
use gatehouse_core::event::{Direction, Event};

use std::sync::Arc;

use crate::OccupancyError;
use crate::access::{AccessRead, Outcome, Seen};
use crate::anomaly::{self, PassSigns};
use crate::live;
use crate::model::{self, Crossing, Dir, Durations, HOME_NIGHT_S, Mark, Rhythm};
use crate::presence::{Method, Read, inside_at};
use crate::report::{
    Anomaly, Coverage, DailyFlow, DoorCoverage, HeadCount, HouseholdVerdict, Report, WindowDates,
    ZoneCount,
};
use crate::site::Site;
use crate::verdict;
use crate::window::{Sample, Window};

/// Reads this long before the window are kept to learn each holder's rhythm.
const LOOKBACK: i64 = 7 * 86_400;
/// Reads this long after the window's last noon are kept (the last night's morning).
const LOOKAHEAD: i64 = 86_400;
/// Evening crossings count towards "how many people use this pass" from noon to 03:00.
const EVENING: i64 = 15 * 3600;
/// Fewer nights of data than this and no household is judged: `unknown`.
pub const MIN_NIGHTS: u32 = 3;

/// What is known about one pass.
#[derive(Default)]
pub(crate) struct PassState {
    /// Reads in the kept span, in arrival order until `finish` sorts them.
    pub marks: Vec<Mark>,
    /// The latest granted read (for the inside-now list).
    pub prev: Option<Read>,
    /// One bit per night: at home (best estimate), at home by recorded crossings only, and
    /// possibly at home.
    pub nights: Vec<u64>,
    pub seen: Vec<u64>,
    pub maybe: Vec<u64>,
    /// Per night: arrivals and departures between noon and 03:00 (saturating).
    pub evening_in: Vec<u8>,
    pub evening_out: Vec<u8>,
    /// People who use the pass: the median of evening arrivals less departures over its
    /// nights at home (at least 1 when it has any).
    pub people: u32,
    pub signs: PassSigns,
    /// A stretch in which someone else carried the pass (see [`anomaly::lent_stretch`]):
    /// (first arrival, last arrival, days, arrivals).
    pub lent: Option<(i64, i64, u32, u32)>,
    /// One bit per night the pass says nothing about its holder: the nights of its lent
    /// stretch, which the household is judged on without it.
    pub blind: Vec<u64>,
}

fn bit(v: &[u64], n: u32) -> bool {
    v.get(n as usize / 64)
        .is_some_and(|w| w >> (n % 64) & 1 == 1)
}
fn set(v: &mut [u64], n: u32) {
    if let Some(w) = v.get_mut(n as usize / 64) {
        *w |= 1 << (n % 64);
    }
}

impl PassState {
    pub fn night(&self, n: u32) -> bool {
        bit(&self.nights, n)
    }
    pub fn night_seen(&self, n: u32) -> bool {
        bit(&self.seen, n)
    }
    pub fn night_maybe(&self, n: u32) -> bool {
        bit(&self.maybe, n)
    }
    pub fn night_blind(&self, n: u32) -> bool {
        bit(&self.blind, n)
    }
    pub fn nights_present(&self) -> u32 {
        self.nights.iter().map(|w| w.count_ones()).sum()
    }
    /// Per night at home among `judged`: evening arrivals less departures (at least 1),
    /// sorted.
    pub fn people_per_night(&self, judged: &[u32]) -> Vec<u32> {
        let mut v: Vec<u32> = judged
            .iter()
            .filter(|&&n| self.night(n))
            .map(|&n| {
                let n = n as usize;
                u32::from(
                    self.evening_in[n]
                        .saturating_sub(self.evening_out[n])
                        .max(1),
                )
            })
            .collect();
        v.sort_unstable();
        v
    }
}

/// The streaming inference. See the module documentation.
pub struct Occupancy {
    pub(crate) site: Arc<Site>,
    pub(crate) window: Window,
    pub(crate) method: Method,
    samples: Vec<Sample>,
    /// Noon of each date of the window: night `n` is `noons[n]..noons[n + 1]`.
    pub(crate) noons: Vec<i64>,
    midnights: Vec<i64>,
    pub(crate) passes: Vec<PassState>,
    /// Which nights the estate's data covers (judged), one bit per night.
    pub(crate) covered: Vec<u64>,
    pub(crate) visitor_entries: Vec<u32>,
    /// Per household: people registered without a pass (children, elders).
    pub(crate) anomalies: Vec<Anomaly>,
    /// Set when the window ends on the date of the latest record (`until_latest`): its
    /// first date if given, the nights otherwise, and the date to use with no records.
    latest: Option<(Option<jiff::civil::Date>, jiff::civil::Date)>,
    first: Option<i64>,
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
        Occupancy::with_site(Arc::new(Site::new(config, estate)?), window, method)
    }

    /// Occupancy over `window` of an indexed estate (which the live tracker may share).
    pub fn with_site(
        site: Arc<Site>,
        window: Window,
        method: Method,
    ) -> Result<Occupancy, OccupancyError> {
        if window.to <= window.from {
            return Err(OccupancyError::Input(format!(
                "the window {} to {} holds no night; give --from before --to",
                window.from, window.to
            )));
        }
        let samples = window.samples(&site.tz);
        let noons = window.noons(&site.tz);
        let midnights = window.midnights(&site.tz);
        Ok(Occupancy {
            passes: (0..site.passes.len())
                .map(|_| PassState::default())
                .collect(),
            covered: Vec::new(),
            visitor_entries: vec![0; site.households.len()],
            anomalies: Vec::new(),
            samples,
            noons,
            midnights,
            site,
            window,
            method,
            latest: None,
            first: None,
            as_of: None,
            events_read: 0,
            events_unusable: 0,
        })
    }

    /// Occupancy over the last 28 nights of the data (or from `from`), ending on the date
    /// of the latest access record read, whatever order records arrive in; `no_data` is the
    /// end date used when there are none. Keeps every read until `finish` knows the window.
    pub fn until_latest(
        config: &Config,
        estate: &EstateData,
        from: Option<jiff::civil::Date>,
        no_data: jiff::civil::Date,
        method: Method,
    ) -> Result<Occupancy, OccupancyError> {
        let mut occ = Occupancy::new(config, estate, Window::ending(no_data, 28), method)?;
        occ.latest = Some((from, no_data));
        Ok(occ)
    }

    /// The window: known from the start, or (`until_latest`) once every record is read.
    /// A `from` on or after the latest record's date leaves a one-night window, which the
    /// data does not cover: every household `unknown`.
    fn settle_window(&mut self) {
        let Some((from, no_data)) = self.latest else {
            return;
        };
        let to = self
            .as_of
            .and_then(|t| jiff::Timestamp::from_second(t).ok())
            .map_or(no_data, |t| t.to_zoned(self.site.tz.clone()).date());
        let window = match from {
            Some(from) if from < to => Window { from, to },
            Some(from) => Window {
                from,
                to: from.tomorrow().unwrap_or(from),
            },
            None => Window::ending(to, 28),
        };
        self.window = window;
        self.samples = window.samples(&self.site.tz);
        self.noons = window.noons(&self.site.tz);
        self.midnights = window.midnights(&self.site.tz);
        let (a, b) = self.kept();
        for state in &mut self.passes {
            state.marks.retain(|m| (a..b).contains(&m.t));
        }
    }

    /// Takes one event into account, in any order.
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

    /// The instants reads are kept between.
    fn kept(&self) -> (i64, i64) {
        let first = self.noons.first().copied().unwrap_or(0);
        let last = self.noons.last().copied().unwrap_or(0);
        (first - LOOKBACK, last + LOOKAHEAD)
    }

    fn observe_access(&mut self, a: AccessRead) {
        let AccessRead { t, pass, door, .. } = a;
        self.as_of = Some(self.as_of.map_or(t, |x| x.max(t)));
        self.first = Some(self.first.map_or(t, |x| x.min(t)));
        let dir = match a.outcome {
            Outcome::Denied { phone } => Dir::Denied { phone },
            Outcome::Granted(Some(Direction::In)) => Dir::In,
            Outcome::Granted(Some(Direction::Out)) => Dir::Out,
            Outcome::Granted(None) => Dir::Unknown,
        };
        let (from, to) = self.kept();
        let state = &mut self.passes[pass as usize];
        // Visitors are not listed inside (as in the live counts).
        if let Outcome::Granted(direction) = a.outcome
            && self.site.passes[pass as usize].visitor_host.is_none()
            && state.prev.is_none_or(|p| p.t <= t)
        {
            state.prev = Some(self.site.read(door, t, direction, state.prev));
        }
        if self.latest.is_some() || (from..to).contains(&t) {
            state.marks.push(Mark { t, door, dir });
        }
    }

    /// Judges everything and writes the report.
    pub fn finish(mut self) -> Report {
        self.settle_window();
        let site = self.site.clone();
        let nights = self.window.nights();
        let words = nights.div_ceil(64).max(1) as usize;
        let (start, end) = (
            self.first.unwrap_or(i64::MAX),
            self.as_of.unwrap_or(i64::MIN),
        );
        // Nights the data covers: records from before midnight to after 06:00 the next day.
        self.covered = vec![0; words];
        let mut nights_covered = 0;
        for n in 0..nights {
            let (a, b) = (self.noons[n as usize], self.noons[n as usize + 1]);
            if start <= a + 12 * 3600 && end >= b - 6 * 3600 {
                set(&mut self.covered, n);
                nights_covered += 1;
            }
        }
        let kept_from = self.kept().0;
        let mut crossings: Vec<Vec<Crossing>> = Vec::with_capacity(self.passes.len());
        let mut estate_rhythm = Rhythm::default();
        for (p, state) in self.passes.iter_mut().enumerate() {
            state.marks.sort_unstable();
            state.marks.dedup();
            let cs = model::crossings(&state.marks, &site);
            if site.passes[p].household.is_some() {
                estate_rhythm.learn(&cs, &site);
            }
            crossings.push(cs);
        }
        estate_rhythm.settle();
        // Which doors' records show both directions (tailgating can be told only there).
        let mut ways = vec![(false, false); site.doors.len()];
        for state in &self.passes {
            for m in &state.marks {
                let w = &mut ways[m.door as usize];
                match m.dir {
                    Dir::In => w.0 = true,
                    Dir::Out => w.1 = true,
                    _ => {}
                }
            }
        }
        let both_ways: Vec<bool> = ways.iter().map(|&(i, o)| i && o).collect();
        let zn = site.zones.len();
        let mut head = vec![0u32; self.samples.len() * zn];
        let mut flows =
            vec![(0u32, 0u32); self.midnights.len().saturating_sub(1) * site.doors.len()];
        let mut door_in = vec![0u64; site.doors.len()];
        let mut door_out = vec![0u64; site.doors.len()];
        for (p, state) in self.passes.iter_mut().enumerate() {
            state.nights = vec![0; words];
            state.seen = vec![0; words];
            state.maybe = vec![0; words];
            state.blind = vec![0; words];
            state.evening_in = vec![0; nights as usize];
            state.evening_out = vec![0; nights as usize];
            let info = &site.passes[p];
            // Flows, visitor entries, doors' directions, anomalies: every granted read.
            let mut prev: Option<Read> = None;
            let mut last_day = None;
            for m in &state.marks {
                let direction = match m.dir {
                    Dir::In => Some(Direction::In),
                    Dir::Out => Some(Direction::Out),
                    Dir::Unknown => None,
                    Dir::Denied { phone } => {
                        if phone {
                            anomaly::settle_denial(&mut state.signs, None);
                            state.signs.pending_denial = Some((m.t, m.door));
                        }
                        continue;
                    }
                };
                let read = site.read(m.door, m.t, direction, prev);
                if read.crossed_in {
                    door_in[m.door as usize] += 1;
                } else {
                    door_out[m.door as usize] += 1;
                }
                let day = self.midnights.partition_point(|&x| x <= m.t);
                let in_window = day >= 1 && day < self.midnights.len();
                if in_window {
                    let slot = &mut flows[(day - 1) * site.doors.len() + m.door as usize];
                    if read.crossed_in {
                        slot.0 += 1
                    } else {
                        slot.1 += 1
                    }
                }
                if let Some(host) = info.visitor_host {
                    if read.crossed_in && read.boundary && in_window {
                        self.visitor_entries[host as usize] += 1;
                    }
                    prev = Some(read);
                    continue;
                }
                match prev {
                    Some(before) => {
                        if let Some(a) = anomaly::between(
                            before,
                            read,
                            &site,
                            p as u32,
                            &mut state.signs,
                            &both_ways,
                        ) {
                            self.anomalies.push(a);
                        }
                    }
                    None => anomaly::settle_denial(&mut state.signs, Some(read)),
                }
                if in_window && last_day != Some(day) {
                    last_day = Some(day);
                    state.signs.days_seen += 1;
                }
                prev = Some(read);
            }
            anomaly::settle_denial(&mut state.signs, None);
            if info.household.is_none() || state.marks.is_empty() {
                continue;
            }
            let home = info
                .household
                .and_then(|h| site.households[h as usize].zone);
            state.lent = anomaly::lent_stretch(&state.marks, &site, home);
            let cs = &crossings[p];
            for c in cs {
                let n = self.noons.partition_point(|&x| x <= c.t);
                if n >= 1 && n <= nights as usize && c.t < self.noons[n - 1] + EVENING {
                    let slot = if c.arrive {
                        &mut state.evening_in[n - 1]
                    } else {
                        &mut state.evening_out[n - 1]
                    };
                    *slot = slot.saturating_add(1);
                }
            }
            match self.method {
                Method::Ours => {
                    // The lent stretch's reads are the borrower's, whole local days of them:
                    // the holder is judged without them, and its nights not by this pass.
                    let kept: Vec<Crossing>;
                    let mut cs = cs.as_slice();
                    let mut blind = None;
                    if let Some((from, to, ..)) = state.lent {
                        let (lo, hi) = (site.day_start(from), site.day_start(to) + 86_400);
                        kept = cs
                            .iter()
                            .filter(|c| c.t < lo || c.t >= hi)
                            .copied()
                            .collect();
                        cs = &kept;
                        blind = Some((lo, hi));
                    }
                    let mut own = Rhythm::default();
                    own.learn(cs, &site);
                    own.settle();
                    let mut d = Durations::of(&own, &estate_rhythm);
                    // Over the span whose reads are kept (from the lookback's start).
                    d.widen(cs, start.max(kept_from), end, &site);
                    let (best, maybe) = model::inside(cs, &d, start, end, &site);
                    // Seconds at home per night: in the best estimate, in the stays seen,
                    // and possibly.
                    let (mut all, mut sure, mut possible) = (
                        vec![0; nights as usize],
                        vec![0; nights as usize],
                        vec![0; nights as usize],
                    );
                    let stays = |seen_only: bool| {
                        best.iter()
                            .filter(move |i| i.seen || !seen_only)
                            .map(|i| (i.from, i.to))
                    };
                    model::per_night(stays(false), &self.noons, &mut all);
                    model::per_night(stays(true), &self.noons, &mut sure);
                    model::per_night(maybe.iter().copied(), &self.noons, &mut possible);
                    for n in 0..nights {
                        let k = n as usize;
                        if let Some((lo, hi)) = blind
                            && (lo..hi).contains(&self.noons[k])
                        {
                            set(&mut state.blind, n);
                            continue;
                        }
                        let (all, sure) = (all[k], sure[k]);
                        let possible = possible[k].max(all);
                        if all >= HOME_NIGHT_S {
                            set(&mut state.nights, n);
                        }
                        if sure >= HOME_NIGHT_S {
                            set(&mut state.seen, n);
                        }
                        if possible >= HOME_NIGHT_S {
                            set(&mut state.maybe, n);
                        }
                    }
                    let mut k = 0;
                    for (si, s) in self.samples.iter().enumerate() {
                        while k < best.len() && best[k].to <= s.t {
                            k += 1;
                        }
                        if k < best.len() && best[k].from <= s.t {
                            count_head(&mut head, si, zn, &site, info.household);
                        }
                    }
                }
                Method::EntryDays => {
                    for c in cs.iter().filter(|c| c.arrive) {
                        let n = self.noons.partition_point(|&x| x <= c.t + 12 * 3600);
                        if n >= 1 && n <= nights as usize {
                            set(&mut state.nights, n as u32 - 1);
                        }
                    }
                    state.seen.clone_from(&state.nights);
                    state.maybe.clone_from(&state.nights);
                }
                Method::FirstLastRead | Method::LastDirection => {
                    baseline_nights(
                        self.method,
                        state,
                        &site,
                        &self.samples,
                        &mut head,
                        zn,
                        info.household,
                    );
                }
            }
        }
        let judged: Vec<u32> = (0..nights).filter(|&n| bit(&self.covered, n)).collect();
        for state in &mut self.passes {
            let v = state.people_per_night(&judged);
            state.people = v.get(v.len() / 2).copied().unwrap_or(0);
        }
        // Two people coming home on one shared card through two gates is no anomaly.
        let passes = &self.passes;
        self.anomalies.retain(|a| {
            site.pass(&a.pass)
                .is_none_or(|p| passes[p as usize].people <= 1)
        });
        let tz = site.tz.clone();
        let fmt = |t: i64| {
            jiff::Timestamp::from_second(t)
                .map(|ts| gatehouse_core::time::rfc3339(ts, &tz))
                .unwrap_or_default()
        };
        let mut inside_now = Vec::new();
        let mut now_count = vec![0u32; zn];
        if let Some(as_of) = self.as_of {
            for (i, state) in self.passes.iter().enumerate() {
                let (Some(read), Some(zone)) =
                    (state.prev, live::inside_now(state.prev, as_of, &site))
                else {
                    continue;
                };
                if let Some(z) = zone {
                    for z in site.zone_chain(z) {
                        now_count[z as usize] += 1;
                    }
                }
                inside_now.push(live::inside_entry(&site, i as u32, read, zone, &fmt));
            }
        }
        let zones = site
            .zones
            .iter()
            .zip(&now_count)
            .map(|(z, &c)| ZoneCount {
                zone: z.id.clone(),
                inside_now: c,
            })
            .collect();
        let mut head_counts = Vec::new();
        for (si, s) in self.samples.iter().enumerate() {
            for (z, zone) in site.zones.iter().enumerate() {
                head_counts.push(HeadCount {
                    at: fmt(s.t),
                    zone: zone.id.clone(),
                    count: head[si * zn + z],
                });
            }
        }
        let dates = self.window.dates();
        let mut daily = Vec::new();
        for (d, date) in dates.iter().enumerate() {
            for (k, door) in site.doors.iter().enumerate() {
                if let Some(&(entries, exits)) = flows.get(d * site.doors.len() + k) {
                    daily.push(DailyFlow {
                        door: door.id.clone(),
                        date: date.to_string(),
                        entries,
                        exits,
                    });
                }
            }
        }
        let coverage = Coverage {
            first_record: self.first.map(&fmt),
            last_record: self.as_of.map(&fmt),
            nights: nights_covered,
            enough: nights_covered >= MIN_NIGHTS,
            doors: site
                .doors
                .iter()
                .enumerate()
                .map(|(k, d)| DoorCoverage::of(&d.id, door_in[k], door_out[k], d.outside.is_none()))
                .collect(),
        };
        let mut anomalies = std::mem::take(&mut self.anomalies);
        anomalies.extend(anomaly::per_pass(&self, &fmt));
        let households: Vec<HouseholdVerdict> = (0..site.households.len())
            .map(|h| verdict::household(&self, h as u32, &coverage))
            .collect();
        anomalies.sort_by(|a, b| {
            a.at.cmp(&b.at)
                .then(a.pass.cmp(&b.pass))
                .then(a.kind.cmp(&b.kind))
        });
        Report {
            site: site.site_id.clone(),
            site_name: site.site_name.clone(),
            window: WindowDates {
                from: self.window.from.to_string(),
                to: self.window.to.to_string(),
            },
            coverage,
            households,
            zones,
            inside_now,
            anomalies,
            as_of: self.as_of.map(fmt),
            method: self.method.as_str().to_string(),
            events_read: self.events_read,
            events_unusable: self.events_unusable,
            head_counts,
            flows: daily,
        }
    }

    /// Whether the data covers night `n`.
    pub(crate) fn is_covered(&self, n: u32) -> bool {
        bit(&self.covered, n)
    }
}

/// Counts a resident inside at sample `si` in their household's zone and every zone above.
fn count_head(head: &mut [u32], si: usize, zn: usize, site: &Site, household: Option<u32>) {
    if let Some(z) = household.and_then(|h| site.households[h as usize].zone) {
        for z in site.zone_chain(z) {
            head[si * zn + z as usize] += 1;
        }
    }
}

/// The baselines' nights and head counts: inside at 03:00 and 15:00 by the reads around it.
fn baseline_nights(
    method: Method,
    state: &mut PassState,
    site: &Site,
    samples: &[Sample],
    head: &mut [u32],
    zn: usize,
    household: Option<u32>,
) {
    let mut reads: Vec<Read> = Vec::new();
    for m in &state.marks {
        let direction = match m.dir {
            Dir::In => Some(Direction::In),
            Dir::Out => Some(Direction::Out),
            Dir::Unknown => None,
            Dir::Denied { .. } => continue,
        };
        reads.push(site.read(m.door, m.t, direction, reads.last().copied()));
    }
    let mut k = 0;
    for (si, s) in samples.iter().enumerate() {
        while k < reads.len() && reads[k].t <= s.t {
            k += 1;
        }
        let prev = k.checked_sub(1).map(|i| reads[i]);
        let next = reads.get(k).copied();
        if inside_at(method, prev, next, s.t, s.night) {
            if s.night {
                set(&mut state.nights, s.n);
            }
            count_head(head, si, zn, site, household);
        }
    }
    state.seen.clone_from(&state.nights);
    state.maybe.clone_from(&state.nights);
}
