//! The evaluation tables of docs/occupancy.md: both simulators, 1/2/4 weeks × 0/20/40 % of
//! exits lost, our inference beside the baselines, each cell's swipes arriving in shuffled
//! chunks with 2 % of them twice (as repeated, out-of-order imports would).
//!
//!   cargo run --release -p gatehouse-occupancy --example eval_table -- [HOUSEHOLDS] [SEEDS] [SIMULATORS]
//!
//! SEEDS is a comma-separated list (default 101,202: held out, never used while the model
//! was written; 42 and 7 were). SIMULATORS: routines,episodes (default both).

use gatehouse_occupancy::Method;
use gatehouse_occupancy::simulate::SimConfig;
use gatehouse_occupancy::trial::{self, Simulator};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let households: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let seeds: Vec<u64> = args
        .get(2)
        .map(|s| s.split(',').filter_map(|x| x.parse().ok()).collect())
        .unwrap_or_else(|| vec![101, 202]);
    let sims: Vec<Simulator> = args
        .get(3)
        .map(|s| s.split(',').filter_map(|x| x.parse().ok()).collect())
        .unwrap_or_else(|| vec![Simulator::Routines, Simulator::Episodes]);
    for sim in sims {
        println!(
            "\n### Simulator `{}`: {households} households, seeds {seeds:?} (figures are the mean over seeds)\n",
            sim.as_str()
        );
        println!(
            "| weeks | lost exits | method | F1 occupied vs vacant | 3-class accuracy | residents exact % | residents ±1 % | head-count error % | recall % lent / cloned / moved out / tailgating | false alarms per 1,000 passes (lent / cloned / moved out / tailgating) |"
        );
        println!("|---|---|---|---|---|---|---|---|---|---|");
        for weeks in [1u32, 2, 4] {
            for miss in [0.0, 0.2, 0.4] {
                let worlds: Vec<_> = seeds
                    .iter()
                    .map(|&seed| {
                        trial::world(sim, SimConfig::new(households, weeks * 7, seed, miss))
                    })
                    .collect();
                for method in Method::ALL {
                    let scores: Vec<_> = worlds
                        .iter()
                        .map(|w| trial::score(w, method, true))
                        .collect();
                    let n = scores.len() as f64;
                    let mean = |f: &dyn Fn(&gatehouse_occupancy::eval::Scores) -> f64| {
                        scores.iter().map(f).sum::<f64>() / n
                    };
                    let recall: Vec<String> = (0..4)
                        .map(|k| {
                            let found: usize = scores.iter().map(|s| s.anomalies[k].found).sum();
                            let truth: usize = scores.iter().map(|s| s.anomalies[k].truth).sum();
                            if truth == 0 {
                                "–".into()
                            } else {
                                format!("{:.0}", 100.0 * found as f64 / truth as f64)
                            }
                        })
                        .collect();
                    let per_kind: Vec<String> = (0..4)
                        .map(|k| {
                            let wrong: usize =
                                scores.iter().map(|s| s.anomalies[k].false_alarms).sum();
                            format!("{wrong}")
                        })
                        .collect();
                    println!(
                        "| {weeks} | {:.0} % | {} | {:.3} | {:.3} | {:.1} | {:.1} | {:.1} | {} | {:.1} ({}) |",
                        miss * 100.0,
                        method.as_str(),
                        mean(&|s| s.f1),
                        mean(&|s| s.three_class),
                        100.0 * mean(&|s| s.residents_exact),
                        100.0 * mean(&|s| s.residents_within_one),
                        100.0 * mean(&|s| s.head_total_error),
                        recall.join(" / "),
                        mean(&|s| s.false_alarms_per_1000),
                        per_kind.join(" / "),
                    );
                }
            }
        }
    }
}
