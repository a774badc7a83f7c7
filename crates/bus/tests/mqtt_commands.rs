//! Signed office commands end to end through a broker: applied, refused with their error
//! codes, replay refused after a gateway restart (counters persisted), a retained command
//! refused, and the lockdown state retained. The full replay matrix is unit-tested in the
//! core (`crates/core/src/command/tests.rs`) over virtual time.

mod common;

use common::*;
use rumqttc::QoS;
use serde_json::json;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

async fn send(probe: &mut Probe, envelope: String, retain: bool) {
    probe
        .client
        .publish(
            format!("gatehouse/{SITE}/commands"),
            QoS::AtLeastOnce,
            retain,
            envelope,
        )
        .await
        .unwrap();
}

async fn result_for(probe: &mut Probe, id: &str) -> serde_json::Value {
    let topic = format!("gatehouse/{SITE}/commands/result");
    probe
        .next_json(&topic, WAIT, |v| v["id"] == id)
        .await
        .unwrap_or_else(|| panic!("no result for {id}"))
}

async fn commands(kind: BrokerKind) {
    let broker = broker(kind);
    let dir = tempfile::tempdir().unwrap();
    let config = config(&broker_section(kind, broker.port));
    let gate = Gate::start(&config, dir.path()).await;
    await_online(broker.port).await;
    let result_topic = [format!("gatehouse/{SITE}/commands/result")];
    let mut office = Probe::connect(broker.port, "office", &result_topic).await;
    let lockdown_topic = [format!("gatehouse/{SITE}/lockdown")];
    let mut viewer = Probe::connect(broker.port, "viewer", &lockdown_topic).await;
    let key = office_key();
    let counter = 1_000;

    let lockdown = command_body(
        "cmd-1",
        counter,
        json!({"action": "lockdown", "zone": "bldg-18", "mode": "quarantine", "reason": "closed-loop management"}),
    );
    let captured = envelope(&lockdown, &key);
    send(&mut office, captured.clone(), false).await;
    let r = result_for(&mut office, "cmd-1").await;
    assert_eq!(r["ok"], true, "{r}");
    assert!(r["applied_at"].is_string());
    let state = viewer
        .next_json(&format!("gatehouse/{SITE}/lockdown"), WAIT, |v| {
            v["zones"]["bldg-18"]["mode"] == "quarantine"
        })
        .await;
    assert!(state.is_some(), "lockdown state not published");

    // Replayed at once.
    send(&mut office, captured.clone(), false).await;
    assert_eq!(
        result_for(&mut office, "cmd-1").await["error"],
        "counter_replayed"
    );
    // One byte changed.
    let tampered = captured.replacen("quarantine", "quarantinf", 1);
    send(&mut office, tampered, false).await;
    assert_eq!(
        result_for(&mut office, "cmd-1").await["error"],
        "bad_signature"
    );
    // Expired, another site, unknown issuer, unknown zone.
    let now = jiff::Timestamp::now();
    let expired = command_body(
        "cmd-2",
        counter + 2,
        json!({"action": "lift", "zone": "bldg-18",
        "issued_at": (now - jiff::SignedDuration::from_mins(10)).to_string(),
        "expires_at": (now - jiff::SignedDuration::from_mins(5)).to_string()}),
    );
    send(&mut office, envelope(&expired, &key), false).await;
    assert_eq!(result_for(&mut office, "cmd-2").await["error"], "expired");
    let other_site = command_body(
        "cmd-3",
        counter + 3,
        json!({"action": "lift", "zone": "bldg-18", "site": "south-estate"}),
    );
    send(&mut office, envelope(&other_site, &key), false).await;
    assert_eq!(
        result_for(&mut office, "cmd-3").await["error"],
        "wrong_site"
    );
    let stranger = command_body(
        "cmd-4",
        counter + 4,
        json!({"action": "lift", "zone": "bldg-18", "issuer": "office-9"}),
    );
    send(&mut office, envelope(&stranger, &key), false).await;
    assert_eq!(
        result_for(&mut office, "cmd-4").await["error"],
        "unknown_issuer"
    );
    let nowhere = command_body(
        "cmd-5",
        counter + 5,
        json!({"action": "lift", "zone": "bldg-99"}),
    );
    send(&mut office, envelope(&nowhere, &key), false).await;
    assert_eq!(
        result_for(&mut office, "cmd-5").await["error"],
        "unknown_zone"
    );

    // A retained command met on subscribe (here: by the restarted gateway) is stale.
    gate.stop().await;
    let commands_topic = format!("gatehouse/{SITE}/commands");
    let mut passer_by = Probe::connect(
        broker.port,
        "commands-watch",
        std::slice::from_ref(&commands_topic),
    )
    .await;
    let stale = command_body(
        "cmd-6",
        counter + 6,
        json!({"action": "lift", "zone": "bldg-18"}),
    );
    send(&mut office, envelope(&stale, &key), true).await;
    // The broker stores a retained publish before it forwards it: once a live subscriber has
    // it, a new subscriber is handed the retained copy.
    let forwarded = passer_by
        .next_json(&commands_topic, WAIT, |v| {
            v["body"].as_str().is_some_and(|b| b.contains("\"cmd-6\""))
        })
        .await;
    assert!(
        forwarded.is_some(),
        "the retained command reached the broker"
    );
    let mut holder = Probe::connect(
        broker.port,
        "retained-check",
        &[format!("gatehouse/{SITE}/commands")],
    )
    .await;
    let held = holder
        .next_on(&format!("gatehouse/{SITE}/commands"), WAIT)
        .await
        .expect("retained command held");
    assert!(held.retain);
    let gate = Gate::start(&config, dir.path()).await;
    assert_eq!(result_for(&mut office, "cmd-6").await["error"], "retained");
    // After the restart the captured command is still a replay: counters were persisted.
    send(&mut office, captured, false).await;
    assert_eq!(
        result_for(&mut office, "cmd-1").await["error"],
        "counter_replayed"
    );
    // The lockdown survived the restart and was republished, retained.
    let mut late = Probe::connect(
        broker.port,
        "late-viewer",
        &[format!("gatehouse/{SITE}/lockdown")],
    )
    .await;
    let retained = late
        .next_on(&format!("gatehouse/{SITE}/lockdown"), WAIT)
        .await
        .expect("retained lockdown");
    assert!(retained.retain);
    let v: serde_json::Value = serde_json::from_slice(&retained.payload).unwrap();
    assert_eq!(v["zones"]["bldg-18"]["by"], "office-1");

    // And a fresh command is applied: lift.
    let lift = command_body(
        "cmd-7",
        counter + 7,
        json!({"action": "lift", "zone": "bldg-18"}),
    );
    send(&mut office, envelope(&lift, &key), false).await;
    assert_eq!(result_for(&mut office, "cmd-7").await["ok"], true);
    assert!(
        viewer
            .next_json(&format!("gatehouse/{SITE}/lockdown"), WAIT, |v| v
                == &json!({"zones": {}}))
            .await
            .is_some()
    );

    // Every command is an event.
    let events = gate.gateway.store().events(1, 1000).unwrap();
    let commands: Vec<_> = events
        .iter()
        .filter(|e| e.kind == gatehouse_core::Kind::Command)
        .collect();
    assert_eq!(commands.len(), 10, "{commands:#?}");
    assert_eq!(commands.iter().filter(|e| e.ok == Some(true)).count(), 2);
    gate.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_through_mosquitto() {
    commands(BrokerKind::Mosquitto).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_through_the_embedded_broker() {
    commands(BrokerKind::Embedded).await;
}
