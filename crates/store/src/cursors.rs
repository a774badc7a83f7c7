//! Durable cursors: how far a consumer of the log (the MQTT outbox, the uplink) has got, by
//! name.
//!
//! Moving a cursor costs no transaction of its own. The new position is kept in [`Pending`]
//! (where [`crate::Store::cursor`] reads it at once) and the log writer writes it with its
//! next index write: once the log has been quiet for [`crate::index::DELAY`], durably, while
//! nobody waits, or under steady traffic with the index batch. Before, each save was a redb
//! transaction of its own, whose pages the next swipe's durable commit carried to disk
//! (docs/benchmarks.md, "Where a paced swipe's time went"). After a crash a cursor may be a
//! little behind, so a few events go out twice; delivery is at-least-once and consumers
//! de-duplicate by event id.

use crate::disk::Db;
use crate::errors::{StoreError, fail};
use crate::tables;
use redb::{ReadableDatabase, WriteTransaction};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// Most cursor names with a move not yet written. The names come from the code (one per
/// outbox), so this is never reached in practice; past it a new name's move is refused.
pub(crate) const MAX_PENDING: usize = 64;

/// Cursor moves the writer has not written yet.
#[derive(Default)]
pub(crate) struct Pending(Mutex<BTreeMap<String, u64>>);

impl Pending {
    fn map(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, u64>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records the move; true when nothing was waiting before (the writer must be woken: it
    /// sleeps only when nothing waits).
    pub(crate) fn set(&self, name: &str, seq: u64) -> Result<bool, StoreError> {
        let mut map = self.map();
        if map.len() >= MAX_PENDING && !map.contains_key(name) {
            return Err(StoreError::Unavailable(format!(
                "cursor {name:?} cannot be saved: {MAX_PENDING} other cursors are waiting to be \
                 written; this is a bug in the caller (cursor names are fixed by the code)"
            )));
        }
        let was_empty = map.is_empty();
        map.insert(name.to_string(), seq);
        Ok(was_empty)
    }

    pub(crate) fn get(&self, name: &str) -> Option<u64> {
        self.map().get(name).copied()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.map().is_empty()
    }

    /// What is waiting, to be written.
    pub(crate) fn snapshot(&self) -> Vec<(String, u64)> {
        self.map().iter().map(|(k, v)| (k.clone(), *v)).collect()
    }

    /// `written` reached the database: those moves stop waiting, unless moved again meanwhile.
    pub(crate) fn written(&self, written: &[(String, u64)]) {
        let mut map = self.map();
        for (name, seq) in written {
            if map.get(name) == Some(seq) {
                map.remove(name);
            }
        }
    }
}

/// The cursor `name` as written in the database, 0 if it never was.
pub(crate) fn get(store: &Db, name: &str) -> Result<u64, StoreError> {
    let what = "read a cursor";
    store.read(|d| {
        let txn = d.begin_read().map_err(fail(what))?;
        let table = txn.open_table(tables::CURSORS).map_err(fail(what))?;
        Ok(table
            .get(name)
            .map_err(fail(what))?
            .map(|v| v.value())
            .unwrap_or(0))
    })
}

/// Writes `cursors` in the writer's transaction `txn`.
pub(crate) fn write(txn: &WriteTransaction, cursors: &[(String, u64)]) -> Result<(), StoreError> {
    if cursors.is_empty() {
        return Ok(());
    }
    let what = "save a cursor";
    let mut table = txn.open_table(tables::CURSORS).map_err(fail(what))?;
    for (name, seq) in cursors {
        table.insert(name.as_str(), *seq).map_err(fail(what))?;
    }
    Ok(())
}
