//! The shared-bus benchmark of issue 15: two relay-io units on one RS-485 bus (a socat
//! pseudo-terminal pair), polled every 100 ms with the default 500 ms timeout. Phase one: both
//! answer. Phase two: unit 2 falls silent. For each phase it prints unit 1's poll interval
//! (p50/p99/max, as its simulator saw the reads arrive) and the unlock latency on unit 1 (from
//! the office's unlock being submitted to the release write reaching the simulator;
//! p50/p99/max), one unlock every 250 ms.
//!
//! Run: `bench/modbus-rtu.sh` (needs socat: scripts/install-test-deps).

use gatehouse_core::io::{Admin, DoorAction, Input};
use gatehouse_devices::Profiles;
use gatehouse_devices::modbus::link::SerialSettings;
use gatehouse_devices::profile::Table;
use gatehouse_devices::sim::{SimController, serve_rtu};
use gatehouse_testkit::serial::Wire;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

const PHASE: Duration = Duration::from_secs(30);
const UNLOCK_EVERY: Duration = Duration::from_millis(250);

fn config(path: &str) -> String {
    let mut text = String::from(
        "[site]\nid = \"bench\"\nname = \"Bench\"\n\n[[zones]]\nid = \"area-a\"\nname = \"A\"\nparent = \"site\"\n\n",
    );
    for unit in [1, 2] {
        text += &format!(
            "[[controllers]]\nid = \"ctl-{unit}\"\nprofile = \"relay-io\"\ntransport = \"rtu\"\nserial = \"{path}\"\nbaud = 115200\nunit = {unit}\npoll_ms = 100\ntimeout_ms = 500\n\n[[doors]]\nid = \"door-{unit}\"\nname = \"D\"\nkind = \"unit\"\noutside = \"outside\"\ninside = \"area-a\"\ncontroller = \"ctl-{unit}\"\nchannel = 0\npulse_ms = 100\n\n"
        );
    }
    text
}

/// Samples unit 1's read counter every 200 µs; the instants at which it went up.
fn watch_reads(
    sim: Arc<SimController>,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<Vec<Instant>> {
    std::thread::spawn(move || {
        let mut seen = sim.reads_served();
        let mut at = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            let now = sim.reads_served();
            if now != seen {
                seen = now;
                at.push(Instant::now());
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        at
    })
}

fn figures(name: &str, values: &[Duration]) -> String {
    let mut h = hdrhistogram::Histogram::<u64>::new(3).unwrap();
    for v in values {
        h.record(v.as_micros() as u64).unwrap();
    }
    let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    format!(
        "{name}: n={} p50={:.1} ms p99={:.1} ms max={:.1} ms",
        values.len(),
        ms(0.5),
        ms(0.99),
        h.max() as f64 / 1000.0
    )
}

async fn phase(name: &str, gateway: &gatehouse_runtime::Gateway, unit1: &Arc<SimController>) {
    let stop = Arc::new(AtomicBool::new(false));
    let reads = watch_reads(unit1.clone(), stop.clone());
    let started = Instant::now();
    let mut latencies = Vec::new();
    while started.elapsed() < PHASE {
        let before = unit1.writes().len();
        let sent = Instant::now();
        let unlock = Input::Admin(Admin::DoorControl {
            door: "door-1".into(),
            action: DoorAction::Unlock { pulse_ms: 100 },
            until: None,
            actor: "office:bench".into(),
        });
        gateway.submit(unlock).await.expect("gateway answers");
        let written = unit1.writes()[before..]
            .iter()
            .find(|w| w.table == Table::Coil && w.address == 0 && w.value == 1)
            .map(|w| w.at);
        match written {
            Some(at) => latencies.push(at.duration_since(sent)),
            None => println!("{name}: an unlock did not reach unit 1"),
        }
        tokio::time::sleep_until((sent + UNLOCK_EVERY).into()).await;
    }
    stop.store(true, Ordering::Relaxed);
    let reads = reads.join().unwrap();
    let intervals: Vec<Duration> = reads.windows(2).map(|w| w[1] - w[0]).collect();
    println!(
        "{}",
        figures(&format!("{name}: unit 1 poll interval"), &intervals)
    );
    println!(
        "{}",
        figures(&format!("{name}: unit 1 unlock latency"), &latencies)
    );
}

#[tokio::main]
async fn main() {
    let wire = Wire::open();
    let ends = &wire.ends;
    let profiles = Profiles::builtin();
    let unit1 = SimController::new(profiles.get("relay-io").unwrap().clone());
    let unit2 = SimController::new(profiles.get("relay-io").unwrap().clone());
    let token = CancellationToken::new();
    let serial = SerialSettings {
        path: ends[1].clone(),
        baud: 115200,
        parity: "N".into(),
        data_bits: 8,
        stop_bits: 1,
    };
    serve_rtu(
        &serial,
        HashMap::from([(1, unit1.clone()), (2, unit2.clone())]),
        token.clone(),
    )
    .expect("RTU simulators start");
    let config: gatehouse_core::config::Config = toml::from_str(&config(&ends[0])).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = gatehouse_store::Store::open(dir.path(), "bench").unwrap();
    let (gateway, core) = gatehouse_runtime::start(&config, store, token.clone()).unwrap();
    let devices = gatehouse_devices::run(&config, profiles, gateway.clone(), token.clone());
    tokio::time::sleep(Duration::from_secs(2)).await;

    phase("both answer", &gateway, &unit1).await;
    unit2.set_silent(true);
    phase("unit 2 silent", &gateway, &unit1).await;

    token.cancel();
    let _ = devices.await;
    let _ = core.await;
    drop(wire);
}
