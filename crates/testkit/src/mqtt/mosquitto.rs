//! A Mosquitto of the test's own, on a free port, with its own configuration file.

use crate::ports::{Started, free_port, until_listening, wait_for_port};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// How many free ports a test broker tries before giving up.
const PORT_TRIES: usize = 20;

/// A Mosquitto of our own, on a free port, with its own configuration file; killed when
/// dropped.
pub struct Mosquitto {
    /// Its loopback port.
    pub port: u16,
    /// Its directory: `mosquitto.conf`, the persistence file, `mosquitto.log`, and any files
    /// the test adds (TLS).
    pub dir: tempfile::TempDir,
    child: Option<Child>,
}

fn mosquitto_binary() -> PathBuf {
    for candidate in [
        "/usr/sbin/mosquitto",
        "/usr/bin/mosquitto",
        "/usr/local/sbin/mosquitto",
    ] {
        if Path::new(candidate).exists() {
            return candidate.into();
        }
    }
    panic!(
        "mosquitto is not installed: run scripts/install-test-deps (it installs Debian's mosquitto)"
    );
}

impl Mosquitto {
    /// Plain listener on loopback; anonymous clients; sessions persisted across restarts so a
    /// probe's queued messages survive a broker outage.
    pub fn start() -> Mosquitto {
        Mosquitto::start_with(|_| String::new())
    }

    /// `extra(dir)` adds lines to the listener's configuration (TLS files live in `dir`).
    pub fn start_with(extra: impl FnOnce(&Path) -> String) -> Mosquitto {
        let dir = tempfile::tempdir().unwrap();
        let extra = extra(dir.path());
        let mut m = Mosquitto {
            port: 0,
            dir,
            child: None,
        };
        // A port found free can be taken before Mosquitto binds it (as the ephemeral port of
        // another test's connection): then Mosquitto exits at once, and another port is tried.
        for _ in 0..PORT_TRIES {
            m.port = free_port();
            let conf = format!(
                "listener {} 127.0.0.1\nallow_anonymous true\nuser root\nset_tcp_nodelay true\npersistence true\npersistence_location {}/\nautosave_interval 1\nmax_queued_messages 0\n{extra}\n",
                m.port,
                m.dir.path().display(),
            );
            std::fs::write(m.dir.path().join("mosquitto.conf"), conf).unwrap();
            if m.try_resume() {
                return m;
            }
        }
        panic!(
            "mosquitto found no free port in {PORT_TRIES} tries:\n{}",
            m.log()
        );
    }

    /// Stops Mosquitto with SIGTERM, so that it writes its persistence file, and waits until
    /// its port is closed.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill").arg(child.id().to_string()).status();
            let _ = child.wait();
            wait_for_port(self.port, false);
        }
    }

    /// Starts Mosquitto again on the same port (after [`Mosquitto::stop`]).
    pub fn resume(&mut self) {
        if !self.try_resume() {
            panic!(
                "mosquitto exited instead of listening on port {}:\n{}",
                self.port,
                self.log()
            );
        }
    }

    /// Starts Mosquitto and waits until its port is open (true), or until it has exited (its
    /// port is taken: false). Panics with its log if it does neither within 10 s.
    fn try_resume(&mut self) -> bool {
        let mut child = Command::new(mosquitto_binary())
            .arg("-c")
            .arg(self.dir.path().join("mosquitto.conf"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(self.dir.path().join("mosquitto.log")).unwrap())
            .spawn()
            .expect("starting mosquitto");
        match until_listening(&mut child, self.port, Duration::from_secs(10)) {
            Started::Listening => {
                self.child = Some(child);
                true
            }
            Started::Exited => false,
            Started::TimedOut => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "mosquitto did not start on port {}:\n{}",
                    self.port,
                    self.log()
                );
            }
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("mosquitto.log")).unwrap_or_default()
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
