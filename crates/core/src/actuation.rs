//! Unlocks that were granted but not carried out. The grant's event is already durable; what
//! follows it is a `door` event with state `unlock_failed`, naming the grant in `request`, so
//! the log never shows a person let in at a door that stayed shut.

use crate::core::Core;
use crate::event::Kind;
use crate::io::{Output, UnlockFailure};
use jiff::Timestamp;

/// The `door` event state of an unlock that did not happen.
pub const UNLOCK_FAILED: &str = "unlock_failed";

impl Core {
    pub(crate) fn on_unlock_failed(
        &mut self,
        failure: UnlockFailure,
        now: Timestamp,
    ) -> Vec<Output> {
        if !self.model.doors.contains_key(&failure.door) {
            return Vec::new();
        }
        let mut event = self.event(Kind::Door, now);
        event.door = Some(failure.door);
        event.state = Some(UNLOCK_FAILED.to_string());
        event.request = failure.request;
        event.detail = Some(failure.error);
        vec![Output::Record {
            event,
            then: vec![],
        }]
    }
}

#[cfg(test)]
mod tests;
