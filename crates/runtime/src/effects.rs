//! Write-ahead execution: a record's effects (door actuation, reply, save, publish) run only
//! after its event is durable. When the log cannot be written, the effects are dropped, the
//! requester is told no (`log_unavailable`), and the core is told the log is down.

use crate::directory::Change;
use crate::gateway::{DoorCommand, Shared};
use gatehouse_core::io::{
    AccessResult, AdminResult, CommandResult, Effect, Input, Publish, Reply, Save,
};
use gatehouse_core::{Event, Reason};
use gatehouse_store::{Store, StoreError};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::sync::{mpsc, oneshot};
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
}

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
    let mut log_writable = true;
    while let Some(batch) = batches.recv().await {
        let mut replies = Vec::new();
        for pending in batch.records {
            let (result, then) = pending.durable().await;
            match result {
                Ok(stored) => {
                    if !log_writable {
                        log_writable = true;
                        info!("Event log is writable again.");
                        let _ = feedback.send(Input::LogWritable(true));
                    }
                    let stored = Arc::new(stored);
                    let _ = shared.events.send(stored.clone());
                    for effect in then {
                        carry_out(effect, Some(&stored.id), &shared, &mut replies).await;
                    }
                }
                Err(e) => {
                    error!(error = %e, "Event log write failed; entries are refused until it recovers.");
                    if log_writable {
                        log_writable = false;
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
            carry_out(effect, None, &shared, &mut replies).await;
        }
        if let Some(tx) = batch.reply {
            let _ = tx.send(replies);
        }
    }
}

async fn carry_out(
    effect: Effect,
    event_id: Option<&str>,
    shared: &Shared,
    replies: &mut Vec<Reply>,
) {
    match effect {
        Effect::Door { door, action } => {
            let driver = shared
                .drivers
                .lock()
                .expect("driver table poisoned")
                .get(&door)
                .cloned();
            let command = DoorCommand {
                door: door.clone(),
                action,
                event: event_id.map(str::to_string),
            };
            match driver {
                Some(tx) => {
                    if tx.try_send(command).is_err() {
                        shared.dropped_door_commands.fetch_add(1, Ordering::Relaxed);
                        warn!(door = %door, "Door adapter is not taking commands; command dropped.");
                    }
                }
                None => debug!(door = %door, "No adapter drives this door; nothing to actuate."),
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
        Effect::Publish(publish) => {
            shared.live.send_modify(|live| {
                let live = Arc::make_mut(live);
                match publish {
                    Publish::DoorState(state) => {
                        live.doors.insert(state.door.clone(), state);
                    }
                    Publish::Lockdowns(zones) => live.lockdowns = zones,
                    Publish::Estate(_) => {}
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
