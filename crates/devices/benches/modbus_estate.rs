//! The Modbus benchmark of issue 4: 60 doors on 20 simulated relay-io controllers polled every
//! 100 ms. The simulators run in a separate process (`gatehouse sim controller --count 20
//! --script`) so their CPU is not counted; the gateway (core, log, devices) runs here.
//!
//! Prints: the gateway's CPU use over a steady 20 s of polling (% of one core), the latency
//! from a door contact changing in a simulator to its durable `door` event (p50/p99), and the
//! time from a site-wide fire hold-open until all 60 lock writes are acknowledged.
//!
//! Run: `bench/modbus.sh` (builds the release binary, then runs this with GATEHOUSE_BIN set).

use gatehouse_core::io::Input;
use gatehouse_core::{Event, Kind};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

const CONTROLLERS: usize = 20;
const DOORS_PER_CONTROLLER: usize = 3;
const POLL_MS: u64 = 100;
const CPU_WINDOW: Duration = Duration::from_secs(20);
const LATENCY_SAMPLES: usize = 200;

/// CPU time (user + system) of this process so far.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("Linux /proc");
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    let hz = Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok()?.trim().parse::<u64>().ok())
        .unwrap_or(100);
    Duration::from_micros(ticks * 1_000_000 / hz)
}

fn config(addresses: &[String]) -> String {
    let mut text = String::from(
        "[site]\nid = \"bench\"\nname = \"Bench estate\"\n\n[[zones]]\nid = \"area-a\"\nname = \"A\"\nparent = \"site\"\n\n",
    );
    for (i, address) in addresses.iter().enumerate() {
        text += &format!(
            "[[controllers]]\nid = \"ctl-{i:02}\"\nprofile = \"relay-io\"\ntransport = \"tcp\"\naddress = \"{address}\"\npoll_ms = {POLL_MS}\n\n"
        );
        for ch in 0..DOORS_PER_CONTROLLER {
            text += &format!(
                "[[doors]]\nid = \"door-{i:02}-{ch}\"\nname = \"D\"\nkind = \"unit\"\noutside = \"outside\"\ninside = \"area-a\"\ncontroller = \"ctl-{i:02}\"\nchannel = {ch}\n\n"
            );
        }
    }
    text
}

async fn wait_event(
    events: &mut broadcast::Receiver<Arc<Event>>,
    want: impl Fn(&Event) -> bool,
) -> Arc<Event> {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), events.recv()).await {
            Ok(Ok(e)) if want(&e) => return e,
            Ok(Ok(_)) | Ok(Err(broadcast::error::RecvError::Lagged(_))) => {}
            Ok(Err(e)) => panic!("event feed closed: {e}"),
            Err(_) => panic!("no event within 10 s"),
        }
    }
}

#[tokio::main]
async fn main() {
    let bin = std::env::var("GATEHOUSE_BIN").unwrap_or_else(|_| {
        let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
        format!("{target}/release/gatehouse")
    });
    let mut sims = Command::new(&bin)
        .args([
            "sim",
            "controller",
            "--profile",
            "relay-io",
            "--listen",
            "127.0.0.1:0",
            "--script",
        ])
        .args([
            "--count",
            &CONTROLLERS.to_string(),
            "--doors",
            &DOORS_PER_CONTROLLER.to_string(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot run {bin}: {e}; build it with bench/modbus.sh or set GATEHOUSE_BIN")
        });
    let mut sim_out = BufReader::new(sims.stdout.take().unwrap()).lines();
    let mut sim_in = sims.stdin.take().unwrap();
    let mut addresses = Vec::new();
    for line in sim_out.by_ref() {
        let line = line.unwrap();
        if line == "ready" {
            break;
        }
        if let Some(rest) = line.strip_prefix("listening ") {
            addresses.push(rest.split_whitespace().next().unwrap().to_string());
        }
    }
    assert_eq!(addresses.len(), CONTROLLERS);

    let config: gatehouse_core::config::Config = toml::from_str(&config(&addresses)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = gatehouse_store::Store::open(dir.path(), "bench").unwrap();
    let token = CancellationToken::new();
    let (gateway, core) = gatehouse_runtime::start(&config, store, token.clone()).unwrap();
    let mut events = gateway.events();
    let devices = gatehouse_devices::run(
        &config,
        gatehouse_devices::Profiles::builtin(),
        gateway.clone(),
        token.clone(),
    );
    tokio::time::sleep(Duration::from_secs(3)).await;

    // 1. CPU over steady polling.
    let (cpu0, wall0) = (cpu_time(), Instant::now());
    tokio::time::sleep(CPU_WINDOW).await;
    let cpu = (cpu_time() - cpu0).as_secs_f64() / wall0.elapsed().as_secs_f64() * 100.0;

    // 2. Input change (applied in the simulator process) to durable event.
    let mut histogram = hdrhistogram::Histogram::<u64>::new(3).unwrap();
    for k in 0..LATENCY_SAMPLES {
        let door = k / 2 % (CONTROLLERS * DOORS_PER_CONTROLLER);
        let (ctl, ch) = (door / DOORS_PER_CONTROLLER, door % DOORS_PER_CONTROLLER);
        let open = k % 2 == 0;
        writeln!(sim_in, "{} {ctl} {ch}", if open { "open" } else { "close" }).unwrap();
        let reply = sim_out.next().unwrap().unwrap();
        let applied: i64 = reply
            .strip_prefix("ok ")
            .unwrap_or_else(|| panic!("simulator said {reply}"))
            .parse()
            .unwrap();
        let id = format!("door-{ctl:02}-{ch}");
        wait_event(&mut events, |e| {
            e.kind == Kind::Door
                && e.door.as_deref() == Some(id.as_str())
                && matches!(e.state.as_deref(), Some("opened" | "forced" | "closed"))
        })
        .await;
        let seen = jiff::Timestamp::now().as_microsecond();
        histogram
            .record(((seen - applied).max(0) / 1000) as u64)
            .unwrap();
    }

    // 3. Site-wide fire hold-open until all 60 lock writes are acknowledged (each `unlocked`
    //    event follows an acknowledged write).
    let doors = CONTROLLERS * DOORS_PER_CONTROLLER;
    let started = Instant::now();
    gateway
        .submit(Input::Fire {
            zone: "site".into(),
            active: true,
            source: "bench".into(),
        })
        .await
        .unwrap();
    let mut unlocked = std::collections::HashSet::new();
    while unlocked.len() < doors {
        let e = wait_event(&mut events, |e| {
            e.kind == Kind::Door && e.state.as_deref() == Some("unlocked")
        })
        .await;
        unlocked.insert(e.door.clone());
    }
    let hold_open = started.elapsed();

    println!("modbus bench: {CONTROLLERS} relay-io controllers, {doors} doors, poll {POLL_MS} ms");
    println!(
        "gateway CPU over {:.0} s: {cpu:.2} % of one core (target <= 5 %)",
        CPU_WINDOW.as_secs_f64()
    );
    println!(
        "input change -> durable event ({} samples): p50 {} ms, p99 {} ms, max {} ms (target p99 <= 150 ms)",
        histogram.len(),
        histogram.value_at_quantile(0.5),
        histogram.value_at_quantile(0.99),
        histogram.max()
    );
    println!(
        "site-wide fire hold-open -> {doors} lock writes acknowledged: {} ms (target <= 200 ms)",
        hold_open.as_millis()
    );
    token.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        let _ = core.await;
        let _ = devices.await;
    })
    .await;
    drop(sim_in);
    let _ = sims.kill();
    let _ = sims.wait();
}
