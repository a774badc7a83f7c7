//! Anomalies: signs that a pass is not used the way a pass held by one resident would be.
//!
//! - `impossible_travel`: the same pass at two different doors faster than a person walks
//!   between gates.
//! - `cloned_card`: a pass that keeps doing that, or enters again minutes after entering,
//!   with no exit between: two cards carry the number.
//! - `lent_pass`: repeated refusals at doors that ask for the holder's phone digits — the
//!   person carrying the pass does not know them (the guard's story in DESIGN.md).
//! - `moved_out_still_active`: a registered resident's pass that comes by day and never
//!   stays a night.
//! - `tailgating`: exits with no entry recorded since the previous exit, again and again.

use crate::infer::Occupancy;
use crate::presence::Read;
use crate::report::{Anomaly, AnomalyKind};
use crate::site::Site;

/// Faster than this between two different doors is impossible on foot.
pub const MIN_TRAVEL_S: i64 = 120;
/// An entry this soon after an entry with no exit between is a second person.
const DOUBLE_ENTRY_S: i64 = 600;
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
    pub double_entries: u32,
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
    // Out of the estate, then seen inside again without a gate entry: followed someone in.
    if !prev.inward && (!read.inward || !read.boundary) {
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
            found = Some(Anomaly {
                kind: AnomalyKind::ImpossibleTravel,
                pass: info.id.clone(),
                at: String::new(),
                detail: format!(
                    "{} then {} {} s apart",
                    site.doors[prev.door as usize].id, site.doors[read.door as usize].id, dt
                ),
                household: info
                    .household
                    .map(|h| site.households[h as usize].id.clone()),
            });
        }
    } else if prev.crossed_in
        && read.crossed_in
        && site.doors[prev.door as usize].inside == site.doors[read.door as usize].inside
        && dt < DOUBLE_ENTRY_S
    {
        signs.double_entries += 1;
        if signs.first_clone_sign == 0 {
            signs.first_clone_sign = read.t;
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
/// and short stays.
/// A missed exit after a visit can make one night look present, so a tenth of the nights
/// is allowed.
pub fn looks_moved_out(signs: &PassSigns, nights_present: u32, nights: u32) -> bool {
    let short_stays = if signs.stays > 0 {
        signs.stay_secs / signs.stays as i64 <= VISIT_S
    } else {
        signs.days_seen >= 3
    };
    nights_present * 10 <= nights && signs.days_seen >= 2 && short_stays
}

/// Whether the pass looks cloned: impossible travel more than once, or entries on top of
/// entries minutes apart.
pub fn looks_cloned(signs: &PassSigns) -> bool {
    signs.impossible >= 2
        || signs.double_entries >= 3
        || (signs.impossible >= 1 && signs.double_entries >= 1)
}

/// Whether the pass's holder habitually follows others in.
pub fn looks_tailgating(signs: &PassSigns) -> bool {
    signs.exits_without_entry >= 3 && signs.exits_without_entry * 100 >= signs.exits * 15
}

/// The per-pass anomalies, judged when all events have been read.
pub fn per_pass(occ: &Occupancy, fmt: &dyn Fn(i64) -> String) -> Vec<Anomaly> {
    let mut out = Vec::new();
    for (i, state) in occ.passes.iter().enumerate() {
        let info = &occ.site.passes[i];
        let s = &state.signs;
        let household = info
            .household
            .map(|h| occ.site.households[h as usize].id.clone());
        let mut push = |kind, at: i64, detail: String| {
            out.push(Anomaly {
                kind,
                pass: info.id.clone(),
                at: fmt(at),
                detail,
                household: household.clone(),
            })
        };
        if s.phone_denials >= LENT_DENIALS {
            push(
                AnomalyKind::LentPass,
                s.last_denial,
                format!(
                    "refused {} times for phone digits the holder would know",
                    s.phone_denials
                ),
            );
        }
        if looks_cloned(s) {
            push(
                AnomalyKind::ClonedCard,
                s.first_clone_sign,
                format!(
                    "{} impossible journeys and {} entries on top of an entry within 10 min",
                    s.impossible, s.double_entries
                ),
            );
        }
        let lives_here = info.household.is_some();
        if lives_here
            && state.prev.is_some()
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
                format!(
                    "seen on {} days, never at night; stays {:.1} h on average",
                    s.days_seen, mean_h
                ),
            );
        }
        // A shared card explains exits without entries better than tailgating does.
        if looks_tailgating(s) && !looks_cloned(s) {
            push(
                AnomalyKind::Tailgating,
                s.last_exit_without_entry,
                format!(
                    "{} of {} exits had no entry since the previous exit",
                    s.exits_without_entry, s.exits
                ),
            );
        }
    }
    out
}
