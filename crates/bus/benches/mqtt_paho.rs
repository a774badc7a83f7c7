//! The MQTT round trip as a user gets it, measured from an independent paho-mqtt reader
//! (`bench/mqtt_paho.py`, with and without TCP_NODELAY on its side): on the default embedded
//! broker and on Mosquitto with `set_tcp_nodelay true`, each with the gateway in process.
//! Prints one line per run; asserts nothing about speed. `bench/mqtt.sh` runs it and the
//! disk's bare fdatasync.
//!
//! `N=500 SUSTAINED=5000 cargo bench -p gatehouse-bus --bench mqtt_paho`
//!
//! Knobs for experiments (the defaults are the run): `BROKERS=embedded,mosquitto`
//! (either or both), `NODELAY=0,1` (the reader's TCP_NODELAY off, on, or both), `WORKERS=2`
//! (the runtime's worker threads), `RAW=path` (each sequential swipe's time and round trip,
//! appended by `bench/mqtt_paho.py`).

use gatehouse_testkit::estate::north::*;
use gatehouse_testkit::mqtt::*;
use std::path::Path;
use std::process::Command;

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

/// Whether `item` is among the comma-separated values of `name` (or of `default`).
fn listed(name: &str, default: &str, item: &str) -> bool {
    env(name, default)
        .split(',')
        .any(|v| v.trim().eq_ignore_ascii_case(item))
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(
            env("WORKERS", "2")
                .parse()
                .expect("WORKERS is a number of threads"),
        )
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(bench());
}

async fn bench() {
    for kind in [BrokerKind::Embedded, BrokerKind::Mosquitto] {
        let name = format!("{kind:?}");
        if !listed("BROKERS", "embedded,mosquitto", &name) {
            continue;
        }
        let broker = broker(kind);
        let port = broker.port;
        let dir = tempfile::tempdir().unwrap();
        let gate = Gate::start(&config(&broker_section(kind, port)), dir.path()).await;
        await_online(port).await;
        // The echo pair logs in as the gateway's own (superuser) on the embedded broker:
        // nobody else may write outside the estate's topics there.
        let (user, password) = match gateway_login(port) {
            Some((user, password)) => (format!("{user}-echo"), password),
            None => ("-".to_string(), "-".to_string()),
        };
        for nodelay in ["0", "1"] {
            if !listed("NODELAY", "0,1", nodelay) {
                continue;
            }
            let args = [
                "127.0.0.1".to_string(),
                port.to_string(),
                SITE.to_string(),
                "r-north-in".to_string(),
                "04A1B2C3".to_string(),
                env("N", "500"),
                nodelay.to_string(),
                user.clone(),
                password.clone(),
                env("SUSTAINED", "0"),
                env("IN_FLIGHT", "64"),
            ];
            // The log writer's own share of the run (group commits, time inside redb's
            // commit, whole group writes), from the store's counters.
            let store = gate.gateway.store().clone();
            let (commits, (commit_us, write_us)) = (store.commits(), store.commit_time());
            let out = tokio::task::spawn_blocking(move || {
                Command::new("python3")
                    .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/mqtt_paho.py"))
                    .args(args)
                    .output()
                    .expect("python3 runs")
            })
            .await
            .unwrap();
            assert!(
                out.status.success(),
                "the paho reader failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let n = (store.commits() - commits).max(1) as f64;
            let (c, w) = store.commit_time();
            println!(
                "{{\"broker\":\"{}\",\"result\":{},\"log\":{{\"commits\":{},\"commit_ms_mean\":{:.3},\"write_ms_mean\":{:.3}}}}}",
                match kind {
                    BrokerKind::Embedded => "embedded",
                    BrokerKind::Mosquitto => "mosquitto (set_tcp_nodelay true)",
                },
                String::from_utf8_lossy(&out.stdout).trim(),
                store.commits() - commits,
                (c - commit_us) as f64 / n / 1000.0,
                (w - write_us) as f64 / n / 1000.0,
            );
        }
        gate.stop().await;
    }
}
