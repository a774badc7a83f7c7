//! The task that owns the core. It takes one input at a time, stamps it with the time, and
//! hands the records it produces to the log at once (so concurrent inputs share a group
//! commit), then passes them in order to the effects task, which waits for durability.

use crate::effects::{self, Batch, Pending};
use crate::gateway::{Envelope, Gateway, Live, RuntimeError, Shared};
use gatehouse_core::Core;
use gatehouse_core::clock::ClockWatch;
use gatehouse_core::config::Config;
use gatehouse_core::io::{Input, Output};
use gatehouse_store::Store;
use jiff::Timestamp;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

/// How many inputs may wait for the core. Enough for a morning rush on every door at once;
/// past it, `submit` waits and `signal` drops.
const INPUT_CAPACITY: usize = 4096;
/// How many urgent inputs (door signals, fire, signed commands) may wait; past it `submit`
/// waits and `signal` drops (counted). They are taken before any ordinary input.
const URGENT_CAPACITY: usize = 1024;
/// How many decided inputs may wait for their records to become durable.
const EFFECTS_CAPACITY: usize = 4096;

/// Builds the core from the configuration and the store, and starts its task. The returned
/// handle finishes once `shutdown` fires and every accepted input has been carried out.
pub fn start(
    config: &Config,
    store: Store,
    shutdown: CancellationToken,
) -> Result<(Gateway, JoinHandle<()>), RuntimeError> {
    let core = build_core(config, &store)?;
    // The directory shares every household, person and pass with the core's model.
    let directory = Arc::new(gatehouse_core::directory::Directory::new(
        &core.model().shared_estate(),
        config
            .zones
            .iter()
            .map(|z| (z.id.clone(), z.parent.clone())),
    ));
    let (inputs_tx, inputs_rx) = mpsc::channel(INPUT_CAPACITY);
    let (urgent_tx, urgent_rx) = mpsc::channel(URGENT_CAPACITY);
    let (effects_tx, effects_rx) = mpsc::channel(EFFECTS_CAPACITY);
    // Unbounded on purpose: the effects task sends here while the owner task may be waiting
    // for room in `effects_tx`, so a bound could deadlock the two. Nothing from outside feeds
    // it directly: at most one `UnlockFailed` per unlock of the at most `SETTLING_CAPACITY`
    // batches the effects task holds, and a `LogWritable` only when the log's state changes.
    let (feedback_tx, feedback_rx) = mpsc::unbounded_channel();
    let (events, _) = broadcast::channel(4096);
    let live = Live {
        doors: core
            .door_states()
            .into_iter()
            .map(|d| (d.door.clone(), d))
            .collect(),
        lockdowns: core.lockdowns().to_vec(),
        log_writable: core.log_writable(),
    };
    let (live_tx, _) = watch::channel(Arc::new(live));
    let instruments = crate::metrics::Instruments::default();
    store.observe_commits(instruments.commit_observer());
    let (directory_tx, directory_rx) = mpsc::channel(crate::directory::CHANGES_QUEUED);
    let (wake_tx, wake_rx) = watch::channel(false);
    let shared = Arc::new(Shared {
        reader: store.reader(),
        store,
        site_id: config.site.id.clone(),
        events,
        live: live_tx,
        occupancy: watch::Sender::new(None),
        broker: watch::Sender::new(None),
        uplink: watch::Sender::new(None),
        uplinked: AtomicU64::new(crate::gateway::NOT_PUBLISHING),
        replay: watch::Sender::new(None),
        drivers: Mutex::new(HashMap::new()),
        dropped_signals: AtomicU64::new(0),
        dropped_door_commands: AtomicU64::new(0),
        refusals: Mutex::new(Default::default()),
        directory: watch::Sender::new(directory.clone()),
        directory_changes: directory_tx,
        directory_stale: AtomicBool::new(false),
        directory_wake: wake_tx,
        directory_rebuilds: AtomicU64::new(0),
        instruments: instruments.clone(),
        controllers: config.controllers.iter().map(|c| c.id.clone()).collect(),
        published: AtomicU64::new(crate::gateway::NOT_PUBLISHING),
        effects: effects_tx.downgrade(),
    });
    tokio::spawn(crate::directory::run(
        directory_rx,
        wake_rx,
        shared.clone(),
        directory,
        shutdown.clone(),
    ));
    let gateway = Gateway {
        inputs: inputs_tx,
        urgent: urgent_tx,
        shared: shared.clone(),
    };
    if let Some(schedule) = crate::log_check::Schedule::from_config(&config.log) {
        tokio::spawn(crate::log_check::run(
            gateway.clone(),
            schedule,
            shutdown.clone(),
        ));
    }
    let effects = tokio::spawn(effects::run(effects_rx, feedback_tx, shared.clone()));
    let owner = tokio::spawn(own(
        core,
        Arc::new(config.clone()),
        Lanes {
            urgent: urgent_rx,
            ordinary: inputs_rx,
        },
        feedback_rx,
        effects_tx,
        shared,
        shutdown,
    ));
    let both = tokio::spawn(async move {
        let _ = owner.await;
        let _ = effects.await;
    });
    Ok((gateway, both))
}

/// Restores the core's state from the store: estate data, lockdowns, fire zones, command
/// counters, and recent events for presence and quotas.
pub fn build_core(config: &Config, store: &Store) -> Result<Core, RuntimeError> {
    let (estate, restored) = load(config, store)?;
    Core::new(config, estate, restored).map_err(|e| RuntimeError::Startup(e.to_string()))
}

/// What the core is built from: the estate data and the state restored from the store.
fn load(
    config: &Config,
    store: &Store,
) -> Result<(gatehouse_core::estate::EstateData, gatehouse_core::Restored), RuntimeError> {
    let estate = store
        .load_estate()
        .map_err(|e| RuntimeError::Startup(format!("reading estate data: {e}")))?;
    let since = config.policy.restore_since(Timestamp::now());
    let restored = store
        .restored(since)
        .map_err(|e| RuntimeError::Startup(format!("restoring state: {e}")))?;
    Ok((estate, restored))
}

/// The owner's two input lanes.
struct Lanes {
    urgent: mpsc::Receiver<Envelope>,
    ordinary: mpsc::Receiver<Envelope>,
}

async fn own(
    mut core: Core,
    config: Arc<Config>,
    mut lanes: Lanes,
    mut feedback: mpsc::UnboundedReceiver<Input>,
    effects: mpsc::Sender<Batch>,
    shared: Arc<Shared>,
    shutdown: CancellationToken,
) {
    // Read at every input: the tick makes that at least once a second.
    let mut clock = ClockWatch::<std::time::Instant>::default();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        // Urgent inputs before ordinary ones; the tick before ordinary ones too, so that a
        // flood of swipes cannot starve timers and refusal summaries.
        let envelope = tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            Some(input) = feedback.recv() => Envelope::Input { input, reply: None, at: Instant::now() },
            Some(envelope) = lanes.urgent.recv() => envelope,
            _ = tick.tick() => {
                if !summarise_refusals(&mut core, &effects, &shared, false).await {
                    break;
                }
                Envelope::Input { input: Input::Tick, reply: None, at: Instant::now() }
            }
            envelope = lanes.ordinary.recv() => match envelope {
                Some(envelope) => envelope,
                None => break,
            },
        };
        match envelope {
            Envelope::Read(job) => job(&core),
            Envelope::Input { input, reply, at } => {
                // The effects task says the log is writable again only after it failed.
                let recovered = matches!(input, Input::LogWritable(true));
                let now = Timestamp::now();
                if let Some(by) = clock.read(now, std::time::Instant::now()) {
                    warn!(
                        by_s = by.as_secs(),
                        "The wall clock jumped against the monotonic clock."
                    );
                    let outputs = core.handle(Input::ClockJumped { by }, now);
                    let batch = hand_to_log(outputs, None, at, &shared.store).await;
                    if effects.send(batch).await.is_err() {
                        break;
                    }
                }
                let outputs = core.handle(input, now);
                let batch = hand_to_log(outputs, reply, at, &shared.store).await;
                if !batch.is_empty() && effects.send(batch).await.is_err() {
                    break;
                }
                if recovered && !roll_back(&mut core, &config, &effects, &shared).await {
                    break;
                }
            }
        }
    }
    // Finish what was accepted: inputs already queued are handled before the task ends, so a
    // caller that got its input in gets an answer; refusals still counting are written.
    lanes.urgent.close();
    lanes.ordinary.close();
    loop {
        let envelope = match lanes.urgent.recv().await {
            Some(e) => e,
            None => match lanes.ordinary.recv().await {
                Some(e) => e,
                None => break,
            },
        };
        if let Envelope::Input { input, reply, at } = envelope {
            let outputs = core.handle(input, Timestamp::now());
            let batch = hand_to_log(outputs, reply, at, &shared.store).await;
            if effects.send(batch).await.is_err() {
                break;
            }
        }
    }
    summarise_refusals(&mut core, &effects, &shared, true).await;
    info!("Core stopped.");
}

/// Writes the refusal summaries whose interval has ended (all of them when `all`). False if
/// the effects task is gone.
async fn summarise_refusals(
    core: &mut Core,
    effects: &mpsc::Sender<Batch>,
    shared: &Shared,
    all: bool,
) -> bool {
    let due = {
        let mut refusals = shared.refusals.lock().expect("refusals poisoned");
        if all {
            refusals.drain()
        } else {
            refusals.due(tokio::time::Instant::now())
        }
    };
    for summary in due {
        let outputs = core.handle(Input::Refused(summary), Timestamp::now());
        let batch = hand_to_log(outputs, None, Instant::now(), &shared.store).await;
        if effects.send(batch).await.is_err() {
            return false;
        }
    }
    true
}

/// After the log failed, the core may hold changes whose records were never written (a pass
/// suspended, a lockdown set): their effects were dropped, so doors and the store never saw
/// them. Once every earlier batch's effects (and so its saves) are done, the state the store
/// holds is put back into the core. False if the effects task is gone.
async fn roll_back(
    core: &mut Core,
    config: &Config,
    effects: &mpsc::Sender<Batch>,
    shared: &Shared,
) -> bool {
    let (done, drained) = tokio::sync::oneshot::channel();
    let barrier = Batch {
        records: Vec::new(),
        immediate: Vec::new(),
        reply: Some(done),
        received: Instant::now(),
        decided: Instant::now(),
    };
    if effects.send(barrier).await.is_err() || drained.await.is_err() {
        return false;
    }
    let reloaded = load(config, &shared.store).and_then(|(estate, restored)| {
        core.reload(config, estate, restored, Timestamp::now())
            .map_err(|e| RuntimeError::Startup(e.to_string()))
    });
    match reloaded {
        Ok(outputs) => {
            info!("The log recovered: the core's state was reloaded from the store.");
            let batch = hand_to_log(outputs, None, Instant::now(), &shared.store).await;
            effects.send(batch).await.is_ok()
        }
        Err(e) => {
            tracing::error!(error = %e, "Could not reload the core's state after the log recovered; changes refused during the outage may still show until a restart.");
            true
        }
    }
}

/// Starts the append of every record now (so the log writer can group them with others) and
/// keeps their effects for when they are durable.
async fn hand_to_log(
    outputs: Vec<Output>,
    reply: Option<tokio::sync::oneshot::Sender<Vec<gatehouse_core::io::Reply>>>,
    received: Instant,
    store: &Store,
) -> Batch {
    let mut batch = Batch {
        records: Vec::new(),
        immediate: Vec::new(),
        reply,
        received,
        decided: Instant::now(),
    };
    for output in outputs {
        match output {
            Output::Record { mut event, then } => {
                // Whatever the input held, no event outgrows the limits of `bounds`.
                gatehouse_core::bounds::bound_event(&mut event);
                batch.records.push(Pending::start(store, event, then).await);
            }
            Output::Effect(effect) => batch.immediate.push(effect),
        }
    }
    batch
}
