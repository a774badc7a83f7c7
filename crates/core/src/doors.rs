//! Door state as the core knows it (lock, contact, mode, online) and door supervision
//! (forced, held open). Owned by the devices work.

use crate::core::Core;
use crate::io::{DeviceHealth, DoorSignal, Output};
use crate::model::Model;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The published state of one door (`gatehouse/{site}/doors/{door}/state`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoorState {
    #[serde(skip)]
    pub door: String,
    /// `locked` or `unlocked`.
    pub lock: String,
    /// `open`, `closed` or `unknown`.
    pub contact: String,
    /// `normal`, `locked_down`, `closed_by_schedule`, `held_open`, `fire_release`.
    pub mode: String,
    pub online: bool,
    pub since: String,
}

/// Every door's live state.
#[derive(Default)]
pub struct Doors {
    pub states: HashMap<String, DoorState>,
    /// When each door was last legitimately released (door-forced supervision).
    pub last_release: HashMap<String, Timestamp>,
}

impl Doors {
    pub fn new(model: &Model) -> Doors {
        let states = model
            .door_order
            .iter()
            .map(|id| {
                (
                    id.clone(),
                    DoorState {
                        door: id.clone(),
                        lock: "locked".into(),
                        contact: "unknown".into(),
                        mode: "normal".into(),
                        online: true,
                        since: String::new(),
                    },
                )
            })
            .collect();
        Doors { states, last_release: HashMap::new() }
    }

    pub fn is_online(&self, door: &str) -> bool {
        self.states.get(door).is_none_or(|s| s.online)
    }

    /// Sets a door's mode (`normal`, `locked_down`, `closed_by_schedule`, `held_open`,
    /// `fire_release`); returns the new state when it changed, to publish.
    pub fn set_mode(&mut self, door: &str, mode: &str, since: &str) -> Option<DoorState> {
        let state = self.states.get_mut(door)?;
        if state.mode == mode {
            return None;
        }
        state.mode = mode.to_string();
        state.since = since.to_string();
        Some(state.clone())
    }

    /// Notes that the door was legitimately released at `now` (grant, remote unlock, exit
    /// button), so that the contact opening soon after is not taken for a forced door.
    pub fn note_release(&mut self, door: &str, now: Timestamp) {
        self.last_release.insert(door.to_string(), now);
    }
}

impl Core {
    pub(crate) fn on_door_signal(&mut self, _signal: DoorSignal, _now: Timestamp) -> Vec<Output> {
        Vec::new()
    }

    pub(crate) fn on_device(&mut self, _health: DeviceHealth, _now: Timestamp) -> Vec<Output> {
        Vec::new()
    }

    /// Time-driven supervision (held-open doors), called on every tick.
    pub(crate) fn supervise_doors(&mut self, _now: Timestamp) -> Vec<Output> {
        Vec::new()
    }
}
