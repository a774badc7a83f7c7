//! Helpers shared by the store's integration tests.
#![allow(dead_code)]

use gatehouse_core::event::{Decision, Direction, Event, Kind, Method, Reason};

pub const SITE: &str = "north-estate";

/// An access event by `person` at `door`, `minute` minutes after 08:00 on 2026-11-22 (+08:00).
pub fn access(person: &str, door: &str, minute: u32) -> Event {
    let at = format!(
        "2026-11-22T{:02}:{:02}:00.000+08:00",
        8 + minute / 60,
        minute % 60
    );
    let mut e = Event::new(Kind::Access, at);
    e.door = Some(door.into());
    e.reader = Some(format!("r-{door}-in"));
    e.direction = Some(Direction::In);
    e.pass = Some(format!("P-{person}"));
    e.person = Some(person.into());
    e.method = Some(Method::Card);
    e.decision = Some(Decision::Grant);
    e.reason = Some(Reason::Granted);
    e
}

pub fn ts(s: &str) -> jiff::Timestamp {
    s.parse().expect("test timestamp")
}
