//! Write-ahead execution: a record's effects (door actuation, reply, save, publish) run only
//! after its event is durable. A reply whose input granted an unlock waits for the unlock's
//! outcome (at most its deadline and grace period, without holding up other batches), so the
//! reader or guard hears when the door did not open. When the log cannot be written, the effects are dropped, the
//! requester is told no (`log_unavailable`), and the core is told the log is down.

use crate::actuation::{self, ActuationError, Outcome, UNLOCK_DEADLINE, Waiting};
use crate::directory::Change;
use crate::gateway::{DoorCommand, ReplayRequest, Shared};
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use gatehouse_core::io::{
    AccessResult, AdminResult, CommandResult, DoorAction, Effect, Input, Publish, Reply, Save,
    UnlockFailure,
};
use gatehouse_core::{Event, Reason};
use gatehouse_store::{Store, StoreError};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tracing::{debug, error, info, warn};

type AppendFuture = Pin<Box<dyn Future<Output = Result<Event, StoreError>> + Send>>;

/// A record handed to the log and the effects that wait for it.
pub(crate) struct Pending {
    append: Append,
    then: Vec<Effect>,
}

/// An append in flight, or one that finished on its first poll (refused at once).
enum Append {
    Waiting(AppendFuture),
    Done(Box<Result<Event, StoreError>>),
}

impl Pending {
    /// Starts the append: the first poll puts the event in the log writer's queue, so records
    /// keep the order in which the core made them and share commits with other inputs.
    pub(crate) async fn start(store: &Store, event: Event, then: Vec<Effect>) -> Pending {
        let store = store.clone();
        let mut future: AppendFuture = Box::pin(async move { store.append(event).await });
        let append = match futures::poll!(future.as_mut()) {
            std::task::Poll::Ready(result) => Append::Done(Box::new(result)),
            std::task::Poll::Pending => Append::Waiting(future),
        };
        Pending { append, then }
    }

    async fn durable(self) -> (Result<Event, StoreError>, Vec<Effect>) {
        let result = match self.append {
            Append::Waiting(future) => future.await,
            Append::Done(result) => *result,
        };
        (result, self.then)
    }
}

/// Everything one input produced, in order.
pub(crate) struct Batch {
    pub(crate) records: Vec<Pending>,
    pub(crate) immediate: Vec<Effect>,
    pub(crate) reply: Option<oneshot::Sender<Vec<Reply>>>,
    /// When its input was queued (decision latency counts from here).
    pub(crate) received: Instant,
    /// When the core decided (monotonic): unlock deadlines count from here.
    pub(crate) decided: Instant,
}

/// Batches whose replies wait for their unlocks' outcomes at once; past this the effects task
/// takes no new batch until one settles (each settles within its deadline and grace period),
/// so the wait blocks the inputs upstream rather than growing without bound.
const SETTLING_CAPACITY: usize = 4096;

impl Batch {
    pub(crate) fn is_empty(&self) -> bool {
        self.records.is_empty() && self.immediate.is_empty() && self.reply.is_none()
    }
}

pub(crate) async fn run(
    mut batches: mpsc::Receiver<Batch>,
    feedback: mpsc::UnboundedSender<Input>,
    shared: Arc<Shared>,
) {
    let mut settling = FuturesUnordered::new();
    loop {
        let batch = tokio::select! {
            Some(()) = settling.next(), if !settling.is_empty() => continue,
            batch = batches.recv(), if settling.len() < SETTLING_CAPACITY => match batch {
                Some(batch) => batch,
                None => break,
            },
        };
        let mut replies = Vec::new();
        let mut unlocks = Vec::new();
        let mut durable = Vec::with_capacity(batch.records.len());
        for pending in batch.records {
            let (result, then) = pending.durable().await;
            match result {
                Ok(stored) => {
                    if set_log_writable(&shared, true) {
                        info!("Event log is writable again.");
                        let _ = feedback.send(Input::LogWritable(true));
                    }
                    let stored = Arc::new(stored);
                    for effect in then {
                        let done = Done {
                            event_id: Some(&stored.id),
                            decided: batch.decided,
                        };
                        carry_out(effect, done, &shared, &mut replies, &mut unlocks).await;
                    }
                    durable.push(stored);
                }
                Err(e) => {
                    error!(error = %e, "Event log write failed; entries are refused until it recovers.");
                    if set_log_writable(&shared, false) {
                        let _ = feedback.send(Input::LogWritable(false));
                    }
                    // No record, no effect: only the requester hears, and hears no.
                    replies.extend(then.into_iter().filter_map(|effect| match effect {
                        Effect::Reply(reply) => Some(refused(reply)),
                        _ => None,
                    }));
                }
            }
        }
        for effect in batch.immediate {
            let done = Done {
                event_id: None,
                decided: batch.decided,
            };
            carry_out(effect, done, &shared, &mut replies, &mut unlocks).await;
        }
        let answer = Answer {
            replies,
            to: batch.reply,
            received: batch.received,
            instruments: shared.instruments.clone(),
        };
        if unlocks.is_empty() {
            answer.send();
        } else {
            settling.push(settle(unlocks, answer, feedback.clone()));
        }
        // Live feeds hear of the records after the batch's door commands and its answer (or its
        // wait for an unlock's outcome) are handed out: on two cores, every task this wakes
        // would otherwise run first.
        for stored in durable {
            let _ = shared.events.send(stored);
        }
    }
    while settling.next().await.is_some() {}
}

/// Waits for the outcome of a batch's unlocks, then answers its requester: a failed unlock
/// turns the answer into "door did not open" and goes to the core as `unlock_failed`.
async fn settle(unlocks: Vec<Waiting>, mut answer: Answer, feedback: mpsc::UnboundedSender<Input>) {
    for unlock in unlocks {
        let (door, request, result) = unlock.settle().await;
        let Err(error) = result else { continue };
        warn!(door = %door, request = ?request, error = %error, "A granted unlock was not carried out.");
        for r in &mut answer.replies {
            actuation::unlock_failed(r, &door);
        }
        let _ = feedback.send(Input::UnlockFailed(UnlockFailure {
            door,
            request,
            error: error.to_string(),
        }));
    }
    answer.send();
}

/// A batch's replies on their way to its requester.
struct Answer {
    replies: Vec<Reply>,
    to: Option<oneshot::Sender<Vec<Reply>>>,
    received: Instant,
    instruments: crate::metrics::Instruments,
}

impl Answer {
    /// Counts the decisions as answered and hands the replies over.
    fn send(self) {
        self.instruments
            .decided(&self.replies, self.received.elapsed());
        if let Some(tx) = self.to {
            let _ = tx.send(self.replies);
        }
    }
}

/// Records whether the log accepts writes where the console and the health endpoints read it
/// ([`crate::Live::log_writable`]); true if that changed it.
fn set_log_writable(shared: &Shared, writable: bool) -> bool {
    shared.live.send_if_modified(|live| {
        if live.log_writable == writable {
            return false;
        }
        Arc::make_mut(live).log_writable = writable;
        true
    })
}

/// What an effect is carried out for: the durable event that caused it, and when.
#[derive(Clone, Copy)]
struct Done<'a> {
    event_id: Option<&'a str>,
    decided: Instant,
}

async fn carry_out(
    effect: Effect,
    done: Done<'_>,
    shared: &Shared,
    replies: &mut Vec<Reply>,
    unlocks: &mut Vec<Waiting>,
) {
    let event_id = done.event_id;
    match effect {
        Effect::Door { door, action } => {
            let driver = shared
                .drivers
                .lock()
                .expect("driver table poisoned")
                .get(&door)
                .cloned();
            let Some(tx) = driver else {
                debug!(door = %door, "No adapter drives this door; nothing to actuate.");
                return;
            };
            let mut command = DoorCommand::new(door.clone(), action, event_id.map(str::to_string));
            if matches!(command.action, DoorAction::Unlock { .. }) {
                let deadline = done.decided + UNLOCK_DEADLINE;
                let (outcome, rx) = Outcome::channel();
                command.deadline = Some(deadline);
                command.outcome = outcome;
                unlocks.push(Waiting {
                    door: door.clone(),
                    request: command.event.clone(),
                    deadline,
                    outcome: rx,
                });
            }
            if command.expired(Instant::now()) {
                // The record took longer than the deadline to become durable.
                command.outcome.report(Err(ActuationError::Expired));
                return;
            }
            if let Err(e) = tx.try_send(command) {
                shared.dropped_door_commands.fetch_add(1, Ordering::Relaxed);
                warn!(door = %door, "Door adapter is not taking commands; command dropped.");
                e.into_inner().outcome.report(Err(ActuationError::NotTaken));
            }
        }
        Effect::Reply(mut reply) => {
            if let (Reply::Access(result), Some(id)) = (&mut reply, event_id) {
                result.event = id.to_string();
            }
            replies.push(reply);
        }
        Effect::Save(save) => {
            match &save {
                Save::Pass(p) => crate::directory::offer(shared, Change::Pass(p.clone())),
                Save::Person(p) => crate::directory::offer(shared, Change::Person(p.clone())),
                _ => {}
            }
            let store = shared.store.clone();
            let done = tokio::task::spawn_blocking(move || store.apply(&save)).await;
            match done {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    error!(error = %e, "Saving state failed; it will not survive a restart.")
                }
                Err(e) => error!(error = %e, "Saving state panicked."),
            }
        }
        Effect::Publish(Publish::Estate(data)) => {
            crate::directory::offer(shared, Change::Estate(data));
        }
        Effect::Publish(Publish::Replay { from_seq }) => {
            info!(
                from_seq,
                "Replay asked for: the uplink publishes the log again from this seq."
            );
            shared.replay.send_modify(|last| {
                let request = last.map_or(1, |r| r.request + 1);
                *last = Some(ReplayRequest { from_seq, request });
            });
        }
        Effect::Publish(publish) => {
            shared.live.send_modify(|live| {
                let live = Arc::make_mut(live);
                match publish {
                    Publish::DoorState(state) => {
                        live.doors.insert(state.door.clone(), state);
                    }
                    Publish::Lockdowns(zones) => live.lockdowns = zones,
                    Publish::Estate(_) | Publish::Replay { .. } => {}
                }
            });
        }
    }
}

/// The answer a requester gets when the record of its decision could not be written.
fn refused(reply: Reply) -> Reply {
    match reply {
        Reply::Access(r) => Reply::Access(AccessResult {
            grant: false,
            reason: Reason::LogUnavailable,
            display: Reason::LogUnavailable.words().0.to_string(),
            need_pin: false,
            event: String::new(),
            ..r
        }),
        Reply::Command(r) => Reply::Command(CommandResult {
            ok: false,
            applied_at: None,
            error: Some("log_unavailable".into()),
            detail: Some("the gateway's event log cannot be written; nothing was applied".into()),
            ..r
        }),
        Reply::Admin(_) => Reply::Admin(AdminResult {
            ok: false,
            error: Some(
                "The event log cannot be written, so nothing was changed. Check the disk of the gateway's data directory, then try again."
                    .into(),
            ),
        }),
    }
}
