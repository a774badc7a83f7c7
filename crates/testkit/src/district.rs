//! The district's peers for tests: a three-node NATS cluster with JetStream and MQTT
//! (`deploy/district/nats-cluster.sh`, which installs nats-server when it is missing) and a
//! PostgreSQL server of the test's own (`deploy/district/postgres.sh`), each stopped when
//! dropped.

use crate::ports::free_port;
use std::path::PathBuf;
use std::process::Command;

fn script(name: &str) -> PathBuf {
    crate::repo().join("deploy/district").join(name)
}

/// A local district broker: three nats-server processes on 33 ports in a row from `base`.
pub struct Cluster {
    dir: tempfile::TempDir,
    /// The first of the cluster's ports (node 1's NATS client port).
    pub base: u16,
}

impl Cluster {
    /// Starts the three nodes on 33 free ports in a row and waits until they serve MQTT. A
    /// start that fails (once seen under a full test run: no node ready within the script's
    /// timeout; the ports lie in the ephemeral range, where another connection can take one
    /// between the check and the start) is reported with the nodes' logs, stopped, and tried
    /// again on other ports, three times at most.
    pub fn start() -> Cluster {
        let mut failures = Vec::new();
        for _ in 0..20 {
            let base = free_port().clamp(20_000, 60_000);
            let all_free =
                (0..33).all(|i| std::net::TcpListener::bind(("127.0.0.1", base + i)).is_ok());
            if !all_free {
                continue;
            }
            let cluster = Cluster {
                dir: tempfile::tempdir().unwrap(),
                base,
            };
            match cluster.try_run(&["start", &cluster.path(), &base.to_string()]) {
                Ok(()) => return cluster,
                Err(e) => {
                    let logs: String = ["n1", "n2", "n3"]
                        .iter()
                        .map(|n| {
                            let log = std::fs::read_to_string(
                                cluster.dir.path().join(format!("{n}.log")),
                            )
                            .unwrap_or_default();
                            let tail: Vec<&str> = log.lines().rev().take(15).collect();
                            format!(
                                "--- {n}.log (last lines, newest first)\n{}\n",
                                tail.join("\n")
                            )
                        })
                        .collect();
                    eprintln!(
                        "NATS cluster start failed on base port {base}; trying other ports.\n{e}\n{logs}"
                    );
                    let _ = cluster.try_run(&["stop", &cluster.path()]);
                    failures.push(e);
                    if failures.len() == 3 {
                        panic!("the NATS cluster did not start in three tries: {failures:#?}");
                    }
                }
            }
        }
        panic!("no run of 33 free ports for the NATS cluster");
    }

    /// The cluster's directory (configurations, JetStream stores, logs), as the script takes it.
    pub fn path(&self) -> String {
        self.dir.path().display().to_string()
    }

    /// Runs the script with `args` (`kill DIR n1`, `start-node DIR n1`, `stop DIR`, …).
    pub fn run(&self, args: &[&str]) {
        if let Err(e) = self.try_run(args) {
            panic!("{e}");
        }
    }

    fn try_run(&self, args: &[&str]) -> Result<(), String> {
        let out = Command::new("bash")
            .arg(script("nats-cluster.sh"))
            .args(args)
            .output()
            .expect("bash runs the cluster script");
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "nats-cluster.sh {args:?} failed: {}\n{}",
                String::from_utf8_lossy(&out.stderr),
                String::from_utf8_lossy(&out.stdout)
            ))
        }
    }

    /// Node `k` (1..=3)'s MQTT port.
    pub fn mqtt(&self, k: u16) -> u16 {
        self.base + 20 + k - 1
    }

    /// Node `k` (1..=3)'s NATS client port.
    pub fn client(&self, k: u16) -> u16 {
        self.base + k - 1
    }

    /// `n1`, `n2` or `n3`, from one of their MQTT ports.
    pub fn node_of_mqtt_port(&self, port: u16) -> String {
        format!("n{}", port - self.base - 20 + 1)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(script("nats-cluster.sh"))
            .args(["stop", &self.path()])
            .output();
    }
}

/// A PostgreSQL server of the test's own: its own data directory and port (installed from
/// Debian when missing).
pub struct Postgres {
    dir: tempfile::TempDir,
    port: u16,
    /// The libpq connection string of its `district` database.
    pub url: String,
}

impl Postgres {
    /// Starts the server on a free port with a fresh data directory.
    pub fn start() -> Postgres {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let url = postgres_sh(&[
            "start",
            &dir.path().display().to_string(),
            &port.to_string(),
        ]);
        Postgres { dir, port, url }
    }

    /// Stops the server (fast: open connections are cut) and starts it again on the same
    /// data directory and port.
    pub fn restart(&self) {
        let dir = self.dir.path().display().to_string();
        postgres_sh(&["stop", &dir]);
        postgres_sh(&["start", &dir, &self.port.to_string()]);
    }
}

/// Runs postgres.sh with `args`; its standard output, trimmed.
fn postgres_sh(args: &[&str]) -> String {
    let out = Command::new("bash")
        .arg(script("postgres.sh"))
        .args(args)
        .output()
        .expect("bash runs postgres.sh");
    assert!(
        out.status.success(),
        "postgres.sh {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(script("postgres.sh"))
            .args(["stop", &self.dir.path().display().to_string()])
            .output();
    }
}
