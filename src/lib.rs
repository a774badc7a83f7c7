//! gatehouse: an access-control gateway for the gates of residential estates.
//!
//! The pieces, one per concept (see `docs/architecture.md` for one swipe through them):
//!
//! - `gatehouse_core` (crates/core): the sans-IO state machine — rules, decisions, events.
//! - `gatehouse_store` (crates/store): redb — estate data, hash-chained event log, outbox.
//! - `gatehouse_runtime` (crates/runtime): the task that owns the core; write-ahead effects.
//! - `gatehouse_devices` (crates/devices): Modbus door controllers and their simulators.
//! - `gatehouse_bus` (crates/bus): MQTT — broker, readers, doors, events, office commands.
//! - `gatehouse_web` (crates/web): the HTTPS console for guards and the office.
//! - `gatehouse_occupancy` (crates/occupancy): occupancy inference, simulator, reports.
//! - this crate: configuration loading, imports, the daemon's wiring (with its live
//!   occupancy task, `occupancy`) and the command line.

pub mod backups;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod demo;
pub mod import;
pub mod logging;
pub mod occupancy;
pub mod sample;
