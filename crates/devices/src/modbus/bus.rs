//! The task that owns one link — a Modbus TCP controller, or an RS-485 bus with several
//! controllers on it — and serialises everything said over it: polls, lock writes, restores.
//!
//! Commands jump the queue: the loop selects on the command channel first, and a poll round
//! checks for commands between its requests, so an unlock waits for at most the request in
//! flight. Pulses the gateway times end on their own deadline, ahead of any poll.

use super::link::{Link, LinkError};
use super::plan::{ReadRange, Snapshot};
use super::unit::Unit;
use crate::profile::{Point, Table, Unlock};
use gatehouse_core::io::{
    AccessPoint, AccessRequest, Credential, DeviceHealth, DeviceState, DoorAction, DoorSignal,
    Input,
};
use gatehouse_runtime::{DoorCommand, Gateway, Live};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tokio_modbus::{Request, Response};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

pub struct Bus {
    /// The controller id (TCP) or serial path (RTU), for logs.
    pub name: String,
    pub link: Link,
    pub units: Vec<Unit>,
    /// Door id → (unit index, door index).
    pub doors: HashMap<String, (usize, usize)>,
    pub commands: mpsc::Receiver<DoorCommand>,
    pub gateway: Gateway,
    pub live: watch::Receiver<Arc<Live>>,
}

impl Bus {
    pub async fn run(mut self, shutdown: CancellationToken) {
        loop {
            let deadline = self.next_deadline();
            tokio::select! {
                biased;
                () = shutdown.cancelled() => break,
                command = self.commands.recv() => match command {
                    Some(command) => self.command(command).await,
                    None => break,
                },
                () = tokio::time::sleep_until(deadline) => self.due().await,
            }
        }
        self.end_pulses_now().await;
        debug!(link = %self.name, "Controller link stopped.");
    }

    fn next_deadline(&self) -> Instant {
        let polls = self.units.iter().map(|u| u.next_poll);
        let pulses = self
            .units
            .iter()
            .flat_map(|u| u.doors.iter().filter_map(|d| d.release_until));
        polls
            .chain(pulses)
            .min()
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600))
    }

    /// Ends due pulses, then polls the controllers whose turn it is.
    async fn due(&mut self) {
        for u in 0..self.units.len() {
            for d in 0..self.units[u].doors.len() {
                if self.units[u].doors[d]
                    .release_until
                    .is_some_and(|t| t <= Instant::now())
                {
                    self.end_pulse(u, d).await;
                }
            }
        }
        for u in 0..self.units.len() {
            if self.units[u].next_poll <= Instant::now() {
                self.poll(u).await;
                // A round cut short by an exception (the controller answered, so no backoff)
                // still waits for the next interval rather than spinning.
                let unit = &mut self.units[u];
                if unit.next_poll <= Instant::now() {
                    unit.next_poll = Instant::now() + unit.poll;
                }
            }
        }
    }

    /// Handles the commands waiting now, between two requests of a poll round.
    async fn drain_commands(&mut self) {
        while let Ok(command) = self.commands.try_recv() {
            self.command(command).await;
        }
    }

    async fn command(&mut self, command: DoorCommand) {
        let Some(&(u, d)) = self.doors.get(&command.door) else {
            return;
        };
        debug!(door = %command.door, action = ?command.action, event = ?command.event, "Door command.");
        match command.action {
            DoorAction::Unlock { pulse_ms } => self.release(u, d, pulse_ms).await,
            DoorAction::HoldOpen => {
                self.units[u].doors[d].held = true;
                self.units[u].doors[d].release_until = None;
                self.write_hold(u, d, true).await;
            }
            DoorAction::Lock => {
                self.units[u].doors[d].held = false;
                self.units[u].doors[d].release_until = None;
                self.write_hold(u, d, false).await;
            }
        }
    }

    /// Releases a door for `pulse_ms`: the gateway times it (`pulse`) or the device does (`timed`).
    async fn release(&mut self, u: usize, d: usize, pulse_ms: u32) {
        let profile = self.units[u].profile.clone();
        let ch = self.units[u].doors[d].channel;
        match profile.unlock {
            Unlock::Pulse => {
                let Some(lock) = profile.lock else { return };
                if self.write(u, lock, ch, true).await {
                    let until = Instant::now() + Duration::from_millis(u64::from(pulse_ms));
                    let door = &mut self.units[u].doors[d];
                    if !door.held {
                        door.release_until =
                            Some(door.release_until.map_or(until, |t| t.max(until)));
                    }
                    self.report_lock(u, d, true);
                }
            }
            Unlock::Timed { unit_ms, max } => {
                let Some(point) = profile.unlock_point else {
                    return;
                };
                let n = pulse_ms.div_ceil(unit_ms).clamp(1, u32::from(max)) as u16;
                self.write_word(u, point, ch, n).await;
            }
        }
    }

    /// Holds a door released or puts it back to locked.
    async fn write_hold(&mut self, u: usize, d: usize, on: bool) {
        let profile = self.units[u].profile.clone();
        let Some(point) = profile.hold_point() else {
            return;
        };
        let ch = self.units[u].doors[d].channel;
        if self.write(u, point, ch, on).await && profile.unlock == Unlock::Pulse {
            self.report_lock(u, d, on);
        }
    }

    async fn end_pulse(&mut self, u: usize, d: usize) {
        if self.units[u].doors[d].held {
            self.units[u].doors[d].release_until = None;
            return;
        }
        let Some(lock) = self.units[u].profile.lock else {
            return;
        };
        let ch = self.units[u].doors[d].channel;
        if self.write(u, lock, ch, false).await {
            self.units[u].doors[d].release_until = None;
            self.report_lock(u, d, false);
        } else {
            // Try again soon; the restore on reconnection locks it in any case.
            let retry = self.units[u].retry_delay();
            self.units[u].doors[d].release_until = Some(Instant::now() + retry);
        }
    }

    /// At shutdown a pulse in progress is ended at once (one try each), so stopping the
    /// gateway never leaves a door released; the next start restores every lock anyway.
    async fn end_pulses_now(&mut self) {
        for u in 0..self.units.len() {
            for d in 0..self.units[u].doors.len() {
                if self.units[u].doors[d].release_until.is_some() && !self.units[u].doors[d].held {
                    self.end_pulse(u, d).await;
                }
            }
        }
    }

    /// Writes every lock of unit `u` to its intended state: released only when held open or
    /// released for fire (as the core's door modes say) or inside a running pulse.
    async fn restore(&mut self, u: usize) -> bool {
        let modes: HashMap<String, String> = {
            let live = self.live.borrow();
            self.units[u]
                .doors
                .iter()
                .filter_map(|d| {
                    live.doors
                        .get(&d.id)
                        .map(|s| (d.id.clone(), s.mode.clone()))
                })
                .collect()
        };
        let profile = self.units[u].profile.clone();
        let Some(point) = profile.hold_point() else {
            return true;
        };
        for d in 0..self.units[u].doors.len() {
            let now = Instant::now();
            let door = &mut self.units[u].doors[d];
            if let Some(mode) = modes.get(&door.id) {
                door.held = matches!(mode.as_str(), "held_open" | "fire_release");
            }
            let pulsing = door.release_until.is_some_and(|t| t > now);
            let on = door.held || pulsing;
            let ch = door.channel;
            if !self.write(u, point, ch, on).await {
                return false;
            }
            if profile.unlock == Unlock::Pulse {
                self.report_lock(u, d, on);
            }
        }
        info!(controller = %self.units[u].id, "Locks written to their intended state.");
        true
    }

    async fn poll(&mut self, u: usize) {
        if self.units[u].restored_generation != self.link.generation || self.link.generation == 0 {
            if !self.restore(u).await {
                return;
            }
            self.units[u].restored_generation = self.link.generation;
        }
        let scheduled = self.units[u].next_poll;
        let mut snapshot = Snapshot::default();
        let plan = self.units[u].plan.clone();
        for range in plan {
            match self.request(u, read_request(range)).await {
                Ok(response) => snapshot.push(range, values(response)),
                Err(_) => return,
            }
            self.drain_commands().await;
        }
        let unit = &mut self.units[u];
        unit.polls += 1;
        let next = scheduled + unit.poll;
        unit.next_poll = if next > Instant::now() {
            next
        } else {
            Instant::now() + unit.poll
        };
        self.report(u, &snapshot).await;
    }

    /// Tells the core what changed since the last poll, and releases doors whose exit button
    /// was pressed when the profile says the gateway does it.
    async fn report(&mut self, u: usize, snapshot: &Snapshot) {
        let (signals, exits) = self.units[u].door_changes(snapshot);
        if self.units[u].profile.exit_release == crate::profile::ExitRelease::Gateway {
            for d in exits {
                let pulse = self.units[u].doors[d].pulse_ms;
                self.release(u, d, pulse).await;
            }
        }
        for signal in signals {
            self.signal(Input::DoorSignal(signal));
        }
        let id = self.units[u].id.clone();
        for (input, zone, active) in self.units[u].fire_changes(snapshot) {
            warn!(controller = %id, input = %input, zone = %zone, active, "Fire input changed.");
            self.submit(vec![Input::Fire {
                zone,
                active,
                source: format!("modbus:{id}:{input}"),
            }]);
        }
        let taken = self.units[u].take_reads(snapshot);
        let mut inputs = Vec::new();
        if taken.lost > 0 {
            warn!(controller = %id, lost = taken.lost, "Card reads were overwritten before they were read.");
            inputs.push(Input::Device(DeviceHealth {
                device: id.clone(),
                state: DeviceState::Online,
                doors: self.units[u].door_ids(),
                detail: Some(format!(
                    "{} card reads lost: the read buffer overflowed between polls",
                    taken.lost
                )),
                lost_reads: Some(taken.lost),
            }));
        }
        for read in taken.reads {
            let source = format!("modbus:{id}");
            inputs.push(match self.units[u].readers.get(&read.reader) {
                Some(reader) => Input::Access(AccessRequest {
                    point: AccessPoint::Reader(reader.clone()),
                    credential: Credential::Card(read.card),
                    pin: read.pin,
                    requested_at: None,
                    actor: None,
                    source,
                }),
                None => Input::Rejected {
                    source,
                    error: format!(
                        "card read on reader index {} of controller '{id}', which has no reader with that index: add it to the controller's readers list",
                        read.reader
                    ),
                },
            });
        }
        self.submit(inputs);
    }

    /// One request with the unit's timeout, and the unit's health kept from its outcome.
    async fn request(
        &mut self,
        u: usize,
        request: Request<'static>,
    ) -> Result<Response, LinkError> {
        let (unit, timeout) = (self.units[u].unit, self.units[u].timeout);
        let result = self.link.call(unit, request, timeout).await;
        match &result {
            Ok(_) => self.answered(u),
            Err(e) if e.answered() => {
                warn!(controller = %self.units[u].id, error = %e, "Controller refused a request; check its profile.");
                self.answered(u);
            }
            Err(e) => self.failed(u, e),
        }
        result
    }

    fn answered(&mut self, u: usize) {
        let unit = &mut self.units[u];
        unit.failures = 0;
        if !unit.online {
            unit.online = true;
            info!(controller = %unit.id, "Controller is back online.");
            let health = DeviceHealth {
                device: unit.id.clone(),
                state: DeviceState::Online,
                doors: unit.door_ids(),
                detail: None,
                lost_reads: None,
            };
            self.submit(vec![Input::Device(health)]);
        }
    }

    fn failed(&mut self, u: usize, error: &LinkError) {
        let unit = &mut self.units[u];
        unit.failures = unit.failures.saturating_add(1);
        unit.was_unreachable = true;
        debug!(controller = %unit.id, failures = unit.failures, error = %error, "Controller request failed.");
        if unit.online && unit.failures >= unit.offline_after {
            unit.online = false;
            warn!(controller = %unit.id, error = %error, failures = unit.failures, "Controller is offline; retrying with backoff.");
            let health = DeviceHealth {
                device: unit.id.clone(),
                state: DeviceState::Offline,
                doors: unit.door_ids(),
                detail: Some(format!(
                    "{} consecutive failures, last: {error}",
                    unit.failures
                )),
                lost_reads: None,
            };
            self.submit(vec![Input::Device(health)]);
        }
        let unit = &mut self.units[u];
        unit.next_poll = Instant::now() + unit.retry_delay();
    }

    /// Writes a bit point (coil, or one bit of a holding register); true when acknowledged.
    async fn write(&mut self, u: usize, point: Point, ch: u16, on: bool) -> bool {
        let address = point.address(ch);
        let level = on != point.active_low;
        let request = match (point.table, point.bit) {
            (Table::Coil, _) => Request::WriteSingleCoil(address, level),
            (_, Some(bit)) => {
                Request::MaskWriteRegister(address, !(1u16 << bit), u16::from(level) << bit)
            }
            (_, None) => Request::WriteSingleRegister(address, u16::from(level)),
        };
        self.send_write(u, request).await
    }

    async fn write_word(&mut self, u: usize, point: Point, ch: u16, value: u16) -> bool {
        self.send_write(u, Request::WriteSingleRegister(point.address(ch), value))
            .await
    }

    async fn send_write(&mut self, u: usize, request: Request<'static>) -> bool {
        match self.request(u, request).await {
            Ok(_) => true,
            Err(e) => {
                warn!(controller = %self.units[u].id, error = %e, "Lock write failed.");
                false
            }
        }
    }

    /// Reports an acknowledged lock write to the core as the lock's state.
    fn report_lock(&self, u: usize, d: usize, released: bool) {
        let door = self.units[u].doors[d].id.clone();
        self.signal(Input::DoorSignal(DoorSignal {
            door,
            lock_released: Some(released),
            ..DoorSignal::default()
        }));
    }

    /// Hardware signals go without waiting; when the core is saturated they are dropped and
    /// counted by the runtime rather than stalling the poll loop.
    fn signal(&self, input: Input) {
        if let Err(e) = self.gateway.signal(input) {
            debug!(link = %self.name, error = %e, "Signal not taken.");
        }
    }

    /// Inputs that must not be dropped (card reads, health, fire) are handed over by a task of
    /// their own, in order, so polling never waits for a decision.
    fn submit(&self, inputs: Vec<Input>) {
        if inputs.is_empty() {
            return;
        }
        let gateway = self.gateway.clone();
        tokio::spawn(async move {
            for input in inputs {
                if let Err(e) = gateway.submit(input).await {
                    warn!(error = %e, "Could not hand a controller input to the core.");
                    return;
                }
            }
        });
    }
}

fn read_request(range: ReadRange) -> Request<'static> {
    match range.table {
        Table::Coil => Request::ReadCoils(range.start, range.count),
        Table::Discrete => Request::ReadDiscreteInputs(range.start, range.count),
        Table::Input => Request::ReadInputRegisters(range.start, range.count),
        Table::Holding => Request::ReadHoldingRegisters(range.start, range.count),
    }
}

fn values(response: Response) -> Vec<u16> {
    match response {
        Response::ReadCoils(bits) | Response::ReadDiscreteInputs(bits) => {
            bits.into_iter().map(u16::from).collect()
        }
        Response::ReadInputRegisters(words) | Response::ReadHoldingRegisters(words) => words,
        _ => Vec::new(),
    }
}
