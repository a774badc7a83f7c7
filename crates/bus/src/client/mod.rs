//! The gateway's MQTT connections: where to connect (embedded or external broker, plain or
//! TLS with client certificates through rustls and the ring provider), in MQTT 5 or 3.1.1.
//!
//! - [`handle`]: what the rest of the bus uses, whichever the version: [`Message`] in,
//!   [`Client`] to publish and subscribe.
//! - [`drive`]: the main connection's event loop, polled all the time, reconnecting with our
//!   own backoff, falling back from MQTT 5 to 3.1.1, reporting the broker's state.
//!
//! rumqttc reconnects with no delay and, with a clean session, forgets subscriptions and
//! drops queued publishes on reconnect: [`drive::drive`] adds the backoff and tells everyone a
//! new connection is up so that [`crate::state`] resubscribes and republishes retained state.

pub mod drive;
pub mod handle;

pub use handle::{Client, ClientError, Message, Protocol, Will};

use crate::BusError;
use gatehouse_core::config::{Broker, BrokerMode};
use rumqttc::{AsyncClient, EventLoop, LastWill, MqttOptions, Transport};
use std::sync::Arc;
use std::time::Duration;

/// Incoming messages waiting for the dispatcher; past it they are dropped and logged (a
/// flood must not stall the event loop).
pub const INCOMING_CAPACITY: usize = 4096;
/// Requests (publishes, subscribes) waiting for the event loop.
const REQUEST_CAPACITY: usize = 1024;
/// Reconnect backoff: first wait, and the longest.
const BACKOFF_FIRST: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(10);

/// Where and how to connect.
#[derive(Clone)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    /// Set for `mqtts://`.
    tls: Option<Arc<rustls::ClientConfig>>,
    credentials: Option<(String, String)>,
}

/// The largest packet the gateway sends or takes.
const MAX_PACKET: usize = 256 * 1024;

impl Endpoint {
    /// Reads the `[broker]` section: the embedded broker at `listen`, or `url` with its CA,
    /// client certificate and key.
    pub fn from_config(broker: &Broker) -> Result<Endpoint, BusError> {
        let credentials = broker
            .username
            .clone()
            .map(|u| (u, broker.password.clone().unwrap_or_default()));
        match broker.mode {
            BrokerMode::Embedded => {
                let (host, port) = split_host_port(&broker.listen, 1883).ok_or_else(|| {
                    BusError::Config(format!(
                        "broker.listen '{}' is not host:port",
                        broker.listen
                    ))
                })?;
                // A broker listening on every interface is reached on loopback.
                let host = if host == "0.0.0.0" || host == "::" || host == "[::]" {
                    "127.0.0.1".into()
                } else {
                    host
                };
                Ok(Endpoint {
                    host,
                    port,
                    tls: None,
                    credentials,
                })
            }
            BrokerMode::External => {
                let url = broker.url.as_deref().ok_or_else(|| {
                    BusError::Config("broker.mode = \"external\" needs broker.url (mqtt://host:port or mqtts://host:port)".into())
                })?;
                let (tls, rest, default_port) = if let Some(rest) = url.strip_prefix("mqtts://") {
                    (true, rest, 8883)
                } else if let Some(rest) = url.strip_prefix("mqtt://") {
                    (false, rest, 1883)
                } else {
                    return Err(BusError::Config(format!(
                        "broker.url '{url}' must start with mqtt:// or mqtts://"
                    )));
                };
                let (host, port) = split_host_port(rest.trim_end_matches('/'), default_port)
                    .ok_or_else(|| {
                        BusError::Config(format!("broker.url '{url}' has no usable host:port"))
                    })?;
                let tls = if tls {
                    Some(Arc::new(tls_config(broker)?))
                } else {
                    None
                };
                Ok(Endpoint {
                    host,
                    port,
                    tls,
                    credentials,
                })
            }
        }
    }

    /// A plain endpoint (tests, the CLI).
    pub fn plain(host: &str, port: u16) -> Endpoint {
        Endpoint {
            host: host.into(),
            port,
            tls: None,
            credentials: None,
        }
    }

    /// Options for one connection: clean session (we resubscribe ourselves), keep-alive 15 s.
    pub fn options(&self, client_id: &str, will: Option<LastWill>) -> MqttOptions {
        let mut options = MqttOptions::new(client_id, self.host.clone(), self.port);
        options.set_keep_alive(Duration::from_secs(15));
        options.set_clean_session(true);
        options.set_max_packet_size(MAX_PACKET, MAX_PACKET);
        if let Some(will) = will {
            options.set_last_will(will);
        }
        if let Some((user, password)) = &self.credentials {
            options.set_credentials(user.clone(), password.clone());
        }
        if let Some(tls) = &self.tls {
            options.set_transport(Transport::tls_with_config(
                rumqttc::TlsConfiguration::Rustls(tls.clone()),
            ));
        }
        options
    }

    /// A client and its (not yet polled) event loop.
    pub fn connect(&self, client_id: &str, will: Option<LastWill>) -> (AsyncClient, EventLoop) {
        let (client, mut eventloop) =
            AsyncClient::new(self.options(client_id, will), REQUEST_CAPACITY);
        // A swipe's result is one small packet: Nagle plus delayed ACK would add ~40 ms.
        eventloop.network_options.set_tcp_nodelay(true);
        (client, eventloop)
    }

    /// The same in MQTT 5: clean start, no session kept after the connection.
    pub fn connect_v5(
        &self,
        client_id: &str,
        will: Option<rumqttc::v5::mqttbytes::v5::LastWill>,
    ) -> (rumqttc::v5::AsyncClient, rumqttc::v5::EventLoop) {
        let mut options = rumqttc::v5::MqttOptions::new(client_id, self.host.clone(), self.port);
        options.set_keep_alive(Duration::from_secs(15));
        options.set_clean_start(true);
        options.set_max_packet_size(Some(MAX_PACKET as u32));
        if let Some(will) = will {
            options.set_last_will(will);
        }
        if let Some((user, password)) = &self.credentials {
            options.set_credentials(user.clone(), password.clone());
        }
        if let Some(tls) = &self.tls {
            options.set_transport(Transport::tls_with_config(
                rumqttc::TlsConfiguration::Rustls(tls.clone()),
            ));
        }
        let mut network = rumqttc::NetworkOptions::new();
        network.set_tcp_nodelay(true);
        options.set_network_options(network);
        rumqttc::v5::AsyncClient::new(options, REQUEST_CAPACITY)
    }

    /// The same endpoint for another of the gateway's connections: its user name gets
    /// `suffix` (`-outbox`), because an external broker set up by `gatehouse broker acl`
    /// makes each client's id its user name.
    pub fn for_connection(&self, suffix: &str) -> Endpoint {
        let mut other = self.clone();
        if let Some((user, _)) = &mut other.credentials {
            user.push_str(suffix);
        }
        other
    }
}

/// `host:port` or `[v6]:port`, with a default port.
fn split_host_port(text: &str, default_port: u16) -> Option<(String, u16)> {
    if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None if after.is_empty() => default_port,
            None => return None,
        };
        return Some((host.to_string(), port));
    }
    match text.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() => Some((host.to_string(), port.parse().ok()?)),
        Some(_) => None,
        None if !text.is_empty() => Some((text.to_string(), default_port)),
        None => None,
    }
}

/// rustls with the ring provider: the CA that signed the broker's certificate (`broker.ca`),
/// and our client certificate (`broker.cert` + `broker.key`) when the broker wants one.
fn tls_config(broker: &Broker) -> Result<rustls::ClientConfig, BusError> {
    let ca_path = broker.ca.as_deref().ok_or_else(|| {
        BusError::Config("an mqtts:// broker.url needs broker.ca: the PEM file of the CA that signed the broker's certificate".into())
    })?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in read_certs(ca_path)? {
        roots.add(cert).map_err(|e| BusError::Tls {
            path: ca_path.into(),
            problem: e.to_string(),
        })?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| BusError::Config(format!("TLS: {e}")))?
        .with_root_certificates(roots);
    match (&broker.cert, &broker.key) {
        (Some(cert), Some(key)) => {
            let chain = read_certs(cert)?;
            let key_der = read_key(key)?;
            builder
                .with_client_auth_cert(chain, key_der)
                .map_err(|e| BusError::Tls {
                    path: key.clone(),
                    problem: format!("does not match broker.cert: {e}"),
                })
        }
        (None, None) => Ok(builder.with_no_client_auth()),
        _ => Err(BusError::Config(
            "broker.cert and broker.key go together: set both or neither".into(),
        )),
    }
}

fn read_pem(path: &str) -> Result<Vec<u8>, BusError> {
    std::fs::read(path).map_err(|e| BusError::Tls {
        path: path.into(),
        problem: e.to_string(),
    })
}

fn read_certs(path: &str) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>, BusError> {
    let pem = read_pem(path)?;
    let certs = rustls_pemfile::certs(&mut pem.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| BusError::Tls {
            path: path.into(),
            problem: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(BusError::Tls {
            path: path.into(),
            problem: "holds no certificate".into(),
        });
    }
    Ok(certs)
}

fn read_key(path: &str) -> Result<rustls::pki_types::PrivateKeyDer<'static>, BusError> {
    let pem = read_pem(path)?;
    rustls_pemfile::private_key(&mut pem.as_slice())
        .map_err(|e| BusError::Tls {
            path: path.into(),
            problem: e.to_string(),
        })?
        .ok_or_else(|| BusError::Tls {
            path: path.into(),
            problem: "holds no private key".into(),
        })
}

/// Reconnect delays: doubling from [`BACKOFF_FIRST`] up to [`BACKOFF_MAX`], with jitter so
/// that a street office's gateways do not all reconnect in the same instant.
pub struct Backoff {
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            next: BACKOFF_FIRST,
        }
    }
}

impl Backoff {
    pub fn reset(&mut self) {
        self.next = BACKOFF_FIRST;
    }

    pub fn next_delay(&mut self) -> Duration {
        let base = self.next;
        self.next = (self.next * 2).min(BACKOFF_MAX);
        let jitter = u64::from(uuid::Uuid::new_v4().as_bytes()[0]) * base.as_millis() as u64 / 1024;
        base + Duration::from_millis(jitter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_and_port_forms() {
        assert_eq!(
            split_host_port("127.0.0.1:1883", 1),
            Some(("127.0.0.1".into(), 1883))
        );
        assert_eq!(
            split_host_port("broker.lan", 8883),
            Some(("broker.lan".into(), 8883))
        );
        assert_eq!(split_host_port("[::1]:1884", 1), Some(("::1".into(), 1884)));
        assert_eq!(split_host_port(":1883", 1), None);
        assert_eq!(split_host_port("h:x", 1), None);
    }

    #[test]
    fn external_broker_urls() {
        let mut b = Broker {
            mode: BrokerMode::External,
            url: Some("mqtt://10.0.0.5".into()),
            ..Broker::default()
        };
        let e = Endpoint::from_config(&b).unwrap();
        assert_eq!(
            (e.host.as_str(), e.port, e.tls.is_none()),
            ("10.0.0.5", 1883, true)
        );
        b.url = Some("mqtts://broker:8884".into());
        let err = Endpoint::from_config(&b).err().unwrap().to_string();
        assert!(err.contains("broker.ca"), "{err}");
        b.url = Some("http://broker".into());
        assert!(Endpoint::from_config(&b).is_err());
        b.url = None;
        assert!(
            Endpoint::from_config(&b)
                .err()
                .unwrap()
                .to_string()
                .contains("broker.url")
        );
    }

    #[test]
    fn backoff_grows_to_its_limit() {
        let mut b = Backoff::default();
        let first = b.next_delay();
        assert!(first >= BACKOFF_FIRST && first < BACKOFF_FIRST * 2);
        for _ in 0..20 {
            b.next_delay();
        }
        let late = b.next_delay();
        assert!(late >= BACKOFF_MAX && late < BACKOFF_MAX * 2);
        b.reset();
        assert!(b.next_delay() < BACKOFF_FIRST * 2);
    }
}
