//! `verify` finds the first bad record for every kind of tampering, done the way an attacker
//! with the database file (but not the seal key) would: opening the redb file directly.

mod support;

use gatehouse_core::Event;
use gatehouse_store::{Store, chain, tables};
use redb::{Database, ReadableTable};
use std::path::Path;
use support::{SITE, access};

/// A closed store of `n` events in a fresh directory.
fn log_of(n: u32) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), SITE).unwrap();
    for i in 0..n {
        store
            .append_blocking(access(&format!("R-{}", i % 3), "gate-north", i))
            .unwrap();
    }
    assert_eq!(
        store.verify().unwrap().first_bad,
        None,
        "the untouched log verifies"
    );
    dir
}

/// Opens the raw file and runs `f` in one write transaction.
fn tamper(dir: &Path, f: impl FnOnce(&mut redb::Table<u64, &str>, &mut redb::Table<u64, &[u8]>)) {
    let db = Database::open(dir.join(tables::FILE_NAME)).unwrap();
    let txn = db.begin_write().unwrap();
    {
        let mut events = txn.open_table(tables::EVENTS).unwrap();
        let mut seals = txn.open_table(tables::SEALS).unwrap();
        f(&mut events, &mut seals);
    }
    txn.commit().unwrap();
}

fn record(events: &redb::Table<u64, &str>, seq: u64) -> Event {
    serde_json::from_str(events.get(seq).unwrap().unwrap().value()).unwrap()
}

fn put(events: &mut redb::Table<u64, &str>, seq: u64, event: &Event) {
    events
        .insert(seq, serde_json::to_string(event).unwrap().as_str())
        .unwrap();
}

/// (first bad seq, problem) as `verify` reports it after reopening.
fn first_bad(dir: &Path) -> (u64, String) {
    let store = Store::open(dir, SITE).unwrap();
    let report = store.verify().unwrap();
    let bad = report.first_bad.expect("tampering must be found");
    (bad.seq, bad.problem)
}

#[test]
fn a_modified_record_is_found() {
    let dir = log_of(10);
    tamper(dir.path(), |events, _| {
        let mut e = record(events, 6);
        e.person = Some("R-somebody-else".into());
        put(events, 6, &e);
    });
    let (seq, problem) = first_bad(dir.path());
    assert_eq!(seq, 6, "{problem}");
    assert!(problem.contains("changed"), "{problem}");
}

#[test]
fn a_record_removed_in_the_middle_is_found() {
    let dir = log_of(10);
    tamper(dir.path(), |events, seals| {
        events.remove(5).unwrap();
        seals.remove(5).unwrap();
    });
    let (seq, problem) = first_bad(dir.path());
    assert_eq!(seq, 5, "{problem}");
    assert!(problem.contains("missing"), "{problem}");
}

#[test]
fn reordered_records_are_found() {
    let dir = log_of(10);
    tamper(dir.path(), |events, seals| {
        let (a, b) = (record(events, 4), record(events, 7));
        let (sa, sb) = (
            seals.get(4).unwrap().unwrap().value().to_vec(),
            seals.get(7).unwrap().unwrap().value().to_vec(),
        );
        put(events, 4, &b);
        put(events, 7, &a);
        seals.insert(4, sb.as_slice()).unwrap();
        seals.insert(7, sa.as_slice()).unwrap();
    });
    let (seq, problem) = first_bad(dir.path());
    assert_eq!(seq, 4, "{problem}");
}

#[test]
fn a_tail_rebuilt_with_a_valid_chain_from_a_forged_point_is_found() {
    let dir = log_of(10);
    tamper(dir.path(), |events, _| {
        // Rewrite 5..=10 as a perfectly chained history, recomputing every hash: the chain
        // alone cannot tell. The seals stay as they were (the attacker has no key).
        let mut prev = record(events, 4).hash;
        for seq in 5..=10 {
            let mut e = record(events, seq);
            e.person = Some("R-forged".into());
            e.prev_hash = prev.clone();
            e.hash = chain::hash(&prev, &chain::canonical(&e));
            prev = e.hash.clone();
            put(events, seq, &e);
        }
    });
    let (seq, problem) = first_bad(dir.path());
    assert_eq!(seq, 5, "{problem}");
    assert!(problem.contains("seal"), "{problem}");
}

#[test]
fn a_forged_record_without_a_seal_is_found() {
    let dir = log_of(3);
    tamper(dir.path(), |events, _| {
        let last = record(events, 3);
        let mut e = access("R-forged", "gate-north", 30);
        e.seq = 4;
        e.id = format!("{SITE}:4");
        e.prev_hash = last.hash.clone();
        e.hash = chain::hash(&e.prev_hash, &chain::canonical(&e));
        put(events, 4, &e);
    });
    let (seq, problem) = first_bad(dir.path());
    assert_eq!(seq, 4, "{problem}");
}

#[test]
fn records_cut_off_the_end_are_found() {
    let dir = log_of(10);
    tamper(dir.path(), |events, seals| {
        for seq in 8..=10 {
            events.remove(seq).unwrap();
            seals.remove(seq).unwrap();
        }
    });
    let (seq, problem) = first_bad(dir.path());
    assert_eq!(seq, 8, "{problem}");
    assert!(problem.contains("cut short"), "{problem}");
}

#[test]
fn a_replaced_seal_key_makes_every_record_suspect() {
    let dir = log_of(4);
    std::fs::write(
        gatehouse_store::secrets::path(dir.path(), gatehouse_store::SEAL_KEY).unwrap(),
        [7u8; 32],
    )
    .unwrap();
    let (seq, problem) = first_bad(dir.path());
    assert_eq!(seq, 1, "{problem}");
}

#[test]
fn the_log_file_is_private_even_when_an_older_version_left_it_readable() {
    use std::os::unix::fs::PermissionsExt;
    let dir = log_of(1);
    let path = dir.path().join("gatehouse.redb");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600, "a new log is private");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    drop(Store::open(dir.path(), SITE).unwrap());
    assert_eq!(mode(&path), 0o600, "an old readable log is made private");
}

#[test]
fn the_seal_key_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = log_of(1);
    for name in [gatehouse_store::SEAL_KEY, "gateway-ed25519"] {
        let store = Store::open(dir.path(), SITE).unwrap();
        let key = store.secret(name).unwrap();
        assert_eq!(store.secret(name).unwrap(), key, "a secret is made once");
        let path = gatehouse_store::secrets::path(dir.path(), name).unwrap();
        let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{name}");
    }
}
