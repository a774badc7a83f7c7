//! Durable cursors: how far a consumer of the log (the MQTT outbox) has got, by name.
//!
//! A cursor is written with redb's non-durable commit: it reaches the disk with the next
//! durable commit (the next append). After a crash a cursor may be a little behind, so a few
//! events go out twice; delivery is at-least-once and consumers de-duplicate by event id. This
//! saves one fsync per published event.

use crate::disk::Db;
use crate::errors::{StoreError, fail};
use crate::tables;
use redb::{Durability, ReadableDatabase};

/// The cursor `name`, 0 if it was never set.
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

pub(crate) fn set(store: &Db, name: &str, seq: u64) -> Result<(), StoreError> {
    let what = "save a cursor";
    store.write(|d| {
        let mut txn = d.begin_write().map_err(fail(what))?;
        txn.set_durability(Durability::None).map_err(fail(what))?;
        txn.open_table(tables::CURSORS)
            .map_err(fail(what))?
            .insert(name, seq)
            .map_err(fail(what))?;
        txn.commit().map_err(fail(what))
    })
}
