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
    /// The database file is damaged where the store read it: redb could not decode a page or
    /// a value (a changed byte on disk). Caught at the store's boundary, never a panic.
    #[error(
        "the store file in {} is damaged ({detail}) while trying to {what}; run `gatehouse log verify` to see which records are affected, then `gatehouse log salvage --out NEW_DIR` to copy what is readable, or restore a backup (`gatehouse restore FILE`)",
        dir.display()
    )]
    Damaged {
        dir: PathBuf,
        what: &'static str,
        detail: String,
    },
    /// redb found the file's roots damaged after an unclean shutdown and could not repair it.
    #[error(
        "the store file {} cannot be opened: the last shutdown was not clean, and when redb checked the file its checksums showed damaged pages in both commit roots (a byte changed on disk or a write was lost; a full disk is only one possible cause; redb said: {detail}); keep a copy of the file, then restore the latest backup with `gatehouse restore FILE`",
        path.display()
    )]
    RootsCorrupted { path: PathBuf, detail: String },
    /// The file was written by a newer gatehouse whose layout this one does not know.
    #[error(
        "the store in {} has schema version {found}, newer than the {supported} this gatehouse understands; run the newer gatehouse, or restore a backup made by this version",
        dir.display()
    )]
    NewerSchema {
        dir: PathBuf,
        found: u32,
        supported: u32,
    },
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
