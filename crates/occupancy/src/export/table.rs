//! The households of a report as CSV: one row per household, the columns of the JSON.

use crate::OccupancyError;
use crate::report::Report;

pub fn households_csv(report: &Report) -> Result<Vec<u8>, OccupancyError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let err = |e: csv::Error| OccupancyError::Render(e.to_string());
    w.write_record([
        "household",
        "building",
        "building_name",
        "registered",
        "status",
        "estimated_residents",
        "nights_present",
        "nights",
        "confidence",
        "flags",
        "visitor_entries",
        "evidence",
        "evidence_zh",
    ])
    .map_err(err)?;
    for h in &report.households {
        let flags: Vec<&str> = h.flags.iter().map(|f| f.as_str()).collect();
        w.write_record([
            h.household.clone(),
            h.building.clone().unwrap_or_default(),
            h.building_name.clone().unwrap_or_default(),
            h.registered.to_string(),
            h.status.as_str().to_string(),
            h.estimated_residents.to_string(),
            h.nights_present.to_string(),
            h.nights.to_string(),
            format!("{:.2}", h.confidence),
            flags.join(";"),
            h.visitor_entries.to_string(),
            h.evidence.clone(),
            h.evidence_zh.clone(),
        ])
        .map_err(err)?;
    }
    w.into_inner()
        .map_err(|e| OccupancyError::Render(e.to_string()))
}

/// The anomalies of a report as CSV, card numbers and local times included (written beside
/// the households' CSV as `NAME-anomalies.csv`).
pub fn anomalies_csv(report: &Report) -> Result<Vec<u8>, OccupancyError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let err = |e: csv::Error| OccupancyError::Render(e.to_string());
    w.write_record([
        "kind",
        "card",
        "pass",
        "household",
        "at",
        "confidence",
        "detail",
        "detail_zh",
        "evidence",
    ])
    .map_err(err)?;
    for a in &report.anomalies {
        w.write_record([
            a.kind.as_str().to_string(),
            a.card.clone().unwrap_or_default(),
            a.pass.clone(),
            a.household.clone().unwrap_or_default(),
            super::local(&a.at),
            format!("{:.2}", a.confidence),
            a.detail.clone(),
            a.detail_zh.clone(),
            a.evidence.join("; "),
        ])
        .map_err(err)?;
    }
    w.into_inner()
        .map_err(|e| OccupancyError::Render(e.to_string()))
}
