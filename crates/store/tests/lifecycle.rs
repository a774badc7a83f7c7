//! Opening and closing the store, with and without appends and with appends in flight at the
//! moment it closes: the log writer thread must never panic (a panic here once read "tip is
//! set by a successful commit"), and every append that returned is in the log.

mod support;

use gatehouse_store::Store;
use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};
use support::{SITE, access};

static WRITER_PANICS: AtomicUsize = AtomicUsize::new(0);

/// Counts panics on the store's writer thread (the hook is process-wide; this file's tests
/// are the only ones in this test binary).
fn watch_writer_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if std::thread::current().name() == Some("gatehouse-log-writer") {
                WRITER_PANICS.fetch_add(1, Ordering::SeqCst);
            }
            default(info);
        }));
    });
}

#[test]
fn open_and_close_without_appends_again_and_again() {
    watch_writer_panics();
    let dir = tempfile::tempdir().unwrap();
    for round in 0..100u32 {
        let store = Store::open(dir.path(), SITE).unwrap();
        if round % 3 == 0 {
            store
                .append_blocking(access("R-1", "gate-north", round))
                .unwrap();
        }
        let clone = store.clone();
        drop(store);
        drop(clone);
    }
    let store = Store::open(dir.path(), SITE).unwrap();
    assert_eq!(store.last_seq(), 34, "one append every third round");
    assert_eq!(store.verify().unwrap().first_bad, None);
    assert_eq!(
        WRITER_PANICS.load(Ordering::SeqCst),
        0,
        "the log writer panicked"
    );
}

#[test]
fn close_while_appends_are_in_flight() {
    watch_writer_panics();
    let dir = tempfile::tempdir().unwrap();
    let mut acknowledged = 0u64;
    for round in 0..20u32 {
        let store = Store::open(dir.path(), SITE).unwrap();
        let writers: Vec<_> = (0..8u32)
            .map(|w| {
                let store = store.clone();
                std::thread::spawn(move || {
                    let mut done = 0u64;
                    for i in 0..(w + round % 5) {
                        if store
                            .append_blocking(access("R-2", "gate-north", w * 100 + i))
                            .is_ok()
                        {
                            done += 1;
                        }
                    }
                    done
                })
            })
            .collect();
        // The test's own handle goes first: the writers' clones keep the store open until
        // the last of them finishes, so their appends still land.
        drop(store);
        acknowledged += writers.into_iter().map(|w| w.join().unwrap()).sum::<u64>();
    }
    let store = Store::open(dir.path(), SITE).unwrap();
    assert_eq!(
        store.last_seq(),
        acknowledged,
        "every acknowledged append is stored"
    );
    assert_eq!(store.verify().unwrap().first_bad, None);
    assert_eq!(
        WRITER_PANICS.load(Ordering::SeqCst),
        0,
        "the log writer panicked"
    );
}
