//! Decisions through the whole runtime with the durable log: decisions/s with 1 and 64
//! concurrent requesters, and the latency from `submit` to the door command reaching the
//! door's adapter (the actuation output), which includes the group-committed fsync.
//! Open-loop rows count from when each swipe was due; the `p99 submitted` column counts from
//! when it was submitted, leaving out the time the pacer thread and the request's task waited
//! for a core (the load generator shares the gateway's 2 cores).
//!
//! Run: `cargo bench -p gatehouse-runtime --bench decide_durable`
//! Targets (issue 3): >= 20,000 decisions/s, p99 request -> actuation <= 2 ms.

use gatehouse_core::config::Config;
use gatehouse_core::estate::{EstateData, Household, Pass, Person, Role};
use gatehouse_core::io::{AccessPoint, AccessRequest, Credential, Input};
use gatehouse_core::{CardNumber, Direction};
use hdrhistogram::Histogram;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// The allocator the gatehouse binary runs with (`src/main.rs`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
        let card = CardNumber::from_u32(0x1000_0000u32 + i as u32);
        data.passes
            .push(Pass::card(&format!("P-{i:06}"), card, &person));
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
        credential: Credential::Card(CardNumber::from_u32(0x1000_0000u32 + (i % PASSES) as u32)),
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
    /// p99 from when the request was actually submitted: the gateway's own latency, without
    /// the time the pacer and the request's task waited for one of the 2 cores.
    p99_submitted_us: u64,
    dropped: usize,
}

/// A granted request: its event, when it was due (open loop) and when it was submitted.
struct Sent {
    event: String,
    due: Instant,
    submitted: Instant,
}

/// The requests of one run: closed loop (`writers` requesters, each sending its next request
/// when the last is answered) or open loop (requests at a fixed `rate` per second, whatever
/// the answers do, latency counted from when each was due).
#[derive(Clone, Copy)]
enum Load {
    Closed { writers: usize, per_writer: usize },
    Open { rate: u32, count: usize },
}

async fn run(load: Load) -> Figures {
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
            if let Some(event) = cmd.event.clone() {
                arrivals.lock().unwrap().insert(event, Instant::now());
            }
            cmd.outcome.report(Ok(()));
        }
    });

    // One request, answered: the event id of its grant, when the request was due and when
    // it was submitted.
    async fn one(gateway: gatehouse_runtime::Gateway, i: usize, due: Instant) -> Vec<Sent> {
        let submitted = Instant::now();
        let replies = gateway.submit(swipe(i)).await.expect("runtime answers");
        let mut sent = Vec::new();
        for reply in replies {
            if let gatehouse_core::io::Reply::Access(r) = reply {
                assert!(r.grant, "bench swipe refused: {:?}", r.reason);
                sent.push(Sent {
                    event: r.event,
                    due,
                    submitted,
                });
            }
        }
        sent
    }

    let started = Instant::now();
    let mut requesters = tokio::task::JoinSet::new();
    match load {
        Load::Closed {
            writers,
            per_writer,
        } => {
            for w in 0..writers {
                let gateway = gateway.clone();
                requesters.spawn(async move {
                    let mut sent = Vec::with_capacity(per_writer);
                    for n in 0..per_writer {
                        sent.extend(one(gateway.clone(), w * per_writer + n, Instant::now()).await);
                    }
                    sent
                });
            }
        }
        Load::Open { rate, count } => {
            // Paced by a thread of its own with `thread::sleep` (tens of µs late at most),
            // not tokio's timer (1 ms resolution, which alone added up to 1 ms to every
            // latency counted from when a swipe was due).
            let period = Duration::from_secs(1) / rate;
            let handle = tokio::runtime::Handle::current();
            let gateway = gateway.clone();
            let pacer = std::thread::spawn(move || {
                let mut spawned = Vec::with_capacity(count);
                for i in 0..count {
                    let due = started + period * i as u32;
                    if let Some(wait) = due.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    spawned.push(handle.spawn(one(gateway.clone(), i, due)));
                }
                spawned
            });
            let spawned = tokio::task::spawn_blocking(move || pacer.join().expect("pacer"))
                .await
                .expect("pacer joined");
            for request in spawned {
                requesters.spawn(async move { request.await.expect("request task") });
            }
        }
    }
    let mut sent = Vec::new();
    while let Some(r) = requesters.join_next().await {
        sent.extend(r.expect("requester finished"));
    }
    let elapsed = started.elapsed();
    // Wait until every grant's door command has either arrived or been dropped by the
    // runtime (an adapter that does not take its commands has them dropped and counted, as in
    // production).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let settled = arrived.lock().unwrap().len() as u64 + gateway.dropped_door_commands();
        if settled >= sent.len() as u64 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{settled} of {} door commands arrived or were dropped after 10 s",
            sent.len()
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let arrived = arrived.lock().unwrap().clone();
    let mut hist = Histogram::<u64>::new(3).expect("histogram");
    let mut submitted = Histogram::<u64>::new(3).expect("histogram");
    let mut dropped = 0;
    for s in &sent {
        match arrived.get(&s.event) {
            Some(done) => {
                let micros =
                    |from: Instant| done.saturating_duration_since(from).as_micros() as u64;
                hist.record(micros(s.due)).expect("recordable");
                submitted.record(micros(s.submitted)).expect("recordable");
            }
            None => dropped += 1,
        }
    }
    assert_eq!(
        dropped as u64,
        gateway.dropped_door_commands(),
        "every door command missing at the adapter is one the runtime counted as dropped"
    );
    token.cancel();
    let _ = task.await;
    adapter.abort();
    Figures {
        per_second: sent.len() as f64 / elapsed.as_secs_f64(),
        p50_us: hist.value_at_quantile(0.50),
        p99_us: hist.value_at_quantile(0.99),
        max_us: hist.max(),
        p99_submitted_us: submitted.value_at_quantile(0.99),
        dropped,
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
        "{:>22} {:>10} {:>12} {:>10} {:>10} {:>10} {:>18} {:>8}",
        "load",
        "decisions",
        "decisions/s",
        "p50 µs",
        "p99 µs",
        "max µs",
        "p99 submitted µs",
        "dropped"
    );
    let n = |full: usize, short: usize| if quick { short } else { full };
    for (label, load) in [
        (
            "closed, 1 requester",
            Load::Closed {
                writers: 1,
                per_writer: n(10_000, 50),
            },
        ),
        (
            "closed, 64 requesters",
            Load::Closed {
                writers: 64,
                per_writer: n(1_000, 20),
            },
        ),
        (
            "open, 100/s",
            Load::Open {
                rate: 100,
                count: n(3_000, 20),
            },
        ),
        (
            "open, 1,000/s",
            Load::Open {
                rate: 1_000,
                count: n(10_000, 100),
            },
        ),
        (
            "open, 5,000/s",
            Load::Open {
                rate: 5_000,
                count: n(25_000, 100),
            },
        ),
        (
            "open, 10,000/s",
            Load::Open {
                rate: 10_000,
                count: n(50_000, 100),
            },
        ),
    ] {
        let f = rt.block_on(run(load));
        let count = match load {
            Load::Closed {
                writers,
                per_writer,
            } => writers * per_writer,
            Load::Open { count, .. } => count,
        };
        println!(
            "{:>22} {:>10} {:>12.0} {:>10} {:>10} {:>10} {:>18} {:>8}",
            label, count, f.per_second, f.p50_us, f.p99_us, f.max_us, f.p99_submitted_us, f.dropped
        );
    }
}
