//! Shared fixtures of the Modbus acceptance tests: a gateway (store, core, devices) running
//! in-process on a temporary data directory, on the Modbus test estate
//! (`gatehouse_testkit::estate::modbus`: one valid pass), and helpers that wait for events and
//! simulator states without fixed sleeps.
#![allow(dead_code)]

use gatehouse_core::event::AlarmKind;
use gatehouse_core::{Event, Kind};
use gatehouse_devices::Profiles;
use gatehouse_devices::sim::SimController;
use gatehouse_runtime::Gateway;
use gatehouse_testkit::estate::modbus::residents;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A running gateway and everything it logged since it started.
pub struct Gate {
    pub gateway: Gateway,
    pub token: CancellationToken,
    events: broadcast::Receiver<Arc<Event>>,
    pub log: Vec<Arc<Event>>,
    tasks: Vec<JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl Gate {
    pub async fn start(config_text: &str) -> Gate {
        let config: gatehouse_core::config::Config =
            toml::from_str(config_text).expect("test config parses");
        let profiles = Profiles::builtin();
        profiles
            .check(&config)
            .expect("test config fits the profiles");
        let dir = tempfile::tempdir().unwrap();
        let store = gatehouse_store::Store::open(dir.path(), &config.site.id).unwrap();
        store.put_estate(&residents()).unwrap();
        let token = CancellationToken::new();
        let (gateway, core) = gatehouse_runtime::start(&config, store, token.clone()).unwrap();
        let events = gateway.events();
        let devices = gatehouse_devices::run(&config, profiles, gateway.clone(), token.clone());
        Gate {
            gateway,
            token,
            events,
            log: Vec::new(),
            tasks: vec![core, devices],
            _dir: dir,
        }
    }

    fn drain(&mut self) {
        while let Ok(e) = self.events.try_recv() {
            self.log.push(e);
        }
    }

    /// Waits up to `within` for an event matching `want` (already logged ones count).
    pub async fn wait_for(
        &mut self,
        what: &str,
        within: Duration,
        want: impl Fn(&Event) -> bool,
    ) -> Arc<Event> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            self.drain();
            if let Some(e) = self.log.iter().find(|e| want(e)) {
                return e.clone();
            }
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Ok(e)) => self.log.push(e),
                Ok(Err(broadcast::error::RecvError::Lagged(_))) => {}
                Ok(Err(e)) => panic!("event feed closed while waiting for {what}: {e}"),
                Err(_) => panic!("no {what} within {within:?}; logged: {:#?}", self.summary()),
            }
        }
    }

    /// Everything logged so far, matching `want`.
    pub fn logged(&mut self, want: impl Fn(&Event) -> bool) -> Vec<Arc<Event>> {
        self.drain();
        self.log.iter().filter(|e| want(e)).cloned().collect()
    }

    /// One line per logged event, for failure messages.
    pub fn summary(&mut self) -> Vec<String> {
        self.drain();
        self.log
            .iter()
            .map(|e| {
                format!(
                    "{} door={:?} device={:?} state={:?} alarm={:?} reason={:?} detail={:?}",
                    e.kind, e.door, e.device, e.state, e.alarm, e.reason, e.detail
                )
            })
            .collect()
    }

    /// Whether the core shows `door` online.
    pub fn door_online(&self, door: &str) -> Option<bool> {
        self.gateway
            .live()
            .borrow()
            .doors
            .get(door)
            .map(|s| s.online)
    }

    pub async fn stop(self) {
        self.token.cancel();
        for t in self.tasks {
            let _ = tokio::time::timeout(Duration::from_secs(10), t).await;
        }
    }
}

pub fn door_event(door: &str, state: &str) -> impl Fn(&Event) -> bool {
    let (door, state) = (door.to_string(), state.to_string());
    move |e| {
        e.kind == Kind::Door
            && e.door.as_deref() == Some(&door)
            && e.state.as_deref() == Some(&state)
    }
}

pub fn device_event(device: &str, state: &str) -> impl Fn(&Event) -> bool {
    let (device, state) = (device.to_string(), state.to_string());
    move |e| {
        e.kind == Kind::Device
            && e.device.as_deref() == Some(&device)
            && e.state.as_deref() == Some(&state)
    }
}

pub fn alarm(door: &str, kind: AlarmKind, cleared: bool) -> impl Fn(&Event) -> bool {
    let door = door.to_string();
    move |e| {
        e.kind == Kind::Alarm
            && e.door.as_deref() == Some(&door)
            && e.alarm == Some(kind)
            && (e.cleared == Some(true)) == cleared
    }
}

/// Channel `ch` of `sim` is forced open and left open: `door` raises `door_forced`, then
/// `door_held_open` (its `held_open_after_s` is short in these tests); closing it clears the
/// held-open alarm.
pub async fn forced_and_held_open(gate: &mut Gate, sim: &SimController, ch: u16, door: &str) {
    sim.force_door(ch).unwrap();
    gate.wait_for(
        "door_forced",
        Duration::from_secs(2),
        alarm(door, AlarmKind::DoorForced, false),
    )
    .await;
    gate.wait_for(
        "door_held_open",
        Duration::from_secs(5),
        alarm(door, AlarmKind::DoorHeldOpen, false),
    )
    .await;
    sim.close_door(ch).unwrap();
    gate.wait_for(
        "held open cleared",
        Duration::from_secs(2),
        alarm(door, AlarmKind::DoorHeldOpen, true),
    )
    .await;
}

/// Waits up to `within` until each of `sims` has answered `n` more polls than it had when
/// called.
pub async fn more_polls(what: &str, within: Duration, n: u64, sims: &[&SimController]) {
    let before: Vec<u64> = sims.iter().map(|s| s.reads_served()).collect();
    until(what, within, || {
        sims.iter()
            .zip(&before)
            .all(|(s, b)| s.reads_served() >= b + n)
    })
    .await;
}

/// Polls `check` every 5 ms for up to `within`; the instant it first held.
pub async fn until(what: &str, within: Duration, check: impl Fn() -> bool) -> Instant {
    let deadline = Instant::now() + within;
    loop {
        if check() {
            return Instant::now();
        }
        assert!(
            Instant::now() < deadline,
            "{what} did not happen within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
