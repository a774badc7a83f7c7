//! The wall clock against the monotonic clock. The runtime reads both and hands the core the
//! wall time; when the wall clock moved more than [`MAX_JUMP`] against the monotonic one (set
//! by hand, a stepped NTP correction, a dead RTC battery at boot), event times jump with it,
//! so a person must hear of it: an `alarm` `clock` saying by how much and which way.

use crate::core::Core;
use crate::event::{AlarmKind, Kind};
use crate::io::Output;
use jiff::{SignedDuration, Timestamp};

/// The largest move of the wall clock against the monotonic clock that passes unremarked.
pub const MAX_JUMP: SignedDuration = SignedDuration::from_secs(60);

/// Keeps the last reading of both clocks and tells how far the wall clock moved against the
/// monotonic one since. Pure: the caller reads the clocks.
#[derive(Clone, Copy, Debug)]
pub struct ClockWatch<I> {
    last: Option<(Timestamp, I)>,
}

impl<I> Default for ClockWatch<I> {
    fn default() -> Self {
        ClockWatch { last: None }
    }
}

impl<I: Copy + Ord + std::ops::Sub<I, Output = std::time::Duration>> ClockWatch<I> {
    /// Takes a reading of both clocks; returns the jump when the wall clock moved more than
    /// [`MAX_JUMP`] against the monotonic clock since the last reading.
    pub fn read(&mut self, wall: Timestamp, monotonic: I) -> Option<SignedDuration> {
        let last = self.last.replace((wall, monotonic));
        let (wall_then, mono_then) = last?;
        let elapsed = SignedDuration::try_from(monotonic - mono_then).ok()?;
        let by = wall.duration_since(wall_then) - elapsed;
        (by.abs() > MAX_JUMP).then_some(by)
    }
}

impl Core {
    pub(crate) fn on_clock_jump(&mut self, by: SignedDuration, now: Timestamp) -> Vec<Output> {
        let mut event = self.event(Kind::Alarm, now);
        event.alarm = Some(AlarmKind::Clock);
        let (way, size) = if by.is_negative() {
            ("back", -by)
        } else {
            ("forward", by)
        };
        event.detail = Some(format!(
            "the wall clock moved {way} by {} s against the monotonic clock: event times jump with it; check the time source (NTP) of the gateway",
            size.as_secs()
        ));
        vec![Output::Record {
            event,
            then: vec![],
        }]
    }
}

#[cfg(test)]
mod tests;
