//! Opening the database file, and the disk it sits on. The file backend is redb's own, wrapped
//! so that tests can make writes fail the way a full disk does; a real failure and an injected
//! one take the same path through redb (it latches the error) and through our recovery
//! (close, reopen, retry).

use crate::errors::{StoreError, fail};
use crate::tables;
use redb::backends::FileBackend;
use redb::{Database, DatabaseError, StorageBackend};
use std::io;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock};

/// What a test sees of the file's writes ([`crate::Store::open_tapped`]): each write, each
/// length change, and each completed sync, in order, from the thread that made it.
#[doc(hidden)]
pub enum Io<'a> {
    Write { offset: u64, data: &'a [u8] },
    SetLen(u64),
    Synced,
}

/// A test's observer of the file's writes (the power-cut simulation).
#[doc(hidden)]
pub type Tap = Arc<dyn Fn(Io<'_>) + Send + Sync>;

/// redb's cache for the tools that write the log in bulk (`import`) and for [`crate::Store::open`].
/// Read-only commands (reports, `log verify`) open lean: a scan reads each page once.
pub const BULK_CACHE_BYTES: usize = 256 * 1024 * 1024;
/// redb's cache for the daemon ([`crate::Store::open_lean`]): the estate is in memory once
/// loaded, and the log is read mostly near its end (outbox, console, the live tracker's two
/// days), which the operating system's page cache serves well; a large cache would only hold
/// the estate's pages a second time (about 90 MB at 250,000 persons).
pub const LEAN_CACHE_BYTES: usize = 16 * 1024 * 1024;

/// Switches shared by every reopening of the file: the cache size, and test switches.
#[derive(Default)]
pub(crate) struct Switches {
    /// Set by tests (`Store::fail_appends`) to simulate a full disk.
    failing: AtomicBool,
    tap: Option<Tap>,
    /// [`LEAN_CACHE_BYTES`] instead of [`BULK_CACHE_BYTES`].
    lean: bool,
}

impl Switches {
    pub(crate) fn tapped(tap: Tap) -> Switches {
        Switches {
            tap: Some(tap),
            ..Switches::default()
        }
    }

    pub(crate) fn lean() -> Switches {
        Switches {
            lean: true,
            ..Switches::default()
        }
    }
}

/// redb's file backend with a switch that makes every write and sync fail with ENOSPC, and an
/// optional tap on what is written.
struct Disk {
    file: FileBackend,
    failing: Arc<Switches>,
}

impl std::fmt::Debug for Disk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Disk").field("file", &self.file).finish()
    }
}

impl Disk {
    fn tap(&self, io: Io<'_>) {
        if let Some(tap) = &self.failing.tap {
            tap(io);
        }
    }

    fn check(&self) -> io::Result<()> {
        if self.failing.failing.load(Ordering::Relaxed) {
            // ENOSPC: what a full disk says.
            Err(io::Error::from_raw_os_error(28))
        } else {
            Ok(())
        }
    }
}

impl StorageBackend for Disk {
    fn len(&self) -> Result<u64, io::Error> {
        self.file.len()
    }
    fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), io::Error> {
        self.file.read(offset, out)
    }
    fn set_len(&self, len: u64) -> Result<(), io::Error> {
        self.check()?;
        self.tap(Io::SetLen(len));
        self.file.set_len(len)
    }
    fn sync_data(&self) -> Result<(), io::Error> {
        self.check()?;
        self.file.sync_data()?;
        self.tap(Io::Synced);
        Ok(())
    }
    fn write(&self, offset: u64, data: &[u8]) -> Result<(), io::Error> {
        self.check()?;
        self.tap(Io::Write { offset, data });
        self.file.write(offset, data)
    }
    fn close(&self) -> Result<(), io::Error> {
        self.file.close()
    }
    fn try_lock_range(
        &self,
        start: Bound<u64>,
        end: Bound<u64>,
    ) -> Result<bool, redb::BackendError> {
        self.file.try_lock_range(start, end)
    }
    fn try_lock_shared_range(
        &self,
        start: Bound<u64>,
        end: Bound<u64>,
    ) -> Result<bool, redb::BackendError> {
        self.file.try_lock_shared_range(start, end)
    }
    fn lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), redb::BackendError> {
        self.file.lock_range(start, end)
    }
    fn lock_shared_range(
        &self,
        start: Bound<u64>,
        end: Bound<u64>,
    ) -> Result<(), redb::BackendError> {
        self.file.lock_shared_range(start, end)
    }
    fn unlock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), redb::BackendError> {
        self.file.unlock_range(start, end)
    }
    fn query_lock_range(
        &self,
        start: Bound<u64>,
        end: Bound<u64>,
    ) -> Result<bool, redb::BackendError> {
        self.file.query_lock_range(start, end)
    }
}

/// Opens (creating if needed) `dir/gatehouse.redb` with every table present.
pub(crate) fn open(dir: &Path, failing: Arc<Switches>) -> Result<Database, StoreError> {
    let path = dir.join(tables::FILE_NAME);
    if !path.exists() {
        create(dir, &path)?;
    }
    crate::guard::contain(dir, "open the database", || open_file(dir, &path, failing))
}

/// Makes a new, empty database beside its final name and renames it into place once it is
/// complete and synced, so that a gateway killed during its very first start never leaves a
/// half-written file that later opens would refuse.
fn create(dir: &Path, path: &Path) -> Result<(), StoreError> {
    let fresh = dir.join(format!("{}.new", tables::FILE_NAME));
    let io = |action: &'static str, p: &Path| {
        let p = p.to_path_buf();
        move |source| StoreError::Io {
            path: p,
            action,
            source,
        }
    };
    // Left by a start that was killed: it never held anything.
    if fresh.exists() {
        std::fs::remove_file(&fresh).map_err(io("removed", &fresh))?;
    }
    drop(open_file(dir, &fresh, Arc::new(Switches::default()))?);
    std::fs::rename(&fresh, path).map_err(io("renamed into place", path))?;
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io("synced", dir))?;
    Ok(())
}

/// The log holds people's movements: the file is the gateway user's alone (mode 0600), and a
/// file left readable by an older version is made private when it is opened.
fn open_file(dir: &Path, path: &Path, failing: Arc<Switches>) -> Result<Database, StoreError> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let io = |action: &'static str| {
        move |source| StoreError::Io {
            path: path.to_path_buf(),
            action,
            source,
        }
    };
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map_err(io("opened"))?;
    let mode = file.metadata().map_err(io("opened"))?.permissions().mode();
    if mode & 0o077 != 0 {
        file.set_permissions(std::fs::Permissions::from_mode(mode & 0o700))
            .map_err(io("made private (mode 0600)"))?;
    }
    let backend = FileBackend::new(file).map_err(|e| open_error(dir, path, e))?;
    let db = redb::Builder::new()
        .set_cache_size(if failing.lean {
            LEAN_CACHE_BYTES
        } else {
            BULK_CACHE_BYTES
        })
        .create_with_backend(Disk {
            file: backend,
            failing,
        })
        .map_err(|e| open_error(dir, path, e))?;
    let found = crate::schema::check(dir, &db)?;
    create_tables(&db)?;
    crate::schema::migrate(&db, found)?;
    crate::index::catch_up(&db)?;
    Ok(db)
}

pub(crate) fn open_error(dir: &Path, path: &Path, e: DatabaseError) -> StoreError {
    match e {
        DatabaseError::DatabaseAlreadyOpen => StoreError::Locked {
            dir: dir.to_path_buf(),
        },
        DatabaseError::Storage(redb::StorageError::Corrupted(detail))
            if detail.contains("roots are corrupted")
                || detail.contains("Primary is corrupted") =>
        {
            StoreError::RootsCorrupted {
                path: path.to_path_buf(),
                detail,
            }
        }
        DatabaseError::Storage(redb::StorageError::Corrupted(detail)) => StoreError::Damaged {
            dir: dir.to_path_buf(),
            what: "open the database",
            detail,
        },
        e => StoreError::db("open the database")(e.into()),
    }
}

/// Makes sure every table exists, so that read transactions never meet a missing one.
fn create_tables(db: &Database) -> Result<(), StoreError> {
    let what = "create its tables";
    let txn = db.begin_write().map_err(fail(what))?;
    txn.open_table(tables::EVENTS).map_err(fail(what))?;
    txn.open_table(tables::SEALS).map_err(fail(what))?;
    txn.open_table(tables::BY_TIME).map_err(fail(what))?;
    txn.open_table(tables::BY_PERSON).map_err(fail(what))?;
    txn.open_table(tables::BY_DOOR).map_err(fail(what))?;
    txn.open_table(tables::COUNTERS).map_err(fail(what))?;
    txn.open_table(tables::META).map_err(fail(what))?;
    txn.open_table(tables::CURSORS).map_err(fail(what))?;
    txn.open_table(tables::HOUSEHOLDS).map_err(fail(what))?;
    txn.open_table(tables::PEOPLE).map_err(fail(what))?;
    txn.open_table(tables::PASSES).map_err(fail(what))?;
    txn.open_table(tables::STATE).map_err(fail(what))?;
    txn.commit().map_err(fail(what))?;
    Ok(())
}

/// The open database, and how to get it back after an I/O error. redb latches the first I/O
/// error (every later operation fails) until the database is closed and opened again; `write`
/// does that before the next write, so the log recovers by itself when the disk does.
pub(crate) struct Db {
    dir: PathBuf,
    /// `None` only between closing a failed database and opening it again.
    slot: RwLock<Option<Database>>,
    failing: Arc<Switches>,
    /// An operation failed in redb: reopen before the next write.
    broken: AtomicBool,
    /// Bumped on every reopen, so the log writer knows to re-read its tip.
    generation: AtomicU64,
}

impl Db {
    pub(crate) fn open(dir: &Path, failing: Switches) -> Result<Db, StoreError> {
        let failing = Arc::new(failing);
        let db = open(dir, failing.clone())?;
        Ok(Db {
            dir: dir.to_path_buf(),
            slot: RwLock::new(Some(db)),
            failing,
            broken: AtomicBool::new(false),
            generation: AtomicU64::new(0),
        })
    }

    /// Runs `f` on the database (reads, and writes that must not trigger a reopen).
    pub(crate) fn read<T>(
        &self,
        f: impl FnOnce(&Database) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let guard = self.slot.read().unwrap_or_else(PoisonError::into_inner);
        let db = guard.as_ref().ok_or_else(|| {
            StoreError::Unavailable(
                "the database is closed after a write failure and could not be reopened yet".into(),
            )
        })?;
        let result = crate::guard::contain(&self.dir, "use the database", || f(db));
        if let Err(StoreError::Database { .. } | StoreError::Damaged { .. }) = &result {
            self.broken.store(true, Ordering::Release);
        }
        result
    }

    /// Runs a write: first reopens the database if an earlier operation failed.
    pub(crate) fn write<T>(
        &self,
        f: impl FnOnce(&Database) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        if self.broken.load(Ordering::Acquire) {
            self.recover()?;
        }
        self.read(f)
    }

    /// Closes the failed database and opens it again (redb repairs it on open if needed).
    fn recover(&self) -> Result<(), StoreError> {
        let mut slot = self.slot.write().unwrap_or_else(PoisonError::into_inner);
        if !self.broken.load(Ordering::Acquire) {
            return Ok(()); // someone else recovered while we waited
        }
        // Closing releases the file lock; a second handle in this process would be refused.
        drop(slot.take());
        let db = open(&self.dir, self.failing.clone())?;
        *slot = Some(db);
        self.broken.store(false, Ordering::Release);
        self.generation.fetch_add(1, Ordering::AcqRel);
        tracing::info!(dir = %self.dir.display(), "Store reopened after a write failure.");
        Ok(())
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Makes every write and sync fail like a full disk (tests).
    pub(crate) fn set_failing(&self, on: bool) {
        self.failing.failing.store(on, Ordering::Relaxed);
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }
}
