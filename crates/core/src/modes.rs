//! A door's mode, derived from what overrides what: fire release, then the office's hold
//! open, then lockdown of a zone whose boundary it
//! crosses, then its schedule, else normal. The mode is
//! published for everyone; decisions read the rules themselves, not this label.
//!
//! That order lives in one place (`Core::mode_by_rules`); everything that sets a door's mode
//! asks it, through `Core::door_mode` once the time is known.

use crate::config::Door;
use crate::core::Core;
use crate::event::Kind;
use crate::io::{DoorAction, Effect, Output, Publish};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A door's mode as published (`mode` of the door's state; the same words in `mode` events).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DoorMode {
    /// Nothing overrides the door: grants open it for a pulse.
    Normal,
    /// A lockdown covers a zone whose boundary the door crosses.
    LockedDown,
    /// The door's own schedule is closed.
    ClosedBySchedule,
    /// The office holds the door open.
    HeldOpen,
    /// A fire alarm (active, or cleared and not yet acknowledged) frees the door.
    FireRelease,
}

impl DoorMode {
    /// Every mode.
    pub const ALL: [DoorMode; 5] = [
        DoorMode::Normal,
        DoorMode::LockedDown,
        DoorMode::ClosedBySchedule,
        DoorMode::HeldOpen,
        DoorMode::FireRelease,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            DoorMode::Normal => "normal",
            DoorMode::LockedDown => "locked_down",
            DoorMode::ClosedBySchedule => "closed_by_schedule",
            DoorMode::HeldOpen => "held_open",
            DoorMode::FireRelease => "fire_release",
        }
    }

    /// Whether the mode keeps the door's lock released (`held_open`, `fire_release`): the
    /// door is not forced when it opens, nor held open when it stays open.
    pub fn keeps_released(self) -> bool {
        matches!(self, DoorMode::HeldOpen | DoorMode::FireRelease)
    }

    /// The actuation that puts a door in this mode: held open, or locked.
    pub fn actuation(self) -> DoorAction {
        if self.keeps_released() {
            DoorAction::HoldOpen
        } else {
            DoorAction::Lock
        }
    }
}

impl fmt::Display for DoorMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Core {
    /// Whether a fire alarm (active, or cleared but not yet acknowledged) frees `door`.
    pub(crate) fn fire_released(&self, door: &Door) -> bool {
        self.fire.covers(&self.model, &door.inside)
    }

    /// Whether the door's own schedule lets people through at `now` (no schedule = always).
    pub(crate) fn door_schedule_open(&self, door: &Door, now: Timestamp) -> bool {
        door.schedule
            .as_deref()
            .is_none_or(|s| self.schedules.is_open(s, now, &self.model.tz))
    }

    /// The mode `door` should show at `now`.
    pub(crate) fn door_mode(&self, door: &Door, now: Timestamp) -> DoorMode {
        self.mode_by_rules(door, Some(now))
    }

    /// What overrides what: the one place a door's mode is derived. With no time (at
    /// start-up, before the first tick) the door's schedule is not asked: it counts as open.
    fn mode_by_rules(&self, door: &Door, now: Option<Timestamp>) -> DoorMode {
        if self.fire_released(door) {
            DoorMode::FireRelease
        } else if self.holds.contains(&door.id) {
            DoorMode::HeldOpen
        } else if self.lockdown.crossed_by(&self.model, door).next().is_some() {
            DoorMode::LockedDown
        } else if now.is_some_and(|now| !self.door_schedule_open(door, now)) {
            DoorMode::ClosedBySchedule
        } else {
            DoorMode::Normal
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
            let before = self.schedules.set_open(id, open);
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
            // The schedule's own say; the door's published mode follows the rules below.
            let said = if open {
                DoorMode::Normal
            } else {
                DoorMode::ClosedBySchedule
            };
            event.mode = Some(said.to_string());
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
            let mode = self.mode_by_rules(door, None);
            self.doors.set_mode(id, mode, "");
        }
    }

    /// The actuation that puts a door back to its own mode after fire release or a hold.
    pub(crate) fn resting_action(&self, door: &Door, now: Timestamp) -> DoorAction {
        self.door_mode(door, now).actuation()
    }
}
