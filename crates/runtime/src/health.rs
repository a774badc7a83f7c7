//! The gateway's health facts, gathered in one place for everyone who shows them: the
//! metrics listener's `/metrics`, `/healthz` and `/readyz`, and the console's health panel
//! (which reads the same [`crate::Live::log_writable`]). [`gather`] reads them;
//! [`readiness`] judges them.

use crate::gateway::Gateway;
use gatehouse_store::Space;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// How long the core task gets to answer before it counts as stuck.
pub const CORE_TIMEOUT: Duration = Duration::from_secs(2);

/// The share of controllers that must be online for readiness unless configured otherwise.
pub const READY_CONTROLLERS: f64 = 0.5;

/// One bounded queue of the runtime.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Queue {
    /// `ordinary`, `urgent`, `effects`, `directory`.
    pub name: &'static str,
    pub depth: usize,
    pub capacity: usize,
}

/// The log writer's totals since the store was opened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LogTotals {
    pub last_seq: u64,
    pub commits: u64,
    pub commit_micros: u64,
    pub write_micros: u64,
}

/// Everything the health endpoints and metrics report, read at one moment.
#[derive(Clone, Debug, PartialEq)]
pub struct Facts {
    /// The core task answered a read within [`CORE_TIMEOUT`].
    pub core_answers: bool,
    /// The event log accepts writes (false from a failed write until the next one succeeds).
    pub log_writable: bool,
    /// None while no MQTT adapter has reported.
    pub broker_connected: Option<bool>,
    pub controllers_total: usize,
    /// None when the core did not answer.
    pub controllers_online: Option<usize>,
    /// None when the core did not answer.
    pub active_alarms: Option<usize>,
    /// Records the last check of the log found damaged; None when the core did not answer.
    pub log_damaged: Option<u64>,
    pub lockdowns: usize,
    /// Durable events not yet acknowledged by the broker; None before the outbox started.
    pub outbox_lag: Option<u64>,
    /// None without `[uplink]` (or before it reported).
    pub uplink_connected: Option<bool>,
    /// Durable events the district broker has not yet acknowledged; None without `[uplink]`.
    pub uplink_lag: Option<u64>,
    pub log: LogTotals,
    pub queues: Vec<Queue>,
    /// Counts of what was dropped or refused since start: `signals`, `door_commands`,
    /// `directory_changes`, `refused_inputs`.
    pub dropped: Vec<(&'static str, u64)>,
    /// None when the data directory could not be measured.
    pub space: Option<Space>,
}

/// Whether the core task answers within [`CORE_TIMEOUT`] (`/healthz`).
pub async fn core_answers(gateway: &Gateway) -> bool {
    core_read(gateway, |_| ()).await.is_some()
}

async fn core_read<R: Send + 'static>(
    gateway: &Gateway,
    f: impl FnOnce(&gatehouse_core::Core) -> R + Send + 'static,
) -> Option<R> {
    tokio::time::timeout(CORE_TIMEOUT, gateway.read(f))
        .await
        .ok()
        .and_then(Result::ok)
}

/// Reads every fact now.
pub async fn gather(gateway: &Gateway) -> Facts {
    let shared = &gateway.shared;
    let controllers = shared.controllers.clone();
    let from_core = core_read(gateway, move |core| {
        let offline = controllers
            .iter()
            .filter(|c| core.device_online(c) == Some(false))
            .count();
        (
            controllers.len() - offline,
            core.active_alarms(),
            core.log_damage().records(),
        )
    })
    .await;
    let live = gateway.live().borrow().clone();
    let store = gateway.store().clone();
    let last_seq = store.last_seq();
    let (commit_micros, write_micros) = store.commit_time();
    let log = LogTotals {
        last_seq,
        commits: store.commits(),
        commit_micros,
        write_micros,
    };
    let published = shared.published.load(Ordering::Relaxed);
    let outbox_lag =
        (published != crate::gateway::NOT_PUBLISHING).then(|| last_seq.saturating_sub(published));
    let uplinked = shared.uplinked.load(Ordering::Relaxed);
    let uplink_lag =
        (uplinked != crate::gateway::NOT_PUBLISHING).then(|| last_seq.saturating_sub(uplinked));
    let space = tokio::task::spawn_blocking(move || store.space().ok())
        .await
        .ok()
        .flatten();
    Facts {
        core_answers: from_core.is_some(),
        log_writable: live.log_writable,
        broker_connected: gateway
            .broker_status()
            .borrow()
            .as_ref()
            .map(|b| b.connected),
        controllers_total: shared.controllers.len(),
        controllers_online: from_core.map(|(online, _, _)| online),
        active_alarms: from_core.map(|(_, alarms, _)| alarms),
        log_damaged: from_core.map(|(_, _, damaged)| damaged),
        lockdowns: live.lockdowns.len(),
        outbox_lag,
        uplink_connected: gateway
            .uplink_status()
            .borrow()
            .as_ref()
            .map(|b| b.connected),
        uplink_lag,
        log,
        queues: gateway.queues(),
        dropped: vec![
            ("signals", gateway.dropped_signals()),
            ("door_commands", gateway.dropped_door_commands()),
            ("directory_changes", gateway.directory_rebuilds()),
            ("refused_inputs", gateway.refused()),
        ],
        space,
    }
}

/// One readiness check: its name (`core`, `log`, `broker`, `controllers`), whether it
/// passes, and what is wrong and what to do when it does not.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Check {
    pub name: &'static str,
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

impl Check {
    fn new(name: &'static str, ok: bool, problem: impl FnOnce() -> String) -> Check {
        Check {
            name,
            ok,
            problem: (!ok).then(problem),
        }
    }
}

/// Judges `facts`: ready when the core answers, the log is writable, the broker is connected
/// and at least `min_controllers` (a share, 0 to 1) of the controllers are online.
pub fn readiness(facts: &Facts, min_controllers: f64) -> Vec<Check> {
    let total = facts.controllers_total;
    let online = facts.controllers_online.unwrap_or(0);
    // Compared in whole controllers: 0.5 of 3 needs 2.
    let needed = (min_controllers.clamp(0.0, 1.0) * total as f64).ceil() as usize;
    vec![
        Check::new("core", facts.core_answers, || {
            format!(
                "the core task did not answer within {} s: the gateway is stuck or overloaded; restart it (systemctl restart gatehouse) and keep its log for a report",
                CORE_TIMEOUT.as_secs()
            )
        }),
        Check::new("log", facts.log_writable, || {
            "the event log cannot be written, so entries are refused (log_unavailable): free space in the data directory or fix its disk; the gateway recovers by itself at the next write".into()
        }),
        Check::new("broker", facts.broker_connected == Some(true), || {
            match facts.broker_connected {
            None => "the MQTT adapter has not reported yet: wait a few seconds; if this stays, check the [broker] section of the configuration".into(),
            Some(_) => "the gateway is not connected to its MQTT broker: check that the broker runs and that [broker] url, username and password are right; the console's doors page shows the last error".into(),
        }
        }),
        Check::new(
            "controllers",
            facts.controllers_online.is_some() && online >= needed,
            || {
                format!(
                    "{online} of {total} controllers are online, fewer than the {needed} required ([metrics] ready_controllers = {min_controllers}): check the controllers' power and network; the console's doors page shows which are offline"
                )
            },
        ),
    ]
}

/// Whether every check passes.
pub fn ready(checks: &[Check]) -> bool {
    checks.iter().all(|c| c.ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn healthy() -> Facts {
        Facts {
            core_answers: true,
            log_writable: true,
            broker_connected: Some(true),
            controllers_total: 3,
            controllers_online: Some(3),
            active_alarms: Some(0),
            log_damaged: Some(0),
            lockdowns: 0,
            outbox_lag: Some(0),
            uplink_connected: None,
            uplink_lag: None,
            log: LogTotals::default(),
            queues: Vec::new(),
            dropped: Vec::new(),
            space: None,
        }
    }

    #[test]
    fn each_failing_fact_fails_its_own_check() {
        assert!(ready(&readiness(&healthy(), 0.5)));
        let failing = |f: Facts| -> Vec<&'static str> {
            readiness(&f, 0.5)
                .into_iter()
                .filter(|c| !c.ok)
                .map(|c| c.name)
                .collect()
        };
        assert_eq!(
            failing(Facts {
                log_writable: false,
                ..healthy()
            }),
            ["log"]
        );
        assert_eq!(
            failing(Facts {
                broker_connected: None,
                ..healthy()
            }),
            ["broker"]
        );
        // 0.5 of 3 controllers needs 2.
        assert!(
            failing(Facts {
                controllers_online: Some(2),
                ..healthy()
            })
            .is_empty()
        );
        assert_eq!(
            failing(Facts {
                controllers_online: Some(1),
                ..healthy()
            }),
            ["controllers"]
        );
        assert_eq!(
            failing(Facts {
                core_answers: false,
                controllers_online: None,
                ..healthy()
            }),
            ["core", "controllers"]
        );
    }

    #[test]
    fn no_controllers_is_ready() {
        let f = Facts {
            controllers_total: 0,
            controllers_online: Some(0),
            ..healthy()
        };
        assert!(ready(&readiness(&f, 1.0)));
    }
}
