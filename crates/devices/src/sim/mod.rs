//! Simulated door controllers: a faithful model of any profile's registers behind a Modbus
//! server, scriptable by tests and the demo — open, close or force a door, press its exit
//! button, read a card (with or without PIN digits), raise a fire alarm, go silent, or answer
//! slower than the gateway waits.
//!
//! - this file: the controller's memory and its script API.
//! - [`service`]: the tokio-modbus `Service` that answers requests from that memory.
//! - [`server`]: TCP and RTU servers, and the simulators for a whole configuration.
//! - [`script`]: the line protocol that drives simulators from another process.

mod limits;
pub mod script;
pub mod server;
pub mod service;

pub use server::{SimError, SimHandles, TcpSim, serve_rtu, serve_tcp, spawn_for_config};

use crate::profile::{Point, Profile, Table, Unlock};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_modbus::{ExceptionCode, Request, Response};

/// How long a simulated exit button stays pressed: longer than any sensible poll interval.
pub const EXIT_PRESS: Duration = Duration::from_millis(800);

/// A write the simulator received, for tests that check what the gateway did and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimWrite {
    pub at: Instant,
    pub table: Table,
    pub address: u16,
    pub value: u16,
}

/// Why a script step cannot be done on this controller.
#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    /// The profile has no such point (e.g. a card read on a relay board).
    #[error("profile {profile} has no {what}: use a controller whose profile has one")]
    NoPoint { profile: String, what: &'static str },
    /// The channel does not exist on the controller.
    #[error("channel {0} does not exist on this controller")]
    NoChannel(u16),
    /// The PIN digits cannot be stored in the controller's 32-bit PIN field.
    #[error("{0}")]
    Pin(String),
}

#[derive(Default)]
struct Memory {
    coils: HashMap<u16, bool>,
    discrete: HashMap<u16, bool>,
    input: HashMap<u16, u16>,
    holding: HashMap<u16, u16>,
    /// Exit buttons pressed, per channel, until.
    exit_until: HashMap<u16, Instant>,
    /// Device-timed releases, per channel, until.
    timed_until: HashMap<u16, Instant>,
    silent: bool,
    slow: Option<Duration>,
    writes: Vec<SimWrite>,
}

/// One simulated controller.
pub struct SimController {
    pub profile: Arc<Profile>,
    memory: Mutex<Memory>,
    /// Read requests answered (polls), for tests that measure poll rates.
    reads_served: AtomicU64,
}

impl SimController {
    pub fn new(profile: Arc<Profile>) -> Arc<SimController> {
        Arc::new(SimController {
            profile,
            memory: Mutex::new(Memory::default()),
            reads_served: AtomicU64::new(0),
        })
    }

    fn memory(&self) -> std::sync::MutexGuard<'_, Memory> {
        self.memory.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn channel(&self, ch: u16) -> Result<u16, ScriptError> {
        if ch < self.profile.channels {
            Ok(ch)
        } else {
            Err(ScriptError::NoChannel(ch))
        }
    }

    fn need(&self, point: Option<Point>, what: &'static str) -> Result<Point, ScriptError> {
        point.ok_or_else(|| ScriptError::NoPoint {
            profile: self.profile.name.clone(),
            what,
        })
    }

    /// Opens door `ch` (its contact reports open). Whether that is a forced door is for the
    /// gateway to tell.
    pub fn open_door(&self, ch: u16) -> Result<(), ScriptError> {
        let point = self.need(self.profile.contact, "door contact")?;
        set_point(&mut self.memory(), point, self.channel(ch)?, true);
        Ok(())
    }

    pub fn close_door(&self, ch: u16) -> Result<(), ScriptError> {
        let point = self.need(self.profile.contact, "door contact")?;
        set_point(&mut self.memory(), point, self.channel(ch)?, false);
        Ok(())
    }

    /// Forces door `ch` open: the contact opens whatever the lock says.
    pub fn force_door(&self, ch: u16) -> Result<(), ScriptError> {
        self.open_door(ch)
    }

    /// Presses the exit button of door `ch` for [`EXIT_PRESS`].
    pub fn press_exit(&self, ch: u16) -> Result<(), ScriptError> {
        self.press_exit_for(ch, EXIT_PRESS)
    }

    /// Presses the exit button of door `ch` and holds it for `held`.
    pub fn press_exit_for(&self, ch: u16, held: Duration) -> Result<(), ScriptError> {
        self.need(self.profile.exit, "exit button")?;
        let ch = self.channel(ch)?;
        self.memory().exit_until.insert(ch, Instant::now() + held);
        Ok(())
    }

    pub fn set_tamper(&self, ch: u16, on: bool) -> Result<(), ScriptError> {
        let point = self.need(self.profile.tamper, "tamper input")?;
        set_point(&mut self.memory(), point, self.channel(ch)?, on);
        Ok(())
    }

    /// The profile's own fire input.
    pub fn set_fire(&self, on: bool) -> Result<(), ScriptError> {
        let point = self.need(self.profile.fire, "fire input")?;
        set_point(&mut self.memory(), point, 0, on);
        Ok(())
    }

    /// Sets any point by address (a fire input the configuration names, for instance).
    pub fn set_raw(&self, table: Table, address: u16, value: u16) {
        let mut m = self.memory();
        match table {
            Table::Coil => _ = m.coils.insert(address, value != 0),
            Table::Discrete => _ = m.discrete.insert(address, value != 0),
            Table::Input => _ = m.input.insert(address, value),
            Table::Holding => _ = m.holding.insert(address, value),
        }
    }

    /// A card read on reader `reader` (its index on the controller), with the PIN digits typed
    /// on its keypad if any: the counter advances and the read lands in its slot.
    pub fn read_card(&self, reader: u16, card: u32, pin: Option<&str>) -> Result<(), ScriptError> {
        let Some(r) = self.profile.reads.clone() else {
            return Err(ScriptError::NoPoint {
                profile: self.profile.name.clone(),
                what: "read buffer",
            });
        };
        let (pin_len, pin_value) = match pin {
            Some(digits) => (
                digits.len() as u16,
                limits::pin_value(digits).map_err(ScriptError::Pin)?,
            ),
            None => (0, 0),
        };
        let mut m = self.memory();
        let counter_at = r.counter.address(0);
        let n = m
            .input_or_holding(r.counter.table, counter_at)
            .wrapping_add(1);
        m.set_word(r.counter.table, counter_at, n);
        let slot = n.wrapping_sub(1) % r.slot_count;
        let base = r.slot_address(slot);
        let mut put = |offset: Option<u16>, value: u16| {
            if let Some(offset) = offset {
                m.set_word(r.slots_table, base + offset, value);
            }
        };
        put(Some(r.reader), reader);
        put(Some(r.card_high), (card >> 16) as u16);
        put(Some(r.card_low), card as u16);
        put(r.pin_length, pin_len);
        put(r.pin_high, (pin_value >> 16) as u16);
        put(r.pin_low, pin_value as u16);
        Ok(())
    }

    /// Stops answering (requests are swallowed) or starts again.
    pub fn set_silent(&self, silent: bool) {
        self.memory().silent = silent;
    }

    /// Answers every request `delay` late, with every bit set and every register 0xFFFF, so a
    /// late reply taken for a later request shows up as doors opening that never opened.
    pub fn set_slow(&self, delay: Option<Duration>) {
        self.memory().slow = delay;
    }

    /// Whether the lock of door `ch` is released now.
    pub fn lock_released(&self, ch: u16) -> bool {
        let m = self.memory();
        released(&self.profile, &m, ch, Instant::now())
    }

    /// Read requests answered so far.
    pub fn reads_served(&self) -> u64 {
        self.reads_served.load(Ordering::Relaxed)
    }

    /// Every write received so far.
    pub fn writes(&self) -> Vec<SimWrite> {
        self.memory().writes.clone()
    }

    /// (silent, slow) as they are now.
    fn faults(&self) -> (bool, Option<Duration>) {
        let m = self.memory();
        (m.silent, m.slow)
    }

    /// Answers one request from memory; `poison` answers reads with all ones.
    fn answer(&self, request: &Request<'_>, poison: bool) -> Result<Response, ExceptionCode> {
        let now = Instant::now();
        let mut m = self.memory();
        self.refresh(&mut m, now);
        let bits = |count: u16| -> Result<(), ExceptionCode> {
            if count == 0 || count > 2000 {
                Err(ExceptionCode::IllegalDataValue)
            } else {
                Ok(())
            }
        };
        let words = |count: u16| -> Result<(), ExceptionCode> {
            if count == 0 || count > 125 {
                Err(ExceptionCode::IllegalDataValue)
            } else {
                Ok(())
            }
        };
        let range = |start: u16, count: u16| (0..count).map(move |i| start.wrapping_add(i));
        self.check_writes(request)?;
        let response = match *request {
            Request::ReadCoils(a, n) => {
                bits(n)?;
                Response::ReadCoils(
                    range(a, n)
                        .map(|x| poison || m.coils.get(&x).copied().unwrap_or(false))
                        .collect(),
                )
            }
            Request::ReadDiscreteInputs(a, n) => {
                bits(n)?;
                Response::ReadDiscreteInputs(
                    range(a, n)
                        .map(|x| poison || m.discrete.get(&x).copied().unwrap_or(false))
                        .collect(),
                )
            }
            Request::ReadInputRegisters(a, n) => {
                words(n)?;
                Response::ReadInputRegisters(
                    range(a, n)
                        .map(|x| {
                            if poison {
                                0xFFFF
                            } else {
                                m.input.get(&x).copied().unwrap_or(0)
                            }
                        })
                        .collect(),
                )
            }
            Request::ReadHoldingRegisters(a, n) => {
                words(n)?;
                Response::ReadHoldingRegisters(
                    range(a, n)
                        .map(|x| {
                            if poison {
                                0xFFFF
                            } else {
                                m.holding.get(&x).copied().unwrap_or(0)
                            }
                        })
                        .collect(),
                )
            }
            Request::WriteSingleCoil(a, v) => {
                m.coils.insert(a, v);
                m.writes.push(SimWrite {
                    at: now,
                    table: Table::Coil,
                    address: a,
                    value: u16::from(v),
                });
                Response::WriteSingleCoil(a, v)
            }
            Request::WriteMultipleCoils(a, ref vs) => {
                bits(vs.len() as u16)?;
                for (x, v) in range(a, vs.len() as u16).zip(vs.iter()) {
                    m.coils.insert(x, *v);
                    m.writes.push(SimWrite {
                        at: now,
                        table: Table::Coil,
                        address: x,
                        value: u16::from(*v),
                    });
                }
                Response::WriteMultipleCoils(a, vs.len() as u16)
            }
            Request::WriteSingleRegister(a, v) => {
                self.write_holding(&mut m, a, v, now);
                Response::WriteSingleRegister(a, v)
            }
            Request::WriteMultipleRegisters(a, ref vs) => {
                words(vs.len() as u16)?;
                for (x, v) in range(a, vs.len() as u16).zip(vs.iter()) {
                    self.write_holding(&mut m, x, *v, now);
                }
                Response::WriteMultipleRegisters(a, vs.len() as u16)
            }
            Request::MaskWriteRegister(a, and, or) => {
                let current = m.holding.get(&a).copied().unwrap_or(0);
                self.write_holding(&mut m, a, (current & and) | (or & !and), now);
                Response::MaskWriteRegister(a, and, or)
            }
            _ => return Err(ExceptionCode::IllegalFunction),
        };
        if matches!(
            request,
            Request::ReadCoils(..)
                | Request::ReadDiscreteInputs(..)
                | Request::ReadInputRegisters(..)
                | Request::ReadHoldingRegisters(..)
        ) {
            self.reads_served.fetch_add(1, Ordering::Relaxed);
        }
        Ok(response)
    }

    /// Refuses a write the device would refuse, before any of it is applied.
    fn check_writes(&self, request: &Request<'_>) -> Result<(), ExceptionCode> {
        let p = &self.profile;
        let each = |table: Table, start: u16, values: &mut dyn Iterator<Item = u16>| {
            values.enumerate().try_for_each(|(i, v)| {
                let address = start
                    .checked_add(i as u16)
                    .ok_or(ExceptionCode::IllegalDataAddress)?;
                limits::check_write(p, table, address, Some(v))
            })
        };
        match *request {
            Request::WriteSingleCoil(a, v) => {
                limits::check_write(p, Table::Coil, a, Some(u16::from(v)))
            }
            Request::WriteMultipleCoils(a, ref vs) => {
                each(Table::Coil, a, &mut vs.iter().map(|v| u16::from(*v)))
            }
            Request::WriteSingleRegister(a, v) => {
                limits::check_write(p, Table::Holding, a, Some(v))
            }
            Request::WriteMultipleRegisters(a, ref vs) => {
                each(Table::Holding, a, &mut vs.iter().copied())
            }
            Request::MaskWriteRegister(a, ..) => limits::check_write(p, Table::Holding, a, None),
            _ => Ok(()),
        }
    }

    fn write_holding(&self, m: &mut Memory, address: u16, value: u16, now: Instant) {
        m.holding.insert(address, value);
        m.writes.push(SimWrite {
            at: now,
            table: Table::Holding,
            address,
            value,
        });
        if let (Unlock::Timed { unit_ms, .. }, Some(point)) =
            (self.profile.unlock, self.profile.unlock_point)
            && let Some(ch) = (0..self.profile.channels).find(|&ch| point.address(ch) == address)
        {
            let until = now + Duration::from_millis(u64::from(value) * u64::from(unit_ms));
            m.timed_until.insert(ch, until);
        }
    }

    /// Brings the points that depend on time (exit buttons, device-timed releases, the lock's
    /// own report) up to `now`.
    fn refresh(&self, m: &mut Memory, now: Instant) {
        let p = &self.profile;
        for ch in 0..p.channels {
            if let Some(exit) = p.exit {
                let pressed = m.exit_until.get(&ch).is_some_and(|t| *t > now);
                set_point(m, exit, ch, pressed);
            }
            if let Some(report) = p.lock_released {
                let on = released(p, m, ch, now);
                set_point(m, report, ch, on);
            }
        }
    }
}

impl Memory {
    fn input_or_holding(&self, table: Table, address: u16) -> u16 {
        match table {
            Table::Holding => self.holding.get(&address).copied().unwrap_or(0),
            _ => self.input.get(&address).copied().unwrap_or(0),
        }
    }

    fn set_word(&mut self, table: Table, address: u16, value: u16) {
        match table {
            Table::Holding => _ = self.holding.insert(address, value),
            _ => _ = self.input.insert(address, value),
        }
    }
}

/// Whether door `ch`'s lock is released in `m` at `now`.
fn released(p: &Profile, m: &Memory, ch: u16, now: Instant) -> bool {
    let get = |point: Option<Point>| point.is_some_and(|pt| point_value(m, pt, ch));
    let timed = m.timed_until.get(&ch).is_some_and(|t| *t > now);
    get(p.lock) || get(p.hold_open) || timed
}

fn point_value(m: &Memory, p: Point, ch: u16) -> bool {
    let a = p.address(ch);
    let raw = match p.table {
        Table::Coil => u16::from(m.coils.get(&a).copied().unwrap_or(false)),
        Table::Discrete => u16::from(m.discrete.get(&a).copied().unwrap_or(false)),
        Table::Input => m.input.get(&a).copied().unwrap_or(0),
        Table::Holding => m.holding.get(&a).copied().unwrap_or(0),
    };
    p.is_active(raw)
}

fn set_point(m: &mut Memory, p: Point, ch: u16, on: bool) {
    let a = p.address(ch);
    let level = on != p.active_low;
    let word = |current: u16| match p.bit {
        Some(bit) if level => current | (1 << bit),
        Some(bit) => current & !(1 << bit),
        None => u16::from(level),
    };
    match p.table {
        Table::Coil => _ = m.coils.insert(a, level),
        Table::Discrete => _ = m.discrete.insert(a, level),
        Table::Input => {
            let w = word(m.input.get(&a).copied().unwrap_or(0));
            m.input.insert(a, w);
        }
        Table::Holding => {
            let w = word(m.holding.get(&a).copied().unwrap_or(0));
            m.holding.insert(a, w);
        }
    }
}
