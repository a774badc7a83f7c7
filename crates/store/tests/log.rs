//! The event log through the public API: appends, reads, counters, restart, failures.

mod support;

use gatehouse_core::event::{Event, Kind};
use gatehouse_store::{Store, StoreError};
use std::ops::ControlFlow;
use support::{SITE, access, ts};

#[tokio::test]
async fn appends_get_gap_free_seqs_ids_and_a_chain() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), SITE).unwrap();
    let mut rx = store.subscribe();
    let first = store.append(access("R-1", "gate-north", 0)).await.unwrap();
    let second = store.append(access("R-2", "gate-north", 1)).await.unwrap();
    assert_eq!((first.seq, first.id.as_str()), (1, "north-estate:1"));
    assert_eq!((second.seq, second.id.as_str()), (2, "north-estate:2"));
    assert_eq!(first.prev_hash, gatehouse_store::chain::GENESIS);
    assert_eq!(second.prev_hash, first.hash);
    assert_eq!(
        second.hash,
        gatehouse_store::chain::hash(&first.hash, &gatehouse_store::chain::canonical(&second))
    );
    assert_eq!(store.last_seq(), 2);
    // Watchers hear just after the appenders are answered.
    assert_eq!(*rx.wait_for(|&s| s >= 2).await.unwrap(), 2);
    assert_eq!(store.events(1, 10).unwrap(), vec![first, second]);
    let report = store.verify().unwrap();
    assert_eq!(
        (report.checked, report.last_seq, report.first_bad),
        (2, 2, None)
    );
}

#[tokio::test]
async fn concurrent_appends_all_land_once_in_order_of_seq() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), SITE).unwrap();
    let mut tasks = Vec::new();
    for w in 0..16 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut seqs = Vec::new();
            for i in 0..50 {
                seqs.push(
                    store
                        .append(access(&format!("R-{w}"), "gate-north", i))
                        .await
                        .unwrap()
                        .seq,
                );
            }
            seqs
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        let seqs = t.await.unwrap();
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "one writer's appends keep their order"
        );
        all.extend(seqs);
    }
    all.sort();
    assert_eq!(all, (1..=800).collect::<Vec<u64>>());
    assert_eq!(store.verify().unwrap().first_bad, None);
}

#[test]
fn reads_by_time_person_and_door() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), SITE).unwrap();
    for minute in 0..30 {
        let person = if minute % 2 == 0 { "R-even" } else { "R-odd" };
        let door = if minute % 3 == 0 {
            "gate-south"
        } else {
            "gate-north"
        };
        store.append_blocking(access(person, door, minute)).unwrap();
    }
    let between = store
        .events_between(ts("2026-11-22T00:10:00Z"), ts("2026-11-22T00:20:00Z"), 100)
        .unwrap();
    assert_eq!(
        between.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (11..=20).collect::<Vec<_>>()
    );
    assert_eq!(
        store
            .events_between(ts("2026-11-22T00:10:00Z"), ts("2026-11-22T00:20:00Z"), 3)
            .unwrap()
            .len(),
        3
    );
    let odd = store.events_for_person("R-odd", 3).unwrap();
    assert_eq!(
        odd.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![30, 28, 26]
    );
    let south = store.events_for_door("gate-south", 100).unwrap();
    assert_eq!(south.len(), 10);
    assert!(
        south.windows(2).all(|w| w[0].seq > w[1].seq),
        "newest first"
    );
    assert!(
        south
            .iter()
            .all(|e| e.door.as_deref() == Some("gate-south"))
    );
    assert!(store.events_for_person("R-nobody", 10).unwrap().is_empty());

    let mut seen = 0;
    store
        .for_each_event(5, |e| {
            seen += 1;
            if e.seq == 9 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .unwrap();
    assert_eq!(seen, 5);
}

#[test]
fn append_many_chunks_and_keeps_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), SITE).unwrap();
    store
        .append_blocking(access("R-1", "gate-north", 0))
        .unwrap();
    let events: Vec<Event> = (0..25_000)
        .map(|i| access("R-imp", "gate-north", i % 600))
        .collect();
    assert_eq!(store.append_many(events).unwrap(), 25_001);
    assert_eq!(store.last_seq(), 25_001);
    let report = store.verify().unwrap();
    assert_eq!((report.checked, report.first_bad), (25_001, None));
}

#[test]
fn an_event_without_a_valid_time_is_refused_alone() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), SITE).unwrap();
    let bad = Event::new(Kind::Door, "yesterday");
    assert!(matches!(
        store.append_blocking(bad.clone()),
        Err(StoreError::InvalidEvent(_))
    ));
    assert!(matches!(
        store.append_many(vec![access("R-1", "d", 0), bad]),
        Err(StoreError::InvalidEvent(_))
    ));
    assert_eq!(
        store.last_seq(),
        0,
        "nothing of a refused import is written"
    );
}

#[test]
fn accepted_command_counters_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let command = |issuer: &str, counter: u64, ok: bool| {
        let mut e = Event::new(Kind::Command, "2026-11-22T08:00:00.000+08:00");
        e.command = Some(format!("cmd-{counter}"));
        e.issuer = Some(issuer.into());
        e.counter = Some(counter);
        e.ok = Some(ok);
        e
    };
    {
        let store = Store::open(dir.path(), SITE).unwrap();
        store.append_blocking(command("office-1", 7, true)).unwrap();
        store.append_blocking(command("office-1", 5, true)).unwrap(); // lower: kept at 7
        store
            .append_blocking(command("office-1", 99, false))
            .unwrap(); // refused: not counted
        store.append_blocking(command("office-2", 3, true)).unwrap();
    }
    let store = Store::open(dir.path(), SITE).unwrap();
    let mut counters = store
        .restored(ts("2026-11-22T00:00:00Z"))
        .unwrap()
        .command_counters;
    counters.sort();
    assert_eq!(
        counters,
        vec![("office-1".to_string(), 7), ("office-2".to_string(), 3)]
    );
    assert_eq!(store.last_seq(), 4);
    let next = store.append_blocking(command("office-2", 4, true)).unwrap();
    assert_eq!(next.seq, 5, "the seq goes on after a restart");
    assert_eq!(store.verify().unwrap().first_bad, None);
}

#[test]
fn a_second_open_of_the_same_dir_is_locked_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let _store = Store::open(dir.path(), SITE).unwrap();
    let Err(err) = Store::open(dir.path(), SITE) else {
        panic!("a second open must fail")
    };
    assert!(matches!(err, StoreError::Locked { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains(&dir.path().display().to_string()) && text.contains("--data-dir"),
        "{text}"
    );
}

#[tokio::test]
async fn a_failing_disk_fails_the_appends_then_the_log_recovers_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), SITE).unwrap();
    store.append(access("R-1", "gate-north", 0)).await.unwrap();
    store.fail_appends(true);
    let attempts: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            async move { store.append(access("R-2", "gate-north", i)).await }
        })
        .collect();
    for result in futures_join(attempts).await {
        let err = result.expect_err("no append succeeds on a full disk");
        assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    }
    assert_eq!(store.last_seq(), 1);
    store.fail_appends(false);
    let after = store.append(access("R-3", "gate-north", 9)).await.unwrap();
    assert_eq!(after.seq, 2, "failed appends leave no gap");
    assert_eq!(store.events(1, 10).unwrap().len(), 2);
    assert_eq!(store.verify().unwrap().first_bad, None);
}

async fn futures_join<F>(futures: Vec<F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

#[test]
fn reads_see_records_the_indexes_do_not_cover_yet_and_after() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), SITE).unwrap();
    let events: Vec<Event> = (0..30)
        .map(|i| access(if i % 3 == 0 { "R-a" } else { "R-b" }, "gate-east", i))
        .collect();
    store.append_many(events).unwrap();
    let check = |store: &Store| {
        assert_eq!(store.events_for_person("R-a", 100).unwrap().len(), 10);
        assert_eq!(store.events_for_door("gate-east", 100).unwrap().len(), 30);
        let newest = store.events_for_person("R-b", 2).unwrap();
        assert_eq!(
            newest.iter().map(|e| e.seq).collect::<Vec<_>>(),
            vec![30, 29],
            "newest first"
        );
        let first_ten = store
            .events_between(ts("2026-11-22T00:00:00Z"), ts("2026-11-22T00:10:00Z"), 100)
            .unwrap();
        assert_eq!(first_ten.len(), 10, "08:00 to 08:09 local");
        assert!(first_ten.windows(2).all(|w| w[0].seq < w[1].seq));
    };
    // Right after the append (the indexes may or may not cover it yet) ...
    check(&store);
    // ... and once they do.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while store.indexed_seq().unwrap() < store.last_seq() {
        assert!(
            std::time::Instant::now() < deadline,
            "the indexes never caught up"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    check(&store);
    // And after a restart.
    drop(store);
    let store = Store::open(dir.path(), SITE).unwrap();
    assert_eq!(
        store.indexed_seq().unwrap(),
        30,
        "closing completes the indexes"
    );
    check(&store);
}
