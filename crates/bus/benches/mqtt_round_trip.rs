//! Swipe → result round trip through a real Mosquitto on loopback, next to a bare echo client
//! on the same broker (the floor), and sustained swipes per second. Prints figures; asserts
//! nothing about speed.
//!
//! `cargo bench -p gatehouse-bus --bench mqtt_round_trip` (Mosquitto from
//! `scripts/install-test-deps`).

use gatehouse_testkit::estate::north::*;
use gatehouse_testkit::mqtt::*;
use hdrhistogram::Histogram;
use rumqttc::QoS;
use std::time::Instant;

const ROUND_TRIPS: u64 = 2000;
const SUSTAINED: u64 = 5000;
const IN_FLIGHT: u64 = 64;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(bench());
}

fn report(name: &str, h: &Histogram<u64>) -> f64 {
    let us = |q| h.value_at_quantile(q) as f64;
    println!(
        "{name:<28} p50 {:>7.0} µs   p99 {:>7.0} µs   max {:>7.0} µs   (n = {})",
        us(0.5),
        us(0.99),
        h.max() as f64,
        h.len()
    );
    us(0.99)
}

async fn bench() {
    let mosquitto = Mosquitto::start();
    let port = mosquitto.port;
    let dir = tempfile::tempdir().unwrap();
    let gate = Gate::start(&config(&external(port)), dir.path()).await;
    await_online(port).await;

    // The floor: an echo client answering on the same broker, same QoS.
    let mut echo = Probe::connect(port, "bench-echo", &["bench/echo/req".to_string()]).await;
    let echo_client = echo.client.clone();
    tokio::spawn(async move {
        while let Some(p) = echo.messages.recv().await {
            let _ = echo_client
                .publish(
                    "bench/echo/resp",
                    QoS::AtLeastOnce,
                    false,
                    p.payload.to_vec(),
                )
                .await;
        }
    });
    let mut asker = Probe::connect(port, "bench-asker", &["bench/echo/resp".to_string()]).await;
    let mut floor = Histogram::<u64>::new(3).unwrap();
    for i in 0..ROUND_TRIPS {
        let t = Instant::now();
        asker
            .client
            .publish(
                "bench/echo/req",
                QoS::AtLeastOnce,
                false,
                format!("{{\"id\":{i}}}"),
            )
            .await
            .unwrap();
        asker.messages.recv().await.unwrap();
        floor.record(t.elapsed().as_micros() as u64).unwrap();
    }

    let swipe = format!("gatehouse/{SITE}/readers/r-north-in/swipe");
    let result = format!("gatehouse/{SITE}/readers/r-north-in/result");
    let mut reader = Probe::connect(port, "bench-reader", std::slice::from_ref(&result)).await;
    let mut swipes = Histogram::<u64>::new(3).unwrap();
    let store = gate.gateway.store().clone();
    let (commits_before, (commit_before, write_before)) = (store.commits(), store.commit_time());
    for i in 0..ROUND_TRIPS {
        let t = Instant::now();
        let payload = format!("{{\"id\":\"b-{i}\",\"card\":\"04A1B2C3\"}}");
        reader
            .client
            .publish(swipe.clone(), QoS::AtLeastOnce, false, payload)
            .await
            .unwrap();
        let r = reader.messages.recv().await.unwrap();
        swipes.record(t.elapsed().as_micros() as u64).unwrap();
        assert!(
            r.payload
                .starts_with(format!("{{\"id\":\"b-{i}\"").as_bytes()),
            "answers in order"
        );
    }

    // What the durable log write costs of each sequential swipe (one group write each).
    let commits = (store.commits() - commits_before).max(1);
    let (commit_after, write_after) = store.commit_time();
    let fsync_us = (commit_after - commit_before) as f64 / commits as f64;
    let write_us = (write_after - write_before) as f64 / commits as f64;

    // Sustained: many swipes in flight at once, as at a morning rush on every gate.
    let t = Instant::now();
    let mut sent = 0u64;
    let mut answered = 0u64;
    while answered < SUSTAINED {
        while sent < SUSTAINED && sent - answered < IN_FLIGHT {
            let payload = format!("{{\"id\":\"s-{sent}\",\"card\":\"04A1B2C3\"}}");
            reader
                .client
                .publish(swipe.clone(), QoS::AtLeastOnce, false, payload)
                .await
                .unwrap();
            sent += 1;
        }
        reader.messages.recv().await.unwrap();
        answered += 1;
    }
    let rate = SUSTAINED as f64 / t.elapsed().as_secs_f64();

    println!("MQTT round trip through Mosquitto on loopback (QoS 1, durable log write included):");
    let floor_p99 = report("echo client (floor)", &floor);
    let swipe_p99 = report("swipe -> result", &swipes);
    println!(
        "p99 ratio swipe / echo: {:.2} (target <= 1.5)",
        swipe_p99 / floor_p99
    );
    println!(
        "log write per sequential swipe: {write_us:.0} µs mean ({fsync_us:.0} µs of it in redb's commit/fsync; {commits} group writes)"
    );
    println!(
        "swipe p50 minus echo p50 minus log write: {:.0} µs (the gateway's own path: parse, decide, reply)",
        swipes.value_at_quantile(0.5) as f64 - floor.value_at_quantile(0.5) as f64 - write_us
    );
    println!("sustained: {rate:.0} swipes/s with {IN_FLIGHT} in flight ({SUSTAINED} swipes)");
    gate.stop().await;
}
