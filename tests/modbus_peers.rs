//! gatehouse against an independent Modbus implementation (pymodbus, installed by
//! scripts/install-test-deps), both ways: gatehouse drives a pymodbus relay-io controller,
//! and a pymodbus client finds every point of gatehouse's simulators where the spec says.

mod modbus;

use gatehouse_core::Kind;
use gatehouse_core::event::AlarmKind;
use gatehouse_core::io::{Admin, DoorAction, Input};
use gatehouse_devices::Profiles;
use gatehouse_devices::sim::{SimController, serve_tcp};
use gatehouse_testkit::estate::modbus::*;
use gatehouse_testkit::ports::free_port;
use modbus::*;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

fn peer(script: &str) -> String {
    format!("{}/tests/peers/{script}", env!("CARGO_MANIFEST_DIR"))
}

fn python() -> Command {
    let check = Command::new("python3")
        .args(["-c", "import pymodbus"])
        .output();
    assert!(
        check.is_ok_and(|o| o.status.success()),
        "python3 with pymodbus is needed for the peer tests: run scripts/install-test-deps"
    );
    Command::new("python3")
}

/// The pymodbus relay-io server, with its stdout lines arriving on a channel.
struct Peer {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Peer {
    fn start(port: u16) -> Peer {
        let mut child = python()
            .arg(peer("relay_io_server.py"))
            .arg(port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let out = BufReader::new(child.stdout.take().unwrap());
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let peer = Peer { child, lines };
        peer.expect("ready", Duration::from_secs(15));
        peer
    }

    fn send(&mut self, line: &str) {
        writeln!(self.child.stdin.as_mut().unwrap(), "{line}").unwrap();
        self.expect(&format!("ok {line}"), Duration::from_secs(5));
    }

    /// Waits for a line; the lines before it are returned.
    fn expect(&self, want: &str, within: Duration) -> Vec<String> {
        let deadline = std::time::Instant::now() + within;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line == want => return seen,
                Ok(line) => seen.push(line),
                Err(_) => panic!(
                    "the pymodbus peer did not print '{want}' within {within:?}; it printed {seen:?}"
                ),
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gatehouse_drives_a_pymodbus_relay_io_controller() {
    let port = free_port();
    let mut peer = Peer::start(port);
    let t = timing();
    let mut gate = Gate::start(&config(&format!(
        r#"
[[controllers]]
id = "ctl-x"
profile = "relay-io"
transport = "tcp"
address = "127.0.0.1:{port}"
{t}

[[controllers]]
id = "ctl-r"
profile = "reader-controller"
transport = "tcp"
address = "127.0.0.1:1"
offline_after = 1
timeout_ms = 200
{READERS}
"#
    )))
    .await;
    // At start-up the gateway writes door C's lock (coil 0) to locked.
    peer.expect("coil 0 0", Duration::from_secs(5));

    // A remote unlock pulses coil 0: 1, then 0 after pulse_ms (1 s).
    let unlock = Input::Admin(Admin::DoorControl {
        door: "door-c".into(),
        action: DoorAction::Unlock { pulse_ms: 1000 },
        until: None,
        actor: "office:test".into(),
    });
    gate.gateway.submit(unlock).await.unwrap();
    peer.expect("coil 0 1", Duration::from_secs(3));
    let released = std::time::Instant::now();
    peer.expect("coil 0 0", Duration::from_secs(3));
    assert!(
        released.elapsed() >= Duration::from_millis(900),
        "pulse ended after {:?}",
        released.elapsed()
    );

    // Its inputs: the door opened right after the unlock (a legitimate opening), then the
    // exit button (which the gateway answers by pulsing the lock itself).
    peer.send("open 0");
    gate.wait_for(
        "opened",
        Duration::from_secs(3),
        door_event("door-c", "opened"),
    )
    .await;
    assert!(
        gate.logged(alarm("door-c", AlarmKind::DoorForced, false))
            .is_empty(),
        "{:#?}",
        gate.summary()
    );
    peer.send("close 0");
    gate.wait_for(
        "closed",
        Duration::from_secs(3),
        door_event("door-c", "closed"),
    )
    .await;
    peer.send("exit 0");
    gate.wait_for("egress", Duration::from_secs(3), |e| {
        e.kind == Kind::Egress && e.door.as_deref() == Some("door-c")
    })
    .await;
    peer.expect("coil 0 1", Duration::from_secs(3));
    peer.send("release 0");
    gate.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pymodbus_finds_every_point_of_the_simulators_where_the_spec_says() {
    let token = CancellationToken::new();
    let profiles = Profiles::builtin();
    let sim = |name: &str| SimController::new(profiles.get(name).unwrap().clone());
    let relay = serve_tcp("127.0.0.1:0", sim("relay-io"), token.clone())
        .await
        .unwrap();
    let timed = serve_tcp("127.0.0.1:0", sim("timed-relay"), token.clone())
        .await
        .unwrap();
    let reader = serve_tcp("127.0.0.1:0", sim("reader-controller"), token.clone())
        .await
        .unwrap();

    relay.controller.open_door(1).unwrap();
    relay
        .controller
        .press_exit_for(2, Duration::from_secs(60))
        .unwrap();
    timed.controller.open_door(0).unwrap();
    timed.controller.set_tamper(2, true).unwrap();
    timed.controller.set_fire(true).unwrap();
    reader.controller.open_door(3).unwrap();
    reader.controller.read_card(1, CARD, Some("0078")).unwrap();
    reader.controller.read_card(0, UNKNOWN_CARD, None).unwrap();
    // A PIN that does not fit the 32-bit field is refused, not stored as another number.
    assert!(
        reader
            .controller
            .read_card(0, CARD, Some("4294967296"))
            .is_err()
    );

    let ports = [
        relay.address.port(),
        timed.address.port(),
        reader.address.port(),
    ];
    let out = tokio::task::spawn_blocking(move || {
        python()
            .arg(peer("read_sim.py"))
            .args(ports.map(|p| p.to_string()))
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "read_sim.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let found: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();

    // relay-io: contact ch at discrete ch, exit button at 4 + ch; lock ch at coil ch.
    let relay_io = &found["relay_io"];
    assert_eq!(
        relay_io["discrete"],
        serde_json::json!([false, true, false, false, false, false, true, false])
    );
    assert_eq!(
        relay_io["coils"],
        serde_json::json!([false, false, false, true])
    );
    assert!(
        relay.controller.lock_released(3),
        "coil 3 written by pymodbus releases lock 3"
    );

    // timed-relay: status bits (0 released, 1 open, 2 exit, 3 tamper), fire at 0x0010 bit 0;
    // N x 100 ms at 0x0100 + ch releases, 1 at 0x0200 + ch holds open.
    let t = &found["timed_relay"];
    assert_eq!(t["status"], serde_json::json!([0b0010, 0, 0b1000, 0]));
    assert_eq!(t["fire"], 1);
    assert_eq!(
        t["status_after"],
        serde_json::json!([0b0010, 0b0001, 0b1000, 0b0001])
    );
    // …and refuses what the device refuses: release times 0, 601 and 65535 with exception 3
    // (illegal data value), channel 16 of the unlock and hold-open blocks with exception 2.
    assert_eq!(t["refused"], serde_json::json!([3, 3, 3, 2, 2]));
    assert!(
        !timed.controller.lock_released(2),
        "a refused release time released nothing"
    );

    // reader-controller: contact at discrete ch, counter at 0x0100, read n in slot (n-1) mod 16
    // at 0x0110 + 6 i: [reader, card high, card low, pin length, pin high, pin low].
    let r = &found["reader_controller"];
    assert_eq!(
        r["discrete"],
        serde_json::json!([false, false, false, true])
    );
    assert_eq!(r["counter"], 2);
    assert_eq!(
        r["slots"][0],
        serde_json::json!([1, 0x04A1, 0xB2C3, 4, 0, 78])
    );
    assert_eq!(
        r["slots"][1],
        serde_json::json!([0, 0xDEAD, 0xBEEF, 0, 0, 0])
    );
    assert_eq!(r["slots"][2], serde_json::json!([0, 0, 0, 0, 0, 0]));
    token.cancel();
}
