//! The uplink to a district broker, against a real three-node NATS cluster with JetStream and
//! MQTT (`deploy/district/nats-cluster.sh`, Debian's nats-server). Readers stay on the
//! estate's embedded broker; the district sees status, events, retained state and sends
//! signed commands. Proved here: events reach the district in seq order; the node the uplink
//! is on is killed and it moves to another; the whole district goes away and the estate keeps
//! deciding, then every event of the outage arrives; a lockdown sent from the district is
//! applied and answered there.

use gatehouse_testkit::estate::north::*;
use gatehouse_testkit::mqtt::*;
use rumqttc::{MqttOptions, QoS};
use serde_json::json;
use std::collections::HashSet;
use std::time::Duration;

use gatehouse_testkit::district::Cluster;

/// Reads events off `probe` until every seq up to `last` was seen. First deliveries must come
/// in seq order (redeliveries after a reconnect may repeat, consumers de-duplicate by id).
async fn events_through(probe: &mut Probe, seen: &mut HashSet<u64>, last: u64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut highest = seen.iter().copied().max().unwrap_or(0);
    while !(1..=last).all(|s| seen.contains(&s)) {
        let p = tokio::time::timeout_at(deadline, probe.messages.recv())
            .await
            .unwrap_or_else(|_| {
                let missing: Vec<u64> = (1..=last).filter(|s| !seen.contains(s)).collect();
                panic!("the district is missing events {missing:?}")
            })
            .expect("probe open");
        if !p.topic.contains("/events/") {
            continue;
        }
        let event: serde_json::Value = serde_json::from_slice(&p.payload).unwrap();
        let seq = event["seq"].as_u64().unwrap();
        assert_eq!(event["id"], format!("{SITE}:{seq}"));
        if seen.insert(seq) {
            assert!(seq > highest, "event {seq} first arrived after {highest}");
            highest = seq;
        }
    }
}

async fn uplink_connected(gate: &Gate) -> String {
    let mut status = gate.gateway.uplink_status();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(s) = status.borrow_and_update().as_ref()
            && s.connected
        {
            return s.broker.clone();
        }
        if tokio::time::timeout_at(deadline, status.changed())
            .await
            .is_err()
        {
            panic!(
                "the uplink did not connect to the district; last status: {:?}",
                status.borrow()
            );
        }
    }
}

/// A district-side MQTT client on node `k` that keeps its session (NATS stores it in
/// JetStream), so events published while it is away are kept for it.
async fn district_probe(cluster: &Cluster, k: u16, id: &str) -> Probe {
    let mut options = MqttOptions::new(id, "127.0.0.1", cluster.mqtt(k));
    options.set_clean_session(false);
    Probe::connect_with(
        options,
        &[
            format!("gatehouse/{SITE}/events/#"),
            format!("gatehouse/{SITE}/commands/result"),
            format!("gatehouse/{SITE}/lockdown"),
        ],
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_uplink_carries_events_and_commands_through_node_loss_and_outage() {
    let cluster = Cluster::start();
    let estate_broker = broker(BrokerKind::Embedded);
    let mut config = config(&broker_section(BrokerKind::Embedded, estate_broker.port));
    config.uplink = Some(uplink_to(
        (1..=3)
            .map(|k| format!("mqtt://127.0.0.1:{}", cluster.mqtt(k)))
            .collect(),
    ));
    let mut office = district_probe(&cluster, 3, "district-office").await;
    let dir = tempfile::tempdir().unwrap();
    let gate = Gate::start(&config, dir.path()).await;
    let first = uplink_connected(&gate).await;
    assert_eq!(
        first,
        format!("127.0.0.1:{}", cluster.mqtt(1)),
        "starts on the first node"
    );

    // Events reach the district in order.
    let mut seen = HashSet::new();
    gate.swipes_at_north_gate(20).await;
    events_through(&mut office, &mut seen, 20).await;

    // The node the uplink is on dies: it moves on, and the events after it arrive.
    cluster.run(&[
        "kill",
        &cluster.path(),
        &cluster.node_of_mqtt_port(cluster.mqtt(1)),
    ]);
    gate.swipes_at_north_gate(20).await;
    events_through(&mut office, &mut seen, 40).await;
    let now_on = uplink_connected(&gate).await;
    assert_ne!(now_on, first, "the uplink moved to another node");
    cluster.run(&["start-node", &cluster.path(), "n1"]);

    // The whole district goes away: the estate decides on, and catches the district up.
    cluster.run(&["stop", &cluster.path()]);
    gate.swipes_at_north_gate(30).await;
    let last_seq = gate.gateway.store().last_seq();
    assert!(last_seq >= 70, "every swipe of the outage was recorded");
    cluster.run(&["start", &cluster.path()]);
    // The uplink's outbox has every event acknowledged by the district.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let acked = gate.gateway.store().cursor("uplink").unwrap();
        if acked >= last_seq {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the district acknowledged events up to {acked} of {last_seq}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The office's client reconnects by itself, to its kept session.
    events_through(&mut office, &mut seen, last_seq).await;

    // A lockdown from the district: applied at the estate, answered on the district. After
    // the cluster's restart the uplink may not have subscribed again yet (a command published
    // before that reaches nobody), so the office sends it again until it is answered, as an
    // office does; the first answer is the first application's.
    let body = command_body(
        "district-1",
        5_000,
        json!({"action": "lockdown", "zone": "bldg-18", "mode": "quarantine", "reason": "district order"}),
    );
    let signed = envelope(&body, &office_key());
    let mut result = None;
    for _ in 0..12 {
        office
            .client
            .publish(
                format!("gatehouse/{SITE}/commands"),
                QoS::AtLeastOnce,
                false,
                signed.clone(),
            )
            .await
            .unwrap();
        result = office
            .next_json(
                &format!("gatehouse/{SITE}/commands/result"),
                Duration::from_secs(5),
                |v| v["id"] == "district-1",
            )
            .await;
        if result.is_some() {
            break;
        }
    }
    let result = result.expect("the district gets the command's result");
    // The answer the office hears is the first application's, unless that answer was lost in
    // the cluster's restart (the office's session was not back yet): then a later copy of the
    // same command is refused as `counter_replayed`, which tells the office that a copy was
    // applied before. Either way the estate must hold the lockdown (checked below).
    assert!(
        result["ok"] == true || result["error"] == "counter_replayed",
        "{result}"
    );
    let lockdowns = gate.gateway.live().borrow().lockdowns.clone();
    assert!(
        lockdowns.iter().any(|l| l.zone == "bldg-18"),
        "the estate applied the district's lockdown"
    );
    gate.stop().await;
}
