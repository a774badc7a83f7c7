//! Write-ahead, end to end through the runtime: replies and effects come only after the
//! record is durable; when the log cannot be written, nothing is changed and the requester
//! is told why.

use gatehouse_core::estate::{EstateData, Household, Pass, PassStatus, Person, Role};
use gatehouse_core::io::{AccessPoint, AccessRequest, Admin, Credential, DoorSignal, Input, Reply};
use gatehouse_core::{Direction, Kind};
use gatehouse_store::Store;
use gatehouse_testkit::estate::one_gate::{self, config, estate};
use tokio_util::sync::CancellationToken;

/// The runtime on a fresh store holding the test estate (keep the directory alive).
fn start() -> (
    tempfile::TempDir,
    Store,
    gatehouse_runtime::Gateway,
    tokio::task::JoinHandle<()>,
    CancellationToken,
) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), one_gate::SITE).unwrap();
    store.put_estate(&estate()).unwrap();
    let token = CancellationToken::new();
    let (gateway, task) =
        gatehouse_runtime::start(&config(), store.clone(), token.clone()).unwrap();
    (dir, store, gateway, task, token)
}

/// The office looks at a person: an admin record that changes nothing.
fn viewed() -> Input {
    Input::Admin(Admin::Viewed {
        actor: "office:li".into(),
        action: "view_person".into(),
        object: "R-000001".into(),
    })
}

fn suspend() -> Input {
    Input::Admin(Admin::SetPassStatus {
        pass: "P-000001".into(),
        status: PassStatus::Suspended,
        actor: "office:li".into(),
        note: None,
    })
}

#[tokio::test]
async fn reply_comes_after_the_record_is_durable() {
    let (_dir, store, gateway, task, token) = start();

    let replies = gateway.submit(suspend()).await.unwrap();
    assert!(
        matches!(&replies[..], [Reply::Admin(r)] if r.ok),
        "{replies:?}"
    );
    // By the time the reply arrived the event was durable and the change saved.
    assert_eq!(store.last_seq(), 1);
    let logged = store.events(1, 10).unwrap();
    assert_eq!(logged[0].object.as_deref(), Some("P-000001"));
    let saved = store.load_estate().unwrap();
    assert_eq!(saved.passes[0].status, PassStatus::Suspended);

    token.cancel();
    task.await.unwrap();
}

#[tokio::test]
async fn nothing_changes_when_the_log_cannot_be_written() {
    let (_dir, store, gateway, task, token) = start();

    store.fail_appends(true);
    let replies = gateway.submit(suspend()).await.unwrap();
    match &replies[..] {
        [Reply::Admin(r)] => {
            assert!(!r.ok);
            assert!(
                r.error.as_deref().unwrap_or("").contains("event log"),
                "{r:?}"
            );
        }
        other => panic!("expected one refused admin reply, got {other:?}"),
    }
    assert_eq!(store.last_seq(), 0);

    // The core hears that the log is down before the requester hears no (the feedback is
    // sent first and the core takes feedback before new work).
    let writable = gateway.read(|core| core.log_writable()).await.unwrap();
    assert!(!writable, "the core must be told the log is down");
    // The console's health fact (and /readyz, which reads the same) says so too.
    assert!(!gateway.live().borrow().log_writable);

    // When the disk recovers, the next change goes through and the core hears it.
    store.fail_appends(false);
    let replies = gateway.submit(viewed()).await.unwrap();
    assert!(
        matches!(&replies[..], [Reply::Admin(r)] if r.ok),
        "{replies:?}"
    );
    assert!(gateway.read(|core| core.log_writable()).await.unwrap());
    assert!(gateway.live().borrow().log_writable);

    // The refused suspension was neither logged nor saved.
    let logged = store.events(1, 10).unwrap();
    assert!(
        logged
            .iter()
            .any(|e| e.action.as_deref() == Some("view_person")),
        "{logged:?}"
    );
    assert!(
        !logged
            .iter()
            .any(|e| e.object.as_deref() == Some("P-000001")),
        "{logged:?}"
    );
    assert_eq!(
        store.load_estate().unwrap().passes[0].status,
        PassStatus::Active
    );
    // Nor is it in the core's memory: the state the store holds was put back when the log
    // recovered, so the holder is not refused for a suspension that never happened.
    let status = gateway
        .read(|core| core.model().pass("P-000001").unwrap().status)
        .await
        .unwrap();
    assert_eq!(status, PassStatus::Active);

    token.cancel();
    task.await.unwrap();
}

#[tokio::test]
async fn a_lockdown_refused_by_the_log_is_rolled_back_when_it_recovers() {
    let (_dir, store, gateway, task, token) = start();
    let lockdown = || {
        Input::Admin(Admin::Lockdown {
            zone: "bldg-1".into(),
            mode: Some("closed".into()),
            reason: "test".into(),
            actor: "office:li".into(),
        })
    };

    store.fail_appends(true);
    let replies = gateway.submit(lockdown()).await.unwrap();
    assert!(
        matches!(&replies[..], [Reply::Admin(r)] if !r.ok),
        "{replies:?}"
    );
    store.fail_appends(false);
    gateway.submit(viewed()).await.unwrap();

    // The refused lockdown is gone from the core and from the live view.
    let zones = gateway.read(|core| core.lockdowns().len()).await.unwrap();
    assert_eq!(
        zones, 0,
        "a lockdown whose record was never written must not hold"
    );
    assert!(gateway.live().borrow().lockdowns.is_empty());
    // The office can set it again, and this time it holds.
    let replies = gateway.submit(lockdown()).await.unwrap();
    assert!(
        matches!(&replies[..], [Reply::Admin(r)] if r.ok),
        "{replies:?}"
    );
    let zones = gateway.read(|core| core.lockdowns().len()).await.unwrap();
    assert_eq!(zones, 1);

    token.cancel();
    task.await.unwrap();
}

fn swipe() -> Input {
    swipe_card("04A1B2C3")
}

fn swipe_card(card: &str) -> Input {
    Input::Access(AccessRequest {
        point: AccessPoint::Door {
            door: "gate".into(),
            direction: Direction::In,
        },
        credential: Credential::Card(gatehouse_core::CardNumber::parse(card).unwrap()),
        pin: None,
        requested_at: None,
        actor: None,
        source: "test".into(),
    })
}

/// Safety inputs travel on their own lane: an exit button pressed behind 500 queued swipes
/// is handled before all of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn urgent_inputs_overtake_a_queue_of_swipes() {
    let (_dir, store, gateway, task, token) = start();
    // Hold the owner task in a read while the queue fills.
    let (release, held) = std::sync::mpsc::channel::<()>();
    let (entered_tx, entered) = tokio::sync::oneshot::channel();
    let reader = gateway.clone();
    let hold = tokio::spawn(async move {
        reader
            .read(move |_| {
                let _ = entered_tx.send(());
                let _ = held.recv();
            })
            .await
    });
    entered.await.unwrap();
    let mut pending = Vec::new();
    for _ in 0..500 {
        pending.push(gateway.enqueue(swipe()).await.unwrap());
    }
    gateway
        .signal(Input::DoorSignal(DoorSignal {
            door: "gate".into(),
            rex: true,
            ..DoorSignal::default()
        }))
        .unwrap();
    release.send(()).unwrap();
    hold.await.unwrap().unwrap();
    for p in pending {
        p.await.unwrap();
    }
    let events = store.events(1, 2000).unwrap();
    let egress = events
        .iter()
        .position(|e| e.kind == Kind::Egress)
        .expect("the exit button made an egress event");
    let before = events[..egress]
        .iter()
        .filter(|e| e.kind == Kind::Access)
        .count();
    assert_eq!(before, 0, "the exit button waited behind {before} swipes");
    assert_eq!(
        events.iter().filter(|e| e.kind == Kind::Access).count(),
        500
    );
    token.cancel();
    task.await.unwrap();
}

/// A flood of refused input is one `rejected_input` summary per source, with its count, and
/// every event is cut to the documented bounds whatever the input held.
#[tokio::test]
async fn refused_input_is_summarised_and_events_are_bounded() {
    let (_dir, store, gateway, task, token) = start();
    let reader_topic = "gatehouse/test-estate/readers/r-1/swipe";
    for i in 0..10_000 {
        gateway.refuse(
            reader_topic,
            "payload is not a JSON object",
            Some(format!("junk {i}").as_bytes()),
        );
    }
    gateway.refuse("gatehouse/test-estate/commands", "bad_signature", None);
    let huge = "r".repeat(40_000);
    gateway
        .submit(Input::Rejected {
            source: format!("gatehouse/test-estate/readers/{huge}/swipe"),
            error: format!("unknown reader '{huge}'"),
        })
        .await
        .unwrap();
    assert_eq!(gateway.refused(), 10_001);
    // Summaries still counting are written at shutdown.
    token.cancel();
    task.await.unwrap();
    let events = store.events(1, 100).unwrap();
    let rejected: Vec<_> = events
        .iter()
        .filter(|e| e.kind == Kind::RejectedInput)
        .collect();
    assert_eq!(rejected.len(), 3, "{rejected:#?}");
    let flood = rejected
        .iter()
        .find(|e| e.source.as_deref() == Some(reader_topic))
        .unwrap();
    assert_eq!(flood.count, Some(10_000));
    assert_eq!(flood.sample.as_deref(), Some("junk 0"));
    assert!(flood.first_at.is_some() && flood.last_at.is_some());
    for e in &events {
        let size = serde_json::to_vec(e).unwrap().len();
        assert!(size < 8 * 1024, "event {} is {size} bytes", e.id);
    }
    let cut = rejected.iter().find(|e| e.count.is_none()).unwrap();
    assert!(
        cut.source
            .as_deref()
            .unwrap()
            .ends_with(gatehouse_core::bounds::CUT_MARKER)
    );
}

/// A granted unlock its door's adapter could not carry out: a `door` event `unlock_failed`
/// names the grant, and the requester hears that the door did not open (a reader or guard
/// told "welcome" would wave the person at a shut door).
#[tokio::test]
async fn a_failed_unlock_is_recorded_and_the_requester_is_told() {
    use gatehouse_core::io::{DoorAction, ManualEntry};
    use gatehouse_core::{Direction, Kind, Reason};
    use gatehouse_runtime::ActuationError;

    let (_dir, store, gateway, task, token) = start();
    let mut doors = gateway.register_doors(&["gate".to_string()]);
    let adapter = tokio::spawn(async move {
        // The first unlock fails at the controller; the second is dropped without a word.
        let first = doors.recv().await.unwrap();
        assert!(first.deadline.is_some(), "an unlock carries a deadline");
        first.outcome.report(Err(ActuationError::Failed(
            "no answer within 500 ms".into(),
        )));
        drop(doors.recv().await.unwrap());
        doors
    });

    let entry = Input::ManualEntry(ManualEntry {
        door: "gate".into(),
        direction: Direction::In,
        actor: "guard:wang".into(),
        note: "delivery".into(),
        temperature: None,
    });
    let replies = gateway.submit(entry).await.unwrap();
    let [Reply::Access(told)] = &replies[..] else {
        panic!("one access reply expected: {replies:?}");
    };
    assert!(!told.grant, "the guard must not be told the door opened");
    assert_eq!(told.reason, Reason::DoorOffline);
    let manual_grant = told.event.clone();

    let unlock = Input::Admin(Admin::DoorControl {
        door: "gate".into(),
        action: DoorAction::Unlock { pulse_ms: 1000 },
        until: None,
        actor: "office:li".into(),
    });
    let replies = gateway.submit(unlock).await.unwrap();
    assert!(
        matches!(&replies[..], [Reply::Admin(r)] if !r.ok
            && r.error.as_deref().is_some_and(|e| e.contains("did not unlock"))),
        "{replies:?}"
    );
    let _doors = adapter.await.unwrap();
    // One more input: by its reply every earlier record is in the log.
    gateway.submit(viewed()).await.unwrap();

    let logged = store.events(1, 20).unwrap();
    let grants: Vec<&str> = logged
        .iter()
        .filter(|e| e.kind == Kind::Access)
        .map(|e| e.id.as_str())
        .collect();
    assert_eq!(grants.len(), 2, "{logged:#?}");
    assert_eq!(grants[0], manual_grant);
    let failed: Vec<_> = logged
        .iter()
        .filter(|e| e.kind == Kind::Door && e.state.as_deref() == Some("unlock_failed"))
        .collect();
    assert_eq!(failed.len(), 2, "{logged:#?}");
    assert_eq!(failed[0].request.as_deref(), Some(grants[0]));
    assert!(
        failed[0]
            .detail
            .as_deref()
            .unwrap()
            .contains("no answer within 500 ms")
    );
    assert_eq!(failed[1].request.as_deref(), Some(grants[1]));
    assert!(failed[1].detail.as_deref().unwrap().contains("no outcome"));
    assert!(failed.iter().all(|e| e.door.as_deref() == Some("gate")));

    token.cancel();
    task.await.unwrap();
}

/// A residents import as the core takes it: one new household, its resident and her card.
fn import() -> Input {
    Input::Admin(Admin::ImportEstate {
        changes: EstateData {
            households: vec![Household {
                id: "1-1-102".into(),
                zone: "bldg-1".into(),
                tenure: Default::default(),
            }],
            people: vec![Person::new(
                "R-000002",
                "李秀英",
                "13900005678",
                Some("1-1-102"),
                Role::Owner,
            )],
            passes: vec![Pass::card(
                "P-000002",
                "0BADCAFE".parse().unwrap(),
                "R-000002",
            )],
        },
        actor: "office:li".into(),
        action: "import_residents".into(),
        object: "residents.csv".into(),
        detail: "1 people added".into(),
    })
}

/// Only the core writes: an import reaches the store as the core's input, its `admin` record
/// first, the data saved before the importer hears yes, and the new card works at once.
#[tokio::test]
async fn an_import_is_recorded_then_saved_and_its_cards_work_at_once() {
    let (_dir, store, gateway, task, token) = start();

    let replies = gateway.submit(import()).await.unwrap();
    assert!(
        matches!(&replies[..], [Reply::Admin(r)] if r.ok),
        "{replies:?}"
    );
    let logged = store.events(1, 10).unwrap();
    assert_eq!(logged.len(), 1, "{logged:?}");
    assert_eq!(logged[0].kind, Kind::Admin);
    assert_eq!(logged[0].action.as_deref(), Some("import_residents"));
    assert_eq!(logged[0].object.as_deref(), Some("residents.csv"));
    assert_eq!(logged[0].detail.as_deref(), Some("1 people added"));
    let json = serde_json::to_string(&logged[0]).unwrap();
    assert!(
        !json.contains("13900005678"),
        "no phone in a record: {json}"
    );
    let saved = store.load_estate().unwrap();
    assert!(saved.passes.iter().any(|p| p.id == "P-000002"));
    assert!(saved.people.iter().any(|p| p.id == "R-000002"));
    assert!(saved.households.iter().any(|h| h.id == "1-1-102"));
    // What was there before is kept (an import upserts).
    assert!(saved.passes.iter().any(|p| p.id == "P-000001"));

    let replies = gateway.submit(swipe_card("0BADCAFE")).await.unwrap();
    assert!(
        matches!(&replies[..], [Reply::Access(r)] if r.grant),
        "{replies:?}"
    );

    token.cancel();
    task.await.unwrap();
}

/// An import whose record cannot be written saves nothing, and once the log is back the core
/// holds only what the store holds: the card it would have added is unknown.
#[tokio::test]
async fn an_import_refused_by_the_log_writes_nothing() {
    let (_dir, store, gateway, task, token) = start();

    store.fail_appends(true);
    let replies = gateway.submit(import()).await.unwrap();
    assert!(
        matches!(&replies[..], [Reply::Admin(r)] if !r.ok),
        "{replies:?}"
    );
    store.fail_appends(false);
    gateway.submit(viewed()).await.unwrap();

    let saved = store.load_estate().unwrap();
    assert!(
        !saved.passes.iter().any(|p| p.id == "P-000002"),
        "{saved:?}"
    );
    assert!(!saved.people.iter().any(|p| p.id == "R-000002"));
    let logged = store.events(1, 10).unwrap();
    assert!(
        !logged
            .iter()
            .any(|e| e.action.as_deref() == Some("import_residents")),
        "{logged:?}"
    );
    let replies = gateway.submit(swipe_card("0BADCAFE")).await.unwrap();
    assert!(
        matches!(&replies[..], [Reply::Access(r)] if !r.grant),
        "{replies:?}"
    );

    token.cancel();
    task.await.unwrap();
}
