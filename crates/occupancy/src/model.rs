//! The presence model: from one pass's reads, when was its holder at home?
//!
//! Reads are turned into **crossings** — arrivals (a gate entry, a unit-door entry) and
//! departures (a gate exit, a unit-door exit) — a unit-door read minutes after a gate read
//! the same way being the same crossing. Between two crossings the holder's state is known
//! or inferred:
//!
//! - arrival → departure: at home the whole time (a stay);
//! - departure → arrival: out the whole time (an outing);
//! - arrival → arrival: a departure was not recorded. Either the holder stayed and went out
//!   shortly before the second arrival (home, then an outing as long as this holder's usual
//!   one), or stayed as long as usual and was away since. The first is taken when the stay
//!   it implies is no longer than the holder's stay limit: at least 36 h, longer for a holder
//!   seen to stay longer, or who comes home often ([`Durations::widen`]); a homebody who has
//!   stayed in for four days before may do so again, a day visitor may not;
//! - departure → departure: an arrival was not recorded (followed someone in): home for the
//!   holder's usual stay before the second departure;
//! - before the first crossing, a departure: inside since the records begin (arrivals are
//!   recorded, so the holder was already in); after the last crossing, an arrival: the
//!   arrival → arrival rule against the end of the estate's data.
//!
//! Each holder's own rhythm sets the durations: the median of their recorded stays (by the
//! hour they arrive), the median of their recorded outings, the longest stay. Holders with
//! too few of their own fall back to the estate's. The inferred parts are kept apart from the
//! recorded ones, so that each night can say whether it was seen or guessed.
//!
//! A **night** (noon to the next noon) is spent at home when the holder was inside for at
//! least [`HOME_NIGHT_S`] of it: a night-shift worker home from 06:30 to 21:30 spends it at
//! home as much as a commuter; an owner checking an empty flat for two hours does not.

use crate::site::Site;

pub const HOUR: i64 = 3600;
/// Inside this long between noon and the next noon is a night at home.
pub const HOME_NIGHT_S: i64 = 6 * HOUR;
/// A unit-door read this soon after a gate read the same way is the same crossing.
const SAME_CROSSING_S: i64 = 15 * 60;
/// The longest silence believed to be a stay; a recorded arrival → departure longer than this
/// is two missed swipes for a holder whose arrivals are seen to go unrecorded (see [`inside`]).
const LONGEST_STAY: i64 = 14 * 24 * HOUR;
/// The longest stay an arrival → arrival gap is trusted to hide, whatever the holder's past.
const MIN_STAY_LIMIT: i64 = 36 * HOUR;
/// The stay credited to a daytime arrival of a holder never seen to stay.
const UNKNOWN_DAY_STAY: i64 = 4 * HOUR;
/// Recorded durations a holder needs before their own medians are used.
const OWN_SAMPLES: usize = 3;
/// A holder who arrives on at least this many distinct days…
const REGULAR_DAYS: i64 = 3;
/// …and on at least one day in this many of the data comes home often.
const REGULAR_EVERY: i64 = 4;
/// Such a holder's arrival → arrival gap hides a stay when it is at most this many times
/// their median interval between days they arrive; a longer silence is an absence (a trip).
const REGULAR_GAP_FACTOR: i64 = 3;
const DAY: i64 = 24 * HOUR;
/// A recorded departure followed by an arrival this soon is an errand, not a trip.
const SHORT_OUTING: i64 = 12 * HOUR;

/// One read as the model needs it. `arrive` is `None` for a gate reader without direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Mark {
    pub t: i64,
    pub door: u32,
    pub dir: Dir,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Dir {
    In,
    Out,
    /// A granted read whose reader gives no direction.
    Unknown,
    /// A refusal (`phone`: for phone digits).
    Denied {
        phone: bool,
    },
}

/// An arrival at home or a departure from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Crossing {
    pub t: i64,
    pub arrive: bool,
    pub door: u32,
    pub gate: bool,
}

/// Durations learnt from recorded crossings: stays (arrival → departure) and outings
/// (departure → arrival), in seconds.
#[derive(Clone, Debug, Default)]
pub struct Rhythm {
    /// Stays by the arrival's quarter of the day (00–06, 06–12, 12–18, 18–24).
    pub stays: [Vec<i64>; 4],
    pub outings: Vec<i64>,
    /// Every stay, sorted: filled by [`Rhythm::settle`], so that the estate's (millions of
    /// stays on a large estate) is sorted once, not once per pass.
    all: Vec<i64>,
}

impl Rhythm {
    pub fn learn(&mut self, crossings: &[Crossing], site: &Site) {
        for w in crossings.windows(2) {
            let dt = w[1].t - w[0].t;
            if dt <= 0 || dt > LONGEST_STAY {
                continue;
            }
            match (w[0].arrive, w[1].arrive) {
                (true, false) => self.stays[quarter(w[0].t, site)].push(dt),
                (false, true) if dt < 3 * 24 * HOUR => self.outings.push(dt),
                _ => {}
            }
        }
    }

    /// Sorts the samples so medians can be read.
    pub fn settle(&mut self) {
        for s in &mut self.stays {
            s.sort_unstable();
        }
        self.outings.sort_unstable();
        self.all = self.stays.iter().flatten().copied().collect();
        self.all.sort_unstable();
    }
}

/// The quarter of the local day an instant falls in.
fn quarter(t: i64, site: &Site) -> usize {
    let local = t + site.utc_offset(t);
    (local.rem_euclid(86_400) / (6 * HOUR)) as usize
}

fn median(sorted: &[i64]) -> Option<i64> {
    (!sorted.is_empty()).then(|| sorted[sorted.len() / 2])
}

/// The durations one holder's gaps are judged by: their own where they have enough, the
/// estate's otherwise.
pub struct Durations {
    stay_by_quarter: [i64; 4],
    outing: i64,
    stay_limit: i64,
    /// Recorded stays, and the longest of them.
    stays_seen: usize,
    longest: i64,
}

impl Durations {
    pub fn of(own: &Rhythm, estate: &Rhythm) -> Durations {
        let own_stays: usize = own.stays.iter().map(Vec::len).sum();
        let (all_own, all_estate) = (&own.all, &estate.all);
        let fallback = median(all_own)
            .filter(|_| own_stays >= OWN_SAMPLES)
            .or(median(all_estate))
            .unwrap_or(12 * HOUR);
        let stay_by_quarter = std::array::from_fn(|q| {
            if own.stays[q].len() >= OWN_SAMPLES {
                median(&own.stays[q]).unwrap_or(fallback)
            } else if own_stays >= OWN_SAMPLES {
                fallback
            } else if own_stays == 0 && (q == 1 || q == 2) {
                // Never seen to stay: a daytime arrival says nothing about the night.
                median(&estate.stays[q])
                    .unwrap_or(fallback)
                    .min(UNKNOWN_DAY_STAY)
            } else {
                median(&estate.stays[q]).unwrap_or(fallback)
            }
        });
        let outing = if own.outings.len() >= OWN_SAMPLES {
            median(&own.outings)
        } else {
            median(&estate.outings)
        }
        .unwrap_or(8 * HOUR);
        let longest = all_own.last().copied().unwrap_or(0);
        Durations {
            stay_by_quarter,
            outing,
            stay_limit: MIN_STAY_LIMIT.max(longest + longest / 2),
            stays_seen: own_stays,
            longest,
        }
    }

    fn stay_after(&self, t: i64, site: &Site) -> i64 {
        self.stay_by_quarter[quarter(t, site)]
    }

    /// Widens the stay an unrecorded departure may hide, with evidence from the holder's
    /// own crossings over the span `[start, end]` of the data kept. Both rest on arrivals
    /// being recorded (a gate opens on a read; only tailgating loses one) while exits often
    /// are not, so that silence after an arrival says little about leaving:
    ///
    /// - **inside when the records begin**: a first crossing that is a departure, with no
    ///   arrival before it, means the holder was inside from the start of the records until
    ///   then (up to `LONGEST_STAY`; see [`inside`]); that stay counts as one the holder has
    ///   been seen to make, so the limit becomes at least 1.5 times it;
    /// - **comes home often**: a holder who arrives on at least `REGULAR_DAYS` distinct
    ///   days, and on at least one day in `REGULAR_EVERY` of the span, lives there and goes
    ///   out (an owner checking a flat, a member who moved out, come far less often): an
    ///   arrival → arrival gap hides a stay when it is no longer than `REGULAR_GAP_FACTOR`
    ///   times the median interval between the days they arrive (at least 36 h, at most
    ///   `LONGEST_STAY`). A longer silence than their own rhythm explains (a family's trip
    ///   after daily arrivals) stays an absence. Unless recorded departures say otherwise:
    ///   a holder seen to stay at least twice, never long enough to hold a night
    ///   ([`HOME_NIGHT_S`]), is visiting, however often;
    /// - **seen going out from home**: a holder who does not come home often but has a
    ///   recorded errand that began from a stay (see [`goes_out_from_home`]) lives here:
    ///   their silences are stays up to `LONGEST_STAY` (a shut-in who goes out twice a
    ///   month). An owner checking an empty flat comes and goes; their recorded departures
    ///   end visits, not stays.
    pub fn widen(&mut self, crossings: &[Crossing], start: i64, end: i64, site: &Site) {
        if let Some(first) = crossings.first()
            && !first.arrive
            && first.t > start
        {
            let stayed = (first.t - start).min(LONGEST_STAY);
            self.stay_limit = self.stay_limit.max(stayed + stayed / 2);
        }
        let mut days: Vec<i64> = crossings
            .iter()
            .filter(|c| c.arrive && (start..=end).contains(&c.t))
            .map(|c| site.local_day(c.t))
            .collect();
        days.dedup();
        let span = ((end - start).max(0) + DAY - 1) / DAY;
        let n = days.len() as i64;
        // Recorded departures that say otherwise: every stay seen too short to hold a night
        // (a member who moved out and drops by, an owner's visits).
        let visits_only = self.stays_seen >= 2 && self.longest < HOME_NIGHT_S;
        if n >= REGULAR_DAYS && n * REGULAR_EVERY >= span && !visits_only {
            let mut gaps: Vec<i64> = days.windows(2).map(|w| w[1] - w[0]).collect();
            gaps.sort_unstable();
            let typical = gaps[gaps.len() / 2];
            let limit = (REGULAR_GAP_FACTOR * typical * DAY).min(LONGEST_STAY);
            self.stay_limit = self.stay_limit.max(limit);
        } else if !visits_only && goes_out_from_home(crossings, start) {
            self.stay_limit = LONGEST_STAY;
        }
    }
}

/// Whether the holder's recorded crossings show them going out from a stay (inside at least
/// [`HOME_NIGHT_S`] before a recorded departure, or since the records begin) and coming back
/// within [`SHORT_OUTING`]: someone who lives here and runs an errand.
fn goes_out_from_home(crossings: &[Crossing], start: i64) -> bool {
    crossings.iter().enumerate().any(|(i, c)| {
        if c.arrive {
            return false;
        }
        let back_soon = crossings
            .get(i + 1)
            .is_some_and(|next| next.arrive && next.t - c.t <= SHORT_OUTING);
        let stayed = match i.checked_sub(1).map(|j| crossings[j]) {
            None => c.t - start >= HOME_NIGHT_S,
            Some(before) => before.arrive && c.t - before.t >= HOME_NIGHT_S,
        };
        back_soon && stayed
    })
}

/// Inside intervals `[from, to)`: `seen` when recorded crossings bound them, else inferred.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Inside {
    pub from: i64,
    pub to: i64,
    pub seen: bool,
}

/// Granted reads (sorted by time) as crossings: directions resolved, a unit-door read just
/// after a gate read the same way (or the other way round) folded into one crossing.
pub fn crossings(marks: &[Mark], site: &Site) -> Vec<Crossing> {
    let mut out: Vec<Crossing> = Vec::new();
    for m in marks {
        let door = &site.doors[m.door as usize];
        let gate = door.outside.is_none();
        let arrive = match m.dir {
            Dir::In => true,
            Dir::Out => false,
            Dir::Unknown => !(gate && out.last().is_some_and(|c| c.arrive)),
            Dir::Denied { .. } => continue,
        };
        if let Some(last) = out.last()
            && last.arrive == arrive
            && last.gate != gate
            && m.t - last.t <= SAME_CROSSING_S
        {
            continue;
        }
        out.push(Crossing {
            t: m.t,
            arrive,
            door: m.door,
            gate,
        });
    }
    out
}

/// When the holder was inside, from their crossings, over the data's span `[start, end]`.
/// Also returns every interval in which they may have been inside (for the upper bound).
pub fn inside(
    crossings: &[Crossing],
    d: &Durations,
    start: i64,
    end: i64,
    site: &Site,
) -> (Vec<Inside>, Vec<(i64, i64)>) {
    let mut best = Vec::new();
    let mut possible = Vec::new();
    let push = |from: i64, to: i64, seen: bool, out: &mut Vec<Inside>| {
        if to > from {
            out.push(Inside { from, to, seen });
        }
    };
    let Some(first) = crossings.first() else {
        return (best, possible);
    };
    // The holder's records show an arrival that went unrecorded (two departures in a row:
    // they followed someone in). Until they do, a recorded arrival → departure is a stay
    // however long.
    let arrivals_lost = crossings.windows(2).any(|w| !w[0].arrive && !w[1].arrive);
    if !first.arrive {
        // Left with no arrival recorded before in the data: inside since the records begin
        // (arrivals are recorded; up to the longest stay believed).
        let from = (first.t - LONGEST_STAY).max(start);
        push(from, first.t, false, &mut best);
        possible.push((start.min(first.t), first.t));
    }
    for w in crossings.windows(2) {
        let (a, b) = (w[0], w[1]);
        let gap = b.t - a.t;
        match (a.arrive, b.arrive) {
            (true, false) => {
                // Longer than the longest stay believed, it is two missed swipes (an exit,
                // then an arrival) only for a holder whose arrivals are seen to go
                // unrecorded; anyone else stayed in (a shut-in in for three weeks).
                if gap <= LONGEST_STAY || !arrivals_lost {
                    push(a.t, b.t, true, &mut best);
                } else {
                    push(a.t, a.t + d.stay_after(a.t, site), false, &mut best);
                    push(b.t - d.stay_by_quarter[2], b.t, false, &mut best);
                }
                possible.push((a.t, b.t));
            }
            (false, true) => {}
            (true, true) => {
                let stay = gap - d.outing.min(gap);
                if stay <= d.stay_limit {
                    push(a.t, a.t + stay, false, &mut best);
                } else {
                    push(
                        a.t,
                        a.t + d.stay_after(a.t, site).min(gap),
                        false,
                        &mut best,
                    );
                }
                possible.push((a.t, b.t));
            }
            (false, false) => {
                let stay = d.stay_by_quarter[2].min(gap - d.outing.min(gap));
                push(b.t - stay, b.t, false, &mut best);
                possible.push((a.t, b.t));
            }
        }
    }
    let last = crossings[crossings.len() - 1];
    if last.arrive && end > last.t {
        let gap = end - last.t;
        if gap <= d.stay_limit {
            push(last.t, end, false, &mut best);
        } else {
            push(
                last.t,
                last.t + d.stay_after(last.t, site),
                false,
                &mut best,
            );
        }
        possible.push((last.t, end));
    }
    (best, possible)
}

/// Per night, the seconds of it the intervals cover: night `n` is `[bounds[n], bounds[n + 1])`
/// and `out[n]` grows by each interval's part of it (intervals that overlap each other count
/// twice). Each interval visits only the nights it touches, so a pass's 90 nights cost one
/// walk over its stays, not one per night.
pub fn per_night(intervals: impl Iterator<Item = (i64, i64)>, bounds: &[i64], out: &mut [i64]) {
    let nights = bounds.len().saturating_sub(1).min(out.len());
    if nights == 0 {
        return;
    }
    for (a, b) in intervals {
        if b <= a {
            continue;
        }
        // The first night ending after `a`.
        let mut n = bounds[..nights + 1]
            .partition_point(|&x| x <= a)
            .saturating_sub(1);
        while n < nights && bounds[n] < b {
            out[n] += (b.min(bounds[n + 1]) - a.max(bounds[n])).max(0);
            n += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::{SimConfig, Simulation};

    fn site() -> Site {
        let sim = Simulation::new(SimConfig::new(4, 2, 1, 0.0));
        Site::new(&sim.config, &sim.estate).unwrap()
    }

    /// Local hour `h` of day `day` in the simulator's zone (UTC+8).
    fn at(day: i64, h: f64) -> i64 {
        1_788_220_800 + day * 86_400 + (h * 3600.0) as i64 - 8 * 3600
    }

    fn c(t: i64, arrive: bool) -> Crossing {
        Crossing {
            t,
            arrive,
            door: 0,
            gate: true,
        }
    }

    /// The holder's own rhythm, learned from their crossings.
    fn learned(cs: &[Crossing], site: &Site) -> Rhythm {
        let mut own = Rhythm::default();
        own.learn(cs, site);
        own.settle();
        own
    }

    fn nights_home(cs: &[Crossing], own: &Rhythm, site: &Site, days: i64) -> Vec<bool> {
        let mut d = Durations::of(own, &Rhythm::default());
        d.widen(cs, at(0, 0.0), at(days, 23.0), site);
        let (best, _) = inside(cs, &d, at(0, 0.0), at(days, 23.0), site);
        let noons: Vec<i64> = (0..=days).map(|n| at(n, 12.0)).collect();
        let mut home = vec![0; days as usize];
        per_night(best.iter().map(|i| (i.from, i.to)), &noons, &mut home);
        home.into_iter().map(|s| s >= HOME_NIGHT_S).collect()
    }

    #[test]
    fn per_night_adds_up_what_each_night_overlaps() {
        // Nights of 100 s from t = 1000; intervals before, across, inside, after, empty and
        // overlapping one another, in no order.
        let bounds: Vec<i64> = (0..=5).map(|n| 1000 + 100 * n).collect();
        let intervals = [
            (900, 1050),
            (1120, 1130),
            (1190, 1420),
            (1400, 1410),
            (1600, 1700),
            (1300, 1300),
            (1480, 1490),
            (0, 5000),
        ];
        let mut got = vec![0; 5];
        per_night(intervals.iter().copied(), &bounds, &mut got);
        let want: Vec<i64> = (0..5)
            .map(|n| {
                let (from, to) = (bounds[n], bounds[n + 1]);
                intervals
                    .iter()
                    .map(|&(a, b)| (b.min(to) - a.max(from)).max(0))
                    .sum()
            })
            .collect();
        assert_eq!(got, want);
        assert_eq!(got, vec![150, 120, 200, 200, 140]);
        // No nights (a window without noons): nothing to add to, and no panic.
        let mut none: Vec<i64> = Vec::new();
        per_night(intervals.iter().copied(), &[], &mut none);
        per_night(intervals.iter().copied(), &bounds[..1], &mut got);
        assert_eq!(got, want);
    }

    #[test]
    fn a_night_worker_whose_exits_are_lost_is_home_by_day() {
        let site = site();
        // Out 21:30–06:30 every night; the first three exits recorded, the rest lost.
        let mut cs = Vec::new();
        for n in 0..10 {
            if n < 3 {
                cs.push(c(at(n, 21.5), false));
            }
            cs.push(c(at(n + 1, 6.5), true));
        }
        let own = learned(&cs, &site);
        let home = nights_home(&cs, &own, &site, 10);
        assert!(home[1..].iter().all(|&h| h), "{home:?}");
    }

    #[test]
    fn a_homebody_between_short_outings_is_home_and_a_day_visitor_is_not() {
        let site = site();
        // Out for an hour every fourth day; exits recorded twice.
        let mut cs = Vec::new();
        for (k, n) in [0, 4, 8, 12].into_iter().enumerate() {
            if k < 2 {
                cs.push(c(at(n, 10.0), false));
            }
            cs.push(c(at(n, 11.0), true));
        }
        let own = learned(&cs, &site);
        let home = nights_home(&cs, &own, &site, 13);
        assert!(home.iter().skip(1).all(|&h| h), "{home:?}");

        // An owner who checks an empty flat twice by day, both exits lost.
        let visits = [c(at(2, 10.0), true), c(at(9, 14.0), true)];
        let home = nights_home(&visits, &Rhythm::default(), &site, 13);
        assert!(home.iter().all(|&h| !h), "{home:?}");
    }

    #[test]
    fn a_holder_who_arrives_every_few_days_with_every_exit_lost_is_home_between() {
        let site = site();
        // A homebody back from an errand on days 0, 2, 5, 7 and 9; every exit lost.
        let cs: Vec<Crossing> = [0, 2, 5, 7, 9].map(|n| c(at(n, 14.0), true)).to_vec();
        let home = nights_home(&cs, &Rhythm::default(), &site, 10);
        assert!(home.iter().all(|&h| h), "{home:?}");

        // A family home every evening, then away on a trip for 8 days, the departure lost:
        // the silence is far longer than their rhythm explains, so it is an absence.
        let mut cs: Vec<Crossing> = (0..4).map(|n| c(at(n, 18.0), true)).collect();
        cs.push(c(at(12, 18.0), true));
        let home = nights_home(&cs, &Rhythm::default(), &site, 13);
        assert!(home[..3].iter().all(|&h| h), "{home:?}");
        assert!(home[5..11].iter().all(|&h| !h), "{home:?}");

        // An owner who checks the flat by day twice in 13 days is not home between.
        let visits = [c(at(2, 10.0), true), c(at(6, 11.0), true)];
        let home = nights_home(&visits, &Rhythm::default(), &site, 13);
        assert!(home.iter().all(|&h| !h), "{home:?}");
    }

    #[test]
    fn leaving_with_no_arrival_before_means_inside_since_the_records_begin() {
        let site = site();
        // Out on day 5 for an errand (no earlier read), back an hour later.
        let cs = [c(at(5, 10.0), false), c(at(5, 11.0), true)];
        let home = nights_home(&cs, &Rhythm::default(), &site, 8);
        assert!(home[..5].iter().all(|&h| h), "{home:?}");
    }

    #[test]
    fn a_resident_seen_running_an_errand_is_home_through_a_long_silence() {
        let site = site();
        // Back from an errand on day 1 (left after a day inside, back an hour later), then
        // silent until an arrival on day 11, that departure lost: a shut-in, home between.
        let cs = [
            c(at(0, 9.0), true),
            c(at(1, 10.0), false),
            c(at(1, 11.0), true),
            c(at(11, 15.0), true),
        ];
        let own = learned(&cs, &site);
        let home = nights_home(&cs, &own, &site, 12);
        assert!(home[..11].iter().all(|&h| h), "{home:?}");

        // An owner checking an empty flat steps out for an hour during a visit: the errand
        // began after a two-hour stay, not from home, so the silences stay absences.
        let visit = [
            c(at(1, 9.0), true),
            c(at(1, 11.0), false),
            c(at(1, 12.0), true),
            c(at(11, 15.0), true),
        ];
        let own = learned(&visit, &site);
        let home = nights_home(&visit, &own, &site, 12);
        assert!(home[2..10].iter().all(|&h| !h), "{home:?}");
    }

    #[test]
    fn a_recorded_stay_longer_than_two_weeks_holds_unless_arrivals_go_unrecorded() {
        let site = site();
        // In on day 0, seen leaving on day 18 and back an hour later: in for 18 days.
        let cs = [
            c(at(0, 10.0), true),
            c(at(18, 10.0), false),
            c(at(18, 11.0), true),
        ];
        let own = learned(&cs, &site);
        let home = nights_home(&cs, &own, &site, 19);
        assert!(home[..18].iter().all(|&h| h), "{home:?}");

        // The same, by a holder whose records show a lost arrival (two departures in a row on
        // days 1 and 2: they followed someone in between): the 16 days are two missed swipes.
        let tailgater = [
            c(at(1, 9.0), false),
            c(at(2, 9.0), false),
            c(at(2, 10.0), true),
            c(at(18, 10.0), false),
            c(at(18, 11.0), true),
        ];
        let own = learned(&tailgater, &site);
        let home = nights_home(&tailgater, &own, &site, 19);
        assert!(home[5..15].iter().all(|&h| !h), "{home:?}");
    }
    #[test]
    fn a_unit_door_read_after_the_gate_is_the_same_arrival() {
        let site = site();
        let unit = site.doors.iter().position(|d| d.outside.is_some()).unwrap() as u32;
        let marks = [
            Mark {
                t: 100,
                door: 0,
                dir: Dir::In,
            },
            Mark {
                t: 400,
                door: unit,
                dir: Dir::In,
            },
            Mark {
                t: 50_000,
                door: 0,
                dir: Dir::Out,
            },
        ];
        let cs = crossings(&marks, &site);
        assert_eq!(cs.len(), 2);
        assert!(cs[0].arrive && !cs[1].arrive);
    }
}
