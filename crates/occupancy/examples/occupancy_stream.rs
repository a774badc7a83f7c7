//! Occupancy over a simulated estate's event stream, without the store: the simulator hands
//! each swipe, as the access event an import would append, straight to the inference.
//! Prints records, time and throughput; run under `/usr/bin/time -v` for peak memory.
//!
//!   cargo run --release -p gatehouse-occupancy --example occupancy_stream -- 5000 90
//!   cargo run --release -p gatehouse-occupancy --example occupancy_stream -- 5000 90 sim-only

use gatehouse_occupancy::simulate::{SimConfig, Simulation, event};
use gatehouse_occupancy::{Method, Occupancy};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let households: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(5000);
    let days: u32 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(90);
    let sim_only = args.get(3).is_some_and(|a| a == "sim-only");
    let began = std::time::Instant::now();
    let mut sim = Simulation::new(SimConfig::new(households, days, 1, 0.2));
    let tz = jiff::tz::TimeZone::get("Asia/Shanghai").expect("bundled zone");
    let (config, estate) = (sim.config.clone(), sim.estate.clone());
    let mut occ = Occupancy::new(&config, &estate, sim.cfg.window(), Method::Ours)
        .expect("simulated estate is valid");
    let truth = sim.run(|s| {
        if !sim_only {
            occ.observe(&event(&config, &estate, s, &tz));
        }
    });
    let report = occ.finish();
    let secs = began.elapsed().as_secs_f64();
    println!(
        "{households} households x {days} nights: {} swipe records, {} events read, {:.2} s, {:.0} records/s{}",
        truth.swipes,
        report.events_read,
        secs,
        truth.swipes as f64 / secs,
        if sim_only {
            " (simulator only)"
        } else {
            " (simulator + inference)"
        }
    );
}
