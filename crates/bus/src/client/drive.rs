//! The main connection's event loop: polled all the time, reconnecting with our own backoff,
//! choosing the MQTT version, and saying how the broker is doing.
//!
//! - With `broker.protocol = "auto"` the gateway speaks MQTT 5 first. A broker that answers
//!   a version 5 CONNECT with anything but a ConnAck (NATS answers "unacceptable protocol
//!   version" in 3.1.1 form and closes) before the gateway was ever connected over 5 is
//!   spoken to in 3.1.1 from then on. A broker that cannot be reached, refuses the login or
//!   fails TLS is not a reason to fall back.
//! - Failures are logged once per distinct cause as errors with what to do (repeats at
//!   debug), losses as warnings; each change goes to [`Gateway::set_broker_status`] (or,
//!   for the uplink, [`Gateway::set_uplink_status`]).
//! - Given several endpoints (the uplink's district nodes), a failed attempt or a lost
//!   connection moves to the next one, in turn, with the same backoff.

use super::handle::{Client, Link, Message, Protocol, Will};
use super::{Backoff, Endpoint};
use gatehouse_core::config::BrokerProtocol;
use gatehouse_runtime::{BrokerStatus, Gateway};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info, warn};

/// One version's event loop.
// One per connection, alive as long as it is: the size difference costs nothing.
#[allow(clippy::large_enum_variant)]
enum Loop {
    V311(rumqttc::EventLoop),
    V5(Box<rumqttc::v5::EventLoop>),
}

/// What one poll came to, in either version.
/// The first wait before a refused subscription is asked for again, and the longest.
const RESUBSCRIBE_FIRST: std::time::Duration = std::time::Duration::from_secs(2);
const RESUBSCRIBE_MAX: std::time::Duration = std::time::Duration::from_secs(60);

enum Polled {
    ConnAck,
    /// A SUBACK refused one of the filters (NATS does while its MQTT streams elect a leader).
    SubscribeRefused,
    Message(Message),
    Other,
    Failed(Failure),
}

/// Why a connection attempt or a connection failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Nothing answered at the address (refused, unreachable, timed out).
    Unreachable(String),
    /// The TLS handshake or a TLS record failed: certificates.
    Tls(String),
    /// The broker refused the gateway's login.
    Login(String),
    /// The broker answered, but not with an MQTT ConnAck of this version, or refused it for
    /// another reason.
    Protocol(String),
    /// A working connection ended.
    Lost(String),
}

impl Failure {
    /// The log line's message: the cause and what to do, naming the settings of the
    /// connection's own section (`[broker]` or `[uplink]`).
    pub fn advice(&self, role: Role) -> String {
        let (what, s, address) = match role {
            Role::Estate => (
                "the MQTT broker",
                "broker",
                "broker.url or broker.listen names it",
            ),
            Role::Uplink => (
                "the district broker",
                "uplink",
                "uplink.urls names its nodes",
            ),
        };
        match self {
            Failure::Unreachable(e) => {
                format!("cannot reach {what} ({e}); check that it runs and that {address}")
            }
            Failure::Tls(e) => format!(
                "TLS with {what} failed ({e}); check {s}.ca (the CA that signed the broker's certificate) and {s}.cert / {s}.key (a client certificate the broker's CA signed)"
            ),
            Failure::Login(e) => format!(
                "{what} refused the gateway's login ({e}); check {s}.username and {s}.password (or the client certificate) against the broker's password file and ACL"
            ),
            Failure::Protocol(e) => format!(
                "{what} refused the connection ({e}); check that {s}.url{} an MQTT listener, or set {s}.protocol",
                if role == Role::Uplink {
                    "s name"
                } else {
                    " names"
                }
            ),
            Failure::Lost(e) => format!("lost {what} ({e}); reconnecting"),
        }
    }

    /// May the next attempt use 3.1.1 instead of 5?
    fn suggests_older_protocol(&self) -> bool {
        matches!(self, Failure::Protocol(_) | Failure::Lost(_))
    }
}

fn io_failure(e: &std::io::Error) -> Failure {
    use std::io::ErrorKind::*;
    if let Some(tls) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        return Failure::Tls(tls.to_string());
    }
    match e.kind() {
        ConnectionRefused | TimedOut | HostUnreachable | NetworkUnreachable | AddrNotAvailable
        | NotFound => Failure::Unreachable(e.to_string()),
        _ => Failure::Lost(e.to_string()),
    }
}

/// rumqttc wraps a TLS alert read after the handshake (a broker that wants a client
/// certificate says so only then) in its decoder's error: recognised by its text.
fn tls_alert(failure: Failure) -> Failure {
    match failure {
        Failure::Lost(text) | Failure::Protocol(text)
            if text.contains("alert") || text.contains("certificate") =>
        {
            Failure::Tls(text)
        }
        other => other,
    }
}

fn failure_v311(e: rumqttc::ConnectionError) -> Failure {
    tls_alert(classify_v311(e))
}

fn failure_v5(e: rumqttc::v5::ConnectionError) -> Failure {
    tls_alert(classify_v5(e))
}

fn classify_v311(e: rumqttc::ConnectionError) -> Failure {
    use rumqttc::{ConnectReturnCode as C, ConnectionError as E};
    match e {
        E::Io(io) => io_failure(&io),
        E::Tls(t) => Failure::Tls(t.to_string()),
        E::NetworkTimeout => Failure::Unreachable("connection timed out".into()),
        E::ConnectionRefused(C::BadUserNamePassword | C::NotAuthorized) => {
            Failure::Login(e.to_string())
        }
        E::ConnectionRefused(_) | E::NotConnAck(_) => Failure::Protocol(e.to_string()),
        E::MqttState(rumqttc::StateError::Io(io)) => io_failure(&io),
        other => Failure::Lost(other.to_string()),
    }
}

fn classify_v5(e: rumqttc::v5::ConnectionError) -> Failure {
    use rumqttc::v5::ConnectionError as E;
    use rumqttc::v5::mqttbytes::v5::ConnectReturnCode as C;
    match e {
        E::Io(io) => io_failure(&io),
        E::Tls(t) => Failure::Tls(t.to_string()),
        E::Timeout(_) => Failure::Unreachable("connection timed out".into()),
        E::ConnectionRefused(C::BadUserNamePassword | C::NotAuthorized | C::Banned) => {
            Failure::Login(e.to_string())
        }
        E::ConnectionRefused(_) | E::NotConnAck(_) => Failure::Protocol(e.to_string()),
        E::MqttState(rumqttc::v5::StateError::Io(io)) => io_failure(&io),
        E::MqttState(rumqttc::v5::StateError::Deserialization(d)) => {
            Failure::Protocol(d.to_string())
        }
        other => Failure::Lost(other.to_string()),
    }
}

impl Loop {
    async fn poll(&mut self) -> Polled {
        match self {
            Loop::V311(l) => match l.poll().await {
                Ok(rumqttc::Event::Incoming(rumqttc::Packet::ConnAck(_))) => Polled::ConnAck,
                Ok(rumqttc::Event::Incoming(rumqttc::Packet::SubAck(ack)))
                    if ack
                        .return_codes
                        .iter()
                        .any(|c| !matches!(c, rumqttc::SubscribeReasonCode::Success(_))) =>
                {
                    Polled::SubscribeRefused
                }
                Ok(rumqttc::Event::Incoming(rumqttc::Packet::Publish(p))) => {
                    Polled::Message(Message {
                        topic: p.topic,
                        payload: p.payload,
                        retain: p.retain,
                    })
                }
                Ok(_) => Polled::Other,
                Err(e) => Polled::Failed(failure_v311(e)),
            },
            Loop::V5(l) => match l.poll().await {
                Ok(rumqttc::v5::Event::Incoming(rumqttc::v5::Incoming::ConnAck(_))) => {
                    Polled::ConnAck
                }
                Ok(rumqttc::v5::Event::Incoming(rumqttc::v5::Incoming::SubAck(ack)))
                    if ack.return_codes.iter().any(|c| {
                        !matches!(
                            c,
                            rumqttc::v5::mqttbytes::v5::SubscribeReasonCode::Success(_)
                        )
                    }) =>
                {
                    Polled::SubscribeRefused
                }
                Ok(rumqttc::v5::Event::Incoming(rumqttc::v5::Incoming::Publish(p))) => {
                    Polled::Message(Message {
                        topic: String::from_utf8_lossy(&p.topic).into_owned(),
                        payload: p.payload,
                        retain: p.retain,
                    })
                }
                Ok(_) => Polled::Other,
                Err(e) => Polled::Failed(failure_v5(e)),
            },
        }
    }

    /// On shutdown, gives the last requests (the `offline` status, the disconnect) a moment
    /// to leave; the last will covers a broker that cannot be reached.
    async fn flush(&mut self) {
        let sent = async {
            loop {
                let done = match self {
                    Loop::V311(l) => match l.poll().await {
                        Ok(rumqttc::Event::Outgoing(rumqttc::Outgoing::Disconnect)) | Err(_) => {
                            true
                        }
                        Ok(_) => false,
                    },
                    Loop::V5(l) => match l.poll().await {
                        Ok(rumqttc::v5::Event::Outgoing(rumqttc::Outgoing::Disconnect))
                        | Err(_) => true,
                        Ok(_) => false,
                    },
                };
                if done {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(Duration::from_millis(500), sent).await;
    }
}

/// The first version to try.
pub fn first_protocol(setting: BrokerProtocol) -> Protocol {
    match setting {
        BrokerProtocol::V311 => Protocol::V311,
        BrokerProtocol::Auto | BrokerProtocol::V5 => Protocol::V5,
    }
}

/// A client link and its event loop for one version.
fn open(endpoint: &Endpoint, client_id: &str, will: &Will, protocol: Protocol) -> (Link, Loop) {
    match protocol {
        Protocol::V311 => {
            let (client, eventloop) = endpoint.connect(client_id, Some(will.v311()));
            (Link::V311(client), Loop::V311(eventloop))
        }
        Protocol::V5 => {
            let (client, eventloop) = endpoint.connect_v5(client_id, Some(will.v5()));
            (Link::V5(client), Loop::V5(Box::new(eventloop)))
        }
    }
}

/// The main connection, before its loop runs: the handle everyone publishes with.
pub struct Connection {
    pub client: Client,
    eventloop: Loop,
    protocol: Protocol,
}

impl Connection {
    pub fn new(endpoint: &Endpoint, client_id: &str, will: &Will, setting: BrokerProtocol) -> Self {
        let protocol = first_protocol(setting);
        let (link, eventloop) = open(endpoint, client_id, will, protocol);
        Connection {
            client: Client::new(link),
            eventloop,
            protocol,
        }
    }
}

/// Which connection this is, for the status it reports and the words of its log lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The estate's own broker: readers, doors, and everything else.
    Estate,
    /// The district broker (`[uplink]`).
    Uplink,
}

/// What [`drive`] needs besides the connection.
pub struct Driving {
    /// Tried in turn; the connection starts on the first. Never empty.
    pub endpoints: Vec<Endpoint>,
    pub role: Role,
    pub client_id: String,
    pub will: Will,
    pub setting: BrokerProtocol,
    pub gateway: Gateway,
    /// Incoming messages for the dispatcher; when it is full they are dropped and logged.
    pub incoming: mpsc::Sender<Message>,
    /// Bumped at every ConnAck (a connection counter; 0 = never connected).
    pub connected: watch::Sender<u64>,
}

/// Polls the main connection until shutdown.
pub async fn drive(mut conn: Connection, d: Driving, shutdown: CancellationToken) {
    let mut current = 0;
    let address_of = |i: usize| format!("{}:{}", d.endpoints[i].host, d.endpoints[i].port);
    let mut address = address_of(current);
    let what = match d.role {
        Role::Estate => "the MQTT broker",
        Role::Uplink => "the district broker",
    };
    let mut backoff = Backoff::default();
    let mut up = false;
    let mut ever_connected = false;
    let mut last_failure: Option<Failure> = None;
    let report = |address: &str, connected: bool, protocol: Protocol, problem: Option<String>| {
        let status = BrokerStatus {
            broker: address.to_string(),
            connected,
            protocol: protocol.as_str().into(),
            problem,
            since: jiff::Timestamp::now().to_string(),
        };
        match d.role {
            Role::Estate => d.gateway.set_broker_status(status),
            Role::Uplink => d.gateway.set_uplink_status(status),
        }
    };
    report(&address, false, conn.protocol, Some("connecting".into()));
    // On the uplink, a refused subscription is asked for again (with the retained state, as
    // after a connection), after 2 s, then doubling up to a minute.
    let mut resubscribe: Option<tokio::time::Instant> = None;
    let mut resubscribe_wait = RESUBSCRIBE_FIRST;
    loop {
        let polled = tokio::select! {
            () = shutdown.cancelled() => {
                if up {
                    conn.eventloop.flush().await;
                }
                break;
            }
            () = async { tokio::time::sleep_until(resubscribe.unwrap_or_else(tokio::time::Instant::now)).await }, if resubscribe.is_some() && up => {
                resubscribe = None;
                d.connected.send_modify(|n| *n += 1);
                continue;
            }
            polled = conn.eventloop.poll() => polled,
        };
        match polled {
            Polled::SubscribeRefused => {
                if d.role == Role::Uplink && resubscribe.is_none() {
                    warn!(broker = %address, wait_s = resubscribe_wait.as_secs(), "The broker refused a subscription (the commands topic); asking again.");
                    resubscribe = Some(tokio::time::Instant::now() + resubscribe_wait);
                    resubscribe_wait = (resubscribe_wait * 2).min(RESUBSCRIBE_MAX);
                }
            }
            Polled::ConnAck => {
                up = true;
                ever_connected = true;
                last_failure = None;
                backoff.reset();
                resubscribe = None;
                resubscribe_wait = RESUBSCRIBE_FIRST;
                info!(broker = %address, protocol = conn.protocol.as_str(), "Connected to {what}.");
                report(&address, true, conn.protocol, None);
                d.connected.send_modify(|n| *n += 1);
            }
            Polled::Message(message) => {
                if d.incoming.try_send(message).is_err() {
                    warn!(
                        "Incoming MQTT messages arrive faster than they are handled; message dropped."
                    );
                }
            }
            Polled::Other => {}
            Polled::Failed(failure) => {
                if up {
                    warn!(broker = %address, "{}.", capitalised(&failure.advice(d.role)));
                } else if last_failure.as_ref() != Some(&failure) {
                    error!(broker = %address, protocol = conn.protocol.as_str(), "{}.", capitalised(&failure.advice(d.role)));
                } else {
                    debug!(broker = %address, "{}.", failure.advice(d.role));
                }
                up = false;
                report(&address, false, conn.protocol, Some(failure.advice(d.role)));
                if !ever_connected
                    && conn.protocol == Protocol::V5
                    && d.setting == BrokerProtocol::Auto
                    && failure.suggests_older_protocol()
                {
                    info!(broker = %address, "The MQTT broker does not take MQTT 5; speaking MQTT 3.1.1 to it (retained commands are then cleared after use, see docs/mqtt.md).");
                    let (link, eventloop) =
                        open(&d.endpoints[current], &d.client_id, &d.will, Protocol::V311);
                    conn.client.set(link);
                    conn.eventloop = eventloop;
                    conn.protocol = Protocol::V311;
                    last_failure = None;
                    continue;
                }
                last_failure = Some(failure);
                if d.endpoints.len() > 1 {
                    current = (current + 1) % d.endpoints.len();
                    address = address_of(current);
                    info!(broker = %address, "Trying the next node of {what}.");
                    let (link, eventloop) =
                        open(&d.endpoints[current], &d.client_id, &d.will, conn.protocol);
                    conn.client.set(link);
                    conn.eventloop = eventloop;
                    // The same failure on another node is news.
                    last_failure = None;
                }
                let delay = backoff.next_delay();
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    () = tokio::time::sleep(delay) => {}
                }
            }
        }
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_classified_by_cause() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(matches!(io_failure(&refused), Failure::Unreachable(_)));
        let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        assert!(matches!(io_failure(&reset), Failure::Lost(_)));
        let tls = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::AlertReceived(rustls::AlertDescription::CertificateRequired),
        );
        assert!(matches!(io_failure(&tls), Failure::Tls(_)));
        let login = failure_v311(rumqttc::ConnectionError::ConnectionRefused(
            rumqttc::ConnectReturnCode::NotAuthorized,
        ));
        assert!(matches!(login, Failure::Login(_)));
        assert!(login.advice(Role::Estate).contains("broker.password"));
        assert!(login.advice(Role::Uplink).contains("uplink.password"));
        let unreachable = Failure::Unreachable("No route to host".into());
        assert!(unreachable.advice(Role::Uplink).contains("uplink.urls"));
        assert!(
            unreachable
                .advice(Role::Uplink)
                .starts_with("cannot reach the district broker")
        );
        assert!(!login.suggests_older_protocol());
        let v5_refused = failure_v5(rumqttc::v5::ConnectionError::ConnectionRefused(
            rumqttc::v5::mqttbytes::v5::ConnectReturnCode::UnsupportedProtocolVersion,
        ));
        assert!(v5_refused.suggests_older_protocol());
        let alert = tls_alert(Failure::Lost(
            "Mqtt state: IO: received fatal alert: CertificateRequired".into(),
        ));
        assert!(matches!(alert, Failure::Tls(_)));
        assert!(!alert.suggests_older_protocol());
    }

    #[test]
    fn the_first_version_follows_the_setting() {
        assert_eq!(first_protocol(BrokerProtocol::Auto), Protocol::V5);
        assert_eq!(first_protocol(BrokerProtocol::V311), Protocol::V311);
        assert_eq!(capitalised("lost it"), "Lost it");
    }
}
