//! Decisions per second of the core alone (no log, no I/O): `Core::handle` on access
//! requests, as the runtime's owner task calls it. Target: at least 1,000,000 decisions/s.
//!
//! `cargo bench -p gatehouse-core --bench decide`
//!
//! Each request is built (cloned) outside the timed part: turning a reader's message into an
//! `Input` is the adapter's work, not the core's. Dropping the outputs is timed.
//!
//! Two clocks: `decide/*` is wall-clock time (criterion); `decide_cpu/*` (printed after) is the
//! benchmark thread's own CPU time over a million decisions (`/proc/thread-self/schedstat`),
//! which stays meaningful on a shared, loaded machine where wall-clock time mostly measures
//! waiting for a core.

use criterion::{BatchSize, Criterion, Throughput, criterion_group};
use gatehouse_core::config::ApbMode;
use gatehouse_core::io::Admin;
use gatehouse_core::io::Input;
use gatehouse_testkit::estate::decisions as estate;
use jiff::SignedDuration;
use std::hint::black_box;

/// The allocator the gatehouse binary runs with (`src/main.rs`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn core(apb: ApbMode) -> gatehouse_core::Core {
    let mut config = estate::config();
    config.policy.apb = apb;
    estate::core_with(config)
}

fn decisions(c: &mut Criterion, name: &str) {
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(1));
    let start = estate::at("2026-11-23T10:00");

    // The common case: a resident's card at her building door (grant, unlock, reply).
    let mut grant = core(ApbMode::Off);
    let input = estate::swipe("r-18-in", "A1", None);
    let mut now = start;
    group.bench_function("grant_card", |b| {
        b.iter_batched(
            || input.clone(),
            |input| {
                now += SignedDuration::from_millis(1);
                drop(black_box(grant.handle(black_box(input), now)))
            },
            BatchSize::SmallInput,
        )
    });

    // Card and phone digits at the north gate, anti-passback on: in, then out, in turn.
    let mut apb = core(ApbMode::Soft);
    let inputs = [
        estate::swipe("r-north-in", "A1", Some("5678")),
        estate::swipe("r-north-out", "A1", None),
    ];
    let mut i = 0usize;
    let mut now = start;
    group.bench_function("card_phone_apb_in_out", |b| {
        b.iter_batched(
            || {
                i += 1;
                inputs[i % 2].clone()
            },
            |input| {
                now += SignedDuration::from_millis(1);
                drop(black_box(apb.handle(black_box(input), now)))
            },
            BatchSize::SmallInput,
        )
    });

    // A mix: grants, an unknown card, a refused pass, a locked-down building, a visitor QR.
    let mut mixed = core(ApbMode::Soft);
    mixed.handle(
        Input::Admin(Admin::Lockdown {
            zone: "bldg-3".into(),
            mode: Some("closed".into()),
            reason: "bench".into(),
            actor: "bench".into(),
        }),
        start,
    );
    let token = gatehouse_core::visitor::issue_token(
        &estate::GATEWAY_SECRET,
        "V-1",
        estate::at("2026-11-23T00:00"),
        estate::at("2026-11-24T00:00"),
    );
    let inputs = [
        estate::swipe("r-18-in", "A1", None),
        estate::swipe("r-18-out", "A1", None),
        estate::swipe("r-18-in", "FFFF", None),
        estate::swipe("r-18-in", "DEAD01", None),
        estate::swipe("r-3-in", "B2", None),
        estate::swipe("r-south-in", "C3", None),
        estate::swipe("r-south-out", "C3", None),
        estate::scan("r-18-in", &token),
    ];
    let mut i = 0usize;
    let mut now = start;
    group.bench_function("mixed", |b| {
        b.iter_batched(
            || {
                i += 1;
                inputs[i % inputs.len()].clone()
            },
            |input| {
                now += SignedDuration::from_millis(1);
                drop(black_box(mixed.handle(black_box(input), now)))
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn wall(c: &mut Criterion) {
    decisions(c, "decide");
}

/// The benchmark thread's CPU time in nanoseconds, from the scheduler's own accounting
/// (updated at every switch and tick, so only long runs are measured this way).
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .expect("/proc/thread-self/schedstat (Linux) gives the thread's CPU time")
}

/// Runs `n` decisions of each scenario and prints CPU time per decision and decisions per
/// CPU-second: the figure that stays meaningful on a shared, loaded machine. Requests are
/// built in chunks outside the counted time, as in the criterion rows.
fn cpu_report() {
    const N: usize = 1_000_000;
    const CHUNK: usize = 100_000;
    let start = estate::at("2026-11-23T10:00");
    let scenarios: [(&str, ApbMode, Vec<Input>); 3] = [
        (
            "grant_card",
            ApbMode::Off,
            vec![estate::swipe("r-18-in", "A1", None)],
        ),
        (
            "card_phone_apb_in_out",
            ApbMode::Soft,
            vec![
                estate::swipe("r-north-in", "A1", Some("5678")),
                estate::swipe("r-north-out", "A1", None),
            ],
        ),
        (
            "unknown_card",
            ApbMode::Soft,
            vec![estate::swipe("r-18-in", "FFFF", None)],
        ),
    ];
    for (name, apb, inputs) in scenarios {
        let mut core = core(apb);
        let mut now = start;
        let mut cpu_ns = 0;
        for chunk in 0..N / CHUNK {
            let batch: Vec<Input> = (0..CHUNK)
                .map(|i| inputs[(chunk * CHUNK + i) % inputs.len()].clone())
                .collect();
            let before = thread_cpu_ns();
            for input in batch {
                now += SignedDuration::from_micros(100);
                drop(black_box(core.handle(input, now)));
            }
            cpu_ns += thread_cpu_ns() - before;
        }
        let ns = cpu_ns as f64 / N as f64;
        println!(
            "decide_cpu/{name}: {ns:.0} ns CPU per decision, {:.0} decisions per CPU-second",
            1e9 / ns
        );
    }
}

criterion_group!(benches, wall);

fn main() {
    benches();
    if std::env::args().any(|a| a == "--bench") {
        cpu_report();
    }
    Criterion::default().configure_from_args().final_summary();
}
