//! The task that owns one link — a Modbus TCP controller, or an RS-485 bus with several
//! controllers on it — and serialises everything said over it: polls, lock writes, restores.
//!
//! Commands jump the queue: the loop takes door commands before any poll, and a poll round
//! checks for them between its requests, so an unlock waits for at most the request in
//! flight. Unlocks carry a deadline: one that could not be started in time is dropped and
//! reported, never run late. On a shared bus a unit that fails is backed off at once; a
//! request to a backed-off (or unusually slow) unit is given up on when a live unit's command,
//! poll or pulse end needs the bus, so one dead unit costs its neighbours at most one timeout
//! (the request that found it dead). Commands for live units go before those for backed-off
//! ones.

use super::link::{Link, LinkError};
use super::plan::{ReadRange, Snapshot};
use super::to_core;
use super::unit::{FireChange, Unit};
use crate::profile::{Point, Table, Unlock};
use gatehouse_core::io::{
    AccessPoint, AccessRequest, Credential, DeviceHealth, DeviceState, DoorAction, DoorSignal,
    Input,
};
use gatehouse_core::modes::DoorMode;
use gatehouse_runtime::{ActuationError, DoorCommand, Gateway, Live};
use std::collections::{HashMap, VecDeque};
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
    /// Commands taken from the channel and not yet carried out, at most [`PENDING`]; the rest
    /// wait in the runtime's bounded channel.
    pub pending: VecDeque<DoorCommand>,
    /// The link's submitting task's queue (set while `run` runs).
    pub to_core: Option<mpsc::Sender<Input>>,
    /// Inputs dropped because the core was not keeping up (see [`to_core::QUEUED`]).
    pub dropped_inputs: u64,
}

/// Door commands held by the link itself, so live units' commands can be picked first.
pub const PENDING: usize = 64;

impl Bus {
    pub async fn run(mut self, shutdown: CancellationToken) {
        let (to_core, submitter) = to_core::spawn(self.gateway.clone(), self.name.clone());
        self.to_core = Some(to_core);
        let mut open = true;
        while open {
            self.take_commands();
            if let Some(command) = self.next_command() {
                self.command(command).await;
                continue;
            }
            let deadline = self.next_deadline();
            tokio::select! {
                biased;
                () = shutdown.cancelled() => break,
                command = self.commands.recv() => match command {
                    Some(command) => self.pending.push_back(command),
                    None => open = false,
                },
                () = tokio::time::sleep_until(deadline) => self.due().await,
            }
        }
        self.end_pulses_now().await;
        for command in self.pending.drain(..) {
            let stopping = ActuationError::Failed("the gateway is stopping".into());
            command.outcome.report(Err(stopping));
        }
        drop(self.to_core.take());
        let _ = submitter.await;
        debug!(link = %self.name, dropped_inputs = self.dropped_inputs, "Controller link stopped.");
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

    /// Ends due pulses, then polls the live controllers whose turn it is, then tries the
    /// backed-off ones whose wait is over.
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
        let mut order: Vec<usize> = (0..self.units.len()).collect();
        order.sort_by_key(|&u| (!self.units[u].is_live(), self.units[u].next_poll));
        for u in order {
            if self.units[u].next_poll <= Instant::now() {
                self.drain_commands().await;
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

    /// Moves waiting commands from the channel into `pending`, up to [`PENDING`].
    fn take_commands(&mut self) {
        while self.pending.len() < PENDING {
            match self.commands.try_recv() {
                Ok(command) => self.pending.push_back(command),
                Err(_) => break,
            }
        }
    }

    /// The next command to carry out: the oldest for a live unit, else the oldest.
    fn next_command(&mut self) -> Option<DoorCommand> {
        let live = self.pending.iter().position(|c| {
            self.doors
                .get(&c.door)
                .is_none_or(|&(u, _)| self.units[u].is_live())
        });
        let at = live.or((!self.pending.is_empty()).then_some(0))?;
        self.pending.remove(at)
    }

    /// Carries out the commands waiting now, between two requests of a poll round.
    async fn drain_commands(&mut self) {
        self.take_commands();
        while let Some(command) = self.next_command() {
            self.command(command).await;
            self.take_commands();
        }
    }

    async fn command(&mut self, command: DoorCommand) {
        let Some(&(u, d)) = self.doors.get(&command.door) else {
            let error = format!("door {} is not on link {}", command.door, self.name);
            command.outcome.report(Err(ActuationError::Failed(error)));
            return;
        };
        debug!(door = %command.door, action = ?command.action, event = ?command.event, "Door command.");
        if command.expired(Instant::now()) {
            warn!(door = %command.door, event = ?command.event, "Unlock dropped: its deadline passed before the controller could be reached.");
            command.outcome.report(Err(ActuationError::Expired));
            return;
        }
        let result = match command.action {
            DoorAction::Unlock { .. } if !self.units[u].online => {
                Err(format!("controller {} is offline", self.units[u].id))
            }
            DoorAction::Unlock { pulse_ms } => self.release(u, d, pulse_ms).await,
            DoorAction::HoldOpen | DoorAction::Lock => {
                let hold = command.action == DoorAction::HoldOpen;
                self.units[u].doors[d].held = hold;
                self.units[u].doors[d].release_until = None;
                self.write_hold(u, d, hold).await
            }
        };
        command
            .outcome
            .report(result.map_err(ActuationError::Failed));
    }

    /// Releases a door for `pulse_ms`: the gateway times it (`pulse`) or the device does (`timed`).
    async fn release(&mut self, u: usize, d: usize, pulse_ms: u32) -> Result<(), String> {
        let profile = self.units[u].profile.clone();
        let ch = self.units[u].doors[d].channel;
        match profile.unlock {
            Unlock::Pulse => {
                let Some(lock) = profile.lock else {
                    return Err(format!("profile {} has no lock point", profile.name));
                };
                self.write(u, lock, ch, true).await?;
                let until = Instant::now() + Duration::from_millis(u64::from(pulse_ms));
                let door = &mut self.units[u].doors[d];
                if !door.held {
                    door.release_until = Some(door.release_until.map_or(until, |t| t.max(until)));
                }
                self.report_lock(u, d, true);
                Ok(())
            }
            Unlock::Timed { unit_ms, max } => {
                let Some(point) = profile.unlock_point else {
                    return Err(format!("profile {} has no unlock point", profile.name));
                };
                let n = pulse_ms.div_ceil(unit_ms).clamp(1, u32::from(max)) as u16;
                self.write_word(u, point, ch, n).await
            }
        }
    }

    /// Holds a door released or puts it back to locked.
    async fn write_hold(&mut self, u: usize, d: usize, on: bool) -> Result<(), String> {
        let profile = self.units[u].profile.clone();
        let Some(point) = profile.hold_point() else {
            return Err(format!("profile {} cannot hold a door", profile.name));
        };
        let ch = self.units[u].doors[d].channel;
        self.write(u, point, ch, on).await?;
        if profile.unlock == Unlock::Pulse {
            self.report_lock(u, d, on);
        }
        Ok(())
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
        // Failed: the unit is backed off and restores its locks before it is polled again.
        self.units[u].doors[d].release_until = None;
        if self.write(u, lock, ch, false).await.is_ok() {
            self.report_lock(u, d, false);
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
    /// released for fire (as the core's door modes say). A pulse cut short by the failure
    /// that made this restore necessary is not resumed: it could only open the door late.
    async fn restore(&mut self, u: usize) -> bool {
        let modes: HashMap<String, DoorMode> = {
            let live = self.live.borrow();
            self.units[u]
                .doors
                .iter()
                .filter_map(|d| live.doors.get(&d.id).map(|s| (d.id.clone(), s.mode)))
                .collect()
        };
        let profile = self.units[u].profile.clone();
        let Some(point) = profile.hold_point() else {
            self.units[u].needs_restore = false;
            return true;
        };
        for d in 0..self.units[u].doors.len() {
            let door = &mut self.units[u].doors[d];
            if let Some(mode) = modes.get(&door.id) {
                door.held = mode.keeps_released();
            }
            door.release_until = None;
            let (on, ch) = (door.held, door.channel);
            if self.write(u, point, ch, on).await.is_err() {
                return false;
            }
            if profile.unlock == Unlock::Pulse {
                self.report_lock(u, d, on);
            }
        }
        self.units[u].needs_restore = false;
        info!(controller = %self.units[u].id, "Locks written to their intended state.");
        true
    }

    async fn poll(&mut self, u: usize) {
        if self.units[u].needs_restore && !self.restore(u).await {
            return;
        }
        let scheduled = self.units[u].next_poll;
        let started = Instant::now();
        let mut snapshot = Snapshot::default();
        let plan = self.units[u].plan.clone();
        for range in plan {
            match self.request(u, read_request(range)).await {
                Ok(response) => snapshot.push(range, values(response)),
                Err(_) => return,
            }
            // A restore forced meanwhile (the link was reopened) comes before trusting reads.
            if self.units[u].needs_restore {
                return;
            }
            self.drain_commands().await;
        }
        self.gateway.instruments().polled(started.elapsed());
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
                // A failure is logged by the write and the unit backed off; egress then rests
                // with the door's mechanical release.
                let _ = self.release(u, d, pulse).await;
            }
        }
        for signal in signals {
            self.signal(Input::DoorSignal(signal));
        }
        let id = self.units[u].id.clone();
        for change in self.units[u].fire_changes(snapshot) {
            let FireChange {
                input,
                zone,
                active,
                first,
            } = change;
            if active || !first {
                warn!(controller = %id, input = %input, zone = %zone, active, "Fire input changed.");
            } else {
                info!(controller = %id, input = %input, zone = %zone, "Fire input read: not active.");
            }
            let fire = Input::Fire {
                zone,
                active,
                source: format!("modbus:{id}:{input}"),
            };
            if !self.submit(fire) {
                self.units[u].forget_fire_input(&input);
            }
        }
        let taken = self.units[u].take_reads(snapshot);
        let mut inputs = Vec::with_capacity(taken.reads.len() + 1);
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
        for input in inputs {
            self.submit(input);
        }
    }

    /// One request with the unit's timeout, and the unit's health kept from its outcome.
    async fn request(
        &mut self,
        u: usize,
        request: Request<'static>,
    ) -> Result<Response, LinkError> {
        let mut started = Instant::now();
        let mut result = self.call_yielding(u, request.clone()).await;
        if let Err(LinkError::Stray(e)) = &result {
            // Someone else's answer (a unit given up on, answering late): asked again once.
            debug!(controller = %self.units[u].id, error = %e, "A stray reply on the bus; asking again.");
            started = Instant::now();
            result = self.call_yielding(u, request).await;
        }
        match &result {
            Ok(_) => {
                self.units[u].answered_in(started.elapsed());
                self.answered(u);
            }
            Err(e) if e.answered() => {
                warn!(controller = %self.units[u].id, error = %e, "Controller refused a request; check its profile.");
                self.answered(u);
            }
            Err(e) => self.failed(u, e),
        }
        result
    }

    /// Sends one request to unit `u` and waits for its answer, its timeout, or — on a shared
    /// RS-485 bus — until other units need the bus: a command for a live unit once this
    /// request has waited its unit's patience, or a live unit's poll or pulse end when this is
    /// an attempt at a backed-off unit (except its periodic full-timeout attempt). A request
    /// given up on counts as a failure of its unit.
    async fn call_yielding(
        &mut self,
        u: usize,
        request: Request<'static>,
    ) -> Result<Response, LinkError> {
        let Bus {
            link,
            units,
            commands,
            pending,
            doors,
            ..
        } = self;
        let (unit, timeout) = (units[u].unit, units[u].timeout);
        if !link.is_rtu() || units.len() < 2 {
            return link.call(unit, request, timeout).await;
        }
        let started = Instant::now();
        let patient_until = started + units[u].patience();
        let yields_to_polls = !units[u].is_live() && !units[u].full_probe();
        let others_due = units
            .iter()
            .enumerate()
            .filter(|&(i, other)| i != u && other.is_live())
            .flat_map(|(_, other)| {
                let pulses = other.doors.iter().filter_map(|d| d.release_until);
                pulses.chain(std::iter::once(other.next_poll))
            })
            .min();
        let far = started + timeout + Duration::from_secs(1);
        let mut open = true;
        let answered = {
            let call = link.call(unit, request, timeout);
            tokio::pin!(call);
            loop {
                let live_command = pending.iter().any(|c| {
                    doors
                        .get(&c.door)
                        .is_some_and(|&(i, _)| i != u && units[i].is_live())
                });
                let wake = if live_command {
                    patient_until
                } else if yields_to_polls {
                    others_due.map_or(far, |t| t.max(patient_until))
                } else {
                    far
                };
                tokio::select! {
                    biased;
                    result = &mut call => break Some(result),
                    command = commands.recv(), if open && pending.len() < PENDING => match command {
                        Some(command) => pending.push_back(command),
                        None => open = false,
                    },
                    () = tokio::time::sleep_until(wake) => break None,
                }
            }
        };
        if let Some(result) = answered {
            return result;
        }
        link.abandoned();
        Err(LinkError::Abandoned(started.elapsed().as_millis() as u64))
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
            self.submit(Input::Device(health));
        }
    }

    /// A request to unit `u` got no answer: the unit is backed off at once, its pulses are
    /// cut short (its locks are restored before it is polled again), and after
    /// `offline_after` failures in a row it is reported offline.
    fn failed(&mut self, u: usize, error: &LinkError) {
        let unit = &mut self.units[u];
        unit.failures = unit.failures.saturating_add(1);
        unit.was_unreachable = true;
        unit.needs_restore = true;
        for door in &mut unit.doors {
            door.release_until = None;
        }
        unit.next_poll = Instant::now() + unit.retry_delay();
        debug!(controller = %unit.id, failures = unit.failures, error = %error, "Controller request failed; backed off.");
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
            self.submit(Input::Device(health));
        }
    }

    /// Writes a bit point (coil, or one bit of a holding register).
    async fn write(&mut self, u: usize, point: Point, ch: u16, on: bool) -> Result<(), String> {
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

    async fn write_word(
        &mut self,
        u: usize,
        point: Point,
        ch: u16,
        value: u16,
    ) -> Result<(), String> {
        self.send_write(u, Request::WriteSingleRegister(point.address(ch), value))
            .await
    }

    async fn send_write(&mut self, u: usize, request: Request<'static>) -> Result<(), String> {
        self.request(u, request).await.map(drop).map_err(|e| {
            warn!(controller = %self.units[u].id, error = %e, "Lock write failed.");
            e.to_string()
        })
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

    /// Inputs that expect the core's full attention (card reads, health, fire) go to the
    /// link's submitting task, in order; false when its queue was full (dropped and counted).
    fn submit(&mut self, input: Input) -> bool {
        let Some(to_core) = &self.to_core else {
            return false;
        };
        match to_core.try_send(input) {
            Ok(()) => true,
            Err(_) => {
                self.dropped_inputs += 1;
                warn!(link = %self.name, dropped = self.dropped_inputs, "The core is not keeping up; a controller input was dropped.");
                false
            }
        }
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
