//! Acceptance of issue 4 over Modbus TCP: the gateway against simulated controllers of the
//! three profiles — card reads to lock releases, forced and held-open doors, exit buttons,
//! a controller killed and revived, and a controller that answers too late.

mod modbus;

use gatehouse_core::event::AlarmKind;
use gatehouse_core::{Kind, Reason};
use gatehouse_devices::Profiles;
use gatehouse_devices::profile::Table;
use gatehouse_devices::sim::{SimController, TcpSim, serve_tcp};
use gatehouse_testkit::estate::modbus::*;
use modbus::*;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

struct Sims {
    reader: Arc<TcpSim>,
    relay: Arc<TcpSim>,
    timed: Arc<TcpSim>,
    token: CancellationToken,
}

async fn sims() -> Sims {
    let token = CancellationToken::new();
    let profiles = Profiles::builtin();
    let sim = |name: &str| SimController::new(profiles.get(name).unwrap().clone());
    Sims {
        reader: serve_tcp("127.0.0.1:0", sim("reader-controller"), token.clone())
            .await
            .unwrap(),
        relay: serve_tcp("127.0.0.1:0", sim("relay-io"), token.clone())
            .await
            .unwrap(),
        timed: serve_tcp("127.0.0.1:0", sim("timed-relay"), token.clone())
            .await
            .unwrap(),
        token,
    }
}

/// Three TCP controllers; `ctl-t` (timed-relay) drives door D.
fn tcp_config(s: &Sims) -> String {
    let t = timing();
    let controllers = format!(
        r#"
[[controllers]]
id = "ctl-r"
profile = "reader-controller"
transport = "tcp"
address = "{}"
{t}
{READERS}

[[controllers]]
id = "ctl-x"
profile = "relay-io"
transport = "tcp"
address = "{}"
{t}

[[controllers]]
id = "ctl-t"
profile = "timed-relay"
transport = "tcp"
address = "{}"
{t}

[[doors]]
id = "door-d"
name = "D"
kind = "unit"
outside = "outside"
inside = "area-a"
controller = "ctl-t"
channel = 0
pulse_ms = 1000
"#,
        s.reader.address, s.relay.address, s.timed.address
    );
    config(&controllers)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_read_releases_the_right_lock_and_an_unknown_card_does_not() {
    let s = sims().await;
    let mut gate = Gate::start(&tcp_config(&s)).await;
    let r = s.reader.controller.clone();
    // The first poll sets the read cursor; reads made before it are history.
    until("first polls", Duration::from_secs(5), || {
        r.reads_served() >= 4
    })
    .await;

    r.read_card(0, CARD, None).unwrap();
    until("door A's lock released", Duration::from_secs(3), || {
        r.lock_released(0)
    })
    .await;
    assert!(
        r.writes()
            .iter()
            .any(|w| w.table == Table::Coil && w.address == 0 && w.value == 1),
        "door A's lock was released by a coil write"
    );
    assert!(!r.lock_released(1), "door B stays locked");
    let grant = gate
        .wait_for("grant", Duration::from_secs(2), |e| {
            e.kind == Kind::Access && e.door.as_deref() == Some("door-a")
        })
        .await;
    assert_eq!(grant.reason, Some(Reason::Granted));
    assert_eq!(grant.pass.as_deref(), Some("P-1"));
    assert_eq!(grant.reader.as_deref(), Some("r-a-in"));

    r.read_card(1, UNKNOWN_CARD, Some("0078")).unwrap();
    let denial = gate
        .wait_for("denial", Duration::from_secs(3), |e| {
            e.kind == Kind::Access && e.door.as_deref() == Some("door-b")
        })
        .await;
    assert_eq!(denial.reason, Some(Reason::UnknownPass));
    assert_eq!(denial.card.as_deref(), Some("DEADBEEF"));
    // Give a wrong write time to show: the gateway keeps polling this controller for a while.
    more_polls(
        "more polls of the reader controller",
        Duration::from_secs(3),
        6,
        &[&r],
    )
    .await;
    assert!(
        !r.writes()
            .iter()
            .any(|w| w.table == Table::Coil && w.address == 1 && w.value == 1),
        "door B never released"
    );

    // The gateway times the pulse: door A locks again after pulse_ms.
    until("door A locked again", Duration::from_secs(3), || {
        !r.lock_released(0)
    })
    .await;
    let writes = r.writes();
    let on = writes
        .iter()
        .find(|w| w.address == 0 && w.value == 1)
        .unwrap()
        .at;
    let off = writes
        .iter()
        .rev()
        .find(|w| w.address == 0 && w.value == 0)
        .unwrap()
        .at;
    assert!(
        off.duration_since(on) >= Duration::from_millis(1000),
        "pulse was {:?}",
        off.duration_since(on)
    );
    gate.wait_for(
        "door A unlocked",
        Duration::from_secs(1),
        door_event("door-a", "unlocked"),
    )
    .await;
    gate.wait_for(
        "door A locked",
        Duration::from_secs(1),
        door_event("door-a", "locked"),
    )
    .await;
    gate.stop().await;
    s.token.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forced_held_open_exit_button_and_restore_at_start() {
    let s = sims().await;
    let x = s.relay.controller.clone();
    // A pulse cut short by a restart: the relay is still released when the gateway starts.
    x.set_raw(Table::Coil, 0, 1);
    let mut gate = Gate::start(&tcp_config(&s)).await;
    until(
        "lock written back to locked",
        Duration::from_secs(3),
        || !x.lock_released(0),
    )
    .await;
    until("first polls", Duration::from_secs(3), || {
        x.reads_served() >= 2
    })
    .await;

    // held_open_after_s = 2 for door C.
    forced_and_held_open(&mut gate, &x, 0, "door-c").await;
    gate.wait_for(
        "forced state",
        Duration::from_secs(1),
        door_event("door-c", "forced"),
    )
    .await;
    gate.wait_for(
        "held_open_cleared state",
        Duration::from_secs(1),
        door_event("door-c", "held_open_cleared"),
    )
    .await;

    // Exit button: egress, and the gateway pulses the relay itself (relay-io).
    x.press_exit(0).unwrap();
    let egress = gate
        .wait_for("egress", Duration::from_secs(2), |e| e.kind == Kind::Egress)
        .await;
    assert_eq!(
        (egress.door.as_deref(), egress.reason),
        (Some("door-c"), Some(Reason::Rex))
    );
    until("exit releases the lock", Duration::from_secs(1), || {
        x.lock_released(0)
    })
    .await;
    x.open_door(0).unwrap();
    gate.wait_for(
        "opened after exit",
        Duration::from_secs(2),
        door_event("door-c", "opened"),
    )
    .await;
    x.close_door(0).unwrap();
    let forced = gate.logged(alarm("door-c", AlarmKind::DoorForced, false));
    assert_eq!(
        forced.len(),
        1,
        "opening after the exit button is not forced: {:#?}",
        gate.summary()
    );
    gate.stop().await;
    s.token.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_controller_goes_offline_alone_and_comes_back() {
    let s = sims().await;
    let mut gate = Gate::start(&tcp_config(&s)).await;
    let (r, t) = (s.reader.controller.clone(), s.timed.controller.clone());
    until("first polls", Duration::from_secs(5), || {
        r.reads_served() >= 3 && t.reads_served() >= 3
    })
    .await;
    s.relay.kill();
    let offline = gate
        .wait_for(
            "ctl-x offline",
            Duration::from_secs(5),
            device_event("ctl-x", "offline"),
        )
        .await;
    assert!(
        offline
            .detail
            .as_deref()
            .unwrap_or_default()
            .starts_with("3 consecutive failures"),
        "{offline:?}"
    );
    until("door C shown offline", Duration::from_secs(1), || {
        gate.door_online("door-c") == Some(false)
    })
    .await;
    assert_eq!(gate.door_online("door-a"), Some(true));
    // The health facts behind /metrics and /readyz count it offline, the others online.
    let facts = gatehouse_runtime::health::gather(&gate.gateway).await;
    assert_eq!(
        (facts.controllers_online, facts.controllers_total),
        (Some(2), 3),
        "{facts:?}"
    );
    // The others keep being polled while ctl-x is dead.
    more_polls(
        "ctl-r and ctl-t polled while ctl-x is dead",
        Duration::from_secs(5),
        3,
        &[&r, &t],
    )
    .await;

    s.relay.revive().await.unwrap();
    // Backoff is at most 10 s.
    gate.wait_for(
        "ctl-x online",
        Duration::from_secs(12),
        device_event("ctl-x", "online"),
    )
    .await;
    until("door C shown online", Duration::from_secs(1), || {
        gate.door_online("door-c") == Some(true)
    })
    .await;
    let facts = gatehouse_runtime::health::gather(&gate.gateway).await;
    assert_eq!(facts.controllers_online, Some(3), "{facts:?}");
    // Every complete poll was timed.
    let text = gatehouse_runtime::metrics::render(gate.gateway.instruments(), &facts, &[]);
    let polls = text
        .lines()
        .find_map(|l| l.strip_prefix("gatehouse_modbus_poll_seconds_count "))
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or_else(|| panic!("no poll count in {text}"));
    assert!(polls >= 6, "{polls} polls timed");
    gate.stop().await;
    s.token.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_reply_is_never_taken_for_a_later_request() {
    let s = sims().await;
    let mut gate = Gate::start(&tcp_config(&s)).await;
    let t = s.timed.controller.clone();
    until("first polls", Duration::from_secs(5), || {
        t.reads_served() >= 3
    })
    .await;
    // Late answers carry 0xFFFF everywhere: taken for a poll, they would show door D open,
    // its exit button pressed, tamper and fire.
    t.set_slow(Some(Duration::from_millis(TIMEOUT_MS + 80)));
    gate.wait_for(
        "ctl-t offline",
        Duration::from_secs(5),
        device_event("ctl-t", "offline"),
    )
    .await;
    t.set_slow(None);
    gate.wait_for(
        "ctl-t online",
        Duration::from_secs(12),
        device_event("ctl-t", "online"),
    )
    .await;
    // A few good polls after recovery, while late replies may still be in flight.
    more_polls("polls after recovery", Duration::from_secs(3), 5, &[&t]).await;
    let phantom = gate.logged(|e| {
        e.door.as_deref() == Some("door-d")
            && (e.kind == Kind::Door
                && matches!(e.state.as_deref(), Some("opened" | "forced" | "unlocked"))
                || matches!(e.kind, Kind::Egress | Kind::Alarm))
            || e.alarm == Some(AlarmKind::Fire)
    });
    assert!(
        phantom.is_empty(),
        "late replies were taken for answers: {phantom:#?}"
    );
    gate.stop().await;
    s.token.cancel();
}
