//! Door state as the core knows it (lock, contact, mode, online) and door supervision:
//! a door opened while its lock is engaged with no release shortly before is forced; a door
//! open past its limit is held open until it closes; exit buttons are egress; tamper inputs
//! and controller health are alarms and `device` events. Owned by the devices work.
//!
//! The lock is engaged unless the door's mode holds it released (`held_open`,
//! `fire_release`), the hardware reports it released, or a release (grant, remote unlock,
//! exit button) happened within the door's `pulse_ms` plus [`FORCED_GRACE_MS`]: people take a
//! moment to push a door after the click.

use crate::core::Core;
use crate::event::{AlarmKind, Decision, Direction, Event, Kind, Method, Reason};
use crate::io::{Contact, DeviceHealth, DeviceState, DoorSignal, Effect, Output, Publish};
use crate::lockdown::LockdownMode;
use crate::model::Model;
use crate::modes::{FIRE_RELEASE, HELD_OPEN};
use foldhash::HashMap;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// How long after a release's pulse ends a door may still open without being forced.
pub const FORCED_GRACE_MS: i64 = 2000;

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

/// What supervision remembers of a door between signals.
#[derive(Clone, Debug, Default)]
pub struct Watch {
    /// When the contact last opened; none while closed or unknown.
    pub opened_at: Option<Timestamp>,
    /// A `door_held_open` alarm is raised and not yet cleared.
    pub held_alarm: bool,
    pub tamper: bool,
    /// The hardware's (or the adapter's acknowledged write's) report of the lock.
    pub lock_released: Option<bool>,
}

/// Every door's live state.
#[derive(Default)]
pub struct Doors {
    pub states: HashMap<String, DoorState>,
    /// When each door was last legitimately released (door-forced supervision).
    pub last_release: HashMap<String, Timestamp>,
    pub watch: HashMap<String, Watch>,
    /// Device id → online as last reported; devices not yet heard from are absent.
    pub devices: HashMap<String, bool>,
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
        Doors {
            states,
            ..Doors::default()
        }
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
        match self.last_release.get_mut(door) {
            Some(at) => *at = now,
            None => {
                self.last_release.insert(door.to_string(), now);
            }
        }
    }

    /// Whether the lock of `door` holds it shut at `now` (see the module's first lines).
    fn lock_engaged(&self, door: &str, pulse_ms: u32, now: Timestamp) -> bool {
        let Some(state) = self.states.get(door) else {
            return false;
        };
        if state.mode == HELD_OPEN || state.mode == FIRE_RELEASE {
            return false;
        }
        if self
            .watch
            .get(door)
            .is_some_and(|w| w.lock_released == Some(true))
        {
            return false;
        }
        let window = SignedDuration::from_millis(i64::from(pulse_ms) + FORCED_GRACE_MS);
        self.last_release
            .get(door)
            .is_none_or(|t| now.duration_since(*t) > window)
    }
}

/// A record whose effects publish the door's state.
fn record(event: Event, state: Option<&DoorState>) -> Output {
    let then = state
        .map(|s| Effect::Publish(Publish::DoorState(s.clone())))
        .into_iter()
        .collect();
    Output::Record { event, then }
}

impl Core {
    fn door_event(&self, door: &str, state: &str, now: Timestamp) -> Event {
        let mut event = self.event(Kind::Door, now);
        event.door = Some(door.to_string());
        event.state = Some(state.to_string());
        event
    }

    fn door_alarm(
        &self,
        door: &str,
        alarm: AlarmKind,
        cleared: bool,
        detail: &str,
        now: Timestamp,
    ) -> Event {
        let mut event = self.event(Kind::Alarm, now);
        event.door = Some(door.to_string());
        event.alarm = Some(alarm);
        event.cleared = cleared.then_some(true);
        event.detail = Some(detail.to_string());
        event
    }

    pub(crate) fn on_door_signal(&mut self, signal: DoorSignal, now: Timestamp) -> Vec<Output> {
        let Some(door) = self.model.doors.get(&signal.door).cloned() else {
            let mut event = self.event(Kind::RejectedInput, now);
            event.source = Some(format!("door signal for '{}'", signal.door));
            event.error = Some(format!(
                "unknown door '{}': bind the controller's channels to doors of the configuration",
                signal.door
            ));
            return vec![Output::Record {
                event,
                then: vec![],
            }];
        };
        let id = door.id.clone();
        let at = self.model.stamp(now);
        let mut out = Vec::new();
        // The lock's report and the exit button come first: a release seen in the same poll as
        // the opening explains the opening.
        if let Some(released) = signal.lock_released {
            self.doors
                .watch
                .entry(id.clone())
                .or_default()
                .lock_released = Some(released);
            let shown = if released { "unlocked" } else { "locked" };
            // Doors start shown locked, so a lock first reported locked is no news.
            let changed = self
                .doors
                .states
                .get_mut(&id)
                .filter(|s| s.lock != shown)
                .map(|s| {
                    s.lock = shown.into();
                    s.since = at.clone();
                    s.clone()
                });
            if let Some(state) = changed {
                if released {
                    self.doors.note_release(&id, now);
                }
                out.push(record(self.door_event(&id, shown, now), Some(&state)));
            }
        }
        if signal.rex {
            self.doors.note_release(&id, now);
            let mut event = self.event(Kind::Egress, now);
            event.door = Some(id.clone());
            event.direction = Some(Direction::Out);
            event.method = Some(Method::Rex);
            event.decision = Some(Decision::Grant);
            event.reason = Some(Reason::Rex);
            out.push(Output::Record {
                event,
                then: vec![],
            });
            let quarantined = self
                .lockdown
                .covering(&self.model, &door.inside)
                .any(|l| l.mode == LockdownMode::Quarantine);
            if quarantined {
                let detail = "exit button used during quarantine: the door opened, the office should follow up";
                out.push(Output::Record {
                    event: self.door_alarm(&id, AlarmKind::QuarantineExit, false, detail, now),
                    then: vec![],
                });
            }
        }
        if let Some(contact) = signal.contact {
            out.extend(self.contact_changed(&door, contact, now));
        }
        if let Some(on) = signal.tamper {
            let watch = self.doors.watch.entry(id.clone()).or_default();
            if watch.tamper != on {
                watch.tamper = on;
                let detail = if on {
                    "controller or reader housing opened"
                } else {
                    "tamper input back to normal"
                };
                out.push(Output::Record {
                    event: self.door_alarm(&id, AlarmKind::Tamper, !on, detail, now),
                    then: vec![],
                });
            }
        }
        if let Some(active) = signal.fire {
            let (zone, source) = self.model.fire_zone_of_door(&door);
            out.extend(self.on_fire(&zone, active, &source, now));
        }
        out
    }

    fn contact_changed(
        &mut self,
        door: &crate::config::Door,
        contact: Contact,
        now: Timestamp,
    ) -> Vec<Output> {
        let id = &door.id;
        let open = contact == Contact::Open;
        let new = if open { "open" } else { "closed" };
        let at = self.model.stamp(now);
        let engaged = self.doors.lock_engaged(id, door.pulse_ms, now);
        let Some(state) = self.doors.states.get_mut(id) else {
            return vec![];
        };
        if state.contact == new {
            return vec![];
        }
        let first_report = state.contact == "unknown";
        state.contact = new.into();
        state.since = at;
        let state = state.clone();
        let watch = self.doors.watch.entry(id.clone()).or_default();
        watch.opened_at = open.then_some(now);
        if first_report {
            // The first poll after a start says how things are, not what happened.
            return vec![Output::Effect(Effect::Publish(Publish::DoorState(state)))];
        }
        let mut out = Vec::new();
        if open {
            let forced = engaged;
            out.push(record(
                self.door_event(id, if forced { "forced" } else { "opened" }, now),
                Some(&state),
            ));
            if forced {
                let detail = "door opened while locked, with no grant or exit button before it";
                out.push(Output::Record {
                    event: self.door_alarm(id, AlarmKind::DoorForced, false, detail, now),
                    then: vec![],
                });
            }
        } else {
            let held = std::mem::take(&mut watch.held_alarm);
            out.push(record(self.door_event(id, "closed", now), Some(&state)));
            if held {
                out.push(Output::Record {
                    event: self.door_event(id, "held_open_cleared", now),
                    then: vec![],
                });
                let detail = "door closed";
                out.push(Output::Record {
                    event: self.door_alarm(id, AlarmKind::DoorHeldOpen, true, detail, now),
                    then: vec![],
                });
            }
        }
        out
    }

    pub(crate) fn on_device(&mut self, health: DeviceHealth, now: Timestamp) -> Vec<Output> {
        let mut out = Vec::new();
        let online = match health.state {
            DeviceState::Online => Some(true),
            DeviceState::Offline => Some(false),
            DeviceState::Error => None,
        };
        let previous = online.and_then(|on| self.doors.devices.insert(health.device.clone(), on));
        // A device first heard from as online is how things should be: no event.
        let news = match online {
            Some(on) => previous != Some(on) && !(previous.is_none() && on),
            None => true,
        };
        if news {
            let at = self.model.stamp(now);
            let mut event = self.event(Kind::Device, now);
            event.device = Some(health.device.clone());
            event.state = Some(
                match health.state {
                    DeviceState::Online => "online",
                    DeviceState::Offline => "offline",
                    DeviceState::Error => "error",
                }
                .into(),
            );
            event.detail = health.detail.clone();
            let mut then = Vec::new();
            if let Some(on) = online {
                for door in &health.doors {
                    if let Some(state) = self.doors.states.get_mut(door).filter(|s| s.online != on)
                    {
                        state.online = on;
                        state.since = at.clone();
                        then.push(Effect::Publish(Publish::DoorState(state.clone())));
                    }
                }
            }
            out.push(Output::Record { event, then });
        }
        if let Some(lost) = health.lost_reads.filter(|n| *n > 0) {
            let mut event = self.event(Kind::Alarm, now);
            event.alarm = Some(AlarmKind::ReadsLost);
            event.device = Some(health.device.clone());
            event.detail = Some(format!(
                "{lost} card reads were lost before the gateway could read them"
            ));
            out.push(Output::Record {
                event,
                then: vec![],
            });
        }
        out
    }

    /// Time-driven supervision (held-open doors), called on every tick.
    pub(crate) fn supervise_doors(&mut self, now: Timestamp) -> Vec<Output> {
        let mut due = Vec::new();
        for (id, watch) in &self.doors.watch {
            let Some(opened) = watch.opened_at.filter(|_| !watch.held_alarm) else {
                continue;
            };
            let Some(door) = self.model.doors.get(id) else {
                continue;
            };
            let mode = self.doors.states.get(id).map(|s| s.mode.as_str());
            if mode == Some(HELD_OPEN) || mode == Some(FIRE_RELEASE) {
                continue;
            }
            if now.duration_since(opened)
                >= SignedDuration::from_secs(i64::from(door.held_open_after_s))
            {
                due.push((id.clone(), door.held_open_after_s));
            }
        }
        due.sort();
        let mut out = Vec::new();
        for (id, limit) in due {
            if let Some(w) = self.doors.watch.get_mut(&id) {
                w.held_alarm = true;
            }
            out.push(Output::Record {
                event: self.door_event(&id, "held_open", now),
                then: vec![],
            });
            let detail = format!("door open longer than {limit} s");
            out.push(Output::Record {
                event: self.door_alarm(&id, AlarmKind::DoorHeldOpen, false, &detail, now),
                then: vec![],
            });
        }
        out
    }
}

#[cfg(test)]
mod tests;
