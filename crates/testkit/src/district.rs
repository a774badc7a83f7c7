//! The district's peers for tests: a three-node NATS cluster with JetStream and MQTT
//! (`deploy/district/nats-cluster.sh`, which installs nats-server when it is missing) and a
//! PostgreSQL server of the test's own (`deploy/district/postgres.sh`), each stopped when
//! dropped.

use crate::ports::free_port;
use std::path::{Path, PathBuf};
use std::process::Command;

fn script(name: &str) -> PathBuf {
    crate::repo().join("deploy/district").join(name)
}

/// A local district broker: three nats-server processes on 33 ports in a row from `base`.
pub struct Cluster {
    dir: tempfile::TempDir,
    /// The first of the cluster's ports (node 1's NATS client port).
    pub base: u16,
    /// The address every node listens on (`NATS_HOST` of the script).
    host: String,
    /// More environment for every run of the script (TLS mode: `NATS_MQTT_TLS_DIR`, …).
    env: Vec<(String, String)>,
}

impl Cluster {
    /// Starts the three nodes on 33 free ports in a row and waits until they serve MQTT. A
    /// start that fails (once seen under a full test run: no node ready within the script's
    /// timeout; the ports lie in the ephemeral range, where another connection can take one
    /// between the check and the start) is reported with the nodes' logs, stopped, and tried
    /// again on other ports, three times at most.
    pub fn start() -> Cluster {
        Cluster::start_on("127.0.0.1")
    }

    /// [`Cluster::start`] with every listener on `host` (`0.0.0.0`: reachable from network
    /// namespaces through their links to this one); the test still reaches it on loopback.
    pub fn start_on(host: &str) -> Cluster {
        Cluster::start_with(host, Vec::new())
    }

    /// [`Cluster::start`] in the script's TLS mode: every node's MQTT listener takes only TLS
    /// with a client certificate signed by `tls`'s `ca.pem`, and maps the certificate's
    /// subject to a user. `CN={site}` for each of `sites` may publish and subscribe under
    /// `gatehouse/{site}/` only; other certificates are refused. `tls` holds the files the
    /// script names (made by [`district_tls`]). The NATS client port stays open to anonymous
    /// clients with every right, as in [`Cluster::start`].
    pub fn start_tls(tls: &Path, sites: &[&str]) -> Cluster {
        Cluster::start_with(
            "127.0.0.1",
            vec![
                (
                    "NATS_MQTT_TLS_DIR".into(),
                    tls.canonicalize()
                        .expect("the TLS directory exists")
                        .display()
                        .to_string(),
                ),
                ("NATS_MQTT_SITES".into(), sites.join(" ")),
            ],
        )
    }

    fn start_with(host: &str, env: Vec<(String, String)>) -> Cluster {
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
                host: host.to_string(),
                env: env.clone(),
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
            .env("NATS_HOST", &self.host)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
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
            .env("NATS_HOST", &self.host)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .output();
    }
}

/// Makes in `dir` what [`Cluster::start_tls`] needs: the district's CA (`ca.pem`, and its key
/// `ca.key` for signing estates' certificates with [`crate::certs::leaf`] and the CA name
/// `"ca"`), the nodes' certificate for 127.0.0.1 (`server.pem`, `server-key.pem`) and the
/// script's readiness probe's client certificate (`probe.pem`, `probe-key.pem`, subject
/// `CN=nats-cluster-probe`). `ca.crt` is the CA's certificate too.
pub fn district_tls(dir: &Path) {
    use crate::certs::{CLIENT, SERVER, ca, leaf};
    ca(dir, "ca");
    leaf(dir, "server", "ca", SERVER);
    leaf(dir, "nats-cluster-probe", "ca", CLIENT);
    for (from, to) in [
        ("ca.crt", "ca.pem"),
        ("server.crt", "server.pem"),
        ("server.key", "server-key.pem"),
        ("nats-cluster-probe.crt", "probe.pem"),
        ("nats-cluster-probe.key", "probe-key.pem"),
    ] {
        std::fs::copy(dir.join(from), dir.join(to)).unwrap();
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
