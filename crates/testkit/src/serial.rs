//! A pseudo-terminal pair from socat, standing in for an RS-485 line: the gateway opens one
//! end, the Modbus RTU simulators the other.

use std::io::BufRead;
use std::process::{Child, Command, Stdio};

/// A socat pseudo-terminal pair; socat is stopped when it is dropped.
pub struct Wire {
    child: Child,
    /// The two ends' device paths: the gateway's, then the bus's.
    pub ends: [String; 2],
}

impl Wire {
    /// Starts socat and waits until it has printed both pseudo-terminals.
    pub fn open() -> Wire {
        let mut child = Command::new("socat")
            .args(["-d", "-d", "pty,raw,echo=0", "pty,raw,echo=0"])
            .stderr(Stdio::piped())
            .spawn()
            .expect("socat is needed for the RTU tests: run scripts/install-test-deps");
        let mut lines =
            std::io::BufReader::new(child.stderr.take().expect("socat's stderr")).lines();
        let mut ends = Vec::new();
        while ends.len() < 2 {
            let line = lines
                .next()
                .expect("socat printed its pseudo-terminals")
                .expect("socat's log is text");
            if let Some((_, path)) = line.split_once("PTY is ") {
                ends.push(path.trim().to_string());
            }
        }
        // Keep reading socat's log so it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Wire {
            child,
            ends: [ends[0].clone(), ends[1].clone()],
        }
    }
}

impl Drop for Wire {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
