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
        Doors { states }
    }

    pub fn is_online(&self, door: &str) -> bool {
        self.states.get(door).is_none_or(|s| s.online)
    }
}

impl Core {
    pub(crate) fn on_door_signal(&mut self, _signal: DoorSignal, _now: Timestamp) -> Vec<Output> {
        Vec::new()
    }

    pub(crate) fn on_device(&mut self, _health: DeviceHealth, _now: Timestamp) -> Vec<Output> {
        Vec::new()
    }
}
