//! The MQTT harness of the north estate ([`crate::estate::north`]): a broker of each kind
//! (Mosquitto of the test's own, or the embedded broker), its `[broker]` section, an
//! in-process gateway ([`Gate`]), MQTT probes ([`Probe`]) and signed office commands.

mod gate;
mod mosquitto;
mod probe;

pub use gate::Gate;
pub use mosquitto::Mosquitto;
pub use probe::Probe;

use crate::estate::north::{self, SITE};
use ed25519_dalek::SigningKey;
use gatehouse_core::config::Config;
use std::time::Duration;

/// Which broker a test runs against.
#[derive(Clone, Copy, Debug)]
pub enum BrokerKind {
    /// A Mosquitto of the test's own ([`Mosquitto`]), the gateway its client.
    Mosquitto,
    /// The gateway's embedded broker.
    Embedded,
}

/// A broker the test can reach on `port`; the Mosquitto guard keeps it running.
pub struct TestBroker {
    /// Its loopback port.
    pub port: u16,
    /// The Mosquitto process, for a broker of that kind.
    pub mosquitto: Option<Mosquitto>,
}

/// Starts a broker of `kind` on a free loopback port. The embedded one needs a
/// multi-threaded runtime (see [`embedded_broker`]).
pub fn broker(kind: BrokerKind) -> TestBroker {
    match kind {
        BrokerKind::Mosquitto => {
            let m = Mosquitto::start();
            TestBroker {
                port: m.port,
                mosquitto: Some(m),
            }
        }
        BrokerKind::Embedded => {
            // Port 0: the broker binds before it returns, so the port cannot be lost.
            let handle = embedded_broker(&north::config(""));
            TestBroker {
                port: handle.addr.port(),
                mosquitto: None,
            }
        }
    }
}

/// Starts the embedded broker for `estate` on a free loopback port (from a synchronous
/// helper inside a multi-threaded test runtime) and remembers the gateway's login for that
/// port, so that [`broker_section`] and [`Probe::connect`] use it.
pub fn embedded_broker(estate: &Config) -> gatehouse_bus::broker::BrokerHandle {
    let handle = tokio::task::block_in_place(|| {
        tokio::runtime::Handle::current()
            .block_on(gatehouse_bus::broker::start_embedded(estate, "127.0.0.1:0"))
    })
    .expect("starting the embedded broker");
    let mut logins = LOGINS.lock().unwrap();
    logins.retain(|(port, _)| *port != handle.addr.port());
    logins.push((handle.addr.port(), handle.gateway_login.clone()));
    handle
}

/// The gateway's login on each embedded broker a test started, by port. Probes log in with
/// it too: tests of readers and commands are not about rights (`mqtt_rights.rs` is).
static LOGINS: std::sync::Mutex<Vec<(u16, (String, String))>> = std::sync::Mutex::new(Vec::new());

/// The gateway's login on the embedded broker listening on `port`, if a test started one.
pub fn gateway_login(port: u16) -> Option<(String, String)> {
    LOGINS
        .lock()
        .unwrap()
        .iter()
        .find(|(p, _)| *p == port)
        .map(|(_, login)| login.clone())
}

/// The `[broker]` section for an external broker (Mosquitto, nats-server) on `port`.
pub fn external(port: u16) -> String {
    format!("mode = \"external\"\nurl = \"mqtt://127.0.0.1:{port}\"")
}

/// The `[broker]` section for the embedded broker on `port`, with the gateway's login when
/// the test started that broker.
fn embedded(port: u16) -> String {
    let login = gateway_login(port)
        .map(|(user, password)| format!("\nusername = \"{user}\"\npassword = \"{password}\""))
        .unwrap_or_default();
    format!("mode = \"embedded\"\nlisten = \"127.0.0.1:{port}\"{login}")
}

/// The `[broker]` section for a broker of `kind` on `port`.
pub fn broker_section(kind: BrokerKind, port: u16) -> String {
    match kind {
        BrokerKind::Mosquitto => external(port),
        BrokerKind::Embedded => embedded(port),
    }
}

/// An `[uplink]` to the district broker nodes at `urls`, in MQTT 3.1.1, without TLS or login.
pub fn uplink_to(urls: Vec<String>) -> gatehouse_core::config::Uplink {
    gatehouse_core::config::Uplink {
        urls,
        ca: None,
        cert: None,
        key: None,
        client_id: None,
        username: None,
        password: None,
        protocol: gatehouse_core::config::BrokerProtocol::V311,
    }
}

/// Waits until the gateway's retained status on the broker at `port` says `online`.
pub async fn await_online(port: u16) {
    let topic = format!("gatehouse/{SITE}/status");
    let mut status = Probe::connect(port, "status-watch", std::slice::from_ref(&topic)).await;
    let seen = status
        .next_json(&topic, Duration::from_secs(15), |v| v["state"] == "online")
        .await;
    assert!(seen.is_some(), "gateway never said online");
}

/// Publishes `payload` retained on `topic` as client `id` and returns once the broker at
/// `port` holds it: a first subscriber has it (live, or stored), then a new subscription is
/// handed the stored copy.
pub async fn publish_retained(port: u16, id: &str, topic: &str, payload: String) {
    let publisher = Probe::connect(port, id, &[]).await;
    publisher
        .client
        .publish(topic, rumqttc::QoS::AtLeastOnce, true, payload)
        .await
        .unwrap();
    for look in ["first-look", "second-look"] {
        let mut probe = Probe::connect(port, look, &[topic.to_string()]).await;
        let kept = probe
            .next_on(topic, Duration::from_secs(20))
            .await
            .expect("the broker keeps a retained message");
        assert!(kept.retain || look == "first-look");
    }
}

/// Signs a command body and wraps it in the envelope of `docs/interfaces.md#mqtt`.
pub fn envelope(body: &serde_json::Value, key: &SigningKey) -> String {
    gatehouse_core::command::envelope(&body.to_string(), key)
}

/// A command body of the office issuer for the north estate, valid now for five minutes;
/// `extra`'s fields (the action and its arguments) are added.
pub fn command_body(id: &str, counter: u64, extra: serde_json::Value) -> serde_json::Value {
    let now = jiff::Timestamp::now();
    let mut body = serde_json::json!({
        "id": id, "issuer": "office-1", "counter": counter,
        "issued_at": now.to_string(),
        "expires_at": (now + jiff::SignedDuration::from_mins(5)).to_string(),
        "site": SITE,
    });
    for (k, v) in extra.as_object().expect("the extra fields are an object") {
        body[k] = v.clone();
    }
    body
}
