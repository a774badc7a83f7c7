//! `gatehouse import residents FILE`: read the file, plan the changes against the estate, and
//! hand all of them to the core (which records the import, then saves them in one
//! transaction), or nothing and a list of the bad rows.

use super::plan::{self, Counts, RowError};
use super::table::{self, TableError};
use gatehouse_core::config::Config;
use gatehouse_core::io::{Admin, AdminResult, Input, Reply};
use gatehouse_runtime::offline;
use gatehouse_store::{Store, StoreError};
use std::path::{Path, PathBuf};

/// Why an import wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file cannot be read as a residents file.
    #[error(transparent)]
    Table(#[from] TableError),
    /// Some rows are bad; nothing was written. Print [`ImportError::problem_lines`] before it.
    #[error(
        "{file}: {count} bad row{s}; nothing was imported. Fix the rows listed (every one is in {errors_file}) and import the file again.",
        count = thousands(errors.len()),
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
    /// The core could not be built on the store, or it refused the import.
    #[error("{0}")]
    Offline(#[from] offline::OfflineError),
    /// The core refused the import (its reason says what to do).
    #[error("the import was refused: {0}")]
    Refused(String),
}

/// How many rows a problem line lists before it says how many more there are.
const ROWS_SHOWN: usize = 10;

impl ImportError {
    /// One line per distinct problem with the rows that have it (all rows are in the errors
    /// file): `residents.csv: 3,131 rows (2, 3, 4, … and 3,121 more): building 18 is not …`.
    pub fn problem_lines(&self) -> Vec<String> {
        let ImportError::BadRows { file, errors, .. } = self else {
            return Vec::new();
        };
        plan::group(errors)
            .iter()
            .map(|p| format!("{file}: {}: {}.", rows_text(&p.rows), p.reason))
            .collect()
    }
}

/// The distinct problems for a screen that lists them by row: each at its first row, with the
/// count and the first rows when more rows have it (the console shows these).
pub fn problems_by_first_row(errors: &[RowError]) -> Vec<(usize, String)> {
    plan::group(errors)
        .into_iter()
        .map(|p| match p.rows[..] {
            [row] => (row, p.reason),
            _ => (p.rows[0], format!("{} — {}", p.reason, rows_text(&p.rows))),
        })
        .collect()
}

/// `row 7`, or `3 rows (2, 5, 9)`, or `3,131 rows (2, 3, … and 3,121 more)`.
pub fn rows_text(rows: &[usize]) -> String {
    match rows {
        [one] => format!("row {one}"),
        _ => {
            let shown: Vec<String> = rows.iter().take(ROWS_SHOWN).map(usize::to_string).collect();
            let more = rows.len().saturating_sub(ROWS_SHOWN);
            let tail = if more > 0 {
                format!(" and {} more", thousands(more))
            } else {
                String::new()
            };
            format!(
                "{} rows ({}{tail})",
                thousands(rows.len()),
                shown.join(", ")
            )
        }
    }
}

/// `3131` → `3,131`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
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

/// A residents file checked against the estate, every row good: what the core takes in.
#[derive(Debug)]
pub struct Checked {
    /// The households, people and passes it adds or changes, and their counts.
    pub plan: plan::Plan,
    /// The file's name (the `admin` record's object).
    pub file_name: String,
}

impl Checked {
    /// The core's input that imports it, recorded as done by `actor` (an `admin` event
    /// `import_residents` with the counts, never names or phones, written before the data).
    pub fn into_input(self, actor: &str) -> Input {
        Input::Admin(Admin::ImportEstate {
            detail: self.plan.counts.to_string(),
            changes: self.plan.changes,
            actor: actor.to_string(),
            action: "import_residents".into(),
            object: self.file_name,
        })
    }
}

/// Reads `file` and plans its changes against `existing` (the estate as stored): every change
/// or, when any row is bad, the list of bad rows (also written to [`errors_path`]).
/// `progress` is told how many rows were checked so far (for a progress bar).
pub fn check(
    file: &Path,
    config: &Config,
    existing: &gatehouse_core::estate::EstateData,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Checked, ImportError> {
    let rows = table::read(file)?;
    let errors_file = errors_path(file);
    let planned = match plan::plan_with_progress(config, existing, &rows, progress) {
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
    Ok(Checked {
        plan: planned,
        file_name: file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    })
}

/// Imports the residents of `file` into `store`, which no running gateway holds (the CLI,
/// the demo's first run): checked, then handed to a core built on the store, which records
/// the import and saves the data, all or nothing. `actor` is recorded in the `admin` event.
pub fn import(
    file: &Path,
    config: &Config,
    store: &Store,
    actor: &str,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Imported, ImportError> {
    let existing = store.load_estate()?;
    let checked = check(file, config, &existing, progress)?;
    let imported = Imported {
        wrote: checked.plan.changes_anything(),
        counts: checked.plan.counts.clone(),
    };
    let mut core = offline::core(config, store, existing)?;
    let carried = offline::handle(
        &mut core,
        store,
        checked.into_input(actor),
        jiff::Timestamp::now(),
    )?;
    match carried.replies.into_iter().find_map(|r| match r {
        Reply::Admin(a) => Some(a),
        _ => None,
    }) {
        Some(AdminResult { ok: true, .. }) => Ok(imported),
        Some(AdminResult { error, .. }) => Err(ImportError::Refused(error.unwrap_or_default())),
        None => Err(ImportError::Refused(
            "the core did not answer the import".into(),
        )),
    }
}

/// Writes the bad rows as CSV: row number, household, name, reason (never the phone). UTF-8
/// with a BOM, so that Excel on a Chinese Windows shows the names rather than mojibake.
fn write_errors(path: &Path, rows: &[table::Row], errors: &[RowError]) -> Result<(), ImportError> {
    let fail = |e: &dyn std::fmt::Display| ImportError::ErrorsFile {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let by_number: std::collections::HashMap<usize, &table::Row> =
        rows.iter().map(|r| (r.number, r)).collect();
    let mut w = csv::Writer::from_writer(vec![0xef, 0xbb, 0xbf]);
    w.write_record(["row", "household", "name", "reason"])
        .map_err(|e| fail(&e))?;
    for e in errors {
        let row = by_number.get(&e.row);
        let cells = row.map_or(("", ""), |r| (r.household.as_str(), r.name.as_str()));
        w.write_record([e.row.to_string().as_str(), cells.0, cells.1, &e.reason()])
            .map_err(|e| fail(&e))?;
    }
    let bytes = w.into_inner().map_err(|e| fail(&e))?;
    std::fs::write(path, bytes).map_err(|e| fail(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bad(row: usize, problems: &[&str]) -> RowError {
        RowError {
            row,
            problems: problems.iter().map(|p| p.to_string()).collect(),
        }
    }

    #[test]
    fn one_line_per_distinct_problem_with_its_rows() {
        let mut errors: Vec<RowError> = (2..3133)
            .map(|r| bad(r, &["building 18 is not in the configuration"]))
            .collect();
        errors.push(bad(
            3133,
            &["phone is empty", "role 'boss' is not one of …"],
        ));
        let e = ImportError::BadRows {
            file: "r.csv".into(),
            errors: errors.clone(),
            errors_file: "r.csv.errors.csv".into(),
        };
        assert_eq!(
            e.problem_lines(),
            [
                "r.csv: 3,131 rows (2, 3, 4, 5, 6, 7, 8, 9, 10, 11 and 3,121 more): building 18 is not in the configuration.",
                "r.csv: row 3133: phone is empty.",
                "r.csv: row 3133: role 'boss' is not one of ….",
            ]
        );
        assert!(e.to_string().contains("3,132 bad rows"), "{e}");
        let console = problems_by_first_row(&errors);
        assert_eq!(console.len(), 3, "the console lists the same problems");
        assert_eq!(console[0].0, 2);
        assert!(
            console[0]
                .1
                .ends_with("— 3,131 rows (2, 3, 4, 5, 6, 7, 8, 9, 10, 11 and 3,121 more)")
        );
        assert_eq!(console[1], (3133, "phone is empty".to_string()));
        assert_eq!(rows_text(&[4, 9]), "2 rows (4, 9)");
    }
}
