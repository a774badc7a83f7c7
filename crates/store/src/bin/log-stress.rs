//! Crash-test helper: opens the store in the given data directory and appends forever from 8
//! concurrent writers, printing each seq to stdout the moment `append` has returned it (that
//! is, once it is durable). `tests/crash.rs` SIGKILLs it at random moments and checks that
//! every seq it printed survived.
//!
//! Usage: `log-stress DATA_DIR`

use gatehouse_core::event::{Decision, Direction, Event, Kind, Method, Reason};
use gatehouse_store::Store;
use std::io::Write;

const WRITERS: usize = 8;

fn main() -> std::process::ExitCode {
    let Some(dir) = std::env::args_os().nth(1) else {
        eprintln!("usage: log-stress DATA_DIR");
        return std::process::ExitCode::from(2);
    };
    let store = match Store::open(std::path::Path::new(&dir), "stress") {
        Ok(store) => store,
        Err(e) => {
            eprintln!("log-stress: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    runtime.block_on(async {
        let mut writers = tokio::task::JoinSet::new();
        for w in 0..WRITERS {
            let store = store.clone();
            writers.spawn(async move {
                for i in 0u64.. {
                    let event = swipe(w, i);
                    match store.append(event).await {
                        Ok(stored) => {
                            // One write per line on an unbuffered handle: a line is either
                            // printed whole or (killed mid-write) not at all.
                            let mut out = std::io::stdout().lock();
                            let _ = out.write_all(format!("{}\n", stored.seq).as_bytes());
                            let _ = out.flush();
                        }
                        Err(e) => eprintln!("log-stress: append failed: {e}"),
                    }
                }
            });
        }
        while writers.join_next().await.is_some() {}
    });
    std::process::ExitCode::SUCCESS
}

fn swipe(writer: usize, i: u64) -> Event {
    let mut e = Event::new(Kind::Access, jiff::Timestamp::now().to_string());
    e.door = Some(format!("gate-{}", writer % 3));
    e.direction = Some(if i.is_multiple_of(2) {
        Direction::In
    } else {
        Direction::Out
    });
    e.pass = Some(format!("P-{writer:03}-{}", i % 50));
    e.person = Some(format!("R-{writer:03}-{}", i % 50));
    e.method = Some(Method::Card);
    e.decision = Some(Decision::Grant);
    e.reason = Some(Reason::Granted);
    e
}
