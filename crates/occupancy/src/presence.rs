//! Whether a pass's holder was inside at an instant, judged from the reads just before and
//! just after it. Three methods: ours, and the two simple baselines we measure it against.
//!
//! Ours tolerates missing swipes. An entry followed by another entry means an exit was not
//! recorded; an exit followed by an exit means an entry was (tailgating). So no rule trusts a
//! state forever: an entry vouches for the holder being inside only for a while afterwards,
//! an exit only for a while before, and an entry followed by an exit vouches for the whole
//! stay between them.

use serde::{Deserialize, Serialize};

/// One granted read of a pass: when, which way, at which door.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Read {
    /// Unix seconds.
    pub t: i64,
    /// After this read the holder is inside the estate (a unit door's exit still is).
    pub inward: bool,
    /// The read crossed the door inwards (towards its `inside` zone).
    pub crossed_in: bool,
    pub door: u32,
    /// The door leads to the street: only such reads enter or leave the estate.
    pub boundary: bool,
}

/// How presence is judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Evidence from both sides of the instant, each trusted for a limited time.
    #[default]
    Ours,
    /// Baseline: inside between the first and the last read of the day; a night counts when
    /// the evening's day had a read.
    FirstLastRead,
    /// Baseline: inside whenever the last read before the instant was an entry.
    LastDirection,
    /// Baseline, the naive rule: a household with entries on at least 3 days is occupied,
    /// any other is vacant.
    EntryDays,
}

impl Method {
    pub const ALL: [Method; 4] = [
        Method::Ours,
        Method::FirstLastRead,
        Method::LastDirection,
        Method::EntryDays,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Ours => "ours",
            Method::FirstLastRead => "first-last-read",
            Method::LastDirection => "last-direction",
            Method::EntryDays => "entry-days",
        }
    }
}

impl std::str::FromStr for Method {
    type Err = String;
    fn from_str(s: &str) -> Result<Method, String> {
        Method::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown method '{s}': use ours, first-last-read, last-direction or entry-days"
                )
            })
    }
}

const HOUR: i64 = 3600;

/// How long an entry vouches for presence after it, and an exit before it, by time of day.
/// At night people stay in; an entry at 11:00 still says the holder is home at 03:00, an exit
/// at 09:00 says they slept there. By day people come and go, so the reach is shorter.
fn reach(night: bool) -> (i64, i64) {
    if night {
        (18 * HOUR, 12 * HOUR)
    } else {
        (6 * HOUR, 6 * HOUR)
    }
}

/// An entry and the next exit vouch for the stay between them up to this long; beyond it a
/// pair of missed swipes is likelier than a week indoors.
const LONGEST_STAY: i64 = 6 * 24 * HOUR;

/// Whether the holder was inside at `t`, given the last read before it and the first at or
/// after it.
pub fn inside_at(
    method: Method,
    prev: Option<Read>,
    next: Option<Read>,
    t: i64,
    night: bool,
) -> bool {
    match method {
        Method::Ours => {
            let (after_in, before_out) = reach(night);
            let by_entry = prev.is_some_and(|p| p.inward && t - p.t <= after_in);
            let by_exit = next.is_some_and(|n| !n.inward && n.t - t <= before_out);
            let by_stay = matches!((prev, next), (Some(p), Some(n)) if p.inward && !n.inward && n.t - p.t <= LONGEST_STAY);
            by_entry || by_exit || by_stay
        }
        Method::FirstLastRead => {
            if night {
                // The evening's day began 27 hours before 03:00 the next morning.
                prev.is_some_and(|p| t - p.t <= 27 * HOUR)
            } else {
                // 15:00: a read earlier today and another later today.
                prev.is_some_and(|p| t - p.t <= 15 * HOUR)
                    && next.is_some_and(|n| n.t - t < 9 * HOUR)
            }
        }
        Method::LastDirection => prev.is_some_and(|p| p.inward),
        // Judged per household from days with entries, not per instant.
        Method::EntryDays => false,
    }
}

/// The zone index the holder is in when [`inside_at`] says inside: where the last read put
/// them, else where the next read found them.
pub fn zone_of(
    prev: Option<Read>,
    next: Option<Read>,
    doors: &[crate::site::DoorInfo],
) -> Option<u32> {
    let after = |r: Read| {
        let d = &doors[r.door as usize];
        if r.crossed_in { d.inside } else { d.outside }
    };
    let before = |r: Read| {
        let d = &doors[r.door as usize];
        if r.crossed_in { d.outside } else { d.inside }
    };
    match (prev, next) {
        (Some(p), _) if p.inward => after(p),
        (_, Some(n)) => before(n).or(doors[n.door as usize].inside),
        (Some(p), None) => doors[p.door as usize].inside,
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(h: i64, inward: bool) -> Option<Read> {
        Some(Read {
            t: h * HOUR,
            inward,
            crossed_in: inward,
            door: 0,
            boundary: true,
        })
    }
    const NIGHT: i64 = 27; // 03:00 the next day, with hours counted from midnight

    #[test]
    fn ours_reads_a_table_of_cases() {
        let m = Method::Ours;
        // (prev, next, inside at 03:00?)
        let cases = [
            (
                r(19, true),
                r(32, false),
                true,
                "home at 19:00, left at 08:00",
            ),
            (
                r(19, true),
                r(43, true),
                true,
                "home at 19:00, morning exit missed",
            ),
            (
                r(8, false),
                r(43, true),
                false,
                "left in the morning, back next evening",
            ),
            (
                r(-20, true),
                r(32, false),
                true,
                "stayed in a whole day, then out",
            ),
            (
                r(-20, true),
                r(100, true),
                false,
                "entered long ago, exit missed, away",
            ),
            (
                r(8, false),
                r(32, false),
                true,
                "entry tailgated, out in the morning",
            ),
            (None, None, false, "never seen"),
            (r(10, true), None, true, "came back at 10:00, stays in"),
        ];
        for (prev, next, want, why) in cases {
            assert_eq!(inside_at(m, prev, next, NIGHT * HOUR, true), want, "{why}");
        }
    }

    #[test]
    fn baselines_do_what_their_names_say() {
        assert!(inside_at(
            Method::LastDirection,
            r(-200, true),
            None,
            NIGHT * HOUR,
            true
        ));
        assert!(!inside_at(
            Method::LastDirection,
            r(19, false),
            None,
            NIGHT * HOUR,
            true
        ));
        assert!(inside_at(
            Method::FirstLastRead,
            r(19, false),
            None,
            NIGHT * HOUR,
            true
        ));
        assert!(!inside_at(
            Method::FirstLastRead,
            r(-2, true),
            None,
            NIGHT * HOUR,
            true
        ));
        assert_eq!(
            "last-direction".parse::<Method>(),
            Ok(Method::LastDirection)
        );
    }
}
