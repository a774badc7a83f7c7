//! The handle every adapter holds. Cloning it is cheap; nobody else touches the core.

use gatehouse_core::directory::Directory;
use gatehouse_core::doors::DoorState;
use gatehouse_core::io::{DoorAction, Input, Reply};
use gatehouse_core::lockdown::Lockdown;
use gatehouse_core::{Core, Event};
use gatehouse_store::{Cursor, Store, StoreReader};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{broadcast, mpsc, oneshot, watch};

/// Door commands queued per adapter before the runtime drops them (and counts and logs each).
/// The runtime never waits on an adapter, so one stalled controller cannot hold up decisions;
/// but a dropped unlock is a granted person at a shut door, so the queue holds several seconds
/// of the busiest gate's traffic (it was 256: a burst of 64 requesters can queue hundreds of
/// unlocks for one adapter starved of CPU).
pub const DOOR_COMMANDS_QUEUED: usize = 4096;

/// Why the runtime could not take or answer an input.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The gateway is shutting down; the input was not handled.
    #[error("the gateway is shutting down; try again once it has restarted")]
    Stopped,
    /// The core is saturated and a hardware signal was dropped (counted in `dropped_signals`).
    #[error("the gateway is overloaded; the signal was dropped")]
    Busy,
    /// Opening the store or restoring state failed at start-up.
    #[error("start-up failed: {0}")]
    Startup(String),
}

/// A command for the adapter that drives a door.
#[derive(Debug)]
pub struct DoorCommand {
    pub door: String,
    pub action: DoorAction,
    /// The durable event that caused it, when there is one (`north-estate:1042`).
    pub event: Option<String>,
    /// Unlocks: the monotonic instant after which the command must not be started (it is
    /// reported [`crate::ActuationError::Expired`] instead). Locks and holds have none: a late
    /// lock is still right.
    pub deadline: Option<tokio::time::Instant>,
    /// Where the adapter reports how it went.
    pub outcome: crate::Outcome,
}

impl DoorCommand {
    /// A command with no deadline and no one waiting for its outcome.
    pub fn new(door: impl Into<String>, action: DoorAction, event: Option<String>) -> DoorCommand {
        DoorCommand {
            door: door.into(),
            action,
            event,
            deadline: None,
            outcome: crate::Outcome::none(),
        }
    }

    /// Whether its deadline has passed at `now`.
    pub fn expired(&self, now: tokio::time::Instant) -> bool {
        self.deadline.is_some_and(|d| now >= d)
    }
}

/// Live state for everyone who shows or publishes it (console, retained MQTT topics).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Live {
    /// Door id → state.
    pub doors: BTreeMap<String, DoorState>,
    pub lockdowns: Vec<Lockdown>,
    pub log_writable: bool,
}

/// The gateway's connection to its MQTT broker, as shown on the console.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct BrokerStatus {
    /// `host:port` of the broker.
    pub broker: String,
    pub connected: bool,
    /// `"5"` or `"3.1.1"` while connected (or the version being tried).
    pub protocol: String,
    /// Why the last attempt failed and what to do, while not connected.
    pub problem: Option<String>,
    /// When `connected` last changed (RFC 3339).
    pub since: String,
}

/// What travels to the owner task. Inputs travel unboxed: they are the common case and a
/// channel slot is allocated once.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Envelope {
    Input {
        input: Input,
        reply: Option<oneshot::Sender<Vec<Reply>>>,
        /// When it was queued (decision latency counts from here).
        at: tokio::time::Instant,
    },
    Read(Box<dyn FnOnce(&Core) + Send>),
}

/// Everything adapters share.
pub(crate) struct Shared {
    /// The store itself: written by the core's task (and its effects) only.
    pub(crate) store: Store,
    /// The read-only handle adapters get ([`Gateway::store`]).
    pub(crate) reader: StoreReader,
    pub(crate) site_id: String,
    pub(crate) events: broadcast::Sender<Arc<Event>>,
    pub(crate) live: watch::Sender<Arc<Live>>,
    /// The retained occupancy summary of `docs/interfaces.md#mqtt`, set by the daemon's occupancy task
    /// and published by the MQTT adapter (none until the first is made).
    pub(crate) occupancy: watch::Sender<Option<Arc<serde_json::Value>>>,
    /// The MQTT broker connection as the MQTT adapter last saw it (none before it started).
    pub(crate) broker: watch::Sender<Option<Arc<BrokerStatus>>>,
    /// The uplink to the district broker as the uplink last saw it (none without `[uplink]`).
    pub(crate) uplink: watch::Sender<Option<Arc<BrokerStatus>>>,
    /// The last seq the uplink's outbox had acknowledged ([`NOT_PUBLISHING`] before it
    /// reported, and without `[uplink]`).
    pub(crate) uplinked: AtomicU64,
    /// The latest `replay` command for the uplink's outbox (none before the first).
    pub(crate) replay: watch::Sender<Option<ReplayRequest>>,
    /// Door id → the channel of the adapter that drives it.
    pub(crate) drivers: Mutex<HashMap<String, mpsc::Sender<DoorCommand>>>,
    /// Hardware signals dropped because the core was saturated.
    pub(crate) dropped_signals: AtomicU64,
    /// Door commands dropped because the door's adapter was saturated or gone.
    pub(crate) dropped_door_commands: AtomicU64,
    /// Refused input waiting to be summarised (bounded: see [`crate::refusals`]).
    pub(crate) refusals: Mutex<crate::refusals::Refusals>,
    /// The latest people directory (see [`crate::directory`]).
    pub(crate) directory: watch::Sender<Arc<Directory>>,
    /// Changes for the directory task; bounded, see [`crate::directory::CHANGES_QUEUED`].
    pub(crate) directory_changes: mpsc::Sender<crate::directory::Change>,
    /// A change was dropped: the directory task rebuilds from the store.
    pub(crate) directory_stale: AtomicBool,
    /// Wakes the directory task for a rebuild when no change is queued.
    pub(crate) directory_wake: watch::Sender<bool>,
    /// How many changes were dropped (each one caused a rebuild).
    pub(crate) directory_rebuilds: AtomicU64,
    /// Metrics counted as things happen (see [`crate::metrics`]).
    pub(crate) instruments: crate::metrics::Instruments,
    /// The configured controllers' ids (health: how many are online).
    pub(crate) controllers: Arc<[String]>,
    /// The last seq the MQTT outbox had acknowledged ([`NOT_PUBLISHING`] before it reported).
    pub(crate) published: AtomicU64,
    /// The effects task's queue, for its depth (weak: it must not keep the task alive).
    pub(crate) effects: mpsc::WeakSender<crate::effects::Batch>,
}

/// A `replay` command, applied: the uplink's outbox publishes the log again from `from_seq`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplayRequest {
    /// The first seq to publish again (≥ 1).
    pub from_seq: u64,
    /// Counts the requests since start, so that two for the same seq are two changes.
    pub request: u64,
}

/// [`Shared::published`] before the outbox reported.
pub(crate) const NOT_PUBLISHING: u64 = u64::MAX;

/// The handle adapters hold.
#[derive(Clone)]
pub struct Gateway {
    /// Swipes, console changes, reads, refusals: the ordinary lane.
    pub(crate) inputs: mpsc::Sender<Envelope>,
    /// Safety inputs (door signals, fire) and signed commands: the owner takes these first,
    /// so no flood on the ordinary lane delays a fire release or a lockdown.
    pub(crate) urgent: mpsc::Sender<Envelope>,
    pub(crate) shared: Arc<Shared>,
}

/// Whether an input goes on the urgent lane: door contacts, exit buttons, tamper, fire
/// inputs and signed office commands (their floods are screened by the adapter first).
pub fn is_urgent(input: &Input) -> bool {
    matches!(
        input,
        Input::DoorSignal(_) | Input::Fire { .. } | Input::Command(_)
    )
}

/// An answer on its way: what [`Gateway::enqueue`] returns.
pub type PendingReplies = oneshot::Receiver<Vec<Reply>>;

impl Gateway {
    fn lane(&self, input: &Input) -> &mpsc::Sender<Envelope> {
        if is_urgent(input) {
            &self.urgent
        } else {
            &self.inputs
        }
    }

    /// Hands `input` to the core and waits until its events are durable and its effects done;
    /// returns the replies meant for the sender (access results, command results).
    pub async fn submit(&self, input: Input) -> Result<Vec<Reply>, RuntimeError> {
        let rx = self.enqueue(input).await?;
        rx.await.map_err(|_| RuntimeError::Stopped)
    }

    /// Hands `input` to the core, waiting only for room in its queue (block policy), and
    /// returns where its replies will arrive. An adapter that takes its inputs in order uses
    /// this to keep several in flight (they share group commits) without a task per input.
    pub async fn enqueue(&self, input: Input) -> Result<PendingReplies, RuntimeError> {
        let (tx, rx) = oneshot::channel();
        self.lane(&input)
            .send(Envelope::Input {
                input,
                reply: Some(tx),
                at: tokio::time::Instant::now(),
            })
            .await
            .map_err(|_| RuntimeError::Stopped)?;
        Ok(rx)
    }

    /// Counts one refused input from `source` (a topic, a device, a route) without waiting:
    /// one `rejected_input` summary per source per interval is written with the count, the
    /// first refusal's `error` and a bounded excerpt of its `input` (see [`crate::refusals`]).
    pub fn refuse(&self, source: &str, error: &str, input: Option<&[u8]>) {
        self.shared
            .refusals
            .lock()
            .expect("refusals poisoned")
            .note(
                source,
                error,
                input,
                jiff::Timestamp::now(),
                tokio::time::Instant::now(),
            );
    }

    /// Refused inputs counted since start (all sources).
    pub fn refused(&self) -> u64 {
        self.shared
            .refusals
            .lock()
            .expect("refusals poisoned")
            .total()
    }

    /// Hands a hardware signal to the core without waiting. When the core is saturated the
    /// signal is dropped and counted rather than stalling a device's poll loop. Door signals
    /// and fire inputs travel on the urgent lane.
    pub fn signal(&self, input: Input) -> Result<(), RuntimeError> {
        match self.lane(&input).try_send(Envelope::Input {
            input,
            reply: None,
            at: tokio::time::Instant::now(),
        }) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.shared.dropped_signals.fetch_add(1, Ordering::Relaxed);
                Err(RuntimeError::Busy)
            }
            Err(mpsc::error::TrySendError::Closed(_)) => Err(RuntimeError::Stopped),
        }
    }

    /// Runs `f` on the core's task with read access to its state. Only for what must see the
    /// core itself (signing a visitor's token with the gateway's key, tests): anything that
    /// looks through estate data reads [`Gateway::directory`] instead, off the core's task.
    pub async fn read<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Core) -> R + Send + 'static,
    ) -> Result<R, RuntimeError> {
        let (tx, rx) = oneshot::channel();
        let job = Box::new(move |core: &Core| {
            let _ = tx.send(f(core));
        });
        self.inputs
            .send(Envelope::Read(job))
            .await
            .map_err(|_| RuntimeError::Stopped)?;
        rx.await.map_err(|_| RuntimeError::Stopped)
    }

    /// The latest people directory: an immutable version of the estate data, for searches,
    /// tables and lookups on the caller's own task (or the blocking pool for long scans).
    pub fn directory(&self) -> Arc<Directory> {
        self.shared.directory.borrow().clone()
    }

    /// Every new version of the people directory.
    pub fn directory_updates(&self) -> watch::Receiver<Arc<Directory>> {
        self.shared.directory.subscribe()
    }

    /// Directory changes dropped because its queue was full (each caused a rebuild).
    pub fn directory_rebuilds(&self) -> u64 {
        self.shared.directory_rebuilds.load(Ordering::Relaxed)
    }

    /// Durable events as they are written (live feeds). Slow receivers lag and should re-read
    /// from the store; the MQTT outbox reads the store by cursor instead.
    pub fn events(&self) -> broadcast::Receiver<Arc<Event>> {
        self.shared.events.subscribe()
    }

    /// Door states and lockdowns, updated on every change.
    pub fn live(&self) -> watch::Receiver<Arc<Live>> {
        self.shared.live.subscribe()
    }

    /// Hands a new occupancy summary (`docs/interfaces.md#mqtt`, no names or ids of people) to whoever
    /// publishes it.
    pub fn set_occupancy_summary(&self, summary: serde_json::Value) {
        self.shared.occupancy.send_replace(Some(Arc::new(summary)));
    }

    /// The MQTT adapter reports its broker connection (for the console and the start-up
    /// line).
    pub fn set_broker_status(&self, status: BrokerStatus) {
        self.shared.broker.send_replace(Some(Arc::new(status)));
    }

    /// The uplink reports its connection to the district broker.
    pub fn set_uplink_status(&self, status: BrokerStatus) {
        self.shared.uplink.send_replace(Some(Arc::new(status)));
    }

    /// The uplink's connection, updated on every connect, loss, failed attempt and move to
    /// another node.
    pub fn uplink_status(&self) -> watch::Receiver<Option<Arc<BrokerStatus>>> {
        self.shared.uplink.subscribe()
    }

    /// The uplink's outbox reports the last seq the district broker acknowledged.
    pub fn set_uplinked(&self, seq: u64) {
        self.shared.uplinked.store(seq, Ordering::Relaxed);
    }

    /// Applied `replay` commands, the latest first: the uplink's outbox watches this and
    /// publishes the log again from the requested seq. Holds none before the first.
    pub fn replay_requests(&self) -> watch::Receiver<Option<ReplayRequest>> {
        self.shared.replay.subscribe()
    }

    /// The broker connection, updated on every connect, loss and failed attempt.
    pub fn broker_status(&self) -> watch::Receiver<Option<Arc<BrokerStatus>>> {
        self.shared.broker.subscribe()
    }

    /// The latest occupancy summary, updated whenever the occupancy task makes one.
    pub fn occupancy_summary(&self) -> watch::Receiver<Option<Arc<serde_json::Value>>> {
        self.shared.occupancy.subscribe()
    }

    /// Registers the adapter that drives `doors`; door commands for them arrive on the returned
    /// channel. A later registration for the same door replaces the earlier one.
    pub fn register_doors(&self, doors: &[String]) -> mpsc::Receiver<DoorCommand> {
        let (tx, rx) = mpsc::channel(DOOR_COMMANDS_QUEUED);
        let mut drivers = self.shared.drivers.lock().expect("driver table poisoned");
        for d in doors {
            drivers.insert(d.clone(), tx.clone());
        }
        rx
    }

    /// The store, to read: the log, the estate data, cursors. Only the core's task writes
    /// (see [`gatehouse_store::StoreReader`]).
    pub fn store(&self) -> &StoreReader {
        &self.shared.reader
    }

    /// The handle that moves the store's cursor `name` (an outbox's progress).
    pub fn cursor(&self, name: &str) -> Cursor {
        self.shared.store.cursor_handle(name)
    }

    pub fn site_id(&self) -> &str {
        &self.shared.site_id
    }

    /// Hardware signals dropped because the core was saturated.
    pub fn dropped_signals(&self) -> u64 {
        self.shared.dropped_signals.load(Ordering::Relaxed)
    }

    /// Door commands dropped because no adapter took them in time.
    pub fn dropped_door_commands(&self) -> u64 {
        self.shared.dropped_door_commands.load(Ordering::Relaxed)
    }

    /// The metrics adapters add to (Modbus poll latency); see [`crate::metrics`].
    pub fn instruments(&self) -> &crate::metrics::Instruments {
        &self.shared.instruments
    }

    /// The MQTT outbox reports the last seq the broker acknowledged (outbox lag).
    pub fn set_published(&self, seq: u64) {
        self.shared.published.store(seq, Ordering::Relaxed);
    }

    /// The runtime's bounded queues, how full they are now.
    pub fn queues(&self) -> Vec<crate::health::Queue> {
        fn queue<T>(name: &'static str, tx: &mpsc::Sender<T>) -> crate::health::Queue {
            crate::health::Queue {
                name,
                depth: tx.max_capacity() - tx.capacity(),
                capacity: tx.max_capacity(),
            }
        }
        let mut queues = vec![
            queue("ordinary", &self.inputs),
            queue("urgent", &self.urgent),
            queue("directory", &self.shared.directory_changes),
        ];
        queues.extend(
            self.shared
                .effects
                .upgrade()
                .map(|tx| queue("effects", &tx)),
        );
        queues
    }
}
