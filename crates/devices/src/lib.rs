//! gatehouse's Modbus door controllers: vendor profiles, the links that poll and drive them,
//! and built-in simulators of the shipped profiles (`docs/interfaces.md#modbus-controllers`).
//!
//! - [`profile`]: vendor profiles as TOML data, loaded and checked.
//! - [`modbus`]: one task per TCP controller or RS-485 bus — polling, commands, health.
//! - [`sim`]: simulated controllers (Modbus TCP and RTU servers) for the demo and the tests.
//!
//! The daemon calls [`run`]; `gatehouse demo` also calls [`sim::spawn_for_config`].

pub mod modbus;
pub mod profile;
pub mod sim;

pub use profile::{Profile, ProfileError, Profiles};

use gatehouse_core::config::Config;
use gatehouse_runtime::Gateway;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Drives every controller of `config`: one task per TCP controller and one per RS-485 bus.
/// The returned handle ends once `shutdown` fires and every task has stopped (pulses in
/// progress are ended first). Check the configuration with [`Profiles::check`] beforehand:
/// controllers that fail it are logged and left out here.
pub fn run(
    config: &Config,
    profiles: Profiles,
    gateway: Gateway,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    let tasks: Vec<JoinHandle<()>> = modbus::buses(config, &profiles, &gateway)
        .into_iter()
        .map(|bus| tokio::spawn(bus.run(shutdown.clone())))
        .collect();
    tokio::spawn(async move {
        futures::future::join_all(tasks).await;
    })
}
