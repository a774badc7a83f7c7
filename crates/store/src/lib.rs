//! gatehouse's durable store on redb: the hash-chained event log and the estate data, in one
//! file `gatehouse.redb` in the data directory. Nothing is acknowledged before it is durable.
//!
//! - [`log`](crate::log): the log writer (group commit: many appends, one transaction, one fsync).
//! - [`chain`]: the hash chain, the per-record seals, and `verify`.
//! - [`read`](crate::read): reading events by seq, time, person, door; streaming scans.
//! - [`estate`](crate::estate): households, people, passes, and state restored at start-up.
//! - [`cursors`](crate::cursors): durable outbox cursors.
//! - [`reader`](crate::reader): the read-only handle adapters get ([`StoreReader`]) and one
//!   cursor's handle ([`Cursor`]).
//! - [`secrets`]: 32-byte keys kept as files beside the database.
//! - [`disk`](crate::disk): opening the file, and reopening it after an I/O error.
//! - [`errors`]: what can go wrong, each error saying what to do next ([`StoreError`]).
//! - [`space`]: free space on the data directory's disk and the store file's size.
//! - [`tables`]: the table layout (for tests that tamper with the file).

pub mod chain;
mod copy;
mod cursors;
pub(crate) mod disk;
pub mod errors;
mod estate;
mod guard;
pub mod import;
mod index;
mod log;
mod passage;
mod read;
mod reader;
pub mod schema;
pub mod secrets;
pub mod space;
#[doc(hidden)]
pub mod tables;

pub use chain::{BadRecord, VerifyReport};
pub use copy::Copied;
#[doc(hidden)]
pub use disk::{BULK_CACHE_BYTES, Io, LEAN_CACHE_BYTES, Tap};
pub use errors::StoreError;
pub use import::{ImportKey, Imported, import_key};
pub use log::{CommitObserver, Committed};
pub use reader::{Cursor, StoreReader};
pub use space::Space;

use gatehouse_core::estate::EstateData;
use gatehouse_core::io::Save;
use gatehouse_core::passage::Scanned;
use gatehouse_core::{Event, Restored};
use redb::ReadableDatabase;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use tokio::sync::{oneshot, watch};

/// The store: cheap to clone, shared by every task. Dropping the last clone stops the log
/// writer (after it has written what was queued) and closes the file.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<log::Shared>,
    jobs: mpsc::Sender<log::Job>,
    writer: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let _ = self.jobs.send(log::Job::Stop);
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

/// The name of the log's seal key in the data directory (`log-seal.key`).
pub const SEAL_KEY: &str = "log-seal";
/// The name of the gateway's visitor-token (Ed25519) secret, handed to the core at start-up.
pub const GATEWAY_KEY: &str = "gateway-ed25519";

impl Store {
    /// Opens (creating if needed) `dir/gatehouse.redb`. Another process holding it gives
    /// [`StoreError::Locked`].
    pub fn open(dir: &Path, site_id: &str) -> Result<Store, StoreError> {
        Store::open_with(dir, site_id, disk::Switches::default())
    }

    /// [`Store::open`] with a small read cache ([`LEAN_CACHE_BYTES`]), for the daemon,
    /// which holds the estate in memory and reads the log mostly near its end.
    pub fn open_lean(dir: &Path, site_id: &str) -> Result<Store, StoreError> {
        Store::open_with(dir, site_id, disk::Switches::lean())
    }

    /// [`Store::open`] with `tap` called on every write, length change and completed sync of
    /// the file (the power-cut simulation; the file must exist already).
    #[doc(hidden)]
    pub fn open_tapped(dir: &Path, site_id: &str, tap: disk::Tap) -> Result<Store, StoreError> {
        Store::open_with(dir, site_id, disk::Switches::tapped(tap))
    }

    fn open_with(dir: &Path, site_id: &str, switches: disk::Switches) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
            path: dir.to_path_buf(),
            action: "created",
            source,
        })?;
        let db = disk::Db::open(dir, switches)?;
        let seal_key = secrets::get_or_create(dir, SEAL_KEY)?;
        let (last_seq, _) = db.read(chain::tip)?;
        let shared = Arc::new(log::Shared {
            db,
            site: site_id.to_string(),
            seal_key,
            last_seq: AtomicU64::new(last_seq),
            durable: watch::Sender::new(last_seq),
            cursor_saves: watch::Sender::new(0),
            commits: AtomicU64::new(0),
            commit_micros: AtomicU64::new(0),
            write_micros: AtomicU64::new(0),
            observer: std::sync::OnceLock::new(),
            cursors: cursors::Pending::default(),
        });
        let (jobs, queue) = mpsc::channel();
        let writer_shared = shared.clone();
        let writer = std::thread::Builder::new()
            .name("gatehouse-log-writer".into())
            .spawn(move || log::run(writer_shared, queue))
            .map_err(|source| StoreError::Io {
                path: dir.to_path_buf(),
                action: "given a writer thread",
                source,
            })?;
        Ok(Store {
            inner: Arc::new(Inner {
                shared,
                jobs,
                writer: Some(writer),
            }),
        })
    }

    fn shared(&self) -> &log::Shared {
        &self.inner.shared
    }

    /// The data directory.
    pub fn dir(&self) -> PathBuf {
        self.shared().db.dir().to_path_buf()
    }

    /// Appends one event and returns it as stored (seq, id, prev_hash, hash set) once it is
    /// durable. Concurrent appends share one transaction and one fsync.
    pub async fn append(&self, event: Event) -> Result<Event, StoreError> {
        self.queue_one(event)?
            .await
            .map_err(|_| StoreError::Closed)?
    }

    /// [`Store::append`] for threads outside the async runtime.
    pub fn append_blocking(&self, event: Event) -> Result<Event, StoreError> {
        self.queue_one(event)?
            .blocking_recv()
            .map_err(|_| StoreError::Closed)?
    }

    fn queue_one(
        &self,
        event: Event,
    ) -> Result<oneshot::Receiver<Result<Event, StoreError>>, StoreError> {
        log::check(&event)?;
        let (reply, answer) = oneshot::channel();
        self.inner
            .jobs
            .send(log::Job::Append(Box::new(event), reply))
            .map_err(|_| StoreError::Closed)?;
        Ok(answer)
    }

    /// Appends many events in order (imports of millions of swipe records), in transactions
    /// of up to 10,000 events; returns the last seq. Either every event is checked good and
    /// queued, or none is; a failed transaction stops the import with what was written before
    /// it kept.
    pub fn append_many(&self, events: Vec<Event>) -> Result<u64, StoreError> {
        for event in &events {
            log::check(event)?;
        }
        let mut last = self.last_seq();
        let mut events = events.into_iter().peekable();
        while events.peek().is_some() {
            let chunk: Vec<Event> = events.by_ref().take(log::MAX_BATCH).collect();
            let (reply, answer) = oneshot::channel();
            self.inner
                .jobs
                .send(log::Job::Many(chunk, reply))
                .map_err(|_| StoreError::Closed)?;
            last = answer.blocking_recv().map_err(|_| StoreError::Closed)??;
        }
        Ok(last)
    }

    /// Appends imported records in order, each unless a record with the same
    /// [`import_key`] was imported before (by this call or an earlier one), in transactions
    /// of up to 10,000 records. Says how many were appended and how many were already there.
    pub fn append_imported(
        &self,
        records: Vec<(ImportKey, Event)>,
    ) -> Result<Imported, StoreError> {
        for (_, event) in &records {
            log::check(event)?;
        }
        let mut done = Imported {
            last_seq: self.last_seq(),
            ..Imported::default()
        };
        let mut records = records.into_iter().peekable();
        while records.peek().is_some() {
            let chunk: Vec<(ImportKey, Event)> = records.by_ref().take(log::MAX_BATCH).collect();
            let (reply, answer) = oneshot::channel();
            self.inner
                .jobs
                .send(log::Job::Import(Box::new(log::ImportJob {
                    records: chunk,
                    appended: 0,
                    already: 0,
                    reply,
                })))
                .map_err(|_| StoreError::Closed)?;
            let part = answer.blocking_recv().map_err(|_| StoreError::Closed)??;
            done.appended += part.appended;
            done.already += part.already;
            done.last_seq = part.last_seq;
        }
        Ok(done)
    }

    /// How many of `keys` an import would skip as already there (`import swipes --dry-run`).
    pub fn known_imports(&self, keys: &[ImportKey]) -> Result<u64, StoreError> {
        self.shared().db.read(|d| import::count_known(d, keys))
    }

    /// The last durable seq (0 for an empty log).
    pub fn last_seq(&self) -> u64 {
        self.shared().last_seq.load(Ordering::Acquire)
    }

    /// The latest durable seq, for the MQTT outbox and live feeds to wake up on.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.shared().durable.subscribe()
    }

    /// Up to `limit` events from `from_seq` on, oldest first.
    pub fn events(&self, from_seq: u64, limit: usize) -> Result<Vec<Event>, StoreError> {
        self.shared().db.read(|d| read::events(d, from_seq, limit))
    }

    /// Up to `limit` events with `from <= at < to`, oldest first.
    pub fn events_between(
        &self,
        from: jiff::Timestamp,
        to: jiff::Timestamp,
        limit: usize,
    ) -> Result<Vec<Event>, StoreError> {
        self.shared().db.read(|d| read::between(d, from, to, limit))
    }

    /// A person's last `limit` events, newest first.
    pub fn events_for_person(&self, person: &str, limit: usize) -> Result<Vec<Event>, StoreError> {
        self.shared()
            .db
            .read(|d| read::newest_for(d, false, person, limit))
    }

    /// A door's last `limit` events, newest first.
    pub fn events_for_door(&self, door: &str, limit: usize) -> Result<Vec<Event>, StoreError> {
        self.shared()
            .db
            .read(|d| read::newest_for(d, true, door, limit))
    }

    /// Calls `f` on each event from `from_seq` on, in order, one at a time, until it breaks.
    /// Reads one snapshot: events appended meanwhile are not seen.
    pub fn for_each_event(
        &self,
        from_seq: u64,
        f: impl FnMut(&Event) -> ControlFlow<()>,
    ) -> Result<(), StoreError> {
        self.shared().db.read(|d| read::for_each(d, from_seq, f))
    }

    /// Calls `f` on every record with seq in `from_seq..=to_seq`, in order, until it breaks,
    /// as cheaply as the store can: an access record as its passage from the projection, a
    /// record of another kind as [`Scanned::Other`], and records the projection does not
    /// cover yet (the last few, or those written before it existed) decoded from the log.
    /// For reports over millions of records (occupancy).
    pub fn scan(
        &self,
        from_seq: u64,
        to_seq: u64,
        f: impl FnMut(u64, Scanned<'_>) -> ControlFlow<()>,
    ) -> Result<(), StoreError> {
        self.shared()
            .db
            .read(|d| passage::scan(d, from_seq, to_seq, f))
    }

    /// Re-checks the whole log: chain, seals, head. Reports the first bad record.
    pub fn verify(&self) -> Result<VerifyReport, StoreError> {
        let key = self.shared().seal_key;
        self.shared().db.read(|d| chain::verify(d, &key))
    }

    /// Writes a consistent snapshot of the whole store to the new file `out` (one read
    /// transaction copied table by table; appends go on meanwhile). The file is a complete
    /// store: `gatehouse log verify --file`, `gatehouse restore`. The seal key stays in the
    /// data directory.
    pub fn backup(&self, out: &Path) -> Result<Copied, StoreError> {
        self.shared().db.read(|d| {
            let txn = d.begin_read().map_err(errors::fail("start the backup"))?;
            copy::fresh(out, |dst| copy::copy(&txn, dst, copy::Mode::Snapshot))
        })
    }

    /// Every household, person and pass.
    pub fn load_estate(&self) -> Result<EstateData, StoreError> {
        self.shared().db.read(estate::load)
    }

    /// Upserts all of `data` in one transaction (an import is all or nothing).
    pub fn put_estate(&self, data: &EstateData) -> Result<(), StoreError> {
        self.shared().db.write(|d| estate::put(d, data))
    }

    /// Persists state the core changed: a pass, a person, the lockdown table, the fire zones,
    /// the held doors.
    pub fn apply(&self, save: &Save) -> Result<(), StoreError> {
        self.shared().db.write(|d| estate::apply(d, save))
    }

    /// Lockdowns, fire zones, holds, command counters and the events since `since` (oldest first).
    pub fn restored(&self, since: jiff::Timestamp) -> Result<Restored, StoreError> {
        let mut restored = self.shared().db.read(|d| estate::restored(d, since))?;
        restored.gateway_key = Some(self.secret(GATEWAY_KEY)?);
        Ok(restored)
    }

    /// The cursor `name` (0 if never set): its last move, written or not yet.
    pub fn cursor(&self, name: &str) -> Result<u64, StoreError> {
        match self.shared().cursors.get(name) {
            Some(seq) => Ok(seq),
            None => cursors::get(&self.shared().db, name),
        }
    }

    /// Moves cursor `name` to `seq`. The log writer writes it with its next index write:
    /// durably once the log is quiet for [`index::DELAY`], else with the next index batch
    /// and the group commit after it (see [`cursors`]).
    pub fn set_cursor(&self, name: &str, seq: u64) -> Result<(), StoreError> {
        if self.shared().cursors.set(name, seq)? {
            self.inner
                .jobs
                .send(log::Job::Cursor)
                .map_err(|_| StoreError::Closed)?;
        }
        self.shared().cursor_saves.send_modify(|n| *n += 1);
        Ok(())
    }

    /// Changes each time a cursor is moved: wait on it, then read [`Store::cursor`], to see
    /// a consumer (the MQTT outbox) catch up without polling.
    pub fn cursor_saves(&self) -> watch::Receiver<u64> {
        self.shared().cursor_saves.subscribe()
    }

    /// The 32-byte secret `name` from the data directory, made on first use (mode 0600).
    pub fn secret(&self, name: &str) -> Result<[u8; 32], StoreError> {
        secrets::get_or_create(self.shared().db.dir(), name)
    }

    /// The highest seq the log's indexes cover; reads add the records after it from the log.
    #[doc(hidden)]
    pub fn indexed_seq(&self) -> Result<u64, StoreError> {
        self.shared().db.read(index::watermark)
    }

    /// Free space on the data directory's file system and the store file's size (metrics).
    pub fn space(&self) -> Result<Space, StoreError> {
        space::measure(self.shared().db.dir())
    }

    /// How many group commits the log writer has made since open (metrics, benchmarks).
    pub fn commits(&self) -> u64 {
        self.shared().commits.load(Ordering::Relaxed)
    }

    /// Microseconds the log writer spent in redb's commit (fsync) and in whole group writes,
    /// since open (metrics, benchmarks).
    pub fn commit_time(&self) -> (u64, u64) {
        let s = self.shared();
        (
            s.commit_micros.load(Ordering::Relaxed),
            s.write_micros.load(Ordering::Relaxed),
        )
    }

    /// Calls `observe` on the writer thread after every group commit from now on (the
    /// metrics' commit-latency and batch-size histograms). One observer per store: false if
    /// one was set already.
    pub fn observe_commits(&self, observe: log::CommitObserver) -> bool {
        self.shared().observer.set(observe).is_ok()
    }

    /// Makes every write fail as on a full disk, until called with `false` (tests).
    #[doc(hidden)]
    pub fn fail_appends(&self, on: bool) {
        self.shared().db.set_failing(on);
    }
}

/// Opens the store file `file` read-only (a backup, or a damaged store being salvaged).
fn open_read_only(file: &Path) -> Result<redb::ReadOnlyDatabase, StoreError> {
    let dir = file.parent().unwrap_or(Path::new("."));
    if !file.is_file() {
        return Err(StoreError::Io {
            path: file.to_path_buf(),
            action: "found",
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        });
    }
    guard::contain(dir, "open the store file", || {
        // A read-only open reads a file through once (verify, salvage): a small page cache.
        let db = redb::Builder::new()
            .set_cache_size(copy::COPY_CACHE_BYTES)
            .open_read_only(file)
            .map_err(|e| disk::open_error(dir, file, e))?;
        schema::check(dir, &db)?;
        Ok(db)
    })
}

/// Checks the store file `file` (a backup) as `log verify` does, with the seal key of the data
/// directory `key_dir` it was made from.
pub fn verify_file(file: &Path, key_dir: &Path) -> Result<VerifyReport, StoreError> {
    let key = secrets::read(key_dir, SEAL_KEY)?;
    let db = open_read_only(file)?;
    guard::contain(key_dir, "verify the store file", || {
        chain::verify(&db, &key)
    })
}

/// Copies every readable record and the estate data of the store in `src_dir` (stopped) into a
/// new store in `out_dir` (which must not hold one), with its key files; says what was lost.
/// The new log's head is sealed again at its last record; records lost stay reported as
/// missing by `log verify` of the new store.
pub fn salvage(src_dir: &Path, out_dir: &Path) -> Result<Copied, StoreError> {
    let key = secrets::read(src_dir, SEAL_KEY)?;
    let db = open_read_only(&src_dir.join(tables::FILE_NAME))?;
    let io = |action: &'static str, path: PathBuf| {
        move |source| StoreError::Io {
            path,
            action,
            source,
        }
    };
    std::fs::create_dir_all(out_dir).map_err(io("created", out_dir.to_path_buf()))?;
    for name in [SEAL_KEY, GATEWAY_KEY] {
        let from = secrets::path(src_dir, name)?;
        if from.exists() {
            let to = secrets::path(out_dir, name)?;
            std::fs::copy(&from, &to).map_err(io("copied", to))?;
        }
    }
    guard::contain(src_dir, "salvage the store", || {
        let txn = db
            .begin_read()
            .map_err(errors::fail("read the damaged store"))?;
        copy::fresh(&out_dir.join(tables::FILE_NAME), |dst| {
            copy::copy(&txn, dst, copy::Mode::Salvage(key))
        })
    })
}

/// Puts the store file `file` (a backup) in place of the store in `data_dir`, whose gateway
/// must be stopped; the store it replaces is kept beside it as `gatehouse.redb.before-restore`.
/// Returns the backup's verification.
pub fn restore(file: &Path, data_dir: &Path) -> Result<VerifyReport, StoreError> {
    let report = verify_file(file, data_dir)?;
    let current = data_dir.join(tables::FILE_NAME);
    if current.exists() {
        // Refused if a gateway has it open.
        let held =
            redb::Database::open(&current).map_err(|e| disk::open_error(data_dir, &current, e));
        match held {
            Err(e @ StoreError::Locked { .. }) => return Err(e),
            Ok(db) => drop(db),
            Err(_) => {} // damaged: replacing it is the point
        }
    }
    let io = |action: &'static str, path: PathBuf| {
        move |source| StoreError::Io {
            path,
            action,
            source,
        }
    };
    let incoming = data_dir.join(format!("{}.restoring", tables::FILE_NAME));
    std::fs::copy(file, &incoming).map_err(io("written", incoming.clone()))?;
    std::fs::File::open(&incoming)
        .and_then(|f| f.sync_all())
        .map_err(io("synced", incoming.clone()))?;
    if current.exists() {
        let kept = data_dir.join(format!("{}.before-restore", tables::FILE_NAME));
        std::fs::rename(&current, &kept).map_err(io("moved aside", kept))?;
    }
    std::fs::rename(&incoming, &current).map_err(io("renamed into place", current))?;
    Ok(report)
}
