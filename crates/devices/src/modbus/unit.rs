//! One controller on a link: its profile, its doors, what it last reported, and its health.
//! Turning a poll's snapshot into signals for the core lives here; talking to the wire does
//! not (see `bus`).

use super::plan::{self, ReadRange, Snapshot};
use super::reads::{ReadCursor, Taken};
use crate::profile::{Profile, Table};
use gatehouse_core::config::{Config, Controller};
use gatehouse_core::io::{Contact, DoorSignal};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Longest wait between attempts to reach an offline controller.
pub const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// First wait after a failed request.
pub const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// The least a request on a shared bus is waited for before live units' work may take the
/// bus from it (a device answering a few milliseconds late is not given up on).
pub const MIN_PATIENCE: Duration = Duration::from_millis(50);
/// Every how many failed attempts at a backed-off unit one waits its whole timeout.
pub const FULL_PROBE_EVERY: u32 = 4;

/// What a door's points said at one poll.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DoorInputs {
    pub contact: Option<bool>,
    pub exit: Option<bool>,
    pub tamper: Option<bool>,
    pub lock_released: Option<bool>,
    pub fire: Option<bool>,
}

/// A door driven by this controller.
pub struct DoorOnUnit {
    pub id: String,
    pub channel: u16,
    pub pulse_ms: u32,
    /// Held released (hold open, fire release) until told to lock.
    pub held: bool,
    /// Gateway-timed pulse in progress: lock again at this instant.
    pub release_until: Option<Instant>,
    /// The inputs at the last poll.
    pub last: DoorInputs,
}

/// A configured point that reports a fire alarm for a zone.
pub struct FireOnUnit {
    pub id: String,
    pub zone: String,
    pub table: Table,
    pub address: u16,
    pub bit: u8,
    pub last: Option<bool>,
}

pub struct Unit {
    pub id: String,
    pub unit: u8,
    pub poll: Duration,
    pub timeout: Duration,
    pub offline_after: u32,
    pub profile: Arc<Profile>,
    pub doors: Vec<DoorOnUnit>,
    pub fire_inputs: Vec<FireOnUnit>,
    /// Reader index on the controller → reader id.
    pub readers: HashMap<u16, String>,
    pub plan: Vec<ReadRange>,
    pub reads: ReadCursor,
    /// Consecutive failed requests; above zero the unit is backed off (`next_poll` is its
    /// next attempt) and its requests may be abandoned for live units' work.
    pub failures: u32,
    pub online: bool,
    /// Its locks must be written to their intended state before its next poll is trusted: at
    /// start and after any failure of its own (a TCP reconnect always follows one). Another
    /// unit's failure on the same bus, or a serial port reopened to flush a stray reply, does
    /// not touch this unit's locks.
    pub needs_restore: bool,
    /// How long it takes to answer lately (a slow decay towards each new answer; starts at a
    /// quarter of the timeout, so a unit never heard is never given up on early).
    pub answer_time: Duration,
    /// The controller was unreachable since its last good poll.
    pub was_unreachable: bool,
    pub next_poll: Instant,
    /// Polls completed (all ranges read), for the console and the tests.
    pub polls: u64,
}

impl Unit {
    pub fn new(ctl: &Controller, profile: Arc<Profile>, config: &Config) -> Unit {
        let doors: Vec<DoorOnUnit> = config
            .doors
            .iter()
            .filter(|d| d.controller.as_deref() == Some(ctl.id.as_str()))
            .map(|d| DoorOnUnit {
                id: d.id.clone(),
                channel: d.channel,
                pulse_ms: d.pulse_ms,
                held: false,
                release_until: None,
                last: DoorInputs::default(),
            })
            .collect();
        let fire_inputs: Vec<FireOnUnit> = config
            .fire_inputs
            .iter()
            .filter(|f| f.controller == ctl.id)
            .filter_map(|f| {
                Some(FireOnUnit {
                    id: f.id.clone(),
                    zone: f.zone.clone(),
                    table: Table::parse(&f.table)?,
                    address: f.address,
                    bit: f.bit,
                    last: None,
                })
            })
            .collect();
        let mut addresses = Vec::new();
        for d in &doors {
            for p in [
                profile.contact,
                profile.exit,
                profile.tamper,
                profile.lock_released,
            ]
            .into_iter()
            .flatten()
            {
                addresses.push((p.table, p.address(d.channel)));
            }
        }
        if let Some(p) = profile.fire {
            addresses.push((p.table, p.address(0)));
        }
        for f in &fire_inputs {
            addresses.push((f.table, f.address));
        }
        if let Some(r) = &profile.reads {
            addresses.push((r.counter.table, r.counter.address(0)));
            addresses.push((r.slots_table, r.slot_address(0)));
            addresses.push((
                r.slots_table,
                r.slot_address(r.slot_count - 1) + r.slot_size - 1,
            ));
        }
        Unit {
            id: ctl.id.clone(),
            unit: ctl.unit,
            poll: Duration::from_millis(ctl.poll_ms.max(10)),
            timeout: Duration::from_millis(ctl.timeout_ms.max(10)),
            offline_after: ctl.offline_after.max(1),
            readers: ctl
                .readers
                .iter()
                .map(|r| (r.index, r.id.clone()))
                .collect(),
            plan: plan::plan(addresses),
            doors,
            fire_inputs,
            profile,
            reads: ReadCursor::default(),
            failures: 0,
            online: true,
            needs_restore: true,
            answer_time: Duration::from_millis(ctl.timeout_ms.max(10)) / 4,
            was_unreachable: false,
            next_poll: Instant::now(),
            polls: 0,
        }
    }

    pub fn door_ids(&self) -> Vec<String> {
        self.doors.iter().map(|d| d.id.clone()).collect()
    }

    /// When to try again after a failure: at once backed off, from [`FIRST_BACKOFF`] (or the
    /// poll interval if longer), doubling, up to [`MAX_BACKOFF`]. On a shared RS-485 line
    /// every attempt at a dead unit holds the bus, so the attempts get rare at once.
    pub fn retry_delay(&self) -> Duration {
        let doublings = self.failures.saturating_sub(1).min(8);
        (FIRST_BACKOFF.max(self.poll) * 2u32.pow(doublings)).min(MAX_BACKOFF)
    }

    /// Whether it answered its last request (not backed off).
    pub fn is_live(&self) -> bool {
        self.failures == 0
    }

    /// How long a request to it is waited for before other units' work may take the bus from
    /// it: four times its recent answer time, at least [`MIN_PATIENCE`], at most its timeout.
    pub fn patience(&self) -> Duration {
        (self.answer_time * 4).clamp(MIN_PATIENCE, self.timeout.max(MIN_PATIENCE))
    }

    /// Whether this attempt at a backed-off unit waits its whole timeout even when live units'
    /// polls fall due: every [`FULL_PROBE_EVERY`]th, so a unit slower than its patience is
    /// still found again.
    pub fn full_probe(&self) -> bool {
        self.failures.is_multiple_of(FULL_PROBE_EVERY)
    }

    /// Notes how long an answer took.
    pub fn answered_in(&mut self, took: Duration) {
        self.answer_time = if took >= self.answer_time {
            took
        } else {
            (self.answer_time * 7 + took) / 8
        };
    }

    /// Compares a poll with the last one: the signals to send, door by door, and the doors
    /// whose exit button was just pressed.
    pub fn door_changes(&mut self, snapshot: &Snapshot) -> (Vec<DoorSignal>, Vec<usize>) {
        let p = self.profile.clone();
        let fire = snapshot.point(p.fire, 0);
        let mut signals = Vec::new();
        let mut exits = Vec::new();
        for (i, door) in self.doors.iter_mut().enumerate() {
            let ch = door.channel;
            let now = DoorInputs {
                contact: snapshot.point(p.contact, ch),
                exit: snapshot.point(p.exit, ch),
                tamper: snapshot.point(p.tamper, ch),
                lock_released: snapshot.point(p.lock_released, ch),
                fire,
            };
            let before = std::mem::replace(&mut door.last, now);
            let changed = |a: Option<bool>, b: Option<bool>| if a != b { a } else { None };
            let rex = now.exit == Some(true) && before.exit != Some(true);
            if rex {
                exits.push(i);
            }
            let signal = DoorSignal {
                door: door.id.clone(),
                contact: changed(now.contact, before.contact)
                    .map(|open| if open { Contact::Open } else { Contact::Closed }),
                rex,
                tamper: changed(now.tamper, before.tamper),
                lock_released: changed(now.lock_released, before.lock_released),
                fire: changed(now.fire, before.fire),
            };
            if signal
                != (DoorSignal {
                    door: door.id.clone(),
                    ..DoorSignal::default()
                })
            {
                signals.push(signal);
            }
        }
        (signals, exits)
    }

    /// Fire inputs whose state differs from the last read (every one at the first read).
    pub fn fire_changes(&mut self, snapshot: &Snapshot) -> Vec<FireChange> {
        let mut out = Vec::new();
        for f in &mut self.fire_inputs {
            let Some(raw) = snapshot.get(f.table, f.address) else {
                continue;
            };
            let active = if f.table.is_bits() {
                raw != 0
            } else {
                raw & (1 << f.bit.min(15)) != 0
            };
            if f.last != Some(active) {
                out.push(FireChange {
                    input: f.id.clone(),
                    zone: f.zone.clone(),
                    active,
                    first: f.last.is_none(),
                });
                f.last = Some(active);
            }
        }
        out
    }

    /// Forgets what fire input `id` last said, so the next poll reports it again (its change
    /// could not be handed to the core).
    pub fn forget_fire_input(&mut self, id: &str) {
        if let Some(f) = self.fire_inputs.iter_mut().find(|f| f.id == id) {
            f.last = None;
        }
    }

    /// New card reads in the controller's buffer.
    pub fn take_reads(&mut self, snapshot: &Snapshot) -> Taken {
        let Some(layout) = self.profile.reads.clone() else {
            return Taken::default();
        };
        let Some(counter) = snapshot.get(layout.counter.table, layout.counter.address(0)) else {
            return Taken::default();
        };
        let restarted = std::mem::take(&mut self.was_unreachable);
        self.reads
            .take(counter, &layout, restarted, |slot, offset| {
                snapshot
                    .get(layout.slots_table, layout.slot_address(slot) + offset)
                    .unwrap_or(0)
            })
    }
}

/// A fire input's state as read, when it differs from the last read (or there was none).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FireChange {
    pub input: String,
    pub zone: String,
    pub active: bool,
    /// The first read since start (or since the core could not take the last one): not a
    /// change anyone saw happen.
    pub first: bool,
}
