//! Prometheus metrics: the instruments the runtime and its adapters update as things happen
//! ([`Instruments`]: decisions, decision latency, Modbus poll latency) and the exposition of
//! one scrape ([`render`]), which adds what is read at scrape time ([`crate::health::Facts`]).
//!
//! Every label takes its values from a closed list (results, reason codes, queue names,
//! drop causes, readiness checks): nothing an outsider sends becomes a label, so the number of
//! series is fixed. No phone number, card or person reaches a metric.

use crate::health::{Check, Facts};
use gatehouse_core::Reason;
use gatehouse_core::io::Reply;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};
use std::time::Duration;

/// The content type of [`render`]'s text (OpenMetrics 1.0, which Prometheus reads).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// `result` (`grant`, `deny`) and `reason` (a reason code of `docs/interfaces.md#events`).
type DecisionLabels = [(&'static str, &'static str); 2];

/// What is counted as it happens. Cheap to clone (each instrument is shared).
#[derive(Clone, Debug)]
pub struct Instruments {
    decisions: Family<DecisionLabels, Counter>,
    decision_seconds: Histogram,
    poll_seconds: Histogram,
    commit_seconds: Histogram,
    batch_records: Histogram,
}

impl Default for Instruments {
    fn default() -> Self {
        Instruments {
            decisions: Family::default(),
            // 1 ms to about 16 s: a decision waits for one fsync; past a few seconds the
            // person at the gate has given up.
            decision_seconds: Histogram::new(exponential_buckets(0.001, 2.0, 15)),
            poll_seconds: Histogram::new(exponential_buckets(0.001, 2.0, 15)),
            // 0.1 ms to about 3 s: a healthy disk syncs in well under a millisecond to a few;
            // the stalls that hold every swipe are tens to hundreds.
            commit_seconds: Histogram::new(exponential_buckets(0.0001, 2.0, 15)),
            // 1 to 4,096 records a commit (what group commit buys under load).
            batch_records: Histogram::new(exponential_buckets(1.0, 2.0, 13)),
        }
    }
}

impl Instruments {
    /// Counts the access decisions among `replies` (as finally answered: refused for an
    /// unwritable log, or turned into `door_offline` when the unlock failed), each taking
    /// `latency` from its input's arrival.
    pub(crate) fn decided(&self, replies: &[Reply], latency: Duration) {
        for reply in replies {
            if let Reply::Access(r) = reply {
                self.decision(r.grant, r.reason, latency);
            }
        }
    }

    fn decision(&self, grant: bool, reason: Reason, latency: Duration) {
        let result = if grant { "grant" } else { "deny" };
        self.decisions
            .get_or_create(&[("result", result), ("reason", reason.as_str())])
            .inc();
        self.decision_seconds.observe(latency.as_secs_f64());
    }

    /// What the store calls after each group commit of the log (on its writer thread).
    pub fn commit_observer(&self) -> gatehouse_store::CommitObserver {
        let (seconds, records) = (self.commit_seconds.clone(), self.batch_records.clone());
        Box::new(move |c: gatehouse_store::Committed| {
            seconds.observe(c.commit.as_secs_f64());
            records.observe(c.records as f64);
        })
    }

    /// One complete Modbus poll of a controller (every read range) took `took`.
    pub fn polled(&self, took: Duration) {
        self.poll_seconds.observe(took.as_secs_f64());
    }
}

/// One scrape's exposition: the instruments and the facts gathered for it.
pub fn render(instruments: &Instruments, facts: &Facts, checks: &[Check]) -> String {
    let mut r = Registry::with_prefix("gatehouse");
    r.register(
        "decisions",
        "Access decisions answered, by result and reason code",
        instruments.decisions.clone(),
    );
    r.register_with_unit(
        "decision",
        "From an access request's arrival at the core to its answer (durable record, unlock outcome)",
        Unit::Seconds,
        instruments.decision_seconds.clone(),
    );
    r.register_with_unit(
        "modbus_poll",
        "One complete poll of a Modbus controller (all its read ranges)",
        Unit::Seconds,
        instruments.poll_seconds.clone(),
    );
    r.register_with_unit(
        "log_commit_latency",
        "One group commit of the event log: redb's commit with its fsync",
        Unit::Seconds,
        instruments.commit_seconds.clone(),
    );
    r.register(
        "log_commit_records",
        "Records written by one group commit of the event log (its batch size)",
        instruments.batch_records.clone(),
    );
    register_facts(&mut r, facts, checks);
    let mut text = String::new();
    // Writing to a String cannot fail.
    let _ = encode(&mut text, &r);
    text
}

fn gauge(r: &mut Registry, name: &str, help: &str, value: impl TryInto<i64>) {
    let value = value.try_into().unwrap_or(i64::MAX);
    r.register(name, help, ConstGauge::new(value));
}

/// A gauge only when its value is known (an absent series, not a made-up zero).
fn gauge_if(r: &mut Registry, name: &str, help: &str, value: Option<impl TryInto<i64>>) {
    if let Some(value) = value {
        gauge(r, name, help, value);
    }
}

fn counter(r: &mut Registry, name: &str, help: &str, value: u64) {
    r.register(name, help, ConstCounter::new(value));
}

/// A gauge family with one closed label.
fn labelled(
    r: &mut Registry,
    name: &str,
    help: &str,
    label: &'static str,
    values: impl IntoIterator<Item = (&'static str, i64)>,
) {
    let family = Family::<[(&'static str, &'static str); 1], Gauge>::default();
    for (value, n) in values {
        family.get_or_create(&[(label, value)]).set(n);
    }
    r.register(name, help, family);
}

fn register_facts(r: &mut Registry, f: &Facts, checks: &[Check]) {
    gauge(
        r,
        "core_answers",
        "1 when the core task answered a read within the health timeout",
        i64::from(f.core_answers),
    );
    labelled(
        r,
        "ready_check",
        "Readiness checks of /readyz: 1 passing, 0 failing",
        "check",
        checks.iter().map(|c| (c.name, i64::from(c.ok))),
    );
    gauge(
        r,
        "log_writable",
        "1 while the event log accepts writes; 0 after a write failed (entries are refused log_unavailable)",
        i64::from(f.log_writable),
    );
    counter(
        r,
        "log_records",
        "Records in the event log (its last seq)",
        f.log.last_seq,
    );
    counter(
        r,
        "log_commits",
        "Group commits of the log writer since start (records per commit = batch size)",
        f.log.commits,
    );
    r.register_with_unit(
        "log_commit",
        "Time spent in the log's commit (fsync) since start; divide by log_commits_total for the mean",
        Unit::Seconds,
        ConstCounter::new(f.log.commit_micros as f64 / 1e6),
    );
    r.register_with_unit(
        "log_write",
        "Time spent writing whole groups (records, seals, commit) since start",
        Unit::Seconds,
        ConstCounter::new(f.log.write_micros as f64 / 1e6),
    );
    gauge_if(
        r,
        "outbox_lag_events",
        "Durable events the MQTT outbox has not yet had acknowledged by the broker",
        f.outbox_lag,
    );
    gauge_if(
        r,
        "broker_connected",
        "1 while the gateway is connected to its MQTT broker",
        f.broker_connected.map(i64::from),
    );
    gauge_if(
        r,
        "uplink_connected",
        "1 while the uplink is connected to the district broker (absent without [uplink])",
        f.uplink_connected.map(i64::from),
    );
    gauge_if(
        r,
        "uplink_lag_events",
        "Durable events the district broker has not yet acknowledged (absent without [uplink])",
        f.uplink_lag,
    );
    gauge(
        r,
        "controllers",
        "Controllers in the configuration",
        f.controllers_total,
    );
    gauge_if(
        r,
        "controllers_online",
        "Controllers not reported offline",
        f.controllers_online,
    );
    gauge_if(
        r,
        "alarms_active",
        "Alarms raised and not cleared: doors held open, tamper inputs active, damage found in the log",
        f.active_alarms,
    );
    gauge_if(
        r,
        "log_damaged_records",
        "Records of the event log the last check found damaged (alarm log_damaged)",
        f.log_damaged,
    );
    gauge(r, "lockdowns_active", "Zones under lockdown", f.lockdowns);
    labelled(
        r,
        "queue_depth",
        "Items waiting in the runtime's bounded queues",
        "queue",
        f.queues
            .iter()
            .map(|q| (q.name, i64::try_from(q.depth).unwrap_or(i64::MAX))),
    );
    labelled(
        r,
        "queue_capacity",
        "Capacity of the runtime's bounded queues",
        "queue",
        f.queues
            .iter()
            .map(|q| (q.name, i64::try_from(q.capacity).unwrap_or(i64::MAX))),
    );
    let dropped = Family::<[(&'static str, &'static str); 1], Counter>::default();
    for (what, n) in &f.dropped {
        dropped.get_or_create(&[("what", what)]).inc_by(*n);
    }
    r.register(
        "dropped",
        "Inputs and commands dropped or refused since start, by what",
        dropped,
    );
    if let Some(space) = f.space {
        r.register_with_unit(
            "data_dir_free",
            "Free space an unprivileged process may use on the data directory's file system",
            Unit::Bytes,
            ConstGauge::new(i64::try_from(space.free_bytes).unwrap_or(i64::MAX)),
        );
        r.register_with_unit(
            "store_file",
            "Size of the store file gatehouse.redb",
            Unit::Bytes,
            ConstGauge::new(i64::try_from(space.file_bytes).unwrap_or(i64::MAX)),
        );
    }
}
