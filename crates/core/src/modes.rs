//! A door's mode, derived from what overrides what: fire release, then the office's hold
//! open, then lockdown of a zone whose boundary it
//! crosses, then its schedule, else normal. The mode is
//! published for everyone; decisions read the rules themselves, not this label.

use crate::config::Door;
use crate::core::Core;
use crate::event::Kind;
use crate::io::{DoorAction, Effect, Output, Publish};
use jiff::Timestamp;

pub const NORMAL: &str = "normal";
pub const LOCKED_DOWN: &str = "locked_down";
pub const CLOSED_BY_SCHEDULE: &str = "closed_by_schedule";
pub const HELD_OPEN: &str = "held_open";
pub const FIRE_RELEASE: &str = "fire_release";

impl Core {
    /// Whether a fire alarm (active, or cleared but not yet acknowledged) frees `door`.
    pub(crate) fn fire_released(&self, door: &Door) -> bool {
        !self.fire.zones.is_empty()
            && self
                .fire
                .zones
                .iter()
                .any(|f| self.model.zone_within(&door.inside, &f.zone))
    }

    /// Whether the door's own schedule lets people through at `now` (no schedule = always).
    pub(crate) fn door_schedule_open(&self, door: &Door, now: Timestamp) -> bool {
        door.schedule
            .as_deref()
            .is_none_or(|s| self.schedules.is_open(s, now, &self.model.tz))
    }

    /// The mode `door` should show at `now`.
    pub(crate) fn door_mode(&self, door: &Door, now: Timestamp) -> &'static str {
        if self.fire_released(door) {
            FIRE_RELEASE
        } else if self.holds.contains(&door.id) {
            HELD_OPEN
        } else if self.lockdown.crossed_by(&self.model, door).next().is_some() {
            LOCKED_DOWN
        } else if !self.door_schedule_open(door, now) {
            CLOSED_BY_SCHEDULE
        } else {
            NORMAL
        }
    }

    /// Brings every door's mode in line with the rules; returns a publish for each change.
    pub(crate) fn refresh_door_modes(&mut self, now: Timestamp) -> Vec<Effect> {
        let since = self.model.stamp(now);
        let mut out = Vec::new();
        for id in &self.model.door_order {
            let Some(door) = self.model.doors.get(id) else {
                continue;
            };
            let mode = self.door_mode(door, now);
            if let Some(state) = self.doors.set_mode(id, mode, &since) {
                out.push(Effect::Publish(Publish::DoorState(state)));
            }
        }
        out
    }

    /// Publishes schedule transitions: one `mode` event per door whose schedule opened or
    /// closed since the last look, with the door's new mode published after it.
    pub(crate) fn schedule_transitions(&mut self, now: Timestamp) -> Vec<Output> {
        let mut changed = Vec::new();
        for id in &self.model.door_order {
            let Some(door) = self.model.doors.get(id) else {
                continue;
            };
            let Some(schedule) = &door.schedule else {
                continue;
            };
            let open = self.schedules.is_open(schedule, now, &self.model.tz);
            let before = self.schedules.door_open.insert(id.clone(), open);
            if before != Some(open) {
                changed.push((id.clone(), schedule.clone(), open, before.is_none()));
            }
        }
        let mut out = Vec::new();
        let since = self.model.stamp(now);
        for (door, schedule, open, first_look) in changed {
            // The first look only sets the mode: the runtime publishes every door at start.
            if first_look {
                if let Some(d) = self.model.doors.get(&door) {
                    let mode = self.door_mode(d, now);
                    if let Some(state) = self.doors.set_mode(&door, mode, &since) {
                        out.push(Output::Effect(Effect::Publish(Publish::DoorState(state))));
                    }
                }
                continue;
            }
            let mut event = self.event(Kind::Mode, now);
            event.door = Some(door.clone());
            event.mode = Some(if open { NORMAL } else { CLOSED_BY_SCHEDULE }.to_string());
            event.by = Some(format!("schedule:{schedule}"));
            event.detail = Some(
                if open {
                    "schedule window opened"
                } else {
                    "schedule window closed"
                }
                .to_string(),
            );
            let mut then = Vec::new();
            if let Some(d) = self.model.doors.get(&door) {
                let mode = self.door_mode(d, now);
                if let Some(state) = self.doors.set_mode(&door, mode, &since) {
                    then.push(Effect::Publish(Publish::DoorState(state)));
                }
            }
            out.push(Output::Record { event, then });
        }
        out
    }

    /// At start-up, before any time is known: door modes from the restored fire release,
    /// holds and lockdowns (schedules follow on the first tick).
    pub(crate) fn settle_door_modes(&mut self) {
        for id in &self.model.door_order {
            let Some(door) = self.model.doors.get(id) else {
                continue;
            };
            let mode = if self.fire_released(door) {
                FIRE_RELEASE
            } else if self.holds.contains(id) {
                HELD_OPEN
            } else if self.lockdown.crossed_by(&self.model, door).next().is_some() {
                LOCKED_DOWN
            } else {
                continue;
            };
            self.doors.set_mode(id, mode, "");
        }
    }

    /// The actuation that puts a door back to its own mode after fire release or a hold.
    pub(crate) fn resting_action(&self, door: &Door, now: Timestamp) -> DoorAction {
        match self.door_mode(door, now) {
            FIRE_RELEASE | HELD_OPEN => DoorAction::HoldOpen,
            _ => DoorAction::Lock,
        }
    }
}
