//! A damaged store file: a byte changed inside records at 200 deterministic positions (some
//! making invalid UTF-8, which redb used to panic on), and bytes changed anywhere in the file.
//! Each time: `verify` reports the damaged record, the store opens and restores its state (the
//! gateway starts), and `salvage` recovers every other record. No panic anywhere.

mod support;

use gatehouse_store::{SEAL_KEY, Store, secrets, tables};
use std::path::{Path, PathBuf};
use support::{SITE, access};

const RECORDS: u64 = 300;

/// A store of [`RECORDS`] events rewritten by a backup into one fresh file, so that every
/// record's bytes appear exactly once in it; returns (dir holding it and its key, records).
fn pristine() -> (tempfile::TempDir, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("live");
    let store = Store::open(&live, SITE).unwrap();
    let mut records = Vec::new();
    for i in 0..RECORDS as u32 {
        let e = store
            .append_blocking(access(&format!("R-{}", i % 7), "gate-north", i))
            .unwrap();
        records.push(serde_json::to_string(&e).unwrap());
    }
    let copy = dir.path().join("copy");
    std::fs::create_dir(&copy).unwrap();
    store.backup(&copy.join(tables::FILE_NAME)).unwrap();
    drop(store);
    let key = secrets::path(&live, SEAL_KEY).unwrap();
    std::fs::copy(&key, secrets::path(&copy, SEAL_KEY).unwrap()).unwrap();
    (dir, records)
}

/// A copy of the pristine store with `mask` XORed into the byte at `offset`.
fn damaged(pristine: &Path, offset: usize, mask: u8) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let mut bytes = std::fs::read(pristine.join(tables::FILE_NAME)).unwrap();
    bytes[offset] ^= mask;
    std::fs::write(data.join(tables::FILE_NAME), bytes).unwrap();
    std::fs::copy(
        secrets::path(pristine, SEAL_KEY).unwrap(),
        secrets::path(&data, SEAL_KEY).unwrap(),
    )
    .unwrap();
    (dir, data)
}

fn find(haystack: &[u8], needle: &[u8]) -> Vec<usize> {
    haystack
        .windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .map(|(i, _)| i)
        .collect()
}

#[test]
fn damage_inside_records_is_reported_survived_and_salvaged() {
    let (root, records) = pristine();
    let copy = root.path().join("copy");
    let file = std::fs::read(copy.join(tables::FILE_NAME)).unwrap();
    let mut cases = 0;
    for i in 0..200u64 {
        // Spread over the log, the last record included, first bytes included.
        let seq = if i % 20 == 0 {
            RECORDS
        } else {
            1 + (i * 37) % RECORDS
        };
        let json = records[seq as usize - 1].as_bytes();
        let at = find(&file, json);
        assert_eq!(at.len(), 1, "record {seq} appears once in the file");
        let within = if i % 10 == 0 {
            0
        } else {
            (i as usize * 53) % json.len()
        };
        // 0x80 makes the byte invalid UTF-8 (redb used to panic on it); 0x01 changes content.
        let mask = if i % 2 == 0 { 0x80 } else { 0x01 };
        let (_keep, data) = damaged(&copy, at[0] + within, mask);
        let case = format!("case {i}: record {seq}, byte {within}, mask {mask:#x}");

        let report = gatehouse_store::verify_file(&data.join(tables::FILE_NAME), &data)
            .unwrap_or_else(|e| panic!("{case}: verify failed: {e}"));
        assert_eq!(report.damaged, vec![(seq, seq)], "{case}: {report:?}");
        assert_eq!(
            report.first_bad.as_ref().map(|b| b.seq),
            Some(seq),
            "{case}"
        );

        let out = root.path().join(format!("salvaged-{i}"));
        let copied = gatehouse_store::salvage(&data, &out)
            .unwrap_or_else(|e| panic!("{case}: salvage failed: {e}"));
        assert!(
            copied.lost_records.is_empty() || copied.lost_records == vec![(seq, seq)],
            "{case}: {copied:?}"
        );
        assert_eq!(
            copied.records + copied.lost_records.len() as u64,
            RECORDS,
            "{case}"
        );
        let salvaged = Store::open(&out, SITE).unwrap();
        let mut seen = 0;
        salvaged
            .for_each_event(1, |e| {
                if e.seq != seq {
                    assert_eq!(
                        serde_json::to_string(e).unwrap(),
                        records[e.seq as usize - 1]
                    );
                    seen += 1;
                }
                std::ops::ControlFlow::Continue(())
            })
            .unwrap();
        assert_eq!(seen, RECORDS - 1, "{case}: every undamaged record salvaged");
        drop(salvaged);

        // The gateway's start: open, estate, restored state (recent events included).
        let store = Store::open(&data, SITE).unwrap_or_else(|e| panic!("{case}: open: {e}"));
        store.load_estate().unwrap();
        let restored = store
            .restored(support::ts("2026-01-01T00:00:00Z"))
            .unwrap_or_else(|e| panic!("{case}: restore: {e}"));
        assert!(restored.recent_events.len() as u64 >= RECORDS - 1, "{case}");
        // And it keeps deciding: the next append chains on from the head.
        let next = store
            .append_blocking(access("R-1", "gate-north", 500))
            .unwrap_or_else(|e| panic!("{case}: append after damage: {e}"));
        assert_eq!(next.seq, RECORDS + 1, "{case}");
        cases += 1;
    }
    assert_eq!(cases, 200);
}

#[test]
fn a_byte_changed_anywhere_never_panics() {
    let (root, _) = pristine();
    let copy = root.path().join("copy");
    let len = std::fs::metadata(copy.join(tables::FILE_NAME))
        .unwrap()
        .len() as usize;
    for i in 0..60usize {
        let offset = (i * 7919 + 13) % len;
        let (_keep, data) = damaged(&copy, offset, 0xA5);
        // Each may succeed or fail with a message; none may panic (the test would fail).
        let verified = gatehouse_store::verify_file(&data.join(tables::FILE_NAME), &data);
        let salvaged = gatehouse_store::salvage(&data, &root.path().join(format!("s-{i}")));
        let opened =
            Store::open(&data, SITE).map(|s| s.restored(support::ts("2026-01-01T00:00:00Z")));
        for message in [
            verified.err().map(|e| e.to_string()),
            salvaged.err().map(|e| e.to_string()),
            opened.err().map(|e| e.to_string()),
        ]
        .into_iter()
        .flatten()
        {
            assert!(
                message.contains("gatehouse") || message.contains("restore"),
                "offset {offset}: {message}"
            );
        }
    }
}

/// Sets (or, with `None`, removes) the schema version in a closed store's file.
fn set_schema(dir: &Path, version: Option<u32>) {
    let db = redb::Database::open(dir.join(tables::FILE_NAME)).unwrap();
    let txn = db.begin_write().unwrap();
    {
        let mut meta = txn.open_table(tables::META).unwrap();
        match version {
            None => drop(meta.remove(tables::SCHEMA).unwrap()),
            Some(v) => drop(
                meta.insert(tables::SCHEMA, v.to_be_bytes().as_slice())
                    .unwrap(),
            ),
        }
    }
    txn.commit().unwrap();
}

fn schema_of(dir: &Path) -> Option<u32> {
    use redb::ReadableDatabase;
    let db = redb::Database::open(dir.join(tables::FILE_NAME)).unwrap();
    let txn = db.begin_read().unwrap();
    let meta = txn.open_table(tables::META).unwrap();
    let v = meta.get(tables::SCHEMA).unwrap();
    v.map(|v| u32::from_be_bytes(v.value().try_into().unwrap()))
}

#[test]
fn an_unversioned_store_is_migrated_and_a_newer_one_refused() {
    use gatehouse_store::schema::CURRENT;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), SITE).unwrap();
    store
        .append_blocking(access("R-1", "gate-north", 1))
        .unwrap();
    drop(store);
    assert_eq!(
        schema_of(dir.path()),
        Some(CURRENT),
        "a new store is stamped"
    );

    set_schema(dir.path(), None); // as written before versions existed
    let store = Store::open(dir.path(), SITE).unwrap();
    assert_eq!(store.last_seq(), 1);
    assert_eq!(store.verify().unwrap().first_bad, None);
    drop(store);
    assert_eq!(schema_of(dir.path()), Some(CURRENT), "migrated on open");

    set_schema(dir.path(), Some(CURRENT + 1));
    let refused = Store::open(dir.path(), SITE)
        .err()
        .expect("a newer store is refused");
    assert!(
        matches!(refused, gatehouse_store::StoreError::NewerSchema { found, .. } if found == CURRENT + 1),
        "{refused}"
    );
    assert!(refused.to_string().contains("newer"), "{refused}");
    assert_eq!(schema_of(dir.path()), Some(CURRENT + 1), "nothing written");
}

#[test]
fn a_backup_taken_while_appends_run_restores_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("live");
    let store = Store::open(&live, SITE).unwrap();
    for i in 0..50 {
        store
            .append_blocking(access("R-1", "gate-north", i))
            .unwrap();
    }
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let store = store.clone();
            std::thread::spawn(move || {
                for i in 0..100 {
                    store
                        .append_blocking(access(&format!("R-{w}"), "gate-north", i))
                        .unwrap();
                }
            })
        })
        .collect();
    let file = dir.path().join("backup.redb");
    let copied = store.backup(&file).unwrap();
    for w in writers {
        w.join().unwrap();
    }
    assert!(copied.records >= 50, "{copied:?}");
    assert!(copied.lost_records.is_empty() && copied.lost_rows.is_empty());
    let report = gatehouse_store::verify_file(&file, &live).unwrap();
    assert_eq!(
        report.first_bad, None,
        "the snapshot is one consistent commit"
    );
    assert_eq!(report.checked, copied.records);
    drop(store);

    let report = gatehouse_store::restore(&file, &live).unwrap();
    assert_eq!(report.checked, copied.records);
    let restored = Store::open(&live, SITE).unwrap();
    assert_eq!(restored.last_seq(), copied.records);
    assert_eq!(restored.verify().unwrap().first_bad, None);
    assert!(live.join("gatehouse.redb.before-restore").exists());
}
