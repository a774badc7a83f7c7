//! Where our inference goes wrong in one cell of the evaluation, by the simulator's kind of
//! household: how many households of each kind, how many of them a report calls wrongly, and
//! of those how many count against the occupied-vs-vacant F1 (a truly occupied one not called
//! occupied, a truly vacant one called occupied). With `list`, every such household with the
//! report's evidence line, so each can be checked in the swipes.
//!
//!   cargo run --release -p gatehouse-occupancy --example eval_errors -- HOUSEHOLDS SEEDS SIMULATOR WEEKS LOST [list]
//!
//! e.g. `-- 600 2000-2029 routines 4 0.4`. SEEDS as in eval_table (`42,7`, `2000-2029`).

use std::collections::BTreeMap;

use gatehouse_occupancy::Method;
use gatehouse_occupancy::report::Status;
use gatehouse_occupancy::simulate::SimConfig;
use gatehouse_occupancy::trial::{self, Simulator};

#[derive(Default)]
struct Tally {
    households: usize,
    wrong: usize,
    missed_occupied: usize,
    false_occupied: usize,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: eval_errors HOUSEHOLDS SEEDS routines|episodes WEEKS LOST [list]";
    let households: usize = args.get(1).and_then(|s| s.parse().ok()).expect(usage);
    let seeds = trial::seeds(args.get(2).expect(usage)).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2);
    });
    let sim: Simulator = args.get(3).expect(usage).parse().expect(usage);
    let weeks: u32 = args.get(4).and_then(|s| s.parse().ok()).expect(usage);
    let lost: f64 = args.get(5).and_then(|s| s.parse().ok()).expect(usage);
    let list = args.get(6).is_some_and(|s| s == "list");
    let mut by_kind: BTreeMap<String, Tally> = BTreeMap::new();
    for &seed in &seeds {
        let world = trial::world(sim, SimConfig::new(households, weeks * 7, seed, lost));
        let report = trial::report(&world, Method::Ours, true);
        let said: std::collections::HashMap<&str, _> = report
            .households
            .iter()
            .map(|h| (h.household.as_str(), h))
            .collect();
        for t in &world.truth.households {
            let Some(v) = said.get(t.household.as_str()) else {
                continue;
            };
            let tally = by_kind.entry(t.kind.clone()).or_default();
            tally.households += 1;
            if v.status == t.status {
                continue;
            }
            tally.wrong += 1;
            let missed = t.status == Status::Occupied;
            let false_occ = t.status == Status::Vacant && v.status == Status::Occupied;
            tally.missed_occupied += usize::from(missed);
            tally.false_occupied += usize::from(false_occ);
            if list && (missed || false_occ) {
                println!(
                    "seed {seed} {} ({}): truly {:?} on {} nights, said {:?}: {}",
                    t.household, t.kind, t.status, t.nights_present, v.status, v.evidence
                );
            }
        }
    }
    println!(
        "\n{} households × {} seeds, simulator {}, {weeks} weeks, {:.0} % of exits lost\n",
        households,
        seeds.len(),
        sim.as_str(),
        lost * 100.0
    );
    println!(
        "| kind | households | wrong status | occupied not called occupied | vacant called occupied |"
    );
    println!("|---|---|---|---|---|");
    for (kind, t) in &by_kind {
        println!(
            "| {kind} | {} | {} | {} | {} |",
            t.households, t.wrong, t.missed_occupied, t.false_occupied
        );
    }
}
