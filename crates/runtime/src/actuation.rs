//! Door actuations and what became of them. An unlock is worth something only while the
//! person who was granted stands at the door: it carries a deadline on the monotonic clock,
//! and an adapter that cannot start it by then drops it (never runs it late) and says so. The
//! adapter reports every unlock's outcome; a failed, expired or unreported unlock becomes a
//! `door` event `unlock_failed` (naming the grant) and the requester hears that the door did
//! not open.

use gatehouse_core::Reason;
use gatehouse_core::io::{AccessResult, AdminResult, Reply};
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::time::Instant;

/// How long after the decision an unlock may still be started. A person waits a second or
/// two at a door; a door that opens later than this opens for nobody (or for whoever stands
/// there then). It covers one request in flight on the controller's link and the unlock's own
/// write, each within the default 500 ms timeout.
pub const UNLOCK_DEADLINE: Duration = Duration::from_secs(2);

/// How long past an unlock's deadline the runtime waits for its adapter's report: the adapter
/// may be inside the write it started just before the deadline (bounded by the request
/// timeout). Past this the unlock counts as failed.
pub const REPORT_GRACE: Duration = Duration::from_secs(3);

/// Why an actuation did not happen.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ActuationError {
    /// The controller refused the write, did not answer in time, or was unreachable.
    #[error("the controller did not carry it out: {0}")]
    Failed(String),
    /// The deadline passed before the adapter could start it; it was dropped, not run late.
    #[error("its deadline passed before it could be sent; it was dropped, not run late")]
    Expired,
    /// The door's adapter was not taking commands (queue full or gone).
    #[error("the door's adapter was not taking commands")]
    NotTaken,
    /// The adapter dropped the command without a word, or took longer than the grace period.
    #[error("the door's adapter reported no outcome")]
    NoOutcome,
}

/// Where an adapter reports how a command went. Dropping it unreported counts as
/// [`ActuationError::NoOutcome`] for whoever waits.
#[derive(Debug, Default)]
pub struct Outcome(Option<oneshot::Sender<Result<(), ActuationError>>>);

impl Outcome {
    /// An outcome nobody waits for (locks, holds, tests).
    pub fn none() -> Outcome {
        Outcome(None)
    }

    /// An outcome and the receiver that waits for it.
    pub fn channel() -> (Outcome, oneshot::Receiver<Result<(), ActuationError>>) {
        let (tx, rx) = oneshot::channel();
        (Outcome(Some(tx)), rx)
    }

    /// Reports how the command went; a no-op when nobody waits.
    pub fn report(mut self, result: Result<(), ActuationError>) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(result);
        }
    }
}

/// An unlock whose outcome the runtime waits for.
pub(crate) struct Waiting {
    pub(crate) door: String,
    /// The grant's event id.
    pub(crate) request: Option<String>,
    pub(crate) deadline: Instant,
    pub(crate) outcome: oneshot::Receiver<Result<(), ActuationError>>,
}

impl Waiting {
    /// The adapter's report, or [`ActuationError::NoOutcome`] once the grace period is over.
    pub(crate) async fn settle(self) -> (String, Option<String>, Result<(), ActuationError>) {
        let result = match tokio::time::timeout_at(self.deadline + REPORT_GRACE, self.outcome).await
        {
            Ok(Ok(result)) => result,
            Ok(Err(_)) | Err(_) => Err(ActuationError::NoOutcome),
        };
        (self.door, self.request, result)
    }
}

/// The requester's answer once the unlock of `door` failed: a reader or guard told the door is
/// open would wave the person through a shut door, so the answer becomes "door offline: let in
/// by hand" (the decision itself stays in the log as it was, followed by `unlock_failed`).
pub(crate) fn unlock_failed(reply: &mut Reply, door: &str) {
    match reply {
        Reply::Access(r) if r.grant && r.door == door => {
            *r = AccessResult {
                grant: false,
                reason: Reason::DoorOffline,
                display: Reason::DoorOffline.words().0.to_string(),
                need_pin: false,
                ..r.clone()
            };
        }
        Reply::Admin(r) if r.ok => {
            *r = AdminResult {
                ok: false,
                error: Some(format!(
                    "The decision was recorded, but door {door} did not unlock: its controller did not carry out the command. Check the controller, or open the door by hand."
                )),
            };
        }
        _ => {}
    }
}
