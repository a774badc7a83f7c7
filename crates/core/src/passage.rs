//! What reports read of an `access` record: who (pass or card), where (door), when, which way
//! and with what outcome. The store keeps this projection of every access record beside the
//! log, a few dozen bytes instead of the record's JSON, so that a report over millions of
//! records does not decode them all; the JSON log stays the record of truth.

use crate::event::{Decision, Direction, Event, Kind, Reason};

/// An access record, borrowed from wherever it was read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Passage<'a> {
    /// `at` in Unix microseconds.
    pub micros: i64,
    pub pass: Option<&'a str>,
    /// The card number, recorded when no pass held it.
    pub card: Option<&'a str>,
    pub door: Option<&'a str>,
    pub direction: Option<Direction>,
    pub decision: Option<Decision>,
    pub reason: Option<Reason>,
}

impl<'a> Passage<'a> {
    /// The passage of an `access` event whose `at` is `micros`; `None` for other kinds.
    pub fn of(event: &'a Event, micros: i64) -> Option<Passage<'a>> {
        (event.kind == Kind::Access).then_some(Passage {
            micros,
            pass: event.pass.as_deref(),
            card: event.card.as_deref(),
            door: event.door.as_deref(),
            direction: event.direction,
            decision: event.decision,
            reason: event.reason,
        })
    }

    /// `at` in Unix seconds (rounded down).
    pub fn seconds(&self) -> i64 {
        self.micros.div_euclid(1_000_000)
    }
}

/// One record of a long scan of the log, as cheaply as the store could give it.
#[derive(Clone, Copy, Debug)]
pub enum Scanned<'a> {
    /// An access record, from the store's projection.
    Passage(Passage<'a>),
    /// A record of another kind, known from the projection (nothing more is read of it).
    Other,
    /// A whole record, read from the log (records not yet in the projection).
    Event(&'a Event),
}
