//! Occupancy: who actually lives where, inferred from swipe records; the estate simulator
//! that measures it against ground truth; and the office's reports.
//!
//! - [`site`]: the estate indexed for reading events fast; [`access`]: events read against it.
//! - [`window`]: the report window and the instants nights and head counts are judged at.
//! - [`model`]: the presence model: crossings, each holder's rhythm, nights at home.
//! - [`presence`]: the baselines' rule (inside at an instant from the reads around it).
//! - [`infer`]: the inference (`Occupancy::new`, `observe` in any order, `finish`).
//! - [`live`]: head counts and the inside-now list kept live for the daemon.
//! - [`scan`]: feeding the inference from a long log read on several threads.
//! - [`anomaly`], [`verdict`]: pass anomalies; household status, residents, flags, evidence.
//! - [`report`]: the report of `docs/interfaces.md#files-and-commands`.
//! - [`simulate`]: a seeded estate with routines and its ground truth; [`eval`] scores reports.
//! - [`swipes`]: swipe records (CSV) to access events, listing bad rows.
//! - [`trial`]: one simulator run scored in memory (the evaluation tables and tests).
//! - [`export`]: CSV, XLSX and HTML renderings, charts, and the per-building household table.

pub mod access;
pub mod anomaly;
pub mod eval;
pub mod export;
pub mod infer;
pub mod live;
pub mod model;
pub mod presence;
pub mod report;
pub mod scan;
pub mod simulate;
pub mod site;
pub mod swipes;
pub mod trial;
pub mod verdict;
pub mod window;

pub use infer::Occupancy;
pub use presence::Method;
pub use report::Report;
pub use window::Window;

/// Why occupancy could not be worked out or written.
#[derive(Debug, thiserror::Error)]
pub enum OccupancyError {
    /// The estate cannot be used as given (unknown time zone, …).
    #[error("estate: {0}")]
    Estate(String),
    /// An argument or input file is wrong; the message says how to fix it.
    #[error("{0}")]
    Input(String),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    /// A report could not be rendered (spreadsheet or chart library error).
    #[error("rendering the report: {0}")]
    Render(String),
}
