//! The gateway's MQTT version: MQTT 5 with retain-as-published where the broker has it (the
//! embedded broker, Mosquitto), so that a command published live with the retain flag is
//! refused with `retained` at once; MQTT 3.1.1 against a real `nats-server` (3.1.1 only),
//! reached by falling back, where the gateway clears the retained copy of a command it
//! applied; a TLS client without a valid certificate logged as an error.

use gatehouse_testkit::estate::north::*;
use gatehouse_testkit::mqtt::*;
use gatehouse_testkit::ports::{Started, free_port, until_listening};
use rumqttc::QoS;
use serde_json::json;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

fn commands_topic() -> String {
    format!("gatehouse/{SITE}/commands")
}

async fn send(probe: &Probe, envelope: String, retain: bool) {
    probe
        .client
        .publish(commands_topic(), QoS::AtLeastOnce, retain, envelope)
        .await
        .unwrap();
}

async fn result_for(probe: &mut Probe, id: &str) -> serde_json::Value {
    probe
        .next_json(&format!("{}/result", commands_topic()), WAIT, |v| {
            v["id"] == id
        })
        .await
        .unwrap_or_else(|| panic!("no result for {id}"))
}

/// The gateway's broker connection once it is up.
async fn connected(gate: &Gate) -> gatehouse_runtime::BrokerStatus {
    let mut status = gate.gateway.broker_status();
    tokio::time::timeout(
        WAIT,
        status.wait_for(|s| s.as_ref().is_some_and(|s| s.connected)),
    )
    .await
    .expect("the gateway connects to the broker")
    .unwrap()
    .as_deref()
    .cloned()
    .unwrap()
}

fn lockdown(id: &str, counter: u64) -> String {
    envelope(
        &command_body(
            id,
            counter,
            json!({"action": "lockdown", "zone": "bldg-18", "mode": "quarantine", "reason": "drill"}),
        ),
        &office_key(),
    )
}

async fn a_live_retained_command_is_refused(kind: BrokerKind) {
    let broker = broker(kind);
    let dir = tempfile::tempdir().unwrap();
    let gate = Gate::start(&config(&broker_section(kind, broker.port)), dir.path()).await;
    let status = connected(&gate).await;
    assert_eq!(status.protocol, "5", "{status:?}");
    let mut office = Probe::connect(
        broker.port,
        "office",
        &[format!("{}/result", commands_topic())],
    )
    .await;
    send(&office, lockdown("live-retained", 10), true).await;
    let r = result_for(&mut office, "live-retained").await;
    assert_eq!(
        (r["ok"].clone(), r["error"].clone()),
        (json!(false), json!("retained")),
        "{r}"
    );
    // The same command without the flag is applied.
    send(&office, lockdown("live", 11), false).await;
    assert_eq!(result_for(&mut office, "live").await["ok"], true);
    gate.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_retained_command_is_refused_on_the_embedded_broker() {
    a_live_retained_command_is_refused(BrokerKind::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_retained_command_is_refused_on_mosquitto() {
    a_live_retained_command_is_refused(BrokerKind::Mosquitto).await;
}

/// A `nats-server` of our own: its own config, ports and JetStream store directory.
struct Nats {
    mqtt_port: u16,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Nats {
    fn start() -> Nats {
        let dir = tempfile::tempdir().unwrap();
        for _ in 0..20 {
            let (client_port, mqtt_port) = (free_port(), free_port());
            let conf = format!(
                "server_name: gatehouse-test\nlisten: 127.0.0.1:{client_port}\njetstream {{ store_dir: \"{}\" }}\nmqtt {{ listen: 127.0.0.1:{mqtt_port} }}\n",
                dir.path().join("js").display()
            );
            let conf_path = dir.path().join("nats.conf");
            std::fs::write(&conf_path, conf).unwrap();
            let mut child = Command::new("nats-server")
                .arg("-c")
                .arg(&conf_path)
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(dir.path().join("nats.log")).unwrap())
                .spawn()
                .expect("nats-server is installed (scripts/install-test-deps)");
            // A port found free can be taken before nats-server binds it: then it exits, and
            // other ports are tried.
            if until_listening(&mut child, mqtt_port, WAIT) == Started::Listening {
                return Nats {
                    mqtt_port,
                    child,
                    _dir: dir,
                };
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!(
            "nats-server did not listen:\n{}",
            std::fs::read_to_string(dir.path().join("nats.log")).unwrap_or_default()
        );
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_gets_mqtt_3_1_1_and_applied_commands_are_cleared() {
    let nats = Nats::start();
    let port = nats.mqtt_port;
    let dir = tempfile::tempdir().unwrap();
    let gate = Gate::start(&config(&external(port)), dir.path()).await;
    let status = connected(&gate).await;
    assert_eq!(status.protocol, "3.1.1", "fell back from 5: {status:?}");

    // 3.1.1 cannot tell a live retained publish from a plain one: the command is applied...
    let mut office =
        Probe::connect(port, "office", &[format!("{}/result", commands_topic())]).await;
    // Connected is not yet subscribed: a retained command that arrives with the subscription
    // is (rightly) refused as retained. A live command answered proves the subscription.
    // A live command sent before that is lost, so it is sent again until one is answered.
    let mut answered = None;
    for attempt in 1..=50u64 {
        let id = format!("nats-live-{attempt}");
        send(&office, lockdown(&id, attempt), false).await;
        let topic = format!("{}/result", commands_topic());
        answered = office
            .next_json(&topic, Duration::from_millis(300), |v| {
                v["id"] == id.as_str()
            })
            .await;
        if answered.is_some() {
            break;
        }
    }
    assert_eq!(answered.expect("a live command is answered")["ok"], true);
    send(&office, lockdown("nats-retained", 100), true).await;
    assert_eq!(result_for(&mut office, "nats-retained").await["ok"], true);
    // ...and its retained copy cleared: a new subscriber gets no command, only what is
    // published after it subscribed (an empty non-retained marker, which the gateway ignores).
    let mut late = Probe::connect(port, "late-office", &[commands_topic()]).await;
    send(&office, String::new(), false).await;
    let first = late
        .next_on(&commands_topic(), WAIT)
        .await
        .expect("the marker arrives");
    assert!(
        first.payload.is_empty() && !first.retain,
        "a retained command was still held: {}",
        String::from_utf8_lossy(&first.payload)
    );
    gate.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_protocol_3_1_1_is_spoken_when_configured() {
    let broker = broker(BrokerKind::Mosquitto);
    let dir = tempfile::tempdir().unwrap();
    let section = format!("{}\nprotocol = \"3.1.1\"", external(broker.port));
    let gate = Gate::start(&config(&section), dir.path()).await;
    assert_eq!(connected(&gate).await.protocol, "3.1.1");
    gate.stop().await;
}

/// Over 3.1.1 a swipe the broker stored comes with the retain flag when the gateway
/// subscribes: it is refused, never decided, and the broker's copy cleared.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_swipe_nats_stored_is_refused_and_cleared() {
    let nats = Nats::start();
    let port = nats.mqtt_port;
    let swipes = format!("gatehouse/{SITE}/readers/r-north-in/swipe");
    let results = format!("gatehouse/{SITE}/readers/r-north-in/result");
    let mut reader = Probe::connect(port, "reader-north-in", std::slice::from_ref(&results)).await;
    let stored = json!({"id": "stored", "card": "04A1B2C3"}).to_string();
    publish_retained(port, "reader-before", &swipes, stored).await;

    let dir = tempfile::tempdir().unwrap();
    let gate = Gate::start(&config(&external(port)), dir.path()).await;
    assert_eq!(connected(&gate).await.protocol, "3.1.1");
    let r = reader
        .next_json(&results, WAIT, |v| v["id"] == "stored")
        .await
        .expect("the stored swipe is answered");
    assert_eq!(
        (r["grant"].as_bool(), r["reason"].as_str()),
        (Some(false), Some("rejected_input")),
        "{r}"
    );
    assert!(r["error"].as_str().unwrap().contains("retain"), "{r}");
    // Cleared: a new subscriber's first message is what is published after it subscribed
    // (an empty marker, which the gateway ignores).
    let mut later = Probe::connect(port, "later-look", std::slice::from_ref(&swipes)).await;
    reader
        .client
        .publish(&swipes, QoS::AtLeastOnce, false, Vec::new())
        .await
        .unwrap();
    let next = later
        .next_on(&swipes, WAIT)
        .await
        .expect("the marker arrives");
    assert!(
        next.payload.is_empty() && !next.retain,
        "a stale swipe was still kept: {}",
        String::from_utf8_lossy(&next.payload)
    );
    let store = gate.gateway.store().clone();
    gate.stop().await;
    let decided = store
        .events(1, 1000)
        .unwrap()
        .iter()
        .filter(|e| e.kind == gatehouse_core::Kind::Access)
        .count();
    assert_eq!(decided, 0, "the stored swipe was never decided");
}

/// A door controller may keep its inputs retained (they are mostly states). The copy the
/// broker hands out when the gateway subscribes counts for its states, but not as an
/// exit-button press: that press is history, and would be recorded as an exit at every
/// reconnect. A live press counts, with the retain flag or without.
async fn retained_door_inputs(kind: BrokerKind) {
    let broker = broker(kind);
    let port = broker.port;
    let inputs = format!("gatehouse/{SITE}/doors/gate-north/input");
    let state = format!("gatehouse/{SITE}/doors/gate-north/state");
    let pressed = r#"{"rex":true,"contact":"open"}"#.to_string();
    publish_retained(port, "gate-north-before", &inputs, pressed).await;
    let mut watch = Probe::connect(port, "watch", std::slice::from_ref(&state)).await;
    let dir = tempfile::tempdir().unwrap();
    let gate = Gate::start(&config(&broker_section(kind, port)), dir.path()).await;
    // The stored contact counts (and shows the gateway is subscribed to the inputs).
    watch
        .next_json(&state, WAIT, |v| v["contact"] == "open")
        .await
        .expect("the stored contact counts");
    // A live press with the flag, then the door closing: once the closing shows, the press
    // before it was taken.
    for input in [r#"{"rex":true}"#, r#"{"contact":"closed"}"#] {
        watch
            .client
            .publish(&inputs, QoS::AtLeastOnce, true, input)
            .await
            .unwrap();
    }
    watch
        .next_json(&state, WAIT, |v| v["contact"] == "closed")
        .await
        .expect("the live inputs count");
    let store = gate.gateway.store().clone();
    gate.stop().await;
    let presses = store
        .events(1, 1000)
        .unwrap()
        .iter()
        .filter(|e| e.kind == gatehouse_core::Kind::Egress)
        .count();
    assert_eq!(presses, 1, "the live press only, not the stored one");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_exit_press_is_not_a_press_on_the_embedded_broker() {
    retained_door_inputs(BrokerKind::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_exit_press_is_not_a_press_on_mosquitto() {
    retained_door_inputs(BrokerKind::Mosquitto).await;
}
