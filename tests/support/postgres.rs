//! A PostgreSQL server of the test's own (`deploy/district/postgres.sh`: its own data
//! directory and port, installed from Debian when missing), stopped when dropped.

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Postgres {
    dir: tempfile::TempDir,
    port: u16,
    /// The libpq connection string of its `district` database.
    pub url: String,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/district/postgres.sh")
}

impl Postgres {
    pub fn start() -> Postgres {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = run(&[
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
        run(&["stop", &dir]);
        run(&["start", &dir, &self.port.to_string()]);
    }
}

/// Runs postgres.sh with `args`; its standard output, trimmed.
fn run(args: &[&str]) -> String {
    let out = Command::new("bash")
        .arg(script())
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
            .arg(script())
            .args(["stop", &self.dir.path().display().to_string()])
            .output();
    }
}
