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
