//! Durable appends per second: one writer, and 64 concurrent writers sharing group commits,
//! next to a raw `write + fdatasync` loop on the same disk (the same temporary directory).
//!
//! `cargo bench -p gatehouse-store --bench append`; figures in docs/benchmarks.md.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use gatehouse_core::event::{Decision, Direction, Event, Kind, Method, Reason};
use gatehouse_store::Store;
use std::io::Write;
use std::time::{Duration, Instant};

fn swipe(i: u64) -> Event {
    let mut e = Event::new(Kind::Access, "2026-11-22T08:03:12.418+08:00");
    e.door = Some("gate-north".into());
    e.reader = Some("r-north-in".into());
    e.direction = Some(Direction::In);
    e.pass = Some(format!("P-{:06}", i % 5000));
    e.person = Some(format!("R-{:06}", i % 5000));
    e.household = Some("18-2-501".into());
    e.method = Some(Method::CardPhone);
    e.decision = Some(Decision::Grant);
    e.reason = Some(Reason::Granted);
    e
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir_in(
        std::env::var_os("BENCH_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(std::env::temp_dir),
    )
    .unwrap();
    let mut group = c.benchmark_group("event_log");
    group.throughput(Throughput::Elements(1));
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(8))
        .warm_up_time(Duration::from_secs(2));

    // The floor: what one durable write costs on this disk, with nothing else.
    let record = serde_json::to_vec(&swipe(0)).unwrap();
    let mut raw = std::fs::File::create(dir.path().join("raw-fsync")).unwrap();
    group.bench_function("raw write+fdatasync", |b| {
        b.iter(|| {
            raw.write_all(&record).unwrap();
            raw.sync_data().unwrap();
        })
    });

    let store = Store::open(&dir.path().join("store"), "bench").unwrap();
    let mut n = 0u64;
    group.bench_function("append, 1 writer", |b| {
        b.iter(|| {
            n += 1;
            store.append_blocking(swipe(n)).unwrap()
        })
    });

    let runtime = tokio::runtime::Runtime::new().unwrap();
    for writers in [8u64, 64] {
        group.bench_function(format!("append, {writers} writers"), |b| {
            b.iter_custom(|iters| {
                runtime.block_on(async {
                    let start = Instant::now();
                    let mut tasks = tokio::task::JoinSet::new();
                    for w in 0..writers {
                        let store = store.clone();
                        let mine = iters / writers + u64::from(w < iters % writers);
                        tasks.spawn(async move {
                            for i in 0..mine {
                                store.append(swipe(w * 1_000_000 + i)).await.unwrap();
                            }
                        });
                    }
                    while tasks.join_next().await.is_some() {}
                    start.elapsed()
                })
            })
        });
    }
    group.finish();
    eprintln!(
        "event log: {} events in {} commits ({:.1} events per commit)",
        store.last_seq(),
        store.commits(),
        store.last_seq() as f64 / store.commits().max(1) as f64
    );
    let (commit, write) = store.commit_time();
    eprintln!(
        "event log: {:.2} ms per group write, of which {:.2} ms in redb's commit",
        write as f64 / 1000.0 / store.commits().max(1) as f64,
        commit as f64 / 1000.0 / store.commits().max(1) as f64
    );
    assert_eq!(store.verify().unwrap().first_bad, None);
}

criterion_group!(benches, bench);
criterion_main!(benches);
