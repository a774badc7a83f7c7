//! Issue 2's acceptance test: an appender killed with SIGKILL at random moments loses nothing
//! it acknowledged. `log-stress` prints every seq once `append` returned it; this test kills it
//! again and again, restarts it on the same directory, and at the end checks that every
//! printed seq is stored, the seqs have no gaps and the chain verifies.
//!
//! `LOG_STRESS_KILLS=1000` runs a longer round; `LOG_STRESS_SEED=N` repeats a run.

use gatehouse_store::Store;
use rand::{Rng, SeedableRng};
use std::collections::BTreeSet;
use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn acknowledged_appends_survive_sigkill() {
    let kills: u32 = env_or("LOG_STRESS_KILLS", 50);
    let seed: u64 = env_or("LOG_STRESS_SEED", rand::random());
    eprintln!("crash test: seed {seed} (LOG_STRESS_SEED={seed} repeats it), {kills} kills");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();
    let mut acknowledged = BTreeSet::new();
    for round in 0..kills {
        let mut child = Command::new(env!("CARGO_BIN_EXE_log-stress"))
            .arg(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("log-stress starts");
        let mut stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stdout.read_to_string(&mut text);
            text
        });
        std::thread::sleep(Duration::from_millis(rng.random_range(20..400)));
        child.kill().expect("SIGKILL"); // Child::kill is SIGKILL on Unix
        let status = child.wait().unwrap();
        assert_eq!(
            status.signal(),
            Some(9),
            "round {round}: log-stress must have been killed, not exit ({status}; seed {seed})"
        );
        let text = reader.join().unwrap();
        // A line cut by the kill has no newline: it was never fully acknowledged to us.
        let complete = text.rsplit_once('\n').map(|(whole, _)| whole).unwrap_or("");
        for line in complete.lines() {
            let seq: u64 = line
                .parse()
                .unwrap_or_else(|_| panic!("round {round}: bad line {line:?} (seed {seed})"));
            assert!(
                acknowledged.insert(seq),
                "round {round}: seq {seq} acknowledged twice (seed {seed})"
            );
        }
    }
    let store = Store::open(dir.path(), "stress").unwrap();
    let last = store.last_seq();
    let max_acked = acknowledged.iter().next_back().copied().unwrap_or(0);
    eprintln!(
        "crash test: {} appends acknowledged, {last} stored",
        acknowledged.len()
    );
    assert!(
        acknowledged.len() > kills as usize,
        "the writers made progress (seed {seed})"
    );
    assert!(
        last >= max_acked,
        "acknowledged seq {max_acked} lost: log ends at {last} (seed {seed})"
    );
    let mut stored = Vec::new();
    store
        .for_each_event(1, |e| {
            stored.push(e.seq);
            std::ops::ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(
        stored,
        (1..=last).collect::<Vec<_>>(),
        "seqs have no gaps (seed {seed})"
    );
    let report = store.verify().unwrap();
    assert_eq!(report.first_bad, None, "seed {seed}");
    assert_eq!(report.checked, last);

    // The indexes, written behind the log and cut by every kill, still find every record:
    // reads by door and by time agree with a scan of the whole log.
    let mut per_door = std::collections::BTreeMap::<String, usize>::new();
    store
        .for_each_event(1, |e| {
            *per_door
                .entry(e.door.clone().unwrap_or_default())
                .or_default() += 1;
            std::ops::ControlFlow::Continue(())
        })
        .unwrap();
    for (door, count) in &per_door {
        let found = store.events_for_door(door, usize::MAX).unwrap().len();
        assert_eq!(
            found, *count,
            "door {door}: index and log disagree (seed {seed})"
        );
    }
    let all = store
        .events_between(
            jiff::Timestamp::UNIX_EPOCH,
            jiff::Timestamp::MAX,
            usize::MAX,
        )
        .unwrap();
    assert_eq!(
        all.len() as u64,
        last,
        "by-time reads miss records (seed {seed})"
    );
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
