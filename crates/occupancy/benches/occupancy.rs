//! Criterion figures for occupancy: simulator throughput, and inference and live head-count
//! throughput on the simulator's event stream (the 10-million-record run from the store is in
//! bench/occupancy-10m.sh; see docs/benchmarks.md, "Occupancy").

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use gatehouse_occupancy::live::LiveOccupancy;
use gatehouse_occupancy::simulate::{SimConfig, Simulation};
use gatehouse_occupancy::{Method, Occupancy};

const HOUSEHOLDS: usize = 500;
const DAYS: u32 = 28;

fn simulate(c: &mut Criterion) {
    let swipes = Simulation::new(SimConfig::new(HOUSEHOLDS, DAYS, 1, 0.2))
        .run(|_| {})
        .swipes;
    let mut g = c.benchmark_group("occupancy");
    g.sample_size(10);
    g.throughput(Throughput::Elements(swipes));
    g.bench_function("simulate 500 households x 28 nights", |b| {
        b.iter(|| {
            Simulation::new(SimConfig::new(HOUSEHOLDS, DAYS, 1, 0.2))
                .run(|_| {})
                .swipes
        })
    });
    let mut sim = Simulation::new(SimConfig::new(HOUSEHOLDS, DAYS, 1, 0.2));
    let events = gatehouse_occupancy::simulate::log(&mut sim);
    let window = sim.cfg.window();
    g.bench_function("infer 500 households x 28 nights", |b| {
        b.iter(|| {
            let mut occ = Occupancy::new(&sim.config, &sim.estate, window, Method::Ours).unwrap();
            for e in &events {
                occ.observe(e);
            }
            occ.finish().households.len()
        })
    });
    g.bench_function("live head counts 500 households x 28 nights", |b| {
        b.iter(|| {
            let mut live = LiveOccupancy::new(&sim.config, &sim.estate).unwrap();
            for e in &events {
                live.observe(e);
            }
            live.head_counts().site
        })
    });
    g.finish();
}

criterion_group!(benches, simulate);
criterion_main!(benches);
