//! The one task per link that hands controller inputs to the core, in the order the polls
//! found them. The poll loop never waits for a decision: it queues and goes on.

use gatehouse_core::io::Input;
use gatehouse_runtime::Gateway;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::warn;

/// Inputs one link may have waiting for the core. Full policy: the input is dropped and
/// counted (`Bus::dropped_inputs`, with a warning); a fire input dropped so is reported again
/// at the next poll. The poll loop must not block on a saturated core, or unlocks and exit
/// buttons on this link would wait with it.
pub const QUEUED: usize = 1024;

/// Starts the link's submitting task; it ends when the sender is dropped and its queue is
/// empty, or when the core stops.
pub fn spawn(gateway: Gateway, link: String) -> (mpsc::Sender<Input>, JoinHandle<()>) {
    let (tx, mut rx) = mpsc::channel::<Input>(QUEUED);
    let task = tokio::spawn(async move {
        while let Some(input) = rx.recv().await {
            if let Err(e) = gateway.submit(input).await {
                warn!(link = %link, error = %e, "Could not hand a controller input to the core.");
                return;
            }
        }
    });
    (tx, task)
}
