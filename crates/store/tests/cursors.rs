//! Cursor moves cost no transaction of their own: they are seen at once and the log writer
//! writes them with its next index write (durably once the log is quiet), or on close.

mod support;

use gatehouse_store::{Io, SEAL_KEY, Store, secrets, tables};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{SITE, access};

/// The file as it was at each completed sync.
#[derive(Default)]
struct Disk {
    written: Vec<u8>,
    synced: Vec<Vec<u8>>,
}

fn apply(bytes: &mut Vec<u8>, offset: u64, data: &[u8]) {
    let end = offset as usize + data.len();
    if bytes.len() < end {
        bytes.resize(end, 0);
    }
    bytes[offset as usize..end].copy_from_slice(data);
}

/// Opens the synced image `image` as a store of its own (with the live store's seal key).
fn open_image(live: &Path, at: &Path, image: &[u8]) -> Store {
    std::fs::create_dir_all(at).unwrap();
    std::fs::write(at.join(tables::FILE_NAME), image).unwrap();
    std::fs::copy(
        secrets::path(live, SEAL_KEY).unwrap(),
        secrets::path(at, SEAL_KEY).unwrap(),
    )
    .unwrap();
    Store::open(at, SITE).unwrap()
}

#[test]
fn a_cursor_move_is_seen_at_once_and_reaches_the_disk_while_the_log_is_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("live");
    drop(Store::open(&live, SITE).unwrap());
    let disk = Arc::new(Mutex::new(Disk {
        written: std::fs::read(live.join(tables::FILE_NAME)).unwrap(),
        synced: Vec::new(),
    }));
    let tap_disk = disk.clone();
    let tap: gatehouse_store::Tap = Arc::new(move |io: Io<'_>| {
        let mut d = tap_disk.lock().unwrap();
        match io {
            Io::Write { offset, data } => apply(&mut d.written, offset, data),
            Io::SetLen(len) => d.written.resize(len as usize, 0),
            Io::Synced => {
                let image = d.written.clone();
                d.synced.push(image);
            }
        }
    });
    let store = Store::open_tapped(&live, SITE, tap).unwrap();
    for minute in 0..5 {
        store
            .append_blocking(access("R-1", "gate-north", minute))
            .unwrap();
    }
    // Let the idle index write after the appends happen first.
    let quiet = Instant::now() + Duration::from_secs(10);
    while store.indexed_seq().unwrap() < 5 && Instant::now() < quiet {
        std::thread::sleep(Duration::from_millis(10));
    }
    let syncs_before = disk.lock().unwrap().synced.len();

    store.set_cursor("mqtt", 3).unwrap();
    assert_eq!(store.cursor("mqtt").unwrap(), 3, "a move is seen at once");
    assert_eq!(
        store.cursor("uplink").unwrap(),
        0,
        "other cursors are apart"
    );

    // No append follows: the writer's quiet-time write must sync the move by itself.
    let deadline = Instant::now() + Duration::from_secs(10);
    while disk.lock().unwrap().synced.len() == syncs_before {
        assert!(
            Instant::now() < deadline,
            "no sync within 10 s of a cursor move on a quiet log"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let image = disk.lock().unwrap().synced.last().unwrap().clone();
    let after_cut = open_image(&live, &dir.path().join("cut"), &image);
    assert_eq!(
        after_cut.cursor("mqtt").unwrap(),
        3,
        "the synced file holds the cursor: a power cut now would keep it"
    );
    assert_eq!(after_cut.last_seq(), 5, "and every append");
    assert_eq!(store.last_seq(), 5, "moving a cursor appends nothing");
}

#[test]
fn a_cursor_move_survives_a_close_and_a_rewind_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), SITE).unwrap();
    for minute in 0..12 {
        store
            .append_blocking(access("R-1", "gate-north", minute))
            .unwrap();
    }
    store.set_cursor("mqtt", 10).unwrap();
    store.set_cursor("uplink", 12).unwrap();
    store.set_cursor("mqtt", 4).unwrap(); // a replay rewinds
    assert_eq!(store.cursor("mqtt").unwrap(), 4);
    drop(store); // at once: the close writes what waits
    let store = Store::open(dir.path(), SITE).unwrap();
    assert_eq!(store.cursor("mqtt").unwrap(), 4);
    assert_eq!(store.cursor("uplink").unwrap(), 12);
    assert_eq!(store.cursor("never-set").unwrap(), 0);
}
