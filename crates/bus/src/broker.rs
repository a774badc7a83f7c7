//! The embedded MQTT broker (rumqttd, default features off): what a single estate runs when it
//! has no broker of its own. It speaks MQTT 3.1.1 on one listener, loopback by default.
//!
//! rumqttd keeps retained messages and sessions in memory only, so the gateway republishes all
//! retained state after every connection (see [`crate::state`]). Its server threads cannot be
//! stopped; the broker lives as long as the process.

use crate::BusError;
use rumqttd::{Broker, Config, ConnectionSettings, RouterConfig, ServerSettings};
use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};
use tracing::info;

/// A running embedded broker.
#[derive(Debug, Clone)]
pub struct BrokerHandle {
    /// Where it listens.
    pub addr: SocketAddr,
}

/// Payloads the embedded broker accepts: the spec's 4 KiB plus room for event records and
/// Home Assistant discovery documents.
const MAX_PAYLOAD: usize = 64 * 1024;

/// Starts the embedded broker on `listen` (`host:port`) and waits until it accepts
/// connections. A taken port is [`BusError::ListenTaken`], naming the flag and the key that
/// choose another.
pub fn start_embedded(listen: &str) -> Result<BrokerHandle, BusError> {
    let addr = listen
        .to_socket_addrs()
        .map_err(|e| BusError::Config(format!("broker.listen '{listen}' is not host:port ({e})")))?
        .next()
        .ok_or_else(|| BusError::Config(format!("broker.listen '{listen}' names no address")))?;
    // rumqttd reports a failed bind only in its log, from its own thread: find out first.
    drop(
        TcpListener::bind(addr).map_err(|source| BusError::ListenTaken {
            listen: listen.to_string(),
            source,
        })?,
    );
    let mut broker = Broker::new(config(addr));
    std::thread::Builder::new()
        .name("mqtt-broker".into())
        .spawn(move || {
            if let Err(e) = broker.start() {
                tracing::error!(error = %e, "Embedded MQTT broker stopped.");
            }
        })
        .map_err(|e| BusError::Broker(e.to_string()))?;
    let connect_to = if addr.ip().is_unspecified() {
        SocketAddr::from(([127, 0, 0, 1], addr.port()))
    } else {
        addr
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while TcpStream::connect_timeout(&connect_to, Duration::from_millis(200)).is_err() {
        if Instant::now() > deadline {
            return Err(BusError::Broker(format!(
                "nothing accepts connections on {addr} after 5 s"
            )));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    info!(listen = %addr, "Embedded MQTT broker listening.");
    Ok(BrokerHandle { addr })
}

fn config(addr: SocketAddr) -> Config {
    let server = ServerSettings {
        name: "v4".into(),
        listen: addr,
        tls: None,
        next_connection_delay_ms: 1,
        connections: ConnectionSettings {
            connection_timeout_ms: 10_000,
            max_payload_size: MAX_PAYLOAD,
            max_inflight_count: 200,
            auth: None,
            external_auth: None,
            dynamic_filters: true,
        },
    };
    Config {
        id: 0,
        router: RouterConfig {
            max_connections: 1024,
            max_outgoing_packet_count: 200,
            // Each filter's in-memory log: small, a gateway publishes little per topic.
            max_segment_size: 4 * 1024 * 1024,
            max_segment_count: 4,
            ..RouterConfig::default()
        },
        v4: Some(HashMap::from([("v4".to_string(), server)])),
        ..Config::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_port_names_the_flag_and_the_key() {
        let taken = TcpListener::bind("127.0.0.1:0").unwrap();
        let listen = taken.local_addr().unwrap().to_string();
        let err = start_embedded(&listen).unwrap_err().to_string();
        assert!(
            err.contains("--mqtt-listen") && err.contains("broker.listen") && err.contains(&listen),
            "{err}"
        );
    }
}
