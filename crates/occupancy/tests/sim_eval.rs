//! The simulator, the inference and the evaluation together on a small estate.

use gatehouse_occupancy::simulate::{SimConfig, Simulation};
use gatehouse_occupancy::{Method, Occupancy, eval};

fn run(
    households: usize,
    days: u32,
    seed: u64,
    missing: f64,
    method: Method,
) -> (eval::Scores, u64) {
    let mut sim = Simulation::new(SimConfig::new(households, days, seed, missing));
    let tz = jiff::tz::TimeZone::get("Asia/Shanghai").unwrap();
    let window = sim.cfg.window();
    let mut occ = Occupancy::new(&sim.config, &sim.estate, window, method).unwrap();
    let mut events = Vec::new();
    let truth = sim.run(|s| events.push(*s));
    for s in &events {
        occ.observe(&gatehouse_occupancy::simulate::event(
            &sim.config,
            &sim.estate,
            s,
            &tz,
        ));
    }
    let report = occ.finish();
    (eval::score(&truth, &report), truth.swipes)
}

#[test]
fn inference_scores_well_and_counts_heads_better_than_the_baselines() {
    let seed = 7;
    let (ours, swipes) = run(300, 28, seed, 0.2, Method::Ours);
    eprintln!("seed {seed}, {swipes} swipes\n{}", ours.to_text());
    for m in [Method::FirstLastRead, Method::LastDirection] {
        let (base, _) = run(300, 28, seed, 0.2, m);
        eprintln!("{}: {}", m.as_str(), base.markdown_row(m.as_str()));
        assert!(
            ours.head_total_error < base.head_total_error,
            "seed {seed}: ours head-count error {} not below {} of {}",
            ours.head_total_error,
            base.head_total_error,
            m.as_str()
        );
    }
    assert!(ours.f1 >= 0.9, "seed {seed}: F1 {}", ours.f1);
    assert!(
        ours.residents_within_one >= 0.9,
        "seed {seed}: residents ±1 {}",
        ours.residents_within_one
    );
    let cloned = ours
        .anomalies
        .iter()
        .find(|a| a.kind == "cloned_card")
        .unwrap();
    assert!(
        cloned.recall >= 0.5,
        "seed {seed}: cloned-card recall {}",
        cloned.recall
    );
}
