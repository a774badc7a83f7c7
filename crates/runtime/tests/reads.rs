//! Reads off the gate's path: a console search reads the published people directory on its own
//! thread, so swipes are decided while it runs, changes reach the directory after their record
//! is durable, and shutdown does not wait for a reader.

use gatehouse_core::Direction;
use gatehouse_core::config::ApbMode;
use gatehouse_core::estate::PassStatus;
use gatehouse_core::io::{AccessPoint, AccessRequest, Admin, Credential, Input, Reply};
use gatehouse_store::Store;
use gatehouse_testkit::estate::one_gate::{self, crowd, crowd_card};
use tokio_util::sync::CancellationToken;

const PEOPLE: u32 = 2_000;

fn swipe(i: u32) -> Input {
    Input::Access(AccessRequest {
        point: AccessPoint::Door {
            door: "gate".into(),
            direction: Direction::In,
        },
        credential: Credential::Card(crowd_card(i % PEOPLE)),
        pin: None,
        requested_at: None,
        actor: None,
        source: "test".into(),
    })
}

/// The runtime on a fresh store holding the crowd, anti-passback off (keep the directory
/// alive).
fn start() -> (
    tempfile::TempDir,
    gatehouse_runtime::Gateway,
    tokio::task::JoinHandle<()>,
    CancellationToken,
) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), one_gate::SITE).unwrap();
    store.put_estate(&crowd(PEOPLE)).unwrap();
    let token = CancellationToken::new();
    let config = one_gate::config_with(ApbMode::Off);
    let (gateway, task) = gatehouse_runtime::start(&config, store, token.clone()).unwrap();
    (dir, gateway, task, token)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_search_in_progress_does_not_hold_up_swipes_or_shutdown() {
    let (_dir, gateway, task, token) = start();

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
    let (_dir, gateway, task, token) = start();
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
