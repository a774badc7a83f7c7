//! Acceptance of issue 4 over Modbus RTU: two controllers (unit 1 a relay-io board, unit 2 a
//! reader-controller) on one RS-485 bus, made of a pseudo-terminal pair from socat (installed
//! by scripts/install-test-deps). The gateway's bus task serialises both units' requests.

mod modbus;

use gatehouse_core::event::AlarmKind;
use gatehouse_core::{Kind, Reason};
use gatehouse_devices::Profiles;
use gatehouse_devices::modbus::link::SerialSettings;
use gatehouse_devices::sim::{SimController, serve_rtu};
use gatehouse_testkit::estate::modbus::*;
use gatehouse_testkit::serial::Wire;
use modbus::*;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

fn rtu_config(path: &str) -> String {
    let t = timing();
    config(&format!(
        r#"
[[controllers]]
id = "ctl-x"
profile = "relay-io"
transport = "rtu"
serial = "{path}"
baud = 115200
unit = 1
{t}

[[controllers]]
id = "ctl-r"
profile = "reader-controller"
transport = "rtu"
serial = "{path}"
baud = 115200
unit = 2
{t}
{READERS}
"#
    ))
}

/// The bus of these tests, both units polled: unit 1 a relay-io board (`x`), unit 2 a
/// reader-controller (`r`). Keep the wire alive for the test's length.
async fn bus() -> (
    Wire,
    Arc<SimController>,
    Arc<SimController>,
    CancellationToken,
    Gate,
) {
    let wire = Wire::open();
    let profiles = Profiles::builtin();
    let x = SimController::new(profiles.get("relay-io").unwrap().clone());
    let r = SimController::new(profiles.get("reader-controller").unwrap().clone());
    let token = CancellationToken::new();
    let serial = SerialSettings {
        path: wire.ends[1].clone(),
        baud: 115200,
        parity: "N".into(),
        data_bits: 8,
        stop_bits: 1,
    };
    serve_rtu(
        &serial,
        HashMap::from([(1, x.clone()), (2, r.clone())]),
        token.clone(),
    )
    .unwrap();
    let gate = Gate::start(&rtu_config(&wire.ends[0])).await;
    until("both units polled", Duration::from_secs(5), || {
        x.reads_served() >= 3 && r.reads_served() >= 3
    })
    .await;
    (wire, x, r, token, gate)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_units_on_one_bus() {
    let (_wire, x, r, token, mut gate) = bus().await;

    // A valid card on unit 2 releases door A; an unknown one releases nothing.
    r.read_card(0, CARD, Some("5678")).unwrap();
    until("door A released", Duration::from_secs(3), || {
        r.lock_released(0)
    })
    .await;
    let grant = gate
        .wait_for("grant", Duration::from_secs(2), |e| e.kind == Kind::Access)
        .await;
    assert_eq!(
        (grant.door.as_deref(), grant.reason),
        (Some("door-a"), Some(Reason::Granted))
    );
    r.read_card(1, UNKNOWN_CARD, None).unwrap();
    let denial = gate
        .wait_for("denial", Duration::from_secs(3), |e| {
            e.kind == Kind::Access && e.door.as_deref() == Some("door-b")
        })
        .await;
    assert_eq!(denial.reason, Some(Reason::UnknownPass));
    assert!(!r.lock_released(1));

    // Door C on unit 1 forced open and held open.
    forced_and_held_open(&mut gate, &x, 0, "door-c").await;

    // Unit 1 goes silent: offline on its own; unit 2 keeps being polled.
    x.set_silent(true);
    gate.wait_for(
        "unit 1 offline",
        Duration::from_secs(5),
        device_event("ctl-x", "offline"),
    )
    .await;
    assert_eq!(gate.door_online("door-a"), Some(true));
    // On a shared line every attempt at the silent unit holds the bus for its timeout; unit 2
    // is still polled between them.
    more_polls(
        "unit 2 polled while unit 1 is silent",
        Duration::from_secs(5),
        3,
        &[&r],
    )
    .await;
    x.set_silent(false);
    gate.wait_for(
        "unit 1 online",
        Duration::from_secs(12),
        device_event("ctl-x", "online"),
    )
    .await;

    // Unit 1 answers after the timeout with every input set: nothing of it may be believed.
    let mark = gate
        .logged(|_| true)
        .iter()
        .map(|e| e.seq)
        .max()
        .unwrap_or(0);
    x.set_slow(Some(Duration::from_millis(TIMEOUT_MS + 80)));
    gate.wait_for("unit 1 offline again", Duration::from_secs(8), |e| {
        e.seq > mark && device_event("ctl-x", "offline")(e)
    })
    .await;
    x.set_slow(None);
    gate.wait_for("unit 1 back", Duration::from_secs(12), |e| {
        e.seq > mark && device_event("ctl-x", "online")(e)
    })
    .await;
    more_polls("good polls after", Duration::from_secs(5), 5, &[&x, &r]).await;
    let phantom = gate.logged(|e| {
        e.seq > mark
            && (matches!(e.kind, Kind::Egress | Kind::Access)
                || e.kind == Kind::Door && matches!(e.state.as_deref(), Some("opened" | "forced"))
                || matches!(
                    e.alarm,
                    Some(AlarmKind::DoorForced | AlarmKind::Tamper | AlarmKind::ReadsLost)
                ))
    });
    assert!(
        phantom.is_empty(),
        "late replies were believed: {phantom:#?}"
    );
    gate.stop().await;
    token.cancel();
}

/// Issue 15: a unit that falls silent on a shared bus is backed off on its own. Its timeouts
/// neither reopen the port nor re-write its neighbour's locks, and an unlock for the
/// neighbour goes through while the silent unit is still being retried.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_unit_leaves_its_neighbours_locks_alone() {
    use gatehouse_core::io::{Admin, DoorAction, Input, Reply};
    use gatehouse_devices::profile::Table;

    let (_wire, x, r, token, mut gate) = bus().await;
    let before = x.writes().len();

    r.set_silent(true);
    gate.wait_for(
        "unit 2 offline",
        Duration::from_secs(10),
        device_event("ctl-r", "offline"),
    )
    .await;
    let unlock = Input::Admin(Admin::DoorControl {
        door: "door-c".into(),
        action: DoorAction::Unlock { pulse_ms: 300 },
        until: None,
        actor: "office:test".into(),
    });
    let replies = gate.gateway.submit(unlock).await.unwrap();
    assert!(
        matches!(&replies[..], [Reply::Admin(a)] if a.ok),
        "{replies:?}"
    );
    until("door C locked again", Duration::from_secs(3), || {
        !x.lock_released(0)
    })
    .await;
    // Let the silent unit be retried a few more times.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let since: Vec<(Table, u16, u16)> = x.writes()[before..]
        .iter()
        .map(|w| (w.table, w.address, w.value))
        .collect();
    assert_eq!(
        since,
        [(Table::Coil, 0, 1), (Table::Coil, 0, 0)],
        "unit 1's lock was written for nothing but the unlock and its end"
    );
    assert_eq!(gate.door_online("door-c"), Some(true));
    gate.stop().await;
    token.cancel();
}
