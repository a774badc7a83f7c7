//! The embedded MQTT broker: what a single estate runs when it has no broker of its own.
//! It is rmqtt (MQTT 3.1.1 and 5) running on the daemon's tokio runtime, with
//!
//! - TCP_NODELAY on every accepted connection (a swipe's result is one small packet: Nagle's
//!   algorithm meeting a delayed ACK would add ~40 ms per hop);
//! - retained messages kept in memory ([`retained`]), every one delivered at every QoS, up to
//!   the configured per-client queue;
//! - logins and per-client rights derived from the estate ([`guard`], [`rights`]); the
//!   gateway's own client ids are reserved for the gateway, which logs in with a password
//!   made at each start;
//! - the limits of the `[broker]` section: payload size, connections, in-flight window,
//!   queue, retained topics.
//!
//! Retained messages and sessions live in memory only: the gateway republishes all retained
//! state after every connection (see [`crate::state`]).

pub mod acl;
pub mod guard;
pub mod log_budget;
pub mod retained;
pub mod rights;

use crate::BusError;
use gatehouse_core::config::Config;
use rmqtt::context::ServerContext;
use rmqtt::net::Builder;
use rmqtt::server::MqttServer;
use std::net::{SocketAddr, ToSocketAddrs};
use std::num::NonZeroU16;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::AbortHandle;
use tracing::info;

/// A running embedded broker.
#[derive(Debug, Clone)]
pub struct BrokerHandle {
    /// Where it listens (the real port when the configuration said port 0).
    pub addr: SocketAddr,
    /// The gateway's login on this broker: its client id as user name and `broker.password`,
    /// or a password made at this start. Put into `broker.username` / `broker.password`
    /// before [`crate::run`].
    pub gateway_login: (String, String),
    task: AbortHandle,
}

impl BrokerHandle {
    /// Stops accepting connections (tests; the daemon's broker lives as long as it does).
    pub fn stop(&self) {
        self.task.abort();
    }
}

/// The gateway's MQTT client id: `broker.client_id`, or `gatehouse-{site}`. The broker
/// reserves it and every id that starts with it and a `-` (the outbox's connection).
pub fn gateway_client_id(config: &Config) -> String {
    config
        .broker
        .client_id
        .clone()
        .unwrap_or_else(|| format!("gatehouse-{}", config.site.id))
}

/// Starts the embedded broker on `listen` (`host:port`) with the limits, logins and rights
/// of `config`. Must run inside a tokio runtime; the listening socket is bound before this
/// returns. A taken port is [`BusError::ListenTaken`], naming the flag and the key that
/// choose another; anonymous logins on a non-loopback address are refused here.
pub async fn start_embedded(config: &Config, listen: &str) -> Result<BrokerHandle, BusError> {
    let broker = &config.broker;
    let addr = listen
        .to_socket_addrs()
        .map_err(|e| BusError::Config(format!("broker.listen '{listen}' is not host:port ({e})")))?
        .next()
        .ok_or_else(|| BusError::Config(format!("broker.listen '{listen}' names no address")))?;
    if broker.allow_anonymous && !addr.ip().is_loopback() {
        return Err(BusError::Config(format!(
            "the embedded broker would listen on {addr}, which other machines can reach, while broker.allow_anonymous is on; set allow_anonymous = false and give every reader, door controller and issuer a [[broker.users]] login, or listen on 127.0.0.1"
        )));
    }
    let inflight = NonZeroU16::new(broker.max_inflight)
        .ok_or_else(|| BusError::Config("broker.max_inflight must be at least 1".into()))?;
    let client_id = gateway_client_id(config);
    // A configured broker.password is the gateway's own (tools that must write outside the
    // estate's topics, like the benchmark's echo pair, log in with it); else one per start.
    let password = match &broker.password {
        Some(p) if !p.is_empty() => p.clone(),
        _ => random_password()?,
    };
    let guard = guard::Guard::new(config, &client_id, &password, broker.allow_anonymous);

    let scx = ServerContext::new()
        // Refusing connections when the machine is busy would lock readers out exactly
        // when the gateway is under load.
        .busy_check_enable(false)
        .mqtt_max_sessions(broker.max_connections as isize)
        .build()
        .await;
    *scx.extends.retain_mut().await = Box::new(retained::Retained::new(broker.max_retained));
    guard::register(&scx, Arc::new(guard)).await;

    let listener = Builder::new()
        .name("gatehouse")
        .laddr(addr)
        .nodelay(true)
        // A gateway restarted at once binds its port again even while the previous run's
        // connections linger in TIME_WAIT.
        .reuseaddr(Some(true))
        // Logins are checked by our guard even without a user name (it knows the reserved
        // client ids and whether anonymous readers are welcome).
        .allow_anonymous(false)
        .max_connections(broker.max_connections)
        .max_packet_size(broker.max_payload.saturating_add(PACKET_OVERHEAD))
        .max_inflight(inflight)
        .max_mqueue_len(broker.max_queued)
        .handshake_timeout(Duration::from_secs(10))
        .bind()
        .map_err(|e| listen_error(listen, e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| BusError::Broker(e.to_string()))?;
    let server = MqttServer::new(scx)
        .listener_by_id(
            listener
                .tcp()
                .map_err(|e| BusError::Broker(e.to_string()))?,
            1,
        )
        .build();
    let task = tokio::spawn(async move {
        if let Err(e) = server.run().await {
            tracing::error!(error = %e, "Embedded MQTT broker stopped; restart gatehouse.");
        }
    })
    .abort_handle();
    info!(listen = %addr, max_payload = broker.max_payload, max_connections = broker.max_connections, anonymous = broker.allow_anonymous, users = broker.users.len(), "Embedded MQTT broker listening.");
    Ok(BrokerHandle {
        addr,
        gateway_login: (client_id, password),
        task,
    })
}

/// Room for the topic and the fixed and variable headers around a payload of
/// `broker.max_payload` bytes.
const PACKET_OVERHEAD: u32 = 1024;

fn listen_error(listen: &str, e: rmqtt::Error) -> BusError {
    match e.downcast::<std::io::Error>() {
        Ok(source) => BusError::ListenTaken {
            listen: listen.to_string(),
            source,
        },
        Err(e) => BusError::Broker(format!("cannot listen on {listen}: {e}")),
    }
}

fn random_password() -> Result<String, BusError> {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes)
        .map_err(|e| BusError::Broker(format!("no randomness for the gateway's login: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    fn config() -> Config {
        toml::from_str("[site]\nid = \"n\"\nname = \"N\"\n").unwrap()
    }

    #[tokio::test]
    async fn a_taken_port_names_the_flag_and_the_key() {
        let taken = TcpListener::bind("127.0.0.1:0").unwrap();
        let listen = taken.local_addr().unwrap().to_string();
        let err = start_embedded(&config(), &listen)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("--mqtt-listen") && err.contains("broker.listen") && err.contains(&listen),
            "{err}"
        );
    }

    #[tokio::test]
    async fn anonymous_logins_on_a_reachable_address_refuse_to_start() {
        let err = start_embedded(&config(), "0.0.0.0:0")
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("allow_anonymous"), "{err}");
        let mut closed = config();
        closed.broker.allow_anonymous = false;
        let handle = start_embedded(&closed, "0.0.0.0:0").await.unwrap();
        assert_ne!(handle.addr.port(), 0);
        assert_eq!(handle.gateway_login.0, "gatehouse-n");
        assert_eq!(handle.gateway_login.1.len(), 48);
        handle.stop();
    }
}
