//! The periodic check of the whole event log (`[log]`): chain, seals and every record
//! readable, on the blocking pool, first a while after start and then every so often. Damage
//! found becomes `Input::LogDamaged`, which the core turns into `alarm` `log_damaged` (once per
//! new set of damaged ranges). The gateway's state never comes from re-reading the log, so it
//! decides on whatever the check finds; the alarm is there so that a person backs the store
//! up and salvages it before more is lost.
//!
//! A check reads every record once (about 290,000 records a second here, docs/benchmarks.md)
//! in one read transaction, so appends go on meanwhile.

use crate::Gateway;
use gatehouse_core::config::LogCheck;
use gatehouse_core::io::Input;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

/// When the checks run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    pub after: Duration,
    /// None: only the first check.
    pub every: Option<Duration>,
}

impl Schedule {
    /// None when `[log] verify_every_h = 0` (no checks at all).
    pub fn from_config(log: &LogCheck) -> Option<Schedule> {
        (log.verify_every_h > 0).then(|| Schedule {
            after: Duration::from_secs(u64::from(log.verify_after_s)),
            every: Some(Duration::from_secs(u64::from(log.verify_every_h) * 3600)),
        })
    }
}

/// Runs the checks until shutdown.
pub async fn run(gateway: Gateway, schedule: Schedule, shutdown: CancellationToken) {
    let mut wait = schedule.after;
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
        }
        if let Some(ranges) = check(&gateway).await
            && !ranges.is_empty()
            && gateway.submit(Input::LogDamaged { ranges }).await.is_err()
        {
            return; // the core has stopped
        }
        match schedule.every {
            Some(every) => wait = every,
            None => return,
        }
    }
}

/// One check: the damaged ranges found (empty when intact); None when it could not run.
pub async fn check(gateway: &Gateway) -> Option<Vec<(u64, u64)>> {
    let store = gateway.store().clone();
    let started = std::time::Instant::now();
    let report = match tokio::task::spawn_blocking(move || store.verify()).await {
        Ok(Ok(report)) => report,
        Ok(Err(e)) => {
            warn!(error = %e, "Could not check the event log; will try again at the next check.");
            return None;
        }
        Err(e) => {
            warn!(error = %e, "The check of the event log stopped unexpectedly.");
            return None;
        }
    };
    let took_ms = started.elapsed().as_millis() as u64;
    let mut ranges = report.damaged.clone();
    if ranges.is_empty()
        && let Some(bad) = &report.first_bad
    {
        ranges.push((bad.seq, bad.seq));
    }
    if ranges.is_empty() {
        info!(
            records = report.last_seq,
            took_ms, "Checked the whole event log: intact."
        );
    } else {
        let records: u64 = ranges.iter().map(|(a, b)| b - a + 1).sum();
        error!(
            records,
            first = ranges[0].0,
            took_ms,
            "The event log has damaged records; decisions go on. Back up the store, then run `gatehouse log salvage` with the gateway stopped (docs/deploy.md)."
        );
    }
    Some(ranges)
}
