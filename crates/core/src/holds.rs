//! The office's hold-open of a door: from the console or a signed `hold_open {door, until}`
//! command. A hold keeps the door released until `until` passes (released on the first tick
//! at or after it, with a `mode` event "hold expired") or until the office releases it; with
//! no `until` it lasts until released. Holds are persisted like lockdowns, so a restart keeps
//! a held door held (re-asserted on the first tick) and still ends it on time. Fire release
//! outranks a hold: ending a hold never locks a door a fire has freed.

use crate::config::Door;
use crate::core::Core;
use crate::event::Kind;
use crate::io::{Effect, Output, Publish, Save};
use crate::modes::DoorMode;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// One held door, as persisted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    pub door: String,
    /// When the hold ends by itself; `None` holds until the office releases it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<Timestamp>,
    /// When the hold began (RFC 3339, the site's offset).
    pub since: String,
    /// Who asked for it (`office-1`, `office:chen`).
    pub by: String,
}

/// The doors the office holds open.
#[derive(Default)]
pub struct Holds {
    /// At most one per door, in the order they were set; bounded by the configured doors
    /// (the core holds only doors of the configuration).
    doors: Vec<Hold>,
}

impl Holds {
    /// The holds restored from the store.
    pub fn new(doors: Vec<Hold>) -> Holds {
        Holds { doors }
    }

    /// Every hold, in the order they were set: the table to save.
    pub fn all(&self) -> &[Hold] {
        &self.doors
    }

    /// Whether `door` is held open.
    pub fn contains(&self, door: &str) -> bool {
        self.doors.iter().any(|h| h.door == door)
    }

    /// Sets or replaces the hold on its door (a replaced hold moves to the end); whether it
    /// replaced one.
    fn put(&mut self, hold: Hold) -> bool {
        let replaced = self.remove(&hold.door);
        self.doors.push(hold);
        replaced
    }

    /// Removes the hold on `door`; whether there was one.
    fn remove(&mut self, door: &str) -> bool {
        let before = self.doors.len();
        self.doors.retain(|h| h.door != door);
        self.doors.len() != before
    }

    /// Takes out the holds whose `until` is at or before `now`.
    fn take_expired(&mut self, now: Timestamp) -> Vec<Hold> {
        let (expired, kept) = std::mem::take(&mut self.doors)
            .into_iter()
            .partition(|h| h.until.is_some_and(|until| until <= now));
        self.doors = kept;
        expired
    }
}

impl Core {
    /// Holds `door` open until `until` (or until released). An `until` that is not in the
    /// future is refused: the hold would end before it began.
    pub(crate) fn hold_door(
        &mut self,
        door: &Door,
        until: Option<Timestamp>,
        by: &str,
        now: Timestamp,
    ) -> Result<Vec<Output>, String> {
        if let Some(until) = until
            && until <= now
        {
            return Err(format!(
                "`until` ({until}) is not in the future (now is {now}): give a later time, or leave it out to hold the door until it is released"
            ));
        }
        let since = self.model.stamp(now);
        self.holds.put(Hold {
            door: door.id.clone(),
            until,
            since,
            by: by.to_string(),
        });
        self.doors.note_release(&door.id, now);
        let detail = match until {
            Some(until) => format!("held open by the office until {}", self.model.stamp(until)),
            None => "held open by the office until released".to_string(),
        };
        Ok(vec![self.hold_changed(door, by, &detail, now)])
    }

    /// Ends the office's hold on `door` (locking it unless something else frees it).
    pub(crate) fn release_hold(&mut self, door: &Door, by: &str, now: Timestamp) -> Vec<Output> {
        self.holds.remove(&door.id);
        vec![self.hold_changed(door, by, "hold released", now)]
    }

    /// On every tick: ends the holds whose time has come.
    pub(crate) fn expire_holds(&mut self, now: Timestamp) -> Vec<Output> {
        let expired = self.holds.take_expired(now);
        let mut out = Vec::new();
        for hold in expired {
            let Some(door) = self.model.doors.get(&hold.door).cloned() else {
                continue;
            };
            let detail = format!("hold expired (held since {} by {})", hold.since, hold.by);
            out.push(self.hold_changed(&door, &hold.by, &detail, now));
        }
        out
    }

    /// On the first tick after a start: the hardware forgot the holds, so each restored hold
    /// is actuated again (one `mode` event each). Holds that ran out while the gateway was
    /// down end first, through [`Core::expire_holds`].
    pub(crate) fn reassert_holds(&mut self, now: Timestamp) -> Vec<Output> {
        let held: Vec<Door> = self
            .holds
            .all()
            .iter()
            .filter_map(|h| self.model.doors.get(&h.door).cloned())
            .collect();
        held.iter()
            .map(|door| self.hold_changed(door, "restart", "hold restored after a restart", now))
            .collect()
    }

    /// The `mode` event of a hold that began, ended or was restored, with the door's
    /// actuation for its mode now, its published state and the saved table.
    fn hold_changed(&mut self, door: &Door, by: &str, detail: &str, now: Timestamp) -> Output {
        let mode = self.door_mode(door, now);
        let mut event = self.event(Kind::Mode, now);
        event.door = Some(door.id.clone());
        event.mode = Some(mode.to_string());
        event.by = Some(by.to_string());
        event.detail = Some(detail.to_string());
        let mut then = Vec::new();
        // A fire release outranks the office: ending a hold must not lock the door.
        if mode != DoorMode::FireRelease {
            then.push(Effect::Door {
                door: door.id.clone(),
                action: mode.actuation(),
            });
        }
        let since = self.model.stamp(now);
        if let Some(state) = self.doors.set_mode(&door.id, mode, &since) {
            then.push(Effect::Publish(Publish::DoorState(state)));
        }
        then.push(Effect::Save(Save::Holds(self.holds.all().to_vec())));
        Output::Record { event, then }
    }
}

#[cfg(test)]
mod tests;
