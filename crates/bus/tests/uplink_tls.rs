//! The uplink over TLS with client certificates, against a real three-node NATS cluster in the
//! TLS mode of `deploy/district/nats-cluster.sh` (each node's MQTT listener: `verify_and_map`,
//! one user per estate certificate, allowed only its own `gatehouse.{site}.>`). Certificates
//! are made by the test with openssl; the district is watched on the NATS client port.
//! Proved here: a gateway without a client certificate, with one of another CA, or with one
//! of the district's CA for no estate is refused, says why, and nothing of its events reaches
//! the district; the gateway with its estate's certificate gets its events through in order
//! and a signed district command answered; another estate's certificate can neither publish
//! under this estate's topics (NATS acknowledges the PUBLISH and drops it) nor subscribe to
//! its commands.

use futures::StreamExt;
use gatehouse_core::config::Uplink;
use gatehouse_testkit::certs::{CLIENT, ca, leaf, tls_client};
use gatehouse_testkit::district::{Cluster, district_tls};
use gatehouse_testkit::estate::north::*;
use gatehouse_testkit::mqtt::*;
use rumqttc::{
    AsyncClient, Event, MqttOptions, Packet, QoS, SubscribeReasonCode, TlsConfiguration, Transport,
};
use serde_json::json;
use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

/// The other estate of the district, whose certificate tries to forge this one's topics.
const OTHER: &str = "lake-estate";

/// An `[uplink]` to the three nodes over `mqtts://` with the district's CA, and with the
/// certificate `{cert}.crt` / `{cert}.key` from `certs` when given.
fn uplink(cluster: &Cluster, certs: &Path, cert: Option<&str>, name: &str) -> Uplink {
    let p = |f: String| certs.join(f).display().to_string();
    let mut uplink = uplink_to(
        (1..=3)
            .map(|k| format!("mqtts://127.0.0.1:{}", cluster.mqtt(k)))
            .collect(),
    );
    uplink.ca = Some(p("ca.pem".into()));
    uplink.cert = cert.map(|c| p(format!("{c}.crt")));
    uplink.key = cert.map(|c| p(format!("{c}.key")));
    uplink.client_id = Some(format!("gatehouse-{SITE}-{name}"));
    uplink
}

/// A gateway of the north estate with its own embedded estate broker and store, and `uplink`.
async fn gate_with(uplink: Uplink) -> (Gate, tempfile::TempDir) {
    let estate_broker = broker(BrokerKind::Embedded);
    let mut config = config(&broker_section(BrokerKind::Embedded, estate_broker.port));
    config.uplink = Some(uplink);
    let dir = tempfile::tempdir().unwrap();
    let gate = Gate::start(&config, dir.path()).await;
    (gate, dir)
}

/// Waits until the uplink's reported problem (the text it also logs as an error) contains
/// every one of `words`; returns it.
async fn uplink_problem(gate: &Gate, name: &str, words: &[&str]) -> String {
    let mut status = gate.gateway.uplink_status();
    let seen = tokio::time::timeout(
        Duration::from_secs(20),
        status.wait_for(|s| {
            s.as_ref()
                .and_then(|s| s.problem.as_deref())
                .is_some_and(|p| words.iter().all(|w| p.contains(w)))
        }),
    )
    .await
    .is_ok_and(|seen| seen.is_ok());
    let last = status.borrow().clone();
    assert!(seen, "{name}: no uplink problem with {words:?}: {last:?}");
    let last = last.unwrap();
    assert!(!last.connected, "{name}: {last:?}");
    last.problem.clone().unwrap()
}

async fn uplink_connected(gate: &Gate) -> String {
    let mut status = gate.gateway.uplink_status();
    let seen = tokio::time::timeout(
        Duration::from_secs(30),
        status.wait_for(|s| s.as_ref().is_some_and(|s| s.connected)),
    )
    .await
    .is_ok_and(|seen| seen.is_ok());
    let last = status.borrow().clone();
    assert!(seen, "the uplink did not connect over TLS: {last:?}");
    last.unwrap().broker.clone()
}

/// The next message on the district within `within`, if any.
async fn next(
    district: &mut async_nats::Subscriber,
    within: Duration,
) -> Option<async_nats::Message> {
    tokio::time::timeout(within, district.next())
        .await
        .ok()
        .flatten()
}

/// A test client with `cert` (of `certs`, signed by the district's CA) on node `k`'s MQTT
/// listener, 3.1.1; its events go to the returned channel.
async fn mqtt_client(
    cluster: &Cluster,
    certs: &Path,
    cert: &str,
    k: u16,
) -> (AsyncClient, tokio::sync::mpsc::Receiver<Packet>) {
    let mut options = MqttOptions::new(format!("test-{cert}"), "127.0.0.1", cluster.mqtt(k));
    options.set_keep_alive(Duration::from_secs(5));
    options.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(
        tls_client(certs, Some(cert)),
    )));
    let (client, mut eventloop) = AsyncClient::new(options, 10);
    // Bounded: when the test does not keep up, this client stops reading (the broker holds
    // its messages), nothing is dropped.
    let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
    tokio::spawn(async move {
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(p)) => {
                    if tx.send(p).await.is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    eprintln!("test client: {e}");
                    return;
                }
            }
        }
    });
    let connack = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(p) = rx.recv().await {
            if let Packet::ConnAck(c) = p {
                return Some(c);
            }
        }
        None
    })
    .await
    .ok()
    .flatten();
    assert!(
        connack.is_some_and(|c| c.code == rumqttc::ConnectReturnCode::Success),
        "{cert}'s certificate is accepted"
    );
    (client, rx)
}

/// The next packet matching `pick` within 10 s.
async fn packet<T>(
    rx: &mut tokio::sync::mpsc::Receiver<Packet>,
    pick: impl Fn(&Packet) -> Option<T>,
) -> T {
    tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(p) = rx.recv().await {
            if let Some(t) = pick(&p) {
                return Some(t);
            }
        }
        None
    })
    .await
    .ok()
    .flatten()
    .expect("the awaited packet came")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn estates_reach_the_district_only_with_their_own_certificate() {
    let certs = tempfile::tempdir().unwrap();
    let d = certs.path();
    district_tls(d);
    leaf(d, SITE, "ca", CLIENT);
    leaf(d, OTHER, "ca", CLIENT);
    leaf(d, "stranger", "ca", CLIENT); // the district's CA, but no estate of the district
    ca(d, "rogue-ca");
    leaf(d, "rogue", "rogue-ca", CLIENT);
    let cluster = Cluster::start_tls(d, &[SITE, OTHER]);

    // The district, on the NATS client port: everything under gatehouse.
    let nats = async_nats::connect(format!("nats://127.0.0.1:{}", cluster.client(2)))
        .await
        .unwrap();
    let mut district = nats.subscribe("gatehouse.>").await.unwrap();
    nats.flush().await.unwrap();

    // (b) Refused: without a certificate, with another CA's, with the district CA's for no
    // estate. Each says why it is not connected (the same text is logged as an error), and
    // none of their events reaches the district.
    let refused = [
        ("no-cert", None, &["TLS", "cert"][..]),
        ("rogue", Some("rogue"), &["TLS", "cert"][..]),
        ("stranger", Some("stranger"), &["refused", "login"][..]),
    ];
    let mut gates = Vec::new();
    for (name, cert, _) in refused {
        gates.push(gate_with(uplink(&cluster, d, cert, name)).await);
    }
    for ((name, _, words), (gate, _)) in refused.iter().zip(&gates) {
        let problem = uplink_problem(gate, name, words).await;
        eprintln!("{name}: {problem}");
        gate.swipes_at_north_gate(4).await;
    }
    // Their uplinks keep trying (every node, with back-off); still refused after two more
    // reports of an attempt each.
    for ((name, _, _), (gate, _)) in refused.iter().zip(&gates) {
        let mut status = gate.gateway.uplink_status();
        status.borrow_and_update();
        for _ in 0..2 {
            tokio::time::timeout(Duration::from_secs(30), status.changed())
                .await
                .unwrap_or_else(|_| panic!("{name}: the uplink stopped trying"))
                .unwrap();
        }
    }
    for ((name, _, words), (gate, dir)) in refused.iter().zip(gates) {
        uplink_problem(&gate, name, words).await;
        assert_eq!(
            gate.gateway.store().cursor("uplink").unwrap(),
            0,
            "{name}: the district acknowledged nothing"
        );
        gate.stop().await;
        drop(dir);
    }
    if let Some(m) = next(&mut district, Duration::from_secs(1)).await {
        panic!(
            "a refused gateway reached the district: {} {:?}",
            m.subject, m.payload
        );
    }

    // (a) The estate's own certificate: connected over mqtts://, events in seq order.
    let (gate, _dir) = gate_with(uplink(&cluster, d, Some(SITE), "uplink")).await;
    let broker = uplink_connected(&gate).await;
    assert!(
        (1..=3).any(|k| broker == format!("127.0.0.1:{}", cluster.mqtt(k))),
        "{broker}"
    );
    gate.swipes_at_north_gate(10).await;
    let mut seen = HashSet::new();
    let mut highest = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !(1..=10).all(|s| seen.contains(&s)) {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let m = next(&mut district, left)
            .await
            .unwrap_or_else(|| panic!("the district has events {seen:?} of 1..=10"));
        if !m.subject.starts_with(&format!("gatehouse.{SITE}.events.")) {
            continue;
        }
        let event: serde_json::Value = serde_json::from_slice(&m.payload).unwrap();
        let seq = event["seq"].as_u64().unwrap();
        assert_eq!(event["id"], format!("{SITE}:{seq}"));
        if seen.insert(seq) {
            assert!(seq > highest, "event {seq} first arrived after {highest}");
            highest = seq;
        }
    }

    // Its QoS 1 subscription works under the estate's rights ($MQTT.sub.>): a signed lockdown
    // from the district is applied and answered. Sent again until answered, as the uplink
    // may not have subscribed yet.
    let signed = envelope(
        &command_body(
            "district-tls-1",
            7_000,
            json!({"action": "lockdown", "zone": "bldg-18", "mode": "quarantine", "reason": "district order"}),
        ),
        &office_key(),
    );
    let result_subject = format!("gatehouse.{SITE}.commands.result");
    let mut result = None;
    'sends: for _ in 0..10 {
        nats.publish(format!("gatehouse.{SITE}.commands"), signed.clone().into())
            .await
            .unwrap();
        let until = tokio::time::Instant::now() + Duration::from_secs(3);
        while let Some(m) = next(
            &mut district,
            until.saturating_duration_since(tokio::time::Instant::now()),
        )
        .await
        {
            if m.subject.as_str() == result_subject {
                let v: serde_json::Value = serde_json::from_slice(&m.payload).unwrap();
                if v["id"] == "district-tls-1" {
                    result = Some(v);
                    break 'sends;
                }
            }
        }
    }
    let result = result.expect("the district gets the command's result");
    assert_eq!(result["ok"], true, "{result}");

    // (c) Another estate's certificate cannot forge this estate's topics: NATS acknowledges
    // its QoS 1 PUBLISH under gatehouse/north-estate/ and drops it; its own topic goes
    // through (the control); subscribing to this estate's commands is refused.
    let (other, mut packets) = mqtt_client(&cluster, d, OTHER, 2).await;
    for (topic, body) in [
        (format!("gatehouse/{SITE}/head"), "forged"),
        (format!("gatehouse/{SITE}/events/access"), "forged"),
        (format!("gatehouse/{OTHER}/head"), "control"),
    ] {
        other
            .publish(topic, QoS::AtLeastOnce, false, body)
            .await
            .unwrap();
        packet(&mut packets, |p| {
            matches!(p, Packet::PubAck(_)).then_some(())
        })
        .await;
    }
    let until = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let m = next(
            &mut district,
            until.saturating_duration_since(tokio::time::Instant::now()),
        )
        .await
        .expect("the other estate's control message reached the district");
        assert_ne!(
            &m.payload[..],
            b"forged",
            "{OTHER} forged {} on the district",
            m.subject
        );
        if m.subject.as_str() == format!("gatehouse.{OTHER}.head") {
            assert_eq!(&m.payload[..], b"control");
            break;
        }
    }
    for (filter, allowed) in [
        (format!("gatehouse/{SITE}/commands"), false),
        (format!("gatehouse/{OTHER}/commands"), true),
    ] {
        other.subscribe(&filter, QoS::AtLeastOnce).await.unwrap();
        let codes = packet(&mut packets, |p| match p {
            Packet::SubAck(s) => Some(s.return_codes.clone()),
            _ => None,
        })
        .await;
        assert_eq!(
            codes == [SubscribeReasonCode::Failure],
            !allowed,
            "{OTHER} subscribing to {filter}: {codes:?}"
        );
    }
    gate.stop().await;
}
