//! The passage projection (`Store::scan`): every record read back agrees with the log, from
//! the projection once it is indexed, from the log where it is not (the tail, and databases
//! written before the projection existed).

mod support;

use gatehouse_core::event::{Decision, Direction, Event, Kind, Reason};
use gatehouse_core::passage::{Passage, Scanned};
use gatehouse_store::{Store, tables};
use redb::Database;
use std::ops::ControlFlow;
use support::{SITE, access};

/// A mix: grants, a refusal with a card no pass holds, an exit, and records of other kinds.
fn records(from: u32, n: u32) -> Vec<Event> {
    (from..from + n)
        .map(|i| match i % 5 {
            0 => {
                let mut e = Event::new(Kind::Door, "2026-11-22T08:00:00.000+08:00");
                e.door = Some("gate-north".into());
                e.state = Some("open".into());
                e
            }
            1 => {
                let mut e = access("", "gate-north", i % 600);
                e.pass = None;
                e.person = None;
                e.card = Some(format!("DEAD{i:04X}"));
                e.decision = Some(Decision::Deny);
                e.reason = Some(Reason::UnknownPass);
                e
            }
            2 => {
                let mut e = access(&format!("R-{i}"), "bldg-3", i % 600);
                e.direction = Some(Direction::Out);
                e
            }
            _ => access(&format!("R-{i}"), "gate-north", i % 600),
        })
        .collect()
}

/// How each record of `1..=last` came out of a scan, checked against the record itself.
#[derive(Debug, Default, PartialEq)]
struct Ways {
    projected: usize,
    other: usize,
    decoded: usize,
}

fn scan_and_check(store: &Store) -> Ways {
    let mut log = Vec::new();
    store
        .for_each_event(1, |e| {
            log.push(e.clone());
            ControlFlow::Continue(())
        })
        .unwrap();
    let mut ways = Ways::default();
    let mut next = 1;
    store
        .scan(1, store.last_seq(), |seq, s| {
            assert_eq!(seq, next, "every seq once, in order");
            next += 1;
            let e = &log[seq as usize - 1];
            let micros = e.timestamp().unwrap().as_microsecond();
            match s {
                Scanned::Passage(p) => {
                    ways.projected += 1;
                    assert_eq!(Some(p), Passage::of(e, micros), "seq {seq}");
                }
                Scanned::Other => {
                    ways.other += 1;
                    assert_ne!(e.kind, Kind::Access, "seq {seq} is an access record");
                }
                Scanned::Event(got) => {
                    ways.decoded += 1;
                    assert_eq!(got, e);
                }
            }
            ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(next, store.last_seq() + 1, "the scan reached the end");
    ways
}

#[test]
fn a_scan_reads_the_projection_once_indexed_and_agrees_with_the_log() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path(), SITE).unwrap();
        store.append_many(records(0, 1000)).unwrap();
        // Right after the appends the tail may or may not be indexed: either way it agrees.
        let ways = scan_and_check(&store);
        assert_eq!(ways.projected + ways.other + ways.decoded, 1000);
    }
    // Closing indexes everything: now the access records come from the projection alone.
    let store = Store::open(dir.path(), SITE).unwrap();
    assert_eq!(
        scan_and_check(&store),
        Ways {
            projected: 800,
            other: 200,
            decoded: 0
        }
    );
    // A part of the log, and a scan that stops early.
    let mut seen = Vec::new();
    store
        .scan(17, 23, |seq, _| {
            seen.push(seq);
            if seq == 21 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .unwrap();
    assert_eq!(seen, vec![17, 18, 19, 20, 21]);
}

#[test]
fn a_database_from_before_the_projection_is_read_from_the_log_then_projected() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path(), SITE).unwrap();
        store.append_many(records(0, 300)).unwrap();
    }
    // As an older gatehouse left it: no projection, no `passages_from`.
    {
        let db = Database::open(dir.path().join(tables::FILE_NAME)).unwrap();
        let txn = db.begin_write().unwrap();
        txn.delete_table(tables::PASSAGES).unwrap();
        txn.open_table(tables::META)
            .unwrap()
            .remove(tables::PASSAGES_FROM)
            .unwrap();
        txn.commit().unwrap();
    }
    {
        let store = Store::open(dir.path(), SITE).unwrap();
        // The old records come from the log, whole.
        assert_eq!(
            scan_and_check(&store),
            Ways {
                projected: 0,
                other: 0,
                decoded: 300
            }
        );
        store.append_many(records(300, 200)).unwrap();
    }
    // New records are projected; old ones still read from the log.
    let store = Store::open(dir.path(), SITE).unwrap();
    assert_eq!(
        scan_and_check(&store),
        Ways {
            projected: 160,
            other: 40,
            decoded: 300
        }
    );
}
