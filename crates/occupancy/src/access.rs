//! Access events as occupancy reads them: the pass, the door and the instant as small
//! integers. Turning an [`Event`] into a [`Seen`] is the costly part of reading the log
//! (finding the pass by id or card, parsing `at`); it needs only the [`Site`], so a big scan
//! can do it on other threads while the inference consumes the results in log order. The
//! report ([`crate::Occupancy`]) and the daemon's live head counts ([`crate::live`]) read
//! events through the same rules here, so the two agree.

use gatehouse_core::event::{Decision, Direction, Event, Kind, Reason};
use gatehouse_core::passage::{Passage, Scanned};

use crate::presence::Read;
use crate::site::Site;

/// What one log event is to occupancy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen {
    /// Not an access event (door states, alarms, admin actions…).
    Other,
    /// An access event naming no known pass or door, or with an unreadable time.
    Unusable,
    Access(AccessRead),
}

/// One access event of a known pass at a known door.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccessRead {
    /// Unix seconds.
    pub t: i64,
    pub pass: u32,
    pub door: u32,
    pub outcome: Outcome,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The door opened; the direction of the reader, when it has one.
    Granted(Option<Direction>),
    /// Refused. `phone`: refused for phone digits that did not match (imported refusals at a
    /// door that asks for them count as such: the source gives no reason).
    Denied { phone: bool },
}

impl Site {
    /// Reads one event.
    pub fn seen(&self, e: &Event) -> Seen {
        if e.kind != Kind::Access {
            return Seen::Other;
        }
        let Some(t) = unix_seconds(&e.at) else {
            return Seen::Unusable;
        };
        // Microseconds only for the passage's sake: occupancy reads whole seconds.
        let passage = Passage::of(e, t.saturating_mul(1_000_000)).expect("an access event");
        self.seen_passage(&passage)
    }

    /// Reads one record of a store scan.
    pub fn scanned(&self, s: Scanned<'_>) -> Seen {
        match s {
            Scanned::Passage(p) => self.seen_passage(&p),
            Scanned::Other => Seen::Other,
            Scanned::Event(e) => self.seen(e),
        }
    }

    /// Reads one access record.
    pub fn seen_passage(&self, p: &Passage<'_>) -> Seen {
        let pass = p
            .pass
            .and_then(|p| self.pass(p))
            .or_else(|| p.card.and_then(|c| self.pass_by_card(c)));
        let door = p.door.and_then(|d| self.door(d));
        let (Some(pass), Some(door)) = (pass, door) else {
            return Seen::Unusable;
        };
        let outcome = if p.decision == Some(Decision::Deny) {
            Outcome::Denied {
                phone: p.reason == Some(Reason::PhoneMismatch)
                    || (p.reason.is_none() && self.doors[door as usize].checks_phone),
            }
        } else {
            Outcome::Granted(p.direction)
        };
        Seen::Access(AccessRead {
            t: p.seconds(),
            pass,
            door,
            outcome,
        })
    }

    /// The read a granted crossing makes, given the pass's previous read: where the holder
    /// is afterwards. A reader without a direction means the holder is crossing back.
    pub fn read(
        &self,
        door: u32,
        t: i64,
        direction: Option<Direction>,
        prev: Option<Read>,
    ) -> Read {
        let boundary = self.doors[door as usize].outside.is_none();
        let crossed_in = match direction {
            Some(Direction::In) => true,
            Some(Direction::Out) => false,
            None => !(boundary && prev.is_some_and(|p| p.inward)),
        };
        Read {
            t,
            // A unit door's exit still leaves the holder inside the estate.
            inward: crossed_in || !boundary,
            crossed_in,
            door,
            boundary,
        }
    }
}

/// Unix seconds of an RFC 3339 instant. The log writes one shape
/// (`2026-11-22T07:41:03.120+08:00`, see `gatehouse_core::time::rfc3339`), read here without
/// the general parser, which costs more than the rest of reading an event; any other shape
/// falls back to jiff.
pub fn unix_seconds(at: &str) -> Option<i64> {
    fast_rfc3339(at.as_bytes())
        .or_else(|| at.parse::<jiff::Timestamp>().ok().map(|t| t.as_second()))
}

fn fast_rfc3339(b: &[u8]) -> Option<i64> {
    fn num(b: &[u8]) -> Option<i64> {
        b.iter().try_fold(0i64, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0'))
        })
    }
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let (year, month, day) = (num(&b[0..4])?, num(&b[5..7])?, num(&b[8..10])?);
    let (hour, minute, second) = (num(&b[11..13])?, num(&b[14..16])?, num(&b[17..19])?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let mut rest = &b[19..];
    if let Some(frac) = rest.strip_prefix(b".") {
        let digits = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        rest = &frac[digits..];
    }
    let offset = match rest {
        [b'Z'] | [b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let (h, m) = (num(&[*h1, *h2])?, num(&[*m1, *m2])?);
            if h > 23 || m > 59 {
                return None;
            }
            let s = (h * 60 + m) * 60;
            if *sign == b'-' { -s } else { s }
        }
        _ => return None,
    };
    // Days from the civil date (Howard Hinnant's algorithm); the day must exist.
    if day > days_in_month(year, month) {
        return None;
    }
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fast_reading_of_times_agrees_with_jiff() {
        for at in [
            "2026-11-22T07:41:03.120+08:00",
            "2026-11-22T07:41:03+08:00",
            "2026-01-01T00:00:00.000Z",
            "2024-02-29T23:59:59.999-05:30",
            "2000-03-01T12:00:00.5+00:00",
            "1999-12-31T23:59:59.000+14:00",
        ] {
            let want = at.parse::<jiff::Timestamp>().unwrap().as_second();
            assert_eq!(fast_rfc3339(at.as_bytes()), Some(want), "{at}");
        }
    }

    #[test]
    fn shapes_it_does_not_know_go_to_jiff_or_fail() {
        // Not a day that exists, an hour past 23, no offset, garbage.
        for at in [
            "2026-02-30T07:41:03.120+08:00",
            "2026-11-22T24:00:00+08:00",
            "2026-11-22T07:41:03",
            "yesterday",
        ] {
            assert_eq!(fast_rfc3339(at.as_bytes()), None, "{at}");
            assert_eq!(
                unix_seconds(at),
                at.parse::<jiff::Timestamp>().ok().map(|t| t.as_second())
            );
        }
        // jiff reads a space for the T; so do we, through it.
        assert_eq!(
            unix_seconds("2026-11-22 07:41:03+08:00"),
            Some(
                "2026-11-22T07:41:03+08:00"
                    .parse::<jiff::Timestamp>()
                    .unwrap()
                    .as_second()
            )
        );
    }
}
