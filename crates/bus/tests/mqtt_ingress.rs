//! The MQTT boundary under hostile input, on the embedded broker: a 40,000-character reader
//! id, an oversize payload, forged commands by the thousand, an empty retained command. None
//! of them stalls the outbox, silences a real command or writes one event per message.

use gatehouse_testkit::estate::north::*;
use gatehouse_testkit::mqtt::*;
use rumqttc::QoS;
use serde_json::json;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(15);

async fn start() -> (TestBroker, tempfile::TempDir, Gate) {
    let broker = broker(BrokerKind::Embedded);
    let dir = tempfile::tempdir().unwrap();
    let config = config(&broker_section(BrokerKind::Embedded, broker.port));
    let gate = Gate::start(&config, dir.path()).await;
    await_online(broker.port).await;
    (broker, dir, gate)
}

/// Today's main copied the id into an 80 KB `rejected_input` event that the broker refused,
/// and no later event was ever published. Garbage on invented reader ids is one summary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_reader_id_or_payload_does_not_stall_the_outbox() {
    let (broker, _dir, gate) = start().await;
    let mut events = Probe::connect(
        broker.port,
        "events-watch",
        &[format!("gatehouse/{SITE}/events/#")],
    )
    .await;
    // A client that sends what the broker takes (rumqttc refuses to send over 10 KiB).
    let mut options = rumqttc::MqttOptions::new("reader-r-north-in", "127.0.0.1", broker.port);
    options.set_max_packet_size(256 * 1024, 256 * 1024);
    if let Some((user, password)) = gateway_login(broker.port) {
        options.set_credentials(user, password);
    }
    let mut results = Probe::connect_with(
        options,
        &[format!("gatehouse/{SITE}/readers/r-north-in/result")],
    )
    .await;
    let huge = "r".repeat(40_000);
    results
        .client
        .publish(
            format!("gatehouse/{SITE}/readers/{huge}/swipe"),
            QoS::AtLeastOnce,
            false,
            json!({"card": "04A1B2C3"}).to_string(),
        )
        .await
        .unwrap();
    // Garbage on readers the configuration does not name: one summary for all of them.
    for junk in ["junk-1", "junk-2", "junk-3"] {
        results
            .client
            .publish(
                format!("gatehouse/{SITE}/readers/{junk}/swipe"),
                QoS::AtLeastOnce,
                false,
                "not json",
            )
            .await
            .unwrap();
    }
    // Over the 4 KiB limit: refused, and the reader is told.
    let oversize = json!({"id": "big-1", "card": "04A1B2C3", "pad": "x".repeat(5000)});
    results
        .client
        .publish(
            format!("gatehouse/{SITE}/readers/r-north-in/swipe"),
            QoS::AtLeastOnce,
            false,
            oversize.to_string(),
        )
        .await
        .unwrap();
    let told = results
        .next_json(
            &format!("gatehouse/{SITE}/readers/r-north-in/result"),
            WAIT,
            // Too large to be read, so its id is not known either.
            |v| v["error"].as_str().is_some_and(|e| e.contains("4 KiB")),
        )
        .await
        .expect("the oversize swipe is answered");
    assert_eq!(told["reason"], "rejected_input");
    assert!(told["error"].as_str().unwrap().contains("4 KiB"), "{told}");
    // A numeric id comes back in its own digits.
    results
        .client
        .publish(
            format!("gatehouse/{SITE}/readers/r-north-in/swipe"),
            QoS::AtLeastOnce,
            false,
            r#"{"id":123456789012345678901234567890,"card":"04A1B2C3"}"#,
        )
        .await
        .unwrap();
    let granted = results
        .next_on(&format!("gatehouse/{SITE}/readers/r-north-in/result"), WAIT)
        .await
        .expect("the swipe is answered");
    let text = String::from_utf8_lossy(&granted.payload).into_owned();
    assert!(
        text.starts_with(r#"{"id":123456789012345678901234567890,"#),
        "{text}"
    );
    assert!(text.contains(r#""grant":true"#), "{text}");

    // The grant's event reaches subscribers, and so do the refusal summaries (one per
    // source, with a count), all of them small.
    let mut access = false;
    let mut summaries = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !(access && summaries.len() >= 2) {
        let p = tokio::time::timeout_at(deadline, events.messages.recv())
            .await
            .unwrap_or_else(|_| panic!("events stalled: access {access}, summaries {summaries:?}"))
            .unwrap();
        assert!(
            p.payload.len() < 8 * 1024,
            "event of {} bytes",
            p.payload.len()
        );
        let v: serde_json::Value = serde_json::from_slice(&p.payload).unwrap();
        if v["kind"] == "access" && v["reason"] == "granted" {
            access = true;
        }
        if v["kind"] == "rejected_input" {
            let source = v["source"].as_str().unwrap().to_string();
            assert!(
                !source.contains("junk"),
                "a summary per invented reader: {v}"
            );
            // The huge id and the three junk readers in one summary; the oversize swipe alone.
            let expected = if source.ends_with("readers/+/swipe") {
                4
            } else {
                1
            };
            assert_eq!(v["count"], expected, "{v}");
            summaries.push(source);
        }
    }
    assert!(
        summaries.contains(&format!("gatehouse/{SITE}/readers/+/swipe")),
        "{summaries:?}"
    );
    assert!(
        summaries.contains(&format!("gatehouse/{SITE}/readers/r-north-in/swipe")),
        "{summaries:?}"
    );
    gate.stop().await;
}

/// Today's main: 5,000 forged envelopes a second dropped two of three real lockdowns and wrote
/// one `command` event per forgery.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_commands_do_not_silence_real_ones() {
    let (broker, _dir, gate) = start().await;
    let mut office = Probe::connect(
        broker.port,
        "office",
        &[format!("gatehouse/{SITE}/commands/result")],
    )
    .await;
    let topic = format!("gatehouse/{SITE}/commands");
    // Clearing a retained command is not a command.
    office
        .client
        .publish(topic.clone(), QoS::AtLeastOnce, true, Vec::<u8>::new())
        .await
        .unwrap();
    let key = office_key();
    let forged_key = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
    let mut real = Vec::new();
    for i in 0..3000u64 {
        if i % 1000 == 500 {
            let id = format!("lock-{i}");
            // Lock down, lift, lock down again: each applies.
            let action = if i == 1500 {
                json!({"action": "lift", "zone": "bldg-18"})
            } else {
                json!({"action": "lockdown", "zone": "bldg-18", "mode": "quarantine", "reason": "drill"})
            };
            let body = command_body(&id, 100 + i, action);
            office
                .client
                .publish(
                    topic.clone(),
                    QoS::AtLeastOnce,
                    false,
                    envelope(&body, &key),
                )
                .await
                .unwrap();
            real.push(id);
            continue;
        }
        let body = command_body(
            &format!("forged-{i}"),
            10_000 + i,
            json!({"action": "lift", "zone": "bldg-18"}),
        );
        office
            .client
            .publish(
                topic.clone(),
                QoS::AtMostOnce,
                false,
                envelope(&body, &forged_key),
            )
            .await
            .unwrap();
    }
    let result_topic = format!("gatehouse/{SITE}/commands/result");
    let mut ok = Vec::new();
    let mut answered_forged = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while ok.len() < real.len() {
        let p = tokio::time::timeout_at(deadline, office.messages.recv())
            .await
            .unwrap_or_else(|_| panic!("real commands answered: {ok:?} of {real:?}"))
            .unwrap();
        if p.topic != result_topic {
            continue;
        }
        let v: serde_json::Value = serde_json::from_slice(&p.payload).unwrap();
        assert_ne!(
            v["error"], "malformed",
            "an empty retained publish is ignored: {v}"
        );
        if v["id"].as_str().is_some_and(|id| id.starts_with("lock-")) {
            assert_eq!(v["ok"], true, "{v}");
            ok.push(v["id"].as_str().unwrap().to_string());
        } else {
            answered_forged += 1;
        }
    }
    assert!(
        answered_forged <= 3 * gatehouse_bus::commands::FORGED_ANSWERED,
        "{answered_forged} forgeries answered one by one"
    );
    let store = gate.gateway.store().clone();
    gate.stop().await;
    let events = store.events(1, 100_000).unwrap();
    let command_events: Vec<_> = events
        .iter()
        .filter(|e| e.kind == gatehouse_core::Kind::Command)
        .collect();
    assert!(
        command_events.len() < 100,
        "{} command events for 2,997 forgeries",
        command_events.len()
    );
    assert!(
        command_events.iter().all(|e| e.action.is_some()),
        "every command event has its action"
    );
    // The embedded broker itself drops part of a QoS 0 burst; what reaches the gateway is
    // counted into the `commands` summary.
    let counted: u64 = events
        .iter()
        .filter(|e| e.kind == gatehouse_core::Kind::RejectedInput)
        .filter(|e| e.source.as_deref() == Some(topic.as_str()))
        .filter_map(|e| e.count)
        .sum();
    assert!(counted > 1_000, "forgeries counted: {counted}");
}
