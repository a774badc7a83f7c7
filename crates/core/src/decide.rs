//! Access decisions: the order of checks of `spec/events.md`, as pure functions of state and
//! time. Owned by the decisions work.

use crate::core::Core;
use crate::io::{AccessRequest, ManualEntry, Output};
use jiff::Timestamp;

impl Core {
    pub(crate) fn on_access(&mut self, _req: AccessRequest, _now: Timestamp) -> Vec<Output> {
        Vec::new()
    }

    pub(crate) fn on_manual_entry(&mut self, _entry: ManualEntry, _now: Timestamp) -> Vec<Output> {
        Vec::new()
    }

    pub(crate) fn on_log_writable(&mut self, ok: bool, _now: Timestamp) -> Vec<Output> {
        self.log_writable = ok;
        Vec::new()
    }

    pub(crate) fn on_tick(&mut self, _now: Timestamp) -> Vec<Output> {
        Vec::new()
    }
}
