//! What the store's readers get: [`StoreReader`], a handle that reads the log and the estate
//! but cannot append, put estate data or save state, and [`Cursor`], a handle that moves one
//! named cursor. Only the core's owner task (and the offline CLI running a core) holds the
//! [`Store`] itself, so "only the core writes" is a property of the types, not a convention:
//! an adapter (MQTT, web, occupancy) is handed a reader.

use crate::{Copied, Space, Store, StoreError, VerifyReport};
use gatehouse_core::Event;
use gatehouse_core::estate::EstateData;
use gatehouse_core::passage::Scanned;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use tokio::sync::watch;

/// A read-only handle on the store: cheap to clone; the same reads as [`Store`]'s.
///
/// It reads the log:
/// ```no_run
/// fn first(reader: &gatehouse_store::StoreReader) -> Option<gatehouse_core::Event> {
///     reader.events(1, 1).ok()?.into_iter().next()
/// }
/// ```
/// and has no way to write to it; this does not compile:
/// ```compile_fail
/// fn append(reader: &gatehouse_store::StoreReader, event: gatehouse_core::Event) {
///     reader.append_blocking(event).unwrap();
/// }
/// ```
#[derive(Clone)]
pub struct StoreReader {
    store: Store,
}

impl Store {
    /// A read-only handle on this store, for adapters.
    pub fn reader(&self) -> StoreReader {
        StoreReader {
            store: self.clone(),
        }
    }

    /// A handle that moves the cursor `name` and nothing else (an outbox's own progress).
    pub fn cursor_handle(&self, name: &str) -> Cursor {
        Cursor {
            store: self.clone(),
            name: name.to_string(),
        }
    }
}

impl StoreReader {
    /// The data directory.
    pub fn dir(&self) -> PathBuf {
        self.store.dir()
    }

    /// See [`Store::last_seq`].
    pub fn last_seq(&self) -> u64 {
        self.store.last_seq()
    }

    /// See [`Store::subscribe`].
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.store.subscribe()
    }

    /// See [`Store::events`].
    pub fn events(&self, from_seq: u64, limit: usize) -> Result<Vec<Event>, StoreError> {
        self.store.events(from_seq, limit)
    }

    /// See [`Store::events_between`].
    pub fn events_between(
        &self,
        from: jiff::Timestamp,
        to: jiff::Timestamp,
        limit: usize,
    ) -> Result<Vec<Event>, StoreError> {
        self.store.events_between(from, to, limit)
    }

    /// See [`Store::events_for_person`].
    pub fn events_for_person(&self, person: &str, limit: usize) -> Result<Vec<Event>, StoreError> {
        self.store.events_for_person(person, limit)
    }

    /// See [`Store::events_for_door`].
    pub fn events_for_door(&self, door: &str, limit: usize) -> Result<Vec<Event>, StoreError> {
        self.store.events_for_door(door, limit)
    }

    /// See [`Store::for_each_event`].
    pub fn for_each_event(
        &self,
        from_seq: u64,
        f: impl FnMut(&Event) -> ControlFlow<()>,
    ) -> Result<(), StoreError> {
        self.store.for_each_event(from_seq, f)
    }

    /// See [`Store::scan`].
    pub fn scan(
        &self,
        from_seq: u64,
        to_seq: u64,
        f: impl FnMut(u64, Scanned<'_>) -> ControlFlow<()>,
    ) -> Result<(), StoreError> {
        self.store.scan(from_seq, to_seq, f)
    }

    /// See [`Store::verify`].
    pub fn verify(&self) -> Result<VerifyReport, StoreError> {
        self.store.verify()
    }

    /// See [`Store::backup`] (a read: the copy is a new file; the store is not changed).
    pub fn backup(&self, out: &Path) -> Result<Copied, StoreError> {
        self.store.backup(out)
    }

    /// See [`Store::load_estate`].
    pub fn load_estate(&self) -> Result<EstateData, StoreError> {
        self.store.load_estate()
    }

    /// See [`Store::cursor`].
    pub fn cursor(&self, name: &str) -> Result<u64, StoreError> {
        self.store.cursor(name)
    }

    /// See [`Store::cursor_saves`].
    pub fn cursor_saves(&self) -> watch::Receiver<u64> {
        self.store.cursor_saves()
    }

    /// See [`Store::indexed_seq`].
    #[doc(hidden)]
    pub fn indexed_seq(&self) -> Result<u64, StoreError> {
        self.store.indexed_seq()
    }

    /// See [`Store::space`].
    pub fn space(&self) -> Result<Space, StoreError> {
        self.store.space()
    }

    /// See [`Store::commits`].
    pub fn commits(&self) -> u64 {
        self.store.commits()
    }

    /// See [`Store::commit_time`].
    pub fn commit_time(&self) -> (u64, u64) {
        self.store.commit_time()
    }
}

/// One named cursor of the store (see [`crate::cursors`]), for the consumer it belongs to.
#[derive(Clone)]
pub struct Cursor {
    store: Store,
    name: String,
}

impl Cursor {
    /// The cursor's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where the cursor is (0 if never set).
    pub fn get(&self) -> Result<u64, StoreError> {
        self.store.cursor(&self.name)
    }

    /// Moves the cursor to `seq` (see [`Store::set_cursor`]).
    pub fn set(&self, seq: u64) -> Result<(), StoreError> {
        self.store.set_cursor(&self.name, seq)
    }
}
