//! Swipe → result round trips with paho-mqtt (Python) as the reader, through a real Mosquitto
//! and through the embedded broker.

use gatehouse_testkit::estate::north::*;
use gatehouse_testkit::mqtt::*;
use serde_json::json;
use std::process::Command;
use std::time::Duration;

/// Runs the paho-mqtt reader peer (`tests/peers/reader.py`) as `reader` against the broker
/// on `port`; returns one `{"sent":…,"result":…}` per case.
async fn paho_reader(port: u16, reader: &str, cases: serde_json::Value) -> Vec<serde_json::Value> {
    let script = gatehouse_testkit::repo().join("tests/peers/reader.py");
    let reader = reader.to_string();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .arg(script)
            .args([
                "127.0.0.1",
                &port.to_string(),
                SITE,
                &reader,
                &cases.to_string(),
            ])
            .output()
            .expect("python3 runs")
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("No module named 'paho'"),
        "paho-mqtt is not installed: run scripts/install-test-deps"
    );
    assert!(
        output.status.success(),
        "reader peer failed: {stderr}\n{}",
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

async fn round_trip(kind: BrokerKind) {
    let broker = broker(kind);
    let dir = tempfile::tempdir().unwrap();
    let config = config(&broker_section(kind, broker.port));
    let gate = Gate::start(&config, dir.path()).await;
    let mut doors = Probe::connect(
        broker.port,
        "door-controller",
        &[format!("gatehouse/{SITE}/doors/+/set")],
    )
    .await;
    // The gateway is up once its retained status says so.
    await_online(broker.port).await;

    let cases = json!([
        {"id": "n-1", "card": "04a1b2c3"},
        {"id": "n-2", "card": "DEADBEEF"},
        {"id": "n-3", "card": "0BADCAFE"},
        {"id": "n-4", "card": "0EE0EE0E"},
        {"id": "n-5", "card": "04A1B2C3", "at": "2020-01-01T00:00:00+08:00"},
        "{not json",
        {"id": "n-7", "card": "XYZ"},
        {"id": "n-1", "card": "04a1b2c3"},
    ]);
    let out = paho_reader(broker.port, "r-north-in", cases).await;
    let r = |i: usize| &out[i]["result"];
    assert_eq!(
        (
            r(0)["id"].as_str(),
            r(0)["grant"].as_bool(),
            r(0)["reason"].as_str()
        ),
        (Some("n-1"), Some(true), Some("granted"))
    );
    assert_eq!(r(0)["door"], "gate-north");
    assert!(
        r(0)["event"].as_str().unwrap().starts_with("north-estate:"),
        "{}",
        r(0)
    );
    assert!(!r(0)["display"].as_str().unwrap().is_empty());
    for (i, reason) in [
        (1, "unknown_pass"),
        (2, "pass_suspended"),
        (3, "pass_expired"),
        (4, "stale_request"),
    ] {
        assert_eq!(r(i)["grant"], false, "{}", r(i));
        assert_eq!(r(i)["reason"], reason, "{}", r(i));
    }
    assert_eq!(r(5)["reason"], "rejected_input");
    assert!(r(5)["error"].as_str().unwrap().contains("JSON"), "{}", r(5));
    assert_eq!(
        (r(6)["id"].as_str(), r(6)["reason"].as_str()),
        (Some("n-7"), Some("rejected_input"))
    );
    assert!(r(6)["error"].as_str().unwrap().contains("hex"));
    // A repeated id is answered again, with the first answer, and decided once.
    assert_eq!(r(7), r(0));

    // The grant drove the MQTT door: a set command, not retained, with an expiry.
    let set = doors
        .next_on(
            &format!("gatehouse/{SITE}/doors/gate-north/set"),
            Duration::from_secs(5),
        )
        .await
        .unwrap();
    assert!(!set.retain);
    let set: serde_json::Value = serde_json::from_slice(&set.payload).unwrap();
    assert_eq!(set["action"], "unlock");
    assert!(set["expires_at"].is_string() && set["pulse_ms"].as_u64().unwrap() > 0);

    // Card and phone: without digits the reader is asked for them; wrong digits are refused.
    let out = paho_reader(
        broker.port,
        "r-east-in",
        json!([{"card": "04A1B2C3"}, {"card": "04A1B2C3", "pin": "0000"}, {"card": "04A1B2C3", "pin": "5678"}]),
    )
    .await;
    assert_eq!(out[0]["result"]["reason"], "phone_required", "{}", out[0]);
    assert_eq!(out[0]["result"]["need_pin"], true);
    assert_eq!(out[1]["result"]["reason"], "phone_mismatch", "{}", out[1]);
    assert_eq!(out[2]["result"]["grant"], true, "{}", out[2]);

    // Decided once: the log holds one access event per distinct request, and the refused
    // payloads as a `rejected_input` summary of their reader's topic, with their count
    // (written when its interval ends, or at shutdown).
    let store = gate.gateway.store().clone();
    gate.stop().await;
    let events = store.events(1, 1000).unwrap();
    let access = events
        .iter()
        .filter(|e| e.kind == gatehouse_core::Kind::Access)
        .count();
    let rejected: u64 = events
        .iter()
        .filter(|e| e.kind == gatehouse_core::Kind::RejectedInput)
        .filter(|e| {
            e.source.as_deref() == Some(&format!("gatehouse/{SITE}/readers/r-north-in/swipe"))
        })
        .filter_map(|e| e.count)
        .sum();
    assert_eq!(access, 5 + 3, "one access event per decided request");
    assert_eq!(rejected, 2);
    assert_eq!(
        r(6)["event"],
        "",
        "a refusal is summarised, not an event of its own"
    );
    assert!(
        events
            .iter()
            .all(|e| !serde_json::to_string(e).unwrap().contains("13800005678")),
        "no phone in events"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swipes_through_mosquitto() {
    round_trip(BrokerKind::Mosquitto).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swipes_through_the_embedded_broker() {
    round_trip(BrokerKind::Embedded).await;
}

/// A swipe with the retain flag is refused and never decided: the copy a broker stored before
/// the gateway came up (delivered on subscribe) and, over MQTT 5, one published live. The
/// broker's copy is cleared, so a later subscriber gets no stale swipe, and a live swipe is
/// decided as before.
async fn retained_swipes(kind: BrokerKind) {
    const WAIT: Duration = Duration::from_secs(20);
    let broker = broker(kind);
    let dir = tempfile::tempdir().unwrap();
    let swipes = format!("gatehouse/{SITE}/readers/r-north-in/swipe");
    let results = format!("gatehouse/{SITE}/readers/r-north-in/result");
    let mut reader = Probe::connect(
        broker.port,
        "reader-north-in",
        std::slice::from_ref(&results),
    )
    .await;
    let client = reader.client.clone();
    let publish = |id: &str, retain: bool| {
        let body = json!({"id": id, "card": "04A1B2C3"}).to_string();
        let (client, topic) = (client.clone(), swipes.clone());
        async move {
            client
                .publish(topic, rumqttc::QoS::AtLeastOnce, retain, body)
                .await
                .unwrap()
        }
    };
    let stored = json!({"id": "stored", "card": "04A1B2C3"}).to_string();
    publish_retained(broker.port, "reader-before", &swipes, stored).await;

    let gate = Gate::start(&config(&broker_section(kind, broker.port)), dir.path()).await;
    let refused = |r: &serde_json::Value| {
        r["grant"] == false
            && r["reason"] == "rejected_input"
            && r["error"].as_str().is_some_and(|e| e.contains("retain"))
    };
    let r = reader
        .next_json(&results, WAIT, |v| v["id"] == "stored")
        .await
        .expect("the stored swipe is answered");
    assert!(refused(&r), "{r}");
    // Over MQTT 5 (both brokers here) the flag shows on a live publish too.
    publish("live-retained", true).await;
    let r = reader
        .next_json(&results, WAIT, |v| v["id"] == "live-retained")
        .await
        .expect("the live retained swipe is answered");
    assert!(refused(&r), "{r}");

    // The broker's copy is gone: a new subscriber's first swipe is the next live one.
    let mut later = Probe::connect(broker.port, "later-look", std::slice::from_ref(&swipes)).await;
    publish("live", false).await;
    let next = later.next_on(&swipes, WAIT).await.unwrap();
    assert!(
        !next.retain && String::from_utf8_lossy(&next.payload).contains("\"live\""),
        "a stale swipe was still kept: {next:?}"
    );
    let r = reader
        .next_json(&results, WAIT, |v| v["id"] == "live")
        .await
        .expect("the live swipe is answered");
    assert_eq!(
        (r["grant"].as_bool(), r["reason"].as_str()),
        (Some(true), Some("granted")),
        "{r}"
    );

    let store = gate.gateway.store().clone();
    gate.stop().await;
    let events = store.events(1, 1000).unwrap();
    let access = events
        .iter()
        .filter(|e| e.kind == gatehouse_core::Kind::Access)
        .count();
    assert_eq!(access, 1, "only the live swipe was decided");
    let refusals: u64 = events
        .iter()
        .filter(|e| e.kind == gatehouse_core::Kind::RejectedInput)
        .filter(|e| e.source.as_deref() == Some(swipes.as_str()))
        .filter_map(|e| e.count)
        .sum();
    assert_eq!(refusals, 2, "both retained swipes counted as refused input");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retained_swipes_are_refused_on_mosquitto() {
    retained_swipes(BrokerKind::Mosquitto).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retained_swipes_are_refused_on_the_embedded_broker() {
    retained_swipes(BrokerKind::Embedded).await;
}
