//! Anomalies: signs that a pass is not used the way a pass held by one resident would be.
//!
//! - `impossible_travel`: the same pass at two different doors faster than a person walks
//!   between gates.
//!   Not listed for a card the household shares (several people come home on it each
//!   evening): two of them coming home through two gates at once is no anomaly.
//! - `cloned_card`: a pass that keeps doing that (twice or more) and that one person uses:
//!   two physical cards carry the number. A household's shared card is told apart by its
//!   evenings (several arrivals, each followed to the household's own unit door).
//! - `lent_pass`: repeated refusals at doors that ask for the holder's phone digits — the
//!   person carrying the pass does not know them (the guard's story in DESIGN.md); or, from
//!   the swipes alone, a stretch of at least four days in which the pass comes through the
//!   gates but no longer goes on to its household's unit door, when otherwise it does.
//! - `moved_out_still_active`: a registered resident's pass that comes by day and never
//!   stays a night, in a household where someone else does (an owner checking an empty flat
//!   has not moved out).
//! - `tailgating`: exits with no entry recorded since the previous exit, again and again —
//!   counted only at doors whose records show both directions (a door that records only
//!   entries makes every exit look like that).

use crate::infer::Occupancy;
use crate::model::{Dir, Mark};
use crate::presence::Read;
use crate::report::{Anomaly, AnomalyKind};
use crate::site::Site;

/// Faster than this between two different doors is impossible on foot.
pub const MIN_TRAVEL_S: i64 = 120;
/// A unit-door entry this soon after a gate entry is the same person going home.
const SAME_ARRIVAL_S: i64 = 15 * 60;
/// Days in a row of gate entries not going home that make a pass "lent".
const LENT_DAYS: usize = 4;
/// Impossible-travel events listed per pass; more are counted, not listed.
const LISTED_PER_PASS: u32 = 3;
/// Refusals for phone digits, not put right at the same door straight away, that make a
/// pass "lent". A holder who mistypes tries again at once; a borrower walks to another gate.
const LENT_DENIALS: u32 = 2;
/// A refusal followed by a grant at the same door within this long was a typing mistake.
pub const RETRY_S: i64 = 120;
/// A stay shorter than this on average is a visit, not a home.
const VISIT_S: i64 = 6 * 3600;

/// Counters kept per pass while reading.
#[derive(Default, Clone, Debug)]
pub struct PassSigns {
    pub impossible: u32,
    pub exits_without_entry: u32,
    pub last_exit_without_entry: i64,
    pub exits: u32,
    pub phone_denials: u32,
    pub last_denial: i64,
    /// A refusal not yet known to be a typing mistake: (time, door).
    pub pending_denial: Option<(i64, u32)>,
    pub stays: u32,
    pub stay_secs: i64,
    pub days_seen: u32,
    pub first_clone_sign: i64,
}

/// Looks at two consecutive granted reads of one pass; returns an impossible-travel anomaly
/// when they are one.
pub fn between(
    prev: Read,
    read: Read,
    site: &Site,
    pass: u32,
    signs: &mut PassSigns,
    both_ways: &[bool],
) -> Option<Anomaly> {
    let dt = read.t - prev.t;
    settle_denial(signs, Some(read));
    if !read.inward {
        signs.exits += 1;
    }
    if prev.inward && !read.inward && dt < 24 * 3600 {
        signs.stays += 1;
        signs.stay_secs += dt;
    }
    // Out of the estate, then out again with no entry between, at doors that record both
    // ways: followed someone in.
    let two_way = |r: Read| both_ways.get(r.door as usize).copied().unwrap_or(false);
    // Out at a two-way gate, then out again at a two-way gate or in at a unit door, with no
    // gate entry between: followed someone in.
    let out_again = !read.inward && read.boundary && two_way(read);
    let in_at_unit = read.crossed_in && !read.boundary;
    if !prev.inward && prev.boundary && two_way(prev) && (out_again || in_at_unit) {
        signs.exits_without_entry += 1;
        signs.last_exit_without_entry = read.t;
    }
    let mut found = None;
    if prev.boundary && read.boundary && prev.door != read.door && dt < MIN_TRAVEL_S {
        signs.impossible += 1;
        if signs.first_clone_sign == 0 {
            signs.first_clone_sign = read.t;
        }
        if signs.impossible <= LISTED_PER_PASS {
            let info = &site.passes[pass as usize];
            let (a, b) = (
                &site.doors[prev.door as usize],
                &site.doors[read.door as usize],
            );
            let when = |t: i64| local_time(t, site);
            found = Some(Anomaly {
                kind: AnomalyKind::ImpossibleTravel,
                pass: info.id.clone(),
                card: info.card.as_ref().map(ToString::to_string),
                at: String::new(),
                detail: format!("{} then {} {} s apart", a.id, b.id, dt),
                detail_zh: format!("{}后 {} 秒又在{}刷卡", a.name, dt, b.name),
                household: info
                    .household
                    .map(|h| site.households[h as usize].id.clone()),
                confidence: 0.6,
                evidence: vec![
                    format!("{} {} {}", when(prev.t), a.id, a.name),
                    format!("{} {} {}", when(read.t), b.id, b.name),
                ],
            });
        }
    }
    found.map(|mut a| {
        a.at = jiff::Timestamp::from_second(read.t)
            .map(|ts| gatehouse_core::time::rfc3339(ts, &site.tz))
            .unwrap_or_default();
        a
    })
}

/// Counts a pending refusal as a phone failure unless `grant` put it right at the same door.
pub fn settle_denial(signs: &mut PassSigns, grant: Option<Read>) {
    if let Some((t, door)) = signs.pending_denial.take()
        && !grant.is_some_and(|g| g.door == door && g.t - t <= RETRY_S)
    {
        signs.phone_denials += 1;
        signs.last_denial = t;
    }
}

/// Whether the pass looks like a moved-out resident's: seen on several days, never a night,
/// and short recorded stays (a pass never seen to leave is not flagged: nothing says its
/// stays were short).
/// A missed exit after a visit can make one night look present, so a tenth of the nights
/// is allowed.
pub fn looks_moved_out(signs: &PassSigns, nights_present: u32, nights: u32) -> bool {
    let short_stays = signs.stays > 0 && signs.stay_secs / signs.stays as i64 <= VISIT_S;
    nights_present * 10 <= nights && signs.days_seen >= 2 && short_stays
}

/// Whether the pass looks cloned: impossible travel more than once on a card one person
/// uses (`shared`: the household's evenings say several people use it).
pub fn looks_cloned(signs: &PassSigns, shared: bool) -> bool {
    signs.impossible >= 2 && !shared
}

/// `t` as local `YYYY-MM-DD HH:MM:SS`, for evidence lines.
pub fn local_time(t: i64, site: &Site) -> String {
    jiff::Timestamp::from_second(t)
        .map(|ts| {
            ts.to_zoned(site.tz.clone())
                .strftime("%Y-%m-%d %H:%M:%S")
                .to_string()
        })
        .unwrap_or_default()
}

/// Whether the pass's holder habitually follows others in.
pub fn looks_tailgating(signs: &PassSigns) -> bool {
    signs.exits_without_entry >= 3 && signs.exits_without_entry * 100 >= signs.exits * 15
}

/// A stretch of days in which the pass came through the gates but never went on to its
/// household's unit door, when on other days it does: (first, last arrival, days, arrivals).
pub fn lent_stretch(
    marks: &[Mark],
    site: &Site,
    home: Option<u32>,
) -> Option<(i64, i64, u32, u32)> {
    let home = home?;
    let is_home_door = |door: u32| {
        let d = &site.doors[door as usize];
        d.outside.is_some()
            && d.inside
                .is_some_and(|z| site.zone_chain(home).any(|c| c == z))
    };
    // Per day with gate arrivals: (day, first t, last t, arrivals, going home).
    let mut days: Vec<(i64, i64, i64, u32, u32)> = Vec::new();
    for (k, m) in marks.iter().enumerate() {
        let door = &site.doors[m.door as usize];
        if m.dir != Dir::In || door.outside.is_some() {
            continue;
        }
        let home_going = marks[k + 1..]
            .iter()
            .take_while(|n| n.t - m.t <= SAME_ARRIVAL_S)
            .any(|n| n.dir == Dir::In && is_home_door(n.door));
        let day = site.local_day(m.t);
        match days.last_mut() {
            Some(d) if d.0 == day => {
                d.2 = m.t;
                d.3 += 1;
                d.4 += u32::from(home_going);
            }
            _ => days.push((day, m.t, m.t, 1, u32::from(home_going))),
        }
    }
    let mut best: Option<(usize, usize)> = None;
    let mut k = 0;
    while k < days.len() {
        if days[k].4 > 0 {
            k += 1;
            continue;
        }
        let start = k;
        while k < days.len() && days[k].4 == 0 && days[k].0 - days[start].0 <= 14 {
            k += 1;
        }
        if k - start >= LENT_DAYS && best.is_none_or(|(a, b)| b - a < k - start) {
            best = Some((start, k));
        }
    }
    let (a, b) = best?;
    let (mut other, mut other_home) = (0, 0);
    for (i, d) in days.iter().enumerate() {
        if i < a || i >= b {
            other += d.3;
            other_home += d.4;
        }
    }
    let arrivals = days[a..b].iter().map(|d| d.3).sum();
    (other_home >= 4 && other_home * 3 >= other * 2)
        .then(|| (days[a].1, days[b - 1].2, (b - a) as u32, arrivals))
}

/// The per-pass anomalies, judged when all events have been read.
pub fn per_pass(occ: &Occupancy, fmt: &dyn Fn(i64) -> String) -> Vec<Anomaly> {
    let site = &occ.site;
    let mut out = Vec::new();
    for (i, state) in occ.passes.iter().enumerate() {
        let info = &site.passes[i];
        let s = &state.signs;
        let household = info
            .household
            .map(|h| site.households[h as usize].id.clone());
        let mut push = |kind,
                        at: i64,
                        confidence: f64,
                        detail: String,
                        detail_zh: String,
                        evidence: Vec<String>| {
            out.push(Anomaly {
                kind,
                pass: info.id.clone(),
                card: info.card.as_ref().map(ToString::to_string),
                at: fmt(at),
                detail,
                detail_zh,
                household: household.clone(),
                confidence,
                evidence,
            })
        };
        let shared = state.people > 1;
        if s.phone_denials >= LENT_DENIALS {
            push(
                AnomalyKind::LentPass,
                s.last_denial,
                if s.phone_denials >= 3 { 0.9 } else { 0.75 },
                format!(
                    "refused {} times for phone digits the holder would know",
                    s.phone_denials
                ),
                format!(
                    "{} 次因手机尾号不符被拒，持卡人本人应当知道",
                    s.phone_denials
                ),
                vec![format!("last refusal {}", local_time(s.last_denial, site))],
            );
        } else if let Some((from, to, days, arrivals)) = state.lent {
            push(
                AnomalyKind::LentPass,
                to,
                0.7,
                format!(
                    "{arrivals} gate entries on {days} days without going on to the household's unit door, which it does on other days"
                ),
                format!("{days} 天内 {arrivals} 次进大门后未进本户单元门，平时都会进"),
                vec![format!(
                    "from {} to {}",
                    local_time(from, site),
                    local_time(to, site)
                )],
            );
        }
        if looks_cloned(s, shared) {
            push(
                AnomalyKind::ClonedCard,
                s.first_clone_sign,
                if s.impossible >= 3 { 0.9 } else { 0.75 },
                format!(
                    "{} impossible journeys between gates by a card one person uses",
                    s.impossible
                ),
                format!(
                    "{} 次在两个大门之间不可能的行程，且此卡只有一人使用",
                    s.impossible
                ),
                vec![format!("first at {}", local_time(s.first_clone_sign, site))],
            );
        }
        let lives_here = info.household.is_some();
        // Someone else of the household sleeps there: an owner checking an empty flat by day
        // has not moved out of it.
        let others_home = info.household.is_some_and(|h| {
            site.households[h as usize]
                .passes
                .iter()
                .any(|&q| q as usize != i && occ.passes[q as usize].nights_present() > 0)
        });
        if lives_here
            && others_home
            && !state.marks.is_empty()
            && looks_moved_out(s, state.nights_present(), occ.window.nights())
        {
            let mean_h = if s.stays > 0 {
                s.stay_secs as f64 / s.stays as f64 / 3600.0
            } else {
                0.0
            };
            push(
                AnomalyKind::MovedOutStillActive,
                state.prev.map_or(0, |p| p.t),
                0.7,
                format!(
                    "seen on {} days, never at night; stays {:.1} h on average",
                    s.days_seen, mean_h
                ),
                format!(
                    "{} 天有刷卡，从未过夜；平均停留 {:.1} 小时",
                    s.days_seen, mean_h
                ),
                Vec::new(),
            );
        }
        // A shared or cloned card explains exits without entries better than tailgating.
        if lives_here && looks_tailgating(s) && !shared && !looks_cloned(s, shared) {
            push(
                AnomalyKind::Tailgating,
                s.last_exit_without_entry,
                0.6,
                format!(
                    "{} of {} exits had no entry since the previous exit",
                    s.exits_without_entry, s.exits
                ),
                format!(
                    "{} 次出门中有 {} 次此前没有进门记录",
                    s.exits, s.exits_without_entry
                ),
                vec![format!(
                    "last at {}",
                    local_time(s.last_exit_without_entry, site)
                )],
            );
        }
    }
    out
}
