//! What can go wrong in the store, each said so that a person knows what to do next.

use std::path::PathBuf;

/// Errors of the store layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another process (or another `Store` in this process) has the database open.
    #[error(
        "the data directory {} is in use by another gatehouse process; stop the other gatehouse or use another --data-dir",
        dir.display()
    )]
    Locked { dir: PathBuf },
    /// A file of the data directory could not be created, read or written.
    #[error("{} could not be {action}: {source}; check that the data directory exists, is writable and has free space", path.display())]
    Io {
        path: PathBuf,
        action: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// redb refused an operation (I/O error, corruption, …).
    #[error(
        "the store could not {what}: {source}; check free disk space and the data directory, then retry"
    )]
    Database {
        what: &'static str,
        #[source]
        source: redb::Error,
    },
    /// The event log cannot be written right now (disk full, I/O error). Entries are refused
    /// with `log_unavailable` until a later append succeeds; the store retries by itself.
    #[error(
        "the event log cannot be written: {0}; free disk space or fix the disk, appends are retried automatically"
    )]
    Unavailable(String),
    /// The event cannot be stored as given (a bug in whoever made it).
    #[error("event refused by the log: {0}")]
    InvalidEvent(String),
    /// A stored record could not be decoded.
    #[error("stored {table} record {key} is unreadable: {problem}; run `gatehouse log verify`")]
    Corrupt {
        table: &'static str,
        key: String,
        problem: String,
    },
    /// A key file of the data directory has the wrong size or name.
    #[error("secret {}: {problem}; restore it from backup or move it away to have a new one made", path.display())]
    BadSecret { path: PathBuf, problem: String },
    /// The log writer has stopped (the store is being dropped).
    #[error("the event log writer has stopped; restart gatehouse")]
    Closed,
}

impl StoreError {
    /// Wraps any redb error with what the store was doing.
    pub(crate) fn db(what: &'static str) -> impl FnOnce(redb::Error) -> StoreError {
        move |source| StoreError::Database { what, source }
    }
}

/// Shorthand: `.map_err(fail("read the event log"))` for any error redb converts into its `Error`.
pub(crate) fn fail<E: Into<redb::Error>>(what: &'static str) -> impl FnOnce(E) -> StoreError {
    move |e| StoreError::db(what)(e.into())
}
