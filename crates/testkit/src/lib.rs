//! Test support for gatehouse's tests, benchmarks and examples: the one copy of what more than
//! one test file needs. Dev-only: it is a `[dev-dependencies]` entry, never a normal dependency
//! of a shipped crate.
//!
//! - [`ports`]: free loopback ports, and waiting for a server to listen on one.
//! - [`estate`]: the shared test estates, each a named fixture.
//! - `mqtt` (feature `mqtt`): Mosquitto and the embedded broker, an in-process gateway, MQTT
//!   probes and signed office commands.
//! - [`district`]: the district's peers, a three-node NATS cluster and a PostgreSQL server.
//! - [`serial`]: a pseudo-terminal pair standing in for an RS-485 line.
//! - [`certs`]: CAs and certificates made with the `openssl` CLI.

#![warn(missing_docs)]

pub mod certs;
pub mod district;
pub mod estate;
#[cfg(feature = "mqtt")]
pub mod mqtt;
pub mod ports;
pub mod serial;

/// The repository's root (the directory of the workspace's `Cargo.toml`), for its scripts
/// and test peers.
pub fn repo() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/testkit lies two levels below the repository's root")
        .to_path_buf()
}
