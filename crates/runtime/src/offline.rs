//! The core without the daemon. The CLI's one-off changes (`gatehouse decide`, `gatehouse
//! import residents`, the demo's first import) build the same [`Core`] on the store (which no
//! gateway holds meanwhile: the store is one process's) and carry out its outputs in the
//! daemon's order: each record appended durably first, then what it changed saved. So the CLI
//! makes its records, and writes estate data, through the core as the daemon does.

use gatehouse_core::Event;
use gatehouse_core::config::Config;
use gatehouse_core::estate::EstateData;
use gatehouse_core::io::{DoorAction, Effect, Input, Output, Reply};
use gatehouse_core::{Core, CoreError};
use gatehouse_store::{Store, StoreError};
use jiff::Timestamp;

/// What one input came to.
#[derive(Debug, Default)]
pub struct Carried {
    /// The records written, as stored (seq, id, hashes set), in order.
    pub records: Vec<Event>,
    /// The answers for whoever sent the input (an access reply carries its record's id).
    pub replies: Vec<Reply>,
    /// The doors a gateway would have driven; the CLI has no controller connection.
    pub doors: Vec<(String, DoorAction)>,
}

/// Why an input could not be carried out.
#[derive(Debug, thiserror::Error)]
pub enum OfflineError {
    /// The configuration and the store's state do not make a core.
    #[error("{0}; run `gatehouse check-config` on the configuration")]
    Core(#[from] CoreError),
    /// The store could not be read or written; records before the failure are kept.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Builds the core from the configuration, the estate `estate` (read from `store` by the
/// caller, who often needs it first) and the state restored from `store`.
pub fn core(config: &Config, store: &Store, estate: EstateData) -> Result<Core, OfflineError> {
    let restored = store.restored(config.policy.restore_since(Timestamp::now()))?;
    Ok(Core::new(config, estate, restored)?)
}

/// Hands `input` to `core` and carries out what it asks: each record appended (durable)
/// before any of its effects, saves written, replies and door actions collected, state
/// publications left out (nobody is subscribed to a CLI).
pub fn handle(
    core: &mut Core,
    store: &Store,
    input: Input,
    now: Timestamp,
) -> Result<Carried, OfflineError> {
    let mut carried = Carried::default();
    for output in core.handle(input, now) {
        match output {
            Output::Record { event, then } => {
                let stored = store.append_blocking(event)?;
                for effect in then {
                    carry_out(store, effect, Some(&stored), &mut carried)?;
                }
                carried.records.push(stored);
            }
            Output::Effect(effect) => carry_out(store, effect, None, &mut carried)?,
        }
    }
    Ok(carried)
}

fn carry_out(
    store: &Store,
    effect: Effect,
    record: Option<&Event>,
    carried: &mut Carried,
) -> Result<(), OfflineError> {
    match effect {
        Effect::Save(save) => store.apply(&save)?,
        Effect::Reply(Reply::Access(mut r)) => {
            if let Some(record) = record {
                r.event = record.id.clone();
            }
            carried.replies.push(Reply::Access(r));
        }
        Effect::Reply(reply) => carried.replies.push(reply),
        Effect::Door { door, action } => carried.doors.push((door, action)),
        Effect::Publish(_) => {}
    }
    Ok(())
}
