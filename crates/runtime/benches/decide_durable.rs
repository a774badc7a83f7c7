//! Decisions through the whole runtime with the durable log: decisions/s with 1 and 64
//! concurrent requesters, and the latency from `submit` to the door command reaching the
//! door's adapter (the actuation output), which includes the group-committed fsync.
//!
//! Run: `cargo bench -p gatehouse-runtime --bench decide_durable`
//! Targets (issue 3): >= 20,000 decisions/s, p99 request -> actuation <= 2 ms.

use gatehouse_core::Direction;
use gatehouse_core::config::Config;
use gatehouse_core::estate::{EstateData, Household, Pass, Person, Role};
use gatehouse_core::io::{AccessPoint, AccessRequest, Credential, Input};
use hdrhistogram::Histogram;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

const PASSES: usize = 20_000;

fn config() -> Config {
    toml::from_str(
        r#"
        [site]
        id = "bench-estate"
        name = "Bench"
        [policy]
        apb = "off"
        [[zones]]
        id = "bldg-1"
        name = "1"
        parent = "site"
        [[doors]]
        id = "gate"
        name = "Gate"
        kind = "pedestrian"
        outside = "outside"
        inside = "bldg-1"
        controller = "bench"
        "#,
    )
    .expect("bench config parses")
}

fn estate() -> EstateData {
    let mut data = EstateData::default();
    data.households.push(Household {
        id: "1-1-101".into(),
        zone: "bldg-1".into(),
        tenure: Default::default(),
    });
    for i in 0..PASSES {
        let person = format!("R-{i:06}");
        data.people.push(Person::new(
            &person,
            &format!("resident {i}"),
            &format!("139{i:08}"),
            Some("1-1-101"),
            Role::Resident,
        ));
        let card = format!("{:08X}", 0x1000_0000u32 + i as u32);
        data.passes
            .push(Pass::card(&format!("P-{i:06}"), &card, &person));
    }
    data
}

fn swipe(i: usize) -> Input {
    Input::Access(AccessRequest {
        point: AccessPoint::Door {
            door: "gate".into(),
            direction: if i.is_multiple_of(2) {
                Direction::In
            } else {
                Direction::Out
            },
        },
        credential: Credential::Card(format!("{:08X}", 0x1000_0000u32 + (i % PASSES) as u32)),
        pin: None,
        requested_at: None,
        actor: None,
        source: "bench".into(),
    })
}

struct Figures {
    per_second: f64,
    p50_us: u64,
    p99_us: u64,
    max_us: u64,
}

async fn run(writers: usize, per_writer: usize) -> Figures {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = gatehouse_store::Store::open(dir.path(), "bench-estate").expect("store opens");
    store.put_estate(&estate()).expect("estate written");
    let token = CancellationToken::new();
    let (gateway, task) =
        gatehouse_runtime::start(&config(), store, token.clone()).expect("runtime starts");

    // The door's adapter: notes when each actuation arrives, keyed by the event that caused it.
    let mut doors = gateway.register_doors(&["gate".to_string()]);
    let arrived: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let arrivals = arrived.clone();
    let adapter = tokio::spawn(async move {
        while let Some(cmd) = doors.recv().await {
            if let Some(event) = cmd.event {
                arrivals.lock().unwrap().insert(event, Instant::now());
            }
        }
    });

    let started = Instant::now();
    let mut requesters = Vec::new();
    for w in 0..writers {
        let gateway = gateway.clone();
        requesters.push(tokio::spawn(async move {
            let mut sent = Vec::with_capacity(per_writer);
            for n in 0..per_writer {
                let i = w * per_writer + n;
                let at = Instant::now();
                let replies = gateway.submit(swipe(i)).await.expect("runtime answers");
                for reply in replies {
                    if let gatehouse_core::io::Reply::Access(r) = reply {
                        assert!(r.grant, "bench swipe refused: {:?}", r.reason);
                        sent.push((r.event, at));
                    }
                }
            }
            sent
        }));
    }
    let mut sent = Vec::new();
    for r in requesters {
        sent.extend(r.await.expect("requester finished"));
    }
    let elapsed = started.elapsed();
    // Let the last door commands arrive.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let arrived = arrived.lock().unwrap().clone();
    let mut hist = Histogram::<u64>::new(3).expect("histogram");
    for (event, at) in &sent {
        let done = arrived
            .get(event)
            .expect("every grant reached the door adapter");
        hist.record(done.duration_since(*at).as_micros() as u64)
            .expect("recordable");
    }
    token.cancel();
    let _ = task.await;
    adapter.abort();
    Figures {
        per_second: sent.len() as f64 / elapsed.as_secs_f64(),
        p50_us: hist.value_at_quantile(0.50),
        p99_us: hist.value_at_quantile(0.99),
        max_us: hist.max(),
    }
}

fn main() {
    // `cargo test --benches` runs bench targets with `--bench` absent; keep that quick.
    let quick = !std::env::args().any(|a| a == "--bench");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio");
    println!("decisions through the runtime with the durable log (redb, group commit)");
    println!(
        "{:>8} {:>12} {:>14} {:>10} {:>10} {:>10}",
        "writers", "decisions", "decisions/s", "p50 µs", "p99 µs", "max µs"
    );
    for (writers, per_writer) in [
        (1, if quick { 50 } else { 2_000 }),
        (64, if quick { 20 } else { 1_000 }),
    ] {
        let f = rt.block_on(run(writers, per_writer));
        println!(
            "{:>8} {:>12} {:>14.0} {:>10} {:>10} {:>10}",
            writers,
            writers * per_writer,
            f.per_second,
            f.p50_us,
            f.p99_us,
            f.max_us
        );
    }
}
