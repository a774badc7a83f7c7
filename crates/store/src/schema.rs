//! The store's schema version and the migrations between versions.
//!
//! `meta[schema]` holds the layout version (4 bytes, big-endian) of the file. A store written
//! before versions existed has none and is version 1. On open, a store older than
//! [`CURRENT`] is migrated step by step, each step in its own transaction that also records
//! the version it reached, so an interrupted migration resumes where it stopped; a store newer
//! than [`CURRENT`] is refused with [`StoreError::NewerSchema`] before anything is written.
//!
//! Versions:
//! - 1: the layout before versions (events, seals, indexes, passages, estate tables, `meta`).
//! - 2: the same tables plus `meta[schema]`. Migrating from 1 records the version.

use crate::errors::{StoreError, fail};
use crate::tables;
use redb::{Database, ReadableDatabase, TableError};
use std::path::Path;

/// The layout this build writes.
pub const CURRENT: u32 = 2;
/// The version of a store whose `meta` has no `schema` key.
const UNVERSIONED: u32 = 1;

/// The version stored in `db`: `None` for a new, empty file (no tables yet). Refuses a store
/// newer than [`CURRENT`].
pub(crate) fn check(dir: &Path, db: &impl ReadableDatabase) -> Result<Option<u32>, StoreError> {
    let what = "read the store's schema version";
    let txn = db.begin_read().map_err(fail(what))?;
    let meta = match txn.open_table(tables::META) {
        Ok(meta) => meta,
        Err(TableError::TableDoesNotExist(_)) => return Ok(None),
        Err(e) => return Err(fail(what)(e)),
    };
    let found = match meta.get(tables::SCHEMA).map_err(fail(what))? {
        None => UNVERSIONED,
        Some(v) => {
            let bytes: [u8; 4] = v.value().try_into().map_err(|_| StoreError::Corrupt {
                table: "meta",
                key: tables::SCHEMA.into(),
                problem: "not a 4-byte version".into(),
            })?;
            u32::from_be_bytes(bytes)
        }
    };
    if found > CURRENT {
        return Err(StoreError::NewerSchema {
            dir: dir.to_path_buf(),
            found,
            supported: CURRENT,
        });
    }
    Ok(Some(found))
}

/// Brings a store at version `found` (`None`: just created) to [`CURRENT`].
pub(crate) fn migrate(db: &Database, found: Option<u32>) -> Result<(), StoreError> {
    let mut version = found.unwrap_or(CURRENT);
    if found.is_none() {
        stamp(db, CURRENT)?;
    }
    while version < CURRENT {
        let next = version + 1;
        tracing::info!(from = version, to = next, "Migrating the store's schema.");
        // Each step: its changes and the new version in one transaction. Version 2 adds only
        // the version key itself.
        stamp(db, next)?;
        version = next;
    }
    Ok(())
}

fn stamp(db: &Database, version: u32) -> Result<(), StoreError> {
    let what = "record the store's schema version";
    let txn = db.begin_write().map_err(fail(what))?;
    txn.open_table(tables::META)
        .map_err(fail(what))?
        .insert(tables::SCHEMA, version.to_be_bytes().as_slice())
        .map_err(fail(what))?;
    txn.commit().map_err(fail(what))
}
