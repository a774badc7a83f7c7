//! Reads off the gate's path: a console search reads the published people directory on its own
//! thread, so swipes are decided while it runs, changes reach the directory after their record
//! is durable, and shutdown does not wait for a reader.

use gatehouse_core::config::Config;
use gatehouse_core::estate::{EstateData, Household, Pass, PassStatus, Person, Role};
use gatehouse_core::io::{AccessPoint, AccessRequest, Admin, Credential, Input, Reply};
use gatehouse_core::{CardNumber, Direction};
use gatehouse_store::Store;
use tokio_util::sync::CancellationToken;

const PEOPLE: u32 = 2_000;

fn config() -> Config {
    toml::from_str(
        r#"
        [site]
        id = "test-estate"
        name = "Test"
        [policy]
        apb = "off"
        [[zones]]
        id = "bldg-1"
        name = "1"
        parent = "site"
        [[doors]]
        id = "gate"
        name = "Gate"
        kind = "pedestrian"
        outside = "outside"
        inside = "bldg-1"
        "#,
    )
    .unwrap()
}

fn estate() -> EstateData {
    let mut data = EstateData {
        households: vec![Household {
            id: "1-1-101".into(),
            zone: "bldg-1".into(),
            tenure: Default::default(),
        }],
        ..EstateData::default()
    };
    for i in 0..PEOPLE {
        let person = format!("R-{i:06}");
        data.people.push(Person::new(
            &person,
            &format!("住户{i}"),
            &format!("139{i:08}"),
            Some("1-1-101"),
            Role::Owner,
        ));
        data.passes.push(Pass::card(
            &format!("P-{i:06}"),
            CardNumber::from_u32(0x1000_0000 + i),
            &person,
        ));
    }
    data
}

fn swipe(i: u32) -> Input {
    Input::Access(AccessRequest {
        point: AccessPoint::Door {
            door: "gate".into(),
            direction: Direction::In,
        },
        credential: Credential::Card(CardNumber::from_u32(0x1000_0000 + i % PEOPLE)),
        pin: None,
        requested_at: None,
        actor: None,
        source: "test".into(),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_search_in_progress_does_not_hold_up_swipes_or_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), "test-estate").unwrap();
    store.put_estate(&estate()).unwrap();
    let token = CancellationToken::new();
    let (gateway, task) = gatehouse_runtime::start(&config(), store, token.clone()).unwrap();

    // A reader that has searched and is still busy with its answer (it waits for us).
    let directory = gateway.directory();
    let (started_tx, started_rx) = tokio::sync::oneshot::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let reader = tokio::task::spawn_blocking(move || {
        let found = directory.search("住户1", 100).len();
        started_tx.send(found).unwrap();
        release_rx.recv().unwrap();
        found
    });
    let found = started_rx.await.unwrap();
    assert_eq!(found, 100, "the search found its first page");

    // Every swipe is decided and answered while the reader is still in its read.
    for i in 0..200 {
        let replies = gateway.submit(swipe(i)).await.unwrap();
        assert!(
            matches!(replies.as_slice(), [Reply::Access(r)] if r.grant),
            "swipe {i}: {replies:?}"
        );
    }
    assert!(!reader.is_finished(), "the reader was mid-read throughout");

    // Shutdown completes with the reader still holding its version of the directory.
    token.cancel();
    task.await.unwrap();
    release_tx.send(()).unwrap();
    assert_eq!(reader.await.unwrap(), 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_reach_the_directory_after_their_record() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), "test-estate").unwrap();
    store.put_estate(&estate()).unwrap();
    let token = CancellationToken::new();
    let (gateway, task) = gatehouse_runtime::start(&config(), store, token.clone()).unwrap();
    let before = gateway.directory();
    let mut updates = gateway.directory_updates();
    let replies = gateway
        .submit(Input::Admin(Admin::SetPassStatus {
            pass: "P-000007".into(),
            status: PassStatus::Suspended,
            actor: "office:li".into(),
            note: None,
        }))
        .await
        .unwrap();
    assert!(
        matches!(replies.as_slice(), [Reply::Admin(r)] if r.ok),
        "{replies:?}"
    );
    let after = updates
        .wait_for(|d| d.find_pass("P-000007").unwrap().status == PassStatus::Suspended)
        .await
        .unwrap()
        .clone();
    assert_eq!(
        after.find_pass("P-000007").unwrap().status,
        PassStatus::Suspended
    );
    assert_eq!(
        before.find_pass("P-000007").unwrap().status,
        PassStatus::Active,
        "a version already handed out never changes"
    );
    token.cancel();
    task.await.unwrap();
}
