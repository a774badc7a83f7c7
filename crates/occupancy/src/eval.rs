//! Scores an occupancy report against the simulator's truth.
//!
//! - Occupied-vs-vacant F1: over households truly occupied or truly vacant (occasional ones
//!   are left out: they are neither), "occupied" is the positive class; and the same over the
//!   households some member of which holds a pass (the ones the swipes can speak for: a
//!   household without a pass is `unknown`, and counts as a missed occupied one in the first).
//! - Residents exact and ±1: over households truly occupied or occasional.
//! - Over-occupancy precision in the top 20: households ranked by estimated minus registered
//!   residents (ties by confidence); of the first 20 with a surplus, the share truly over.
//! - Head-count error: mean absolute error of the estate's total at each 03:00 and 15:00
//!   sample, as a share of the true total; and the mean absolute error per building.
//! - Anomaly recall per kind, with false alarms per 1,000 resident passes beside it.

use std::collections::{HashMap, HashSet};

use crate::report::{AnomalyKind, Report, Status};
use crate::simulate::Truth;

#[derive(Clone, Debug, serde::Serialize)]
pub struct AnomalyScore {
    pub kind: &'static str,
    pub truth: usize,
    pub found: usize,
    pub recall: f64,
    pub false_alarms: usize,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Scores {
    pub households: usize,
    pub f1: f64,
    /// F1 over the households holding a pass.
    pub f1_holding: f64,
    pub precision: f64,
    pub recall: f64,
    pub status_accuracy: f64,
    /// Status right among households truly occupied, occasional or vacant (a report's
    /// `unknown` counts as wrong).
    pub three_class: f64,
    pub residents_exact: f64,
    pub residents_within_one: f64,
    pub over_precision_top20: f64,
    pub over_ranked: usize,
    pub head_total_error: f64,
    pub head_building_mae: f64,
    pub anomalies: Vec<AnomalyScore>,
    /// False alarms of all kinds per 1,000 resident passes.
    pub false_alarms_per_1000: f64,
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// Occupied ("positive") against vacant: the counts behind precision, recall and F1.
#[derive(Default)]
struct Confusion {
    tp: usize,
    fp: usize,
    fn_: usize,
}

impl Confusion {
    fn add(&mut self, truly: bool, said: bool) {
        match (truly, said) {
            (true, true) => self.tp += 1,
            (false, true) => self.fp += 1,
            (true, false) => self.fn_ += 1,
            _ => {}
        }
    }

    fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }

    fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }

    fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        }
    }
}

pub fn score(truth: &Truth, report: &Report) -> Scores {
    let verdicts: HashMap<&str, &crate::report::HouseholdVerdict> = report
        .households
        .iter()
        .map(|h| (h.household.as_str(), h))
        .collect();
    let (mut all, mut holding) = (Confusion::default(), Confusion::default());
    let (mut right, mut n) = (0, 0);
    let (mut right3, mut n3) = (0, 0);
    let (mut exact, mut within, mut lived) = (0, 0, 0);
    for t in &truth.households {
        let Some(v) = verdicts.get(t.household.as_str()) else {
            continue;
        };
        n += 1;
        if v.status == t.status {
            right += 1;
        }
        if t.status != Status::Unknown {
            n3 += 1;
            right3 += usize::from(v.status == t.status);
        }
        if matches!(t.status, Status::Occupied | Status::Vacant) {
            let truly = t.status == Status::Occupied;
            let said = v.status == Status::Occupied;
            all.add(truly, said);
            if t.holds_pass {
                holding.add(truly, said);
            }
        }
        if matches!(t.status, Status::Occupied | Status::Occasional) {
            lived += 1;
            let d = (v.estimated_residents as i64 - t.residents as i64).abs();
            exact += usize::from(d == 0);
            within += usize::from(d <= 1);
        }
    }

    let over: HashSet<&str> = truth
        .households
        .iter()
        .filter(|h| h.over_occupied)
        .map(|h| h.household.as_str())
        .collect();
    let mut ranked: Vec<&crate::report::HouseholdVerdict> = report
        .households
        .iter()
        .filter(|h| h.estimated_residents > h.registered)
        .collect();
    ranked.sort_by(|a, b| {
        let sa = a.estimated_residents as i64 - a.registered as i64;
        let sb = b.estimated_residents as i64 - b.registered as i64;
        sb.cmp(&sa)
            .then(b.confidence.total_cmp(&a.confidence))
            .then(a.household.cmp(&b.household))
    });
    ranked.truncate(20);
    let over_hits = ranked
        .iter()
        .filter(|h| over.contains(h.household.as_str()))
        .count();

    let (head_total_error, head_building_mae) = head_error(truth, report);

    let lists: [(AnomalyKind, &Vec<String>); 4] = [
        (AnomalyKind::LentPass, &truth.lent_passes),
        (AnomalyKind::ClonedCard, &truth.cloned_cards),
        (AnomalyKind::MovedOutStillActive, &truth.moved_out_passes),
        (AnomalyKind::Tailgating, &truth.tailgaters),
    ];
    let mut anomalies = Vec::new();
    let mut false_alarms = 0;
    for (kind, list) in lists {
        let truly: HashSet<&str> = list.iter().map(String::as_str).collect();
        let said: HashSet<&str> = report
            .anomalies
            .iter()
            .filter(|a| a.kind == kind)
            .map(|a| a.pass.as_str())
            .collect();
        let found = said.intersection(&truly).count();
        let wrong = said.difference(&truly).count();
        false_alarms += wrong;
        anomalies.push(AnomalyScore {
            kind: kind.as_str(),
            truth: truly.len(),
            found,
            recall: ratio(found, truly.len()),
            false_alarms: wrong,
        });
    }
    Scores {
        households: n,
        f1: all.f1(),
        f1_holding: holding.f1(),
        precision: all.precision(),
        recall: all.recall(),
        status_accuracy: ratio(right, n),
        three_class: ratio(right3, n3),
        residents_exact: ratio(exact, lived),
        residents_within_one: ratio(within, lived),
        over_precision_top20: ratio(over_hits, ranked.len()),
        over_ranked: ranked.len(),
        head_total_error,
        head_building_mae,
        anomalies,
        false_alarms_per_1000: 1000.0 * ratio(false_alarms, truth.passes),
    }
}

/// Relative error of the estate total, and mean absolute error per building, over samples.
fn head_error(truth: &Truth, report: &Report) -> (f64, f64) {
    let said: HashMap<(&str, &str), u32> = report
        .head_counts
        .iter()
        .map(|h| ((h.at.as_str(), h.zone.as_str()), h.count))
        .collect();
    let (mut total_err, mut total_true, mut bld_err, mut bld_n) = (0.0, 0.0, 0.0, 0usize);
    for h in &truth.head_counts {
        let got = *said.get(&(h.at.as_str(), h.zone.as_str())).unwrap_or(&0) as f64;
        let err = (got - h.count as f64).abs();
        // The truth lists the estate's area zone first at each sample.
        if Some(h.zone.as_str()) == truth.head_counts.first().map(|f| f.zone.as_str()) {
            total_err += err;
            total_true += h.count as f64;
        } else {
            bld_err += err;
            bld_n += 1;
        }
    }
    (
        if total_true > 0.0 {
            total_err / total_true
        } else {
            0.0
        },
        if bld_n > 0 {
            bld_err / bld_n as f64
        } else {
            0.0
        },
    )
}

impl Scores {
    /// The scores as lines a person reads.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "households scored: {}\noccupied-vs-vacant F1: {:.3} (precision {:.3}, recall {:.3}); over households holding a pass {:.3}; status accuracy (4 classes): {:.3}\nresidents exact: {:.1} %, within ±1: {:.1} %\nover-occupancy precision in the top 20: {:.2} ({} ranked)\nhead-count error: estate total {:.1} %, per building {:.2} people\n",
            self.households,
            self.f1,
            self.precision,
            self.recall,
            self.f1_holding,
            self.status_accuracy,
            100.0 * self.residents_exact,
            100.0 * self.residents_within_one,
            self.over_precision_top20,
            self.over_ranked,
            100.0 * self.head_total_error,
            self.head_building_mae
        );
        for a in &self.anomalies {
            s.push_str(&format!(
                "anomaly {}: recall {}/{} ({:.0} %), false alarms {}\n",
                a.kind,
                a.found,
                a.truth,
                100.0 * a.recall,
                a.false_alarms
            ));
        }
        s.push_str(&format!(
            "false alarms (all kinds): {:.1} per 1,000 resident passes\n",
            self.false_alarms_per_1000
        ));
        s
    }

    /// One row of the results table in docs/occupancy.md.
    pub fn markdown_row(&self, label: &str) -> String {
        let recall: Vec<String> = self
            .anomalies
            .iter()
            .map(|a| format!("{:.0}", 100.0 * a.recall))
            .collect();
        format!(
            "| {label} | {:.3} | {:.1} | {:.1} | {:.2} | {:.1} | {} | {:.1} |",
            self.f1,
            100.0 * self.residents_exact,
            100.0 * self.residents_within_one,
            self.over_precision_top20,
            100.0 * self.head_total_error,
            recall.join(" / "),
            self.false_alarms_per_1000
        )
    }
}
