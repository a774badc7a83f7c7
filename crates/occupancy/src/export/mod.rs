//! Renderings of the report for the office: CSV, XLSX and HTML (building grid, daily flows),
//! and the per-building household table (楼组表). Phones appear masked only.

pub mod building;
pub mod chart;
pub mod grid;
pub mod html;
pub mod table;
pub mod xlsx;

/// The output formats `report occupancy` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
    Xlsx,
    Html,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Format, String> {
        match s {
            "json" => Ok(Format::Json),
            "csv" => Ok(Format::Csv),
            "xlsx" => Ok(Format::Xlsx),
            "html" => Ok(Format::Html),
            other => Err(format!(
                "unknown format '{other}': use json, csv, xlsx or html"
            )),
        }
    }
}

/// Escapes text for HTML.
pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// An instant of the report (`2026-11-05T19:00:40.000+08:00`, already in the site's time)
/// as the office reads it: `2026-11-05 19:00:40`.
pub(crate) fn local(at: &str) -> String {
    match (at.get(..10), at.get(11..19)) {
        (Some(d), Some(t)) if at.as_bytes().get(10) == Some(&b'T') => format!("{d} {t}"),
        _ => at.to_string(),
    }
}

/// A building as the office names it: `18号楼 (bldg-18)`.
pub(crate) fn building(h: &crate::report::HouseholdVerdict) -> String {
    match (&h.building_name, &h.building) {
        (Some(name), Some(id)) if name != id => format!("{name} ({id})"),
        (_, Some(id)) => id.clone(),
        _ => String::new(),
    }
}
