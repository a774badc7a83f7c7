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
use crate::modes::DoorMode;
use foldhash::HashMap;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use std::fmt;

/// At most this many devices' health is remembered (see [`Doors::report_device`]); an estate
/// has tens of controllers.
pub const MAX_DEVICES: usize = 4096;

/// How long after a release's pulse ends a door may still open without being forced.
pub const FORCED_GRACE_MS: i64 = 2000;

/// The published state of one door (`gatehouse/{site}/doors/{door}/state`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoorState {
    #[serde(skip)]
    pub door: String,
    /// `locked` or `unlocked`.
    pub lock: DoorLock,
    /// `open`, `closed` or `unknown`.
    pub contact: DoorContact,
    /// `normal`, `locked_down`, `closed_by_schedule`, `held_open`, `fire_release`.
    pub mode: DoorMode,
    pub online: bool,
    /// When the state last changed (the site's time); empty when it has not changed since the
    /// start.
    pub since: String,
}

/// The lock of a door as its state shows it. Doors start shown locked; the hardware's (or
/// the adapter's acknowledged write's) report changes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DoorLock {
    Locked,
    Unlocked,
}

impl DoorLock {
    /// Every value.
    pub const ALL: [DoorLock; 2] = [DoorLock::Locked, DoorLock::Unlocked];

    /// The lock as a report of whether it is released shows it.
    pub fn from_released(released: bool) -> DoorLock {
        if released {
            DoorLock::Unlocked
        } else {
            DoorLock::Locked
        }
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            DoorLock::Locked => "locked",
            DoorLock::Unlocked => "unlocked",
        }
    }
}

impl fmt::Display for DoorLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The contact of a door as its state shows it: what the hardware last reported
/// ([`Contact`]), or `unknown` before its first report. (Not [`Contact`] itself: that is what
/// an adapter may report, and no input may report `unknown`.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DoorContact {
    Open,
    Closed,
    /// Not reported since the gateway started.
    Unknown,
}

impl DoorContact {
    /// Every value.
    pub const ALL: [DoorContact; 3] =
        [DoorContact::Open, DoorContact::Closed, DoorContact::Unknown];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            DoorContact::Open => "open",
            DoorContact::Closed => "closed",
            DoorContact::Unknown => "unknown",
        }
    }
}

impl From<Contact> for DoorContact {
    fn from(contact: Contact) -> DoorContact {
        match contact {
            Contact::Open => DoorContact::Open,
            Contact::Closed => DoorContact::Closed,
        }
    }
}

impl fmt::Display for DoorContact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What supervision remembers of a door between signals.
#[derive(Clone, Debug, Default)]
struct Watch {
    /// When the contact last opened; none while closed or unknown.
    opened_at: Option<Timestamp>,
    /// A `door_held_open` alarm is raised and not yet cleared.
    held_alarm: bool,
    /// A tamper input is active (its alarm is raised and not yet cleared).
    tamper: bool,
    /// The hardware's (or the adapter's acknowledged write's) report of the lock.
    lock_released: Option<bool>,
    /// When the door was last legitimately released (door-forced supervision).
    last_release: Option<Timestamp>,
}

/// One door: its published state and what supervision remembers of it.
#[derive(Clone, Debug)]
struct Tracked {
    state: DoorState,
    watch: Watch,
}

/// What a contact report changed (see [`Doors::report_contact`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ContactChange {
    /// The first report since the start: how things are, not what happened.
    First(DoorState),
    /// The door opened; `forced` when its lock held it shut, with no release shortly before.
    Opened { state: DoorState, forced: bool },
    /// The door closed; `held_cleared` when a `door_held_open` alarm was raised, which this
    /// clears.
    Closed {
        state: DoorState,
        held_cleared: bool,
    },
}

/// Every door's live state, and the controllers' health.
#[derive(Default)]
pub struct Doors {
    /// Door id → the door. Exactly the doors of the model the table was built from: no door
    /// is added later, so no input can grow it.
    doors: HashMap<String, Tracked>,
    /// Device id → online as last reported; devices not yet heard from are absent. Bounded
    /// by [`MAX_DEVICES`].
    devices: HashMap<String, bool>,
}

impl Doors {
    /// Every door of `model`, shown locked, contact unknown, mode normal, online.
    pub fn new(model: &Model) -> Doors {
        let doors = model
            .door_order
            .iter()
            .map(|id| {
                let state = DoorState {
                    door: id.clone(),
                    lock: DoorLock::Locked,
                    contact: DoorContact::Unknown,
                    mode: DoorMode::Normal,
                    online: true,
                    since: String::new(),
                };
                (
                    id.clone(),
                    Tracked {
                        state,
                        watch: Watch::default(),
                    },
                )
            })
            .collect();
        Doors {
            doors,
            devices: HashMap::default(),
        }
    }

    /// The live state of `door`; `None` for a door the model does not have.
    pub fn state(&self, door: &str) -> Option<&DoorState> {
        self.doors.get(door).map(|d| &d.state)
    }

    /// Whether `door` is reachable (a door the model does not have counts as reachable).
    pub fn is_online(&self, door: &str) -> bool {
        self.state(door).is_none_or(|s| s.online)
    }

    /// Sets a door's mode; returns the new state when it changed, to publish.
    pub fn set_mode(&mut self, door: &str, mode: DoorMode, since: &str) -> Option<DoorState> {
        let state = &mut self.doors.get_mut(door)?.state;
        if state.mode == mode {
            return None;
        }
        state.mode = mode;
        state.since = since.to_string();
        Some(state.clone())
    }

    /// Sets whether `door` is reachable (its controller went online or offline); returns the
    /// new state when it changed, to publish.
    pub fn set_online(&mut self, door: &str, online: bool, since: &str) -> Option<DoorState> {
        let state = &mut self.doors.get_mut(door)?.state;
        if state.online == online {
            return None;
        }
        state.online = online;
        state.since = since.to_string();
        Some(state.clone())
    }

    /// Notes that the door was legitimately released at `now` (grant, remote unlock, exit
    /// button), so that the contact opening soon after is not taken for a forced door.
    pub fn note_release(&mut self, door: &str, now: Timestamp) {
        if let Some(d) = self.doors.get_mut(door) {
            d.watch.last_release = Some(now);
        }
    }

    /// The hardware reports the lock of `door` released (or engaged) at `now`. Returns the new
    /// state when the lock shown changed, to publish; a lock newly shown unlocked counts as a
    /// release ([`Doors::note_release`]). Doors start shown locked, so a lock first reported
    /// locked is no news.
    pub fn report_lock(
        &mut self,
        door: &str,
        released: bool,
        now: Timestamp,
        since: &str,
    ) -> Option<DoorState> {
        let d = self.doors.get_mut(door)?;
        d.watch.lock_released = Some(released);
        let shown = DoorLock::from_released(released);
        if d.state.lock == shown {
            return None;
        }
        d.state.lock = shown;
        d.state.since = since.to_string();
        if released {
            d.watch.last_release = Some(now);
        }
        Some(d.state.clone())
    }

    /// The hardware reports the contact of `door` at `now`; `pulse_ms` is the door's unlock
    /// pulse (an opening within it and [`FORCED_GRACE_MS`] of a release is not forced). Returns
    /// what changed; `None` when the contact shown is the same.
    pub fn report_contact(
        &mut self,
        door: &str,
        contact: Contact,
        pulse_ms: u32,
        now: Timestamp,
        since: &str,
    ) -> Option<ContactChange> {
        let engaged = self.lock_engaged(door, pulse_ms, now);
        let d = self.doors.get_mut(door)?;
        let new = DoorContact::from(contact);
        if d.state.contact == new {
            return None;
        }
        let first = d.state.contact == DoorContact::Unknown;
        d.state.contact = new;
        d.state.since = since.to_string();
        let open = contact == Contact::Open;
        d.watch.opened_at = open.then_some(now);
        let state = d.state.clone();
        Some(if first {
            ContactChange::First(state)
        } else if open {
            ContactChange::Opened {
                state,
                forced: engaged,
            }
        } else {
            ContactChange::Closed {
                state,
                held_cleared: std::mem::take(&mut d.watch.held_alarm),
            }
        })
    }

    /// The tamper input of `door` reads `on`; whether that changed (an alarm is raised or
    /// cleared).
    pub fn report_tamper(&mut self, door: &str, on: bool) -> bool {
        let Some(d) = self.doors.get_mut(door) else {
            return false;
        };
        if d.watch.tamper == on {
            return false;
        }
        d.watch.tamper = on;
        true
    }

    /// Controller (device) `device` is reported online or offline; returns what was known
    /// before (`None`: not heard from yet). Device ids come from the adapters (today only
    /// configured Modbus controllers); past [`MAX_DEVICES`] distinct ids a new one is not
    /// remembered, so each of its reports counts as its first.
    pub fn report_device(&mut self, device: &str, online: bool) -> Option<bool> {
        match self.devices.get_mut(device) {
            Some(known) => Some(std::mem::replace(known, online)),
            None => {
                if self.devices.len() < MAX_DEVICES {
                    self.devices.insert(device.to_string(), online);
                }
                None
            }
        }
    }

    /// Whether controller (device) `device` was last reported online; `None` before it
    /// reported.
    pub fn device_online(&self, device: &str) -> Option<bool> {
        self.devices.get(device).copied()
    }

    /// Alarms raised and not yet cleared: doors held open past their limit and tamper inputs
    /// still active, one each per door.
    pub fn active_alarms(&self) -> usize {
        self.doors
            .values()
            .map(|d| usize::from(d.watch.held_alarm) + usize::from(d.watch.tamper))
            .sum()
    }

    /// Raises the held-open alarm of every door open for at least its limit at `now` that has
    /// none yet and whose mode does not keep it released; `limit_s` gives a door's limit in
    /// seconds (`None`: not supervised). Returns those doors with their limits, by door id.
    pub fn raise_held_open(
        &mut self,
        now: Timestamp,
        limit_s: impl Fn(&str) -> Option<u32>,
    ) -> Vec<(String, u32)> {
        let mut due = Vec::new();
        for (id, d) in &self.doors {
            let Some(opened) = d.watch.opened_at.filter(|_| !d.watch.held_alarm) else {
                continue;
            };
            let Some(limit) = limit_s(id) else {
                continue;
            };
            if d.state.mode.keeps_released() {
                continue;
            }
            if now.duration_since(opened) >= SignedDuration::from_secs(i64::from(limit)) {
                due.push((id.clone(), limit));
            }
        }
        due.sort();
        for (id, _) in &due {
            if let Some(d) = self.doors.get_mut(id) {
                d.watch.held_alarm = true;
            }
        }
        due
    }

    /// Whether the lock of `door` holds it shut at `now` (see the module's first lines).
    fn lock_engaged(&self, door: &str, pulse_ms: u32, now: Timestamp) -> bool {
        let Some(d) = self.doors.get(door) else {
            return false;
        };
        if d.state.mode.keeps_released() {
            return false;
        }
        if d.watch.lock_released == Some(true) {
            return false;
        }
        let window = SignedDuration::from_millis(i64::from(pulse_ms) + FORCED_GRACE_MS);
        d.watch
            .last_release
            .is_none_or(|t| now.duration_since(t) > window)
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
        if let Some(released) = signal.lock_released
            && let Some(state) = self.doors.report_lock(&id, released, now, &at)
        {
            out.push(record(
                self.door_event(&id, state.lock.as_str(), now),
                Some(&state),
            ));
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
        if let Some(on) = signal.tamper
            && self.doors.report_tamper(&id, on)
        {
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
        let at = self.model.stamp(now);
        let Some(change) = self
            .doors
            .report_contact(id, contact, door.pulse_ms, now, &at)
        else {
            return vec![];
        };
        let mut out = Vec::new();
        match change {
            // The first poll after a start says how things are, not what happened.
            ContactChange::First(state) => {
                out.push(Output::Effect(Effect::Publish(Publish::DoorState(state))));
            }
            ContactChange::Opened { state, forced } => {
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
            }
            ContactChange::Closed {
                state,
                held_cleared,
            } => {
                out.push(record(self.door_event(id, "closed", now), Some(&state)));
                if held_cleared {
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
        let previous = online.and_then(|on| self.doors.report_device(&health.device, on));
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
                    if let Some(state) = self.doors.set_online(door, on, &at) {
                        then.push(Effect::Publish(Publish::DoorState(state)));
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
        let model = &self.model;
        let due = self.doors.raise_held_open(now, |id| {
            model.doors.get(id).map(|door| door.held_open_after_s)
        });
        let mut out = Vec::new();
        for (id, limit) in due {
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
