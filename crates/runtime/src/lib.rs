//! The runtime around gatehouse's sans-IO core: one task owns the [`Core`], fed by a bounded
//! channel; adapters (devices, MQTT, web, CLI) talk to it through a cloneable [`Gateway`].
//!
//! - [`gateway`]: the handle adapters hold — submit inputs, read state, subscribe to events,
//!   register door drivers.
//! - [`owner`]: the task that owns the core and hands records to the log.
//! - [`effects`]: write-ahead execution — a record's effects run only once it is durable.
//!
//! Backpressure, per channel: inputs that expect an answer wait for room (`submit`); hardware
//! signals are dropped when the core is saturated and counted (`signal`); the live-event
//! broadcast drops for slow subscribers (they see `Lagged` and re-read the store).

pub mod effects;
pub mod gateway;
pub mod owner;

pub use gateway::{BrokerStatus, DoorCommand, Gateway, Live, RuntimeError};
pub use owner::start;

pub use gatehouse_core::Core;
