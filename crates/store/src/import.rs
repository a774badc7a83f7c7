//! Import keys: a swipe record imported from another system is identified by its card, door,
//! instant and direction, so that importing a file twice, or two files that overlap, appends
//! each record once. The key is checked and written in the same transaction as the record
//! ([`crate::Store::append_imported`]), so a crash between the two cannot make a record
//! importable twice or lose one.

use crate::errors::{StoreError, fail};
use crate::tables;
use redb::ReadableDatabase;

/// 16 bytes of a blake3 hash of the record's identity.
pub type ImportKey = [u8; 16];

/// The key of one swipe record: `card` as given (trimmed, upper-cased), the door's id, the
/// instant in Unix microseconds and the direction (`in`, `out` or empty). Two records equal in
/// these four are the same record, whatever their result or source file.
pub fn import_key(card: &str, door: &str, micros: i64, direction: &str) -> ImportKey {
    let mut h = blake3::Hasher::new();
    h.update(b"gatehouse-import-v1\0");
    h.update(card.trim().to_ascii_uppercase().as_bytes());
    h.update(b"\0");
    h.update(door.as_bytes());
    h.update(b"\0");
    h.update(&micros.to_be_bytes());
    h.update(direction.as_bytes());
    let mut key = [0u8; 16];
    key.copy_from_slice(&h.finalize().as_bytes()[..16]);
    key
}

/// What one [`crate::Store::append_imported`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Imported {
    /// Records appended to the log.
    pub appended: u64,
    /// Records skipped because a record with the same key was imported before (in this
    /// call or an earlier one).
    pub already: u64,
    /// The last seq of the log afterwards.
    pub last_seq: u64,
}

/// How many of `keys` are already in the store (for `--dry-run`); repeated keys within
/// `keys` count as already there from their second occurrence on.
pub(crate) fn count_known(db: &redb::Database, keys: &[ImportKey]) -> Result<u64, StoreError> {
    let what = "read the import keys";
    let txn = db.begin_read().map_err(fail(what))?;
    let table = match txn.open_table(tables::IMPORTED) {
        Ok(t) => Some(t),
        Err(redb::TableError::TableDoesNotExist(_)) => None,
        Err(e) => return Err(fail(what)(e)),
    };
    let mut seen = std::collections::HashSet::new();
    let mut known = 0;
    for key in keys {
        let stored = match &table {
            Some(t) => t.get(key.as_slice()).map_err(fail(what))?.is_some(),
            None => false,
        };
        if stored || !seen.insert(*key) {
            known += 1;
        }
    }
    Ok(known)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_core::event::{Event, Kind};

    fn swipe(card: &str, at: &str) -> (ImportKey, Event) {
        let e = Event::new(Kind::Access, at);
        let micros = e.timestamp().unwrap().as_microsecond();
        (import_key(card, "gate-north", micros, "in"), e)
    }

    #[test]
    fn a_record_imported_twice_is_appended_once_and_counted_as_already_there() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::Store::open(dir.path(), "t").unwrap();
        let a = swipe("0a0a0a0a", "2026-09-01T08:00:00.000+08:00");
        let b = swipe("0B0B0B0B", "2026-09-01T08:00:00.000+08:00");
        // The same record twice in one call: once.
        let first = store
            .append_imported(vec![a.clone(), a.clone(), b.clone()])
            .unwrap();
        assert_eq!((first.appended, first.already, first.last_seq), (2, 1, 2));
        // Card numbers differ only in case: the same card.
        let again = swipe("0A0A0A0A", "2026-09-01T08:00:00.000+08:00");
        assert_eq!(store.known_imports(&[again.0, b.0]).unwrap(), 2);
        let second = store.append_imported(vec![again, b]).unwrap();
        assert_eq!((second.appended, second.already), (0, 2));
        assert_eq!(store.last_seq(), 2);
        let later = swipe("0A0A0A0A", "2026-09-01T08:00:01.000+08:00");
        assert_eq!(store.known_imports(&[later.0]).unwrap(), 0);
    }
}
