//! Keeps the people directory ([`Directory`]) up to date off the core's task, and publishes
//! each version as an immutable `Arc<Directory>` over a `watch` (the task keeps the same `Arc`,
//! so the estate's people are held once by the directory, not twice). Console and CLI reads
//! (searches, household tables, pass lookups) use the latest version on their own tasks, so a
//! scan never queues behind, or in front of, a swipe.

use crate::gateway::Shared;
use gatehouse_core::directory::Directory;
use gatehouse_core::estate::{Pass, Person, SharedEstate};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::sync::mpsc;
use tracing::{error, warn};

/// Changes waiting for the directory task. Policy when full: the change is dropped and
/// counted (`Gateway::directory_rebuilds`), the directory is marked stale, and the task
/// rebuilds it whole from the store at its next turn; the effects task never waits.
pub const CHANGES_QUEUED: usize = 4096;
/// Most changes applied before a version is published (a burst is one new version).
const BATCH: usize = 1024;

/// One change to the estate data, after its record is durable.
#[derive(Debug)]
pub enum Change {
    Pass(Arc<Pass>),
    Person(Arc<Person>),
    Estate(Arc<SharedEstate>),
}

/// Hands `change` to the directory task without waiting (see [`CHANGES_QUEUED`]).
pub(crate) fn offer(shared: &Shared, change: Change) {
    if shared.directory_changes.try_send(change).is_err() {
        shared.directory_stale.store(true, Ordering::Relaxed);
        shared.directory_rebuilds.fetch_add(1, Ordering::Relaxed);
        // Wake the task so that it rebuilds even if no other change comes.
        let _ = shared.directory_wake.send(true);
    }
}

/// Applies changes in batches and publishes each new version, until every sender is gone.
pub(crate) async fn run(
    mut changes: mpsc::Receiver<Change>,
    mut wake: tokio::sync::watch::Receiver<bool>,
    shared: Arc<Shared>,
    mut current: Arc<Directory>,
    shutdown: tokio_util::sync::CancellationToken,
) {
    loop {
        let mut batch = Vec::new();
        tokio::select! {
            () = shutdown.cancelled() => break,
            got = changes.recv() => match got {
                Some(change) => batch.push(change),
                None => break,
            },
            woke = wake.changed() => if woke.is_err() { break },
        }
        while batch.len() < BATCH {
            match changes.try_recv() {
                Ok(change) => batch.push(change),
                Err(_) => break,
            }
        }
        let rebuild = shared.directory_stale.swap(false, Ordering::Relaxed);
        let store = shared.reader.clone();
        let built = tokio::task::spawn_blocking(move || {
            // The published version is shared with this task: one copy of the directory is
            // held between changes, and a batch of changes copies it once (readers keep the
            // old version until they let go of it).
            let next = Arc::make_mut(&mut current);
            if rebuild {
                // From the store: these copies are the directory's own until the core's
                // next change to each replaces it with the shared one.
                match store.load_estate() {
                    Ok(estate) => next.load(&estate.into()),
                    Err(e) => error!(error = %e, "Could not reload the people directory; searches may miss recent changes until the next change."),
                }
            }
            for change in batch {
                match change {
                    Change::Pass(p) => next.put_pass(p),
                    Change::Person(p) => next.put_person(p),
                    Change::Estate(data) => next.load(&data),
                }
            }
            let published = current.clone();
            (current, published)
        })
        .await;
        match built {
            Ok((next, published)) => {
                current = next;
                shared.directory.send_replace(published);
            }
            Err(e) => {
                warn!(error = %e, "The people directory task failed; searches show the last version.");
                break;
            }
        }
    }
}
