//! Loopback ports: one found free, one waited on until it opens or closes, and a server
//! process waited on until it listens on its port (or has exited because the port was taken).

use std::net::{TcpListener, TcpStream};
use std::process::Child;
use std::time::{Duration, Instant};

/// A loopback port that was free a moment ago. Another process (another test's outgoing
/// connection) may take it before it is bound: whoever starts a server on it must be ready to
/// try another (see [`until_listening`]).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("binding a loopback port")
        .local_addr()
        .expect("the bound address")
        .port()
}

/// Waits until `127.0.0.1:port` accepts connections (`up`) or refuses them (`!up`); panics
/// after 10 s.
pub fn wait_for_port(port: u16, up: bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_ok() != up {
        assert!(
            Instant::now() < deadline,
            "port {port} did not become {}",
            if up { "open" } else { "closed" }
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// What a server process started on a port did, as [`until_listening`] saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Started {
    /// Its port accepts connections.
    Listening,
    /// It exited first: most often its port was taken between the check and the start.
    Exited,
    /// Neither within the time allowed; it is still running.
    TimedOut,
}

/// Waits up to `within` until `child` listens on `127.0.0.1:port`, or has exited.
pub fn until_listening(child: &mut Child, port: u16, within: Duration) -> Started {
    let deadline = Instant::now() + within;
    loop {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Started::Listening;
        }
        if child.try_wait().expect("waiting on the server").is_some() {
            return Started::Exited;
        }
        if Instant::now() > deadline {
            return Started::TimedOut;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
