//! `gatehouse import residents FILE`: read the file, plan the changes against the store, and
//! write all of them in one transaction, or nothing and a list of the bad rows.

use super::plan::{self, Counts, RowError};
use super::table::{self, TableError};
use gatehouse_core::config::Config;
use gatehouse_core::event::{Event, Kind};
use gatehouse_store::{Store, StoreError};
use std::path::{Path, PathBuf};

/// Why an import wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file cannot be read as a residents file.
    #[error(transparent)]
    Table(#[from] TableError),
    /// Some rows are bad; nothing was written.
    #[error(
        "{file}: {count} bad row{s}; nothing was imported. Fix the rows listed (also in {errors_file}) and import the file again.",
        count = errors.len(),
        s = if errors.len() == 1 { "" } else { "s" },
        errors_file = errors_file.display()
    )]
    BadRows {
        file: String,
        errors: Vec<RowError>,
        errors_file: PathBuf,
    },
    /// The list of bad rows could not be written next to the file.
    #[error("{}: cannot write the list of bad rows: {reason}; check that the folder is writable", path.display())]
    ErrorsFile { path: PathBuf, reason: String },
    /// The store refused to open, read or write.
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// What an import did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Imported {
    pub counts: Counts,
    /// False when the file matched the store already and nothing was written.
    pub wrote: bool,
}

/// Where the bad rows of `file` are listed: `FILE.errors.csv`.
pub fn errors_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".errors.csv");
    PathBuf::from(name)
}

/// Imports the residents of `file` into `store`; `actor` is recorded in the `admin` event.
/// `progress` is told how many rows were checked so far (for a progress bar).
pub fn import(
    file: &Path,
    config: &Config,
    store: &Store,
    actor: &str,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Imported, ImportError> {
    let rows = table::read(file)?;
    let existing = store.load_estate()?;
    let errors_file = errors_path(file);
    let planned = match plan::plan_with_progress(config, &existing, &rows, progress) {
        Ok(p) => p,
        Err(errors) => {
            write_errors(&errors_file, &rows, &errors)?;
            return Err(ImportError::BadRows {
                file: file.display().to_string(),
                errors,
                errors_file,
            });
        }
    };
    // A list from an earlier failed attempt would now mislead.
    let _ = std::fs::remove_file(&errors_file);
    if planned.changes_anything() {
        store.put_estate(&planned.changes)?;
    }
    let tz = jiff::tz::TimeZone::get(&config.site.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
    let mut event = Event::new(
        Kind::Admin,
        gatehouse_core::time::rfc3339(jiff::Timestamp::now(), &tz),
    );
    event.actor = Some(actor.to_string());
    event.action = Some("import_residents".into());
    event.object = file.file_name().map(|n| n.to_string_lossy().into_owned());
    // Counts only: an event never carries phones or names.
    event.detail = Some(planned.counts.to_string());
    store.append_blocking(event)?;
    Ok(Imported {
        wrote: planned.changes_anything(),
        counts: planned.counts,
    })
}

/// Writes the bad rows as CSV: row number, household, name, reason (never the phone).
fn write_errors(path: &Path, rows: &[table::Row], errors: &[RowError]) -> Result<(), ImportError> {
    let fail = |e: &dyn std::fmt::Display| ImportError::ErrorsFile {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let mut w = csv::Writer::from_path(path).map_err(|e| fail(&e))?;
    w.write_record(["row", "household", "name", "reason"])
        .map_err(|e| fail(&e))?;
    for e in errors {
        let row = rows.iter().find(|r| r.number == e.row);
        let cells = row.map_or(("", ""), |r| (r.household.as_str(), r.name.as_str()));
        w.write_record([e.row.to_string().as_str(), cells.0, cells.1, &e.reason])
            .map_err(|e| fail(&e))?;
    }
    w.flush().map_err(|e| fail(&e))
}
