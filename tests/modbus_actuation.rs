//! Unlocks that cannot be carried out in time (issue 15): a controller that stops answering
//! while a grant waits for its link is not opened late when it wakes; the grant is followed by
//! a `door` event `unlock_failed` naming it, and the requester is told.

mod modbus;

use gatehouse_core::Kind;
use gatehouse_core::io::{Admin, DoorAction, Input, Reply};
use gatehouse_devices::Profiles;
use gatehouse_devices::profile::Table;
use gatehouse_devices::sim::{SimController, serve_tcp};
use gatehouse_testkit::estate::modbus::*;
use modbus::*;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unlock_a_frozen_controller_cannot_take_in_time_is_recorded_and_never_run_late() {
    let token = CancellationToken::new();
    let profiles = Profiles::builtin();
    let sim = |name: &str| SimController::new(profiles.get(name).unwrap().clone());
    let reader = serve_tcp("127.0.0.1:0", sim("reader-controller"), token.clone())
        .await
        .unwrap();
    let relay = serve_tcp("127.0.0.1:0", sim("relay-io"), token.clone())
        .await
        .unwrap();
    // ctl-x waits 3 s for an answer: longer than an unlock's 2 s deadline.
    let mut gate = Gate::start(&config(&format!(
        r#"
[[controllers]]
id = "ctl-r"
profile = "reader-controller"
transport = "tcp"
address = "{}"
{}
{READERS}

[[controllers]]
id = "ctl-x"
profile = "relay-io"
transport = "tcp"
address = "{}"
poll_ms = 100
timeout_ms = 3000
"#,
        reader.address,
        timing(),
        relay.address
    )))
    .await;
    let x = relay.controller.clone();
    until("ctl-x polled", Duration::from_secs(5), || {
        x.reads_served() >= 3
    })
    .await;

    // The controller freezes with a poll in flight; the office unlocks door C meanwhile.
    x.set_silent(true);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let unlock = Input::Admin(Admin::DoorControl {
        door: "door-c".into(),
        action: DoorAction::Unlock { pulse_ms: 1000 },
        until: None,
        actor: "office:test".into(),
    });
    let replies = gate.gateway.submit(unlock).await.unwrap();
    assert!(
        matches!(&replies[..], [Reply::Admin(r)] if !r.ok),
        "the office must hear the door did not unlock: {replies:?}"
    );
    let grant = gate
        .wait_for("the remote unlock", Duration::from_secs(1), |e| {
            e.kind == Kind::Access && e.door.as_deref() == Some("door-c")
        })
        .await;
    let failed = gate
        .wait_for(
            "unlock_failed",
            Duration::from_secs(5),
            door_event("door-c", "unlock_failed"),
        )
        .await;
    assert_eq!(failed.request.as_deref(), Some(grant.id.as_str()));
    assert!(failed.seq > grant.seq);

    // It wakes: polls resume (its locks written first), and the stale release never comes.
    x.set_silent(false);
    more_polls("ctl-x polled again", Duration::from_secs(15), 3, &[&x]).await;
    let released: Vec<_> = x
        .writes()
        .into_iter()
        .filter(|w| w.table == Table::Coil && w.address == 0 && w.value == 1)
        .collect();
    assert!(
        released.is_empty(),
        "a late release reached the door: {released:?}"
    );
    assert!(!x.lock_released(0));
    gate.stop().await;
    token.cancel();
}
