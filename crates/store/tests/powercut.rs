//! Power cuts, simulated at sync points. A tap on the store's file sees every write, length
//! change and completed sync. What a power cut leaves is what was synced: the file as it was
//! when a sync returned, plus a torn first half of the next write (a write that was under way
//! when the power went). At randomly chosen syncs (seeded; the seed is printed) the test takes
//! that image together with the appends acknowledged by then, while 8 writers append. Then each
//! image is opened as a store: every acknowledged append must be there and the chain must
//! verify.
//!
//! `POWERCUT_CUTS=N` changes the number of cuts (default 200, which keeps the run short: the
//! cost of each check grows with the log), `POWERCUT_SEED=S` repeats a run. The 1,000-cut run
//! and its figures are in docs/log.md.

mod support;

use gatehouse_store::{Io, SEAL_KEY, Store, secrets, tables};
use rand::{Rng, SeedableRng};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use support::{SITE, access};

/// One simulated power cut: the file left on disk and the seqs acknowledged before it.
struct Cut {
    image: Vec<u8>,
    acked: Vec<u64>,
}

/// The test's picture of the file: its bytes as written (the page cache) and the cuts taken.
struct Disk {
    written: Vec<u8>,
    rng: rand::rngs::StdRng,
    /// A cut chosen at the last sync: waits for the next write to tear it.
    pending: Option<Cut>,
    cuts: Vec<Cut>,
    wanted: usize,
}

fn apply(bytes: &mut Vec<u8>, offset: u64, data: &[u8]) {
    let end = offset as usize + data.len();
    if bytes.len() < end {
        bytes.resize(end, 0);
    }
    bytes[offset as usize..end].copy_from_slice(data);
}

fn temp() -> tempfile::TempDir {
    // Memory-backed when there is one: this test is about what reaches the file, not the disk.
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        tempfile::tempdir_in(shm).unwrap()
    } else {
        tempfile::tempdir().unwrap()
    }
}

#[test]
fn every_acknowledged_append_survives_a_power_cut_at_any_sync() {
    let wanted: usize = std::env::var("POWERCUT_CUTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let seed: u64 = std::env::var("POWERCUT_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| rand::rng().random());
    println!("power-cut simulation: seed {seed}, {wanted} cuts");

    let dir = temp();
    let live = dir.path().join("live");
    drop(Store::open(&live, SITE).unwrap()); // the file exists and is closed cleanly
    let acked = Arc::new(Mutex::new(Vec::<u64>::new()));
    let disk = Arc::new(Mutex::new(Disk {
        written: std::fs::read(live.join(tables::FILE_NAME)).unwrap(),
        rng: rand::rngs::StdRng::seed_from_u64(seed),
        pending: None,
        cuts: Vec::new(),
        wanted,
    }));
    let tap_disk = disk.clone();
    let tap_acked = acked.clone();
    let tap: gatehouse_store::Tap = Arc::new(move |io: Io<'_>| {
        let mut d = tap_disk.lock().unwrap();
        match io {
            Io::Write { offset, data } => {
                if let Some(mut cut) = d.pending.take() {
                    // The write under way when the power went: its first half reached the disk.
                    apply(&mut cut.image, offset, &data[..data.len() / 2]);
                    d.cuts.push(cut);
                }
                apply(&mut d.written, offset, data);
            }
            Io::SetLen(len) => d.written.resize(len as usize, 0),
            Io::Synced => {
                if let Some(cut) = d.pending.take() {
                    d.cuts.push(cut); // no write came between two syncs: nothing torn
                }
                if d.cuts.len() < d.wanted && d.rng.random_bool(0.5) {
                    let image = d.written.clone();
                    d.pending = Some(Cut {
                        image,
                        acked: tap_acked.lock().unwrap().clone(),
                    });
                }
            }
        }
    });
    let store = Store::open_tapped(&live, SITE, tap).unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let (store, acked, done, disk) =
                (store.clone(), acked.clone(), done.clone(), disk.clone());
            std::thread::spawn(move || {
                let mut i = 0;
                while !done.load(Ordering::Relaxed) {
                    let e = store
                        .append_blocking(access(&format!("R-{w}"), "gate-north", i % 600))
                        .unwrap();
                    acked.lock().unwrap().push(e.seq);
                    i += 1;
                    if disk.lock().unwrap().cuts.len() >= wanted {
                        done.store(true, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    drop(store);
    let cuts = std::mem::take(&mut disk.lock().unwrap().cuts);
    assert!(cuts.len() >= wanted, "{} cuts taken", cuts.len());
    let key = secrets::path(&live, SEAL_KEY).unwrap();

    let mut stored_total = 0u64;
    for (n, cut) in cuts.iter().enumerate() {
        let at = dir.path().join(format!("cut-{n}"));
        std::fs::create_dir(&at).unwrap();
        std::fs::write(at.join(tables::FILE_NAME), &cut.image).unwrap();
        std::fs::copy(&key, secrets::path(&at, SEAL_KEY).unwrap()).unwrap();
        let store = Store::open(&at, SITE)
            .unwrap_or_else(|e| panic!("seed {seed}, cut {n}: the store does not open: {e}"));
        let report = store.verify().unwrap();
        assert_eq!(report.first_bad, None, "seed {seed}, cut {n}: chain broken");
        // verify found records 1..=last all present and chained: an acknowledged seq is
        // stored exactly when it is at most `last`.
        let last = store.last_seq();
        assert_eq!(report.last_seq, last, "seed {seed}, cut {n}");
        if let Some(lost) = cut.acked.iter().find(|&&seq| seq > last) {
            panic!("seed {seed}, cut {n}: acknowledged seq {lost} lost (last {last})");
        }
        stored_total += last;
        drop(store);
        std::fs::remove_dir_all(&at).unwrap();
    }
    println!(
        "{} cuts: every acknowledged append present, chain valid ({} records stored over all images)",
        cuts.len(),
        stored_total
    );
}
