//! The runtime around gatehouse's sans-IO core: one task owns the [`Core`], fed by a bounded
//! channel; adapters (devices, MQTT, web, CLI) talk to it through a cloneable [`Gateway`].
//!
//! - [`gateway`]: the handle adapters hold — submit inputs, read state, subscribe to events,
//!   register door drivers.
//! - [`owner`]: the task that owns the core and hands records to the log.
//! - [`effects`]: write-ahead execution — a record's effects run only once it is durable.
//! - [`directory`]: the people directory, updated off the core's task and published as
//!   immutable versions for the console's and the CLI's reads.
//! - [`actuation`]: unlock deadlines and outcomes (`unlock_failed`).
//! - [`refusals`]: refused input counted per source and written as one summary per interval.
//! - [`health`]: the health facts (log writable, broker, controllers, queues, disk) and the
//!   readiness checks, one source for the metrics listener and the console.
//! - [`metrics`]: Prometheus instruments and the exposition of one scrape.
//! - [`log_check`]: the periodic check of the whole log, raising `alarm` `log_damaged`.
//! - [`offline`]: the core without the daemon, for the CLI's one-off changes.
//!
//! Two lanes into the core: urgent (door signals, fire inputs, signed commands; taken first)
//! and ordinary (swipes, console, reads). Backpressure, per channel: inputs that expect an
//! answer wait for room (`submit`, `enqueue`); hardware signals are dropped when their lane is
//! full and counted (`signal`); refused input is never queued, only counted (`refuse`); the
//! live-event broadcast drops for slow subscribers (they see `Lagged` and re-read the store);
//! directory changes are dropped when their queue is full, counted, and the directory rebuilt
//! from the store.

pub mod actuation;
pub mod directory;
pub mod effects;
pub mod gateway;
pub mod health;
pub mod log_check;
pub mod metrics;
pub mod offline;
pub mod owner;
pub mod refusals;

pub use actuation::{ActuationError, Outcome};
pub use gateway::{
    BrokerStatus, DoorCommand, Gateway, Live, PendingReplies, ReplayRequest, RuntimeError,
    is_urgent,
};
pub use owner::start;

pub use gatehouse_core::Core;
