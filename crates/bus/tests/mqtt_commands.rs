//! Signed office commands end to end through a broker: applied, refused with their error
//! codes, replay refused after a gateway restart (counters persisted), a retained command
//! refused, and the lockdown state retained. The full replay matrix is unit-tested in the
//! core (`crates/core/src/command/tests.rs`) over virtual time. `replay` from a district broker
//! (the uplink) publishes the uplink's events again from a seq.

use gatehouse_testkit::estate::north::*;
use gatehouse_testkit::mqtt::*;
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

/// The seq of an event message, or None for anything else.
fn event_seq(p: &rumqttc::Publish) -> Option<(u64, serde_json::Value)> {
    if !p.topic.contains("/events/") {
        return None;
    }
    let event: serde_json::Value = serde_json::from_slice(&p.payload).ok()?;
    Some((event["seq"].as_u64()?, event))
}

/// `replay {from_seq}` sent by the district office on the district broker: the uplink's
/// outbox publishes the events from that seq on again (and the command's own event), the
/// estate broker's outbox goes on untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_from_the_district_publishes_the_events_again_on_the_uplink() {
    use std::collections::HashSet;

    let estate_broker = broker(BrokerKind::Embedded);
    let district = Mosquitto::start();
    let mut config = config(&broker_section(BrokerKind::Embedded, estate_broker.port));
    config.uplink = Some(uplink_to(vec![format!(
        "mqtt://127.0.0.1:{}",
        district.port
    )]));
    let events = format!("gatehouse/{SITE}/events/#");
    let result_topic = format!("gatehouse/{SITE}/commands/result");
    let mut office = Probe::connect(
        district.port,
        "district-office",
        &[events.clone(), result_topic.clone()],
    )
    .await;
    let mut estate = Probe::connect(estate_broker.port, "estate-watch", &[events]).await;
    let dir = tempfile::tempdir().unwrap();
    let gate = Gate::start(&config, dir.path()).await;
    // The uplink subscribed to `commands` before it said online.
    await_online(district.port).await;

    for i in 0..10 {
        let card = if i % 2 == 0 { "04A1B2C3" } else { "DEADBEEF" };
        gate.gateway
            .submit(swipe_at_north_gate(card))
            .await
            .unwrap();
    }
    let last = gate.gateway.store().last_seq();
    assert!(last >= 10, "every decision is recorded");
    // Both brokers have 1..=last, and the district acknowledged them all.
    for probe in [&mut office, &mut estate] {
        let mut seen = HashSet::new();
        while !(1..=last).all(|s| seen.contains(&s)) {
            let p = tokio::time::timeout(WAIT, probe.messages.recv())
                .await
                .unwrap_or_else(|_| panic!("events missing of 1..={last}: saw {seen:?}"))
                .unwrap();
            if let Some((seq, _)) = event_seq(&p) {
                seen.insert(seq);
            }
        }
    }
    let deadline = tokio::time::Instant::now() + WAIT;
    while gate.gateway.store().cursor("uplink").unwrap() < last {
        assert!(
            tokio::time::Instant::now() < deadline,
            "uplink cursor stuck"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let replay = command_body(
        "replay-1",
        2_000,
        json!({"action": "replay", "from_seq": 3}),
    );
    send(&mut office, envelope(&replay, &office_key()), false).await;
    // Read everything the district gets: the events again (they may overtake the result),
    // the command's own event, and its result.
    let mut again = HashSet::new();
    let mut command_seq = None;
    let mut result = None;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while result.is_none() || command_seq.is_none_or(|c| !(3..=c).all(|s| again.contains(&s))) {
        let p = tokio::time::timeout_at(deadline, office.messages.recv())
            .await
            .unwrap_or_else(|_| {
                panic!("the district did not get the replay: result {result:?}, command event {command_seq:?}, again {again:?}")
            })
            .unwrap();
        if p.topic == result_topic {
            let r: serde_json::Value = serde_json::from_slice(&p.payload).unwrap();
            if r["id"] == "replay-1" {
                result = Some(r);
            }
        } else if let Some((seq, event)) = event_seq(&p) {
            assert!(
                seq >= 3,
                "event {seq} was before from_seq and went out again"
            );
            if event["command"] == "replay-1" {
                assert_eq!(event["ok"], true, "{event}");
                assert_eq!(event["action"], "replay");
                command_seq = Some(seq);
            }
            again.insert(seq);
        }
    }
    let result = result.unwrap();
    assert_eq!(result["ok"], true, "{result}");
    assert!(
        result["detail"].as_str().unwrap().contains("from seq 3"),
        "{result}"
    );
    let command_seq = command_seq.unwrap();
    assert!(command_seq > last);

    // The cursor moved on past the replayed events again.
    let deadline = tokio::time::Instant::now() + WAIT;
    while gate.gateway.store().cursor("uplink").unwrap() < command_seq {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the uplink cursor did not catch up after the replay"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The estate broker got only what was new: the command's event.
    let quiet = tokio::time::Instant::now() + Duration::from_millis(500);
    while let Ok(Some(p)) = tokio::time::timeout_at(quiet, estate.messages.recv()).await {
        if let Some((seq, _)) = event_seq(&p) {
            assert!(
                seq > last,
                "the estate broker's outbox replayed event {seq}"
            );
        }
    }
    gate.stop().await;
}
