//! Issue 20's WAN cut, for real. Each estate is a gateway process in a network namespace of its
//! own, with its card reader (paho-mqtt, `tests/peers/reader.py`) beside it on the estate's
//! embedded broker; a veth pair is its WAN line to the district's three-node NATS cluster.
//! One estate's line is taken down for 60 s (`ip link set … down`: its packets go nowhere,
//! as when a line fails) while its reader goes on swiping; the other estate's line stays up.
//! Proved:
//! - the cut estate answers every swipe during the cut (decisions do not need the district);
//! - the office carries on with the other estate meanwhile, and has none of the cut estate's
//!   new events until the line returns (the cut is real);
//! - afterwards the office has every event of both estates, seq 1 to the estate's head once
//!   each, no gap open, no chain problem;
//! - the office then stops for as long while both estates go on; restarted, it resumes from
//!   its durable consumer and again has every event once;
//! - at the end each row's hash is the estate's own record's (read from its store).
//!
//! Creating network namespaces needs root: as another user the test runs `ip` through
//! `sudo -n` (as `scripts/test` does `apt-get`) and the processes inside as that user again
//! (`setpriv`); without either it fails and says so. `WAN_CUT_S` shortens the cut for a
//! quick run by hand.

mod support;

use ed25519_dalek::SigningKey;
use gatehouse_testkit::district::{Cluster, Postgres};
use gatehouse_testkit::estate::court;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use support::district::{connect, office, office_config, stream_made, until_complete, view};

/// The user's ids when not root: then `ip` runs through `sudo -n`, and what runs inside a
/// namespace runs as the user again (`setpriv`).
fn unprivileged() -> Option<(String, String)> {
    let id = |flag: &str| {
        let out = Command::new("id").arg(flag).output().expect("id runs");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let uid = id("-u");
    (uid != "0").then(|| (uid, id("-g")))
}

/// `ip`, through `sudo -n` when not root.
fn ip_command() -> Command {
    if unprivileged().is_some() {
        let mut c = Command::new("sudo");
        c.args(["-n", "ip"]);
        c
    } else {
        Command::new("ip")
    }
}

/// Runs `ip` with `args`; panics with its output when it fails.
fn ip(args: &[&str]) {
    let out = ip_command().args(args).output().unwrap_or_else(|e| {
        panic!("`ip` (iproute2) could not run: {e}; scripts/install-test-deps installs it")
    });
    assert!(
        out.status.success(),
        "ip {args:?} failed: {}\nThis test makes network namespaces: it runs as root, or as a user \
         with passwordless sudo (as scripts/test needs for apt-get).",
        String::from_utf8_lossy(&out.stderr),
    );
}

/// A network namespace with a veth pair to this one: `10.213.{k}.1` here, `.2` inside.
struct Netns {
    name: String,
    /// The veth end on this side: taking it down cuts the line.
    host_end: String,
    /// This side's address, as the estate inside reaches it.
    host_ip: String,
}

impl Netns {
    fn create(k: u8) -> Netns {
        let tag = std::process::id() % 10_000;
        let name = format!("gh-wan-{tag}-{k}");
        let host_end = format!("ghw{tag}h{k}");
        let inner_end = format!("ghw{tag}n{k}");
        // Left over from a killed run with the same pid: gone first.
        let _ = ip_command().args(["netns", "del", &name]).output();
        let _ = ip_command().args(["link", "del", &host_end]).output();
        ip(&["netns", "add", &name]);
        let netns = Netns {
            name: name.clone(),
            host_end: host_end.clone(),
            host_ip: format!("10.213.{k}.1"),
        };
        ip(&[
            "link", "add", &host_end, "type", "veth", "peer", "name", &inner_end,
        ]);
        ip(&["link", "set", &inner_end, "netns", &name]);
        ip(&["addr", "add", &format!("10.213.{k}.1/30"), "dev", &host_end]);
        ip(&["link", "set", &host_end, "up"]);
        let inside = |args: &[&str]| {
            let mut all = vec!["netns", "exec", &name, "ip"];
            all.extend_from_slice(args);
            ip(&all);
        };
        inside(&[
            "addr",
            "add",
            &format!("10.213.{k}.2/30"),
            "dev",
            &inner_end,
        ]);
        inside(&["link", "set", &inner_end, "up"]);
        inside(&["link", "set", "lo", "up"]);
        netns
    }

    /// A command run inside the namespace, as this test's user.
    fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = ip_command();
        c.args(["netns", "exec", &self.name]);
        if let Some((uid, gid)) = unprivileged() {
            // Back to this test's user: its files stay the test's own.
            c.args([
                "setpriv",
                "--reuid",
                &uid,
                "--regid",
                &gid,
                "--clear-groups",
            ]);
        }
        c.arg(program);
        c
    }

    fn line(&self, up: bool) {
        ip(&[
            "link",
            "set",
            &self.host_end,
            if up { "up" } else { "down" },
        ]);
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = ip_command().args(["link", "del", &self.host_end]).output();
        let _ = ip_command().args(["netns", "del", &self.name]).output();
    }
}

/// A gateway process inside a namespace, killed when dropped.
struct Estate {
    site: String,
    netns: Netns,
    process: Child,
    data: tempfile::TempDir,
    /// Its embedded broker's port inside the namespace.
    broker_port: u16,
}

impl Estate {
    fn start(k: u8, site: &str, cluster: &Cluster, office: &SigningKey) -> Estate {
        let netns = Netns::create(k);
        let urls: Vec<String> = (1..=3)
            .map(|n| format!("\"mqtt://{}:{}\"", netns.host_ip, cluster.mqtt(n)))
            .collect();
        let extra = format!(
            "[metrics]\nenabled = false\n[uplink]\nurls = [{}]\n[[issuers]]\nid = \"district\"\npublic_key = \"{}\"\n",
            urls.join(", "),
            gatehouse_core::command::public_key_text(office),
        );
        let data = tempfile::tempdir().unwrap();
        let file = data.path().join("estate.toml");
        std::fs::write(&file, court::config(site, site, &extra)).unwrap();
        let mut process = netns
            .command(env!("CARGO_BIN_EXE_gatehouse"))
            .args(["run", "--config"])
            .arg(&file)
            .arg("--data-dir")
            .arg(data.path().join("data"))
            .env("RUST_LOG", "warn,gatehouse_bus=info")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("ip netns exec gatehouse run");
        // The banner names the embedded broker, then says ready.
        let mut lines = BufReader::new(process.stdout.take().unwrap()).lines();
        let mut broker_port = None;
        let mut banner = Vec::new();
        for line in lines.by_ref() {
            let line = line.expect("the gateway's stdout");
            banner.push(line.clone());
            if let Some(rest) = line.strip_prefix("mqtt: mqtt://") {
                let addr = rest.split_whitespace().next().unwrap();
                broker_port = addr.rsplit(':').next().and_then(|p| p.parse().ok());
            }
            if line.starts_with("ready") {
                break;
            }
        }
        let broker_port = broker_port
            .unwrap_or_else(|| panic!("{site}: no embedded broker in the banner: {:#?}", banner));
        // Keep draining stdout so the gateway never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Estate {
            site: site.to_string(),
            netns,
            process,
            data,
            broker_port,
        }
    }

    /// `n` swipes of an unknown card from the estate's reader inside its namespace, one every
    /// `pace`; returns how many were answered (each answer is a decision, logged).
    fn swipes(&self, n: usize, pace: Duration) -> tokio::task::JoinHandle<usize> {
        let cases =
            serde_json::to_string(&vec![serde_json::json!({"card": "0BADCAFE"}); n]).unwrap();
        let mut child = self
            .netns
            .command("python3")
            .arg(peer("reader.py"))
            .args([
                "127.0.0.1",
                &self.broker_port.to_string(),
                &self.site,
                "r-in",
                &cases,
            ])
            .env("READER_PACE_S", pace.as_secs_f64().to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 reader.py in the namespace");
        let site = self.site.clone();
        tokio::task::spawn_blocking(move || {
            let out = BufReader::new(child.stdout.take().unwrap());
            let mut answered = 0;
            for line in out.lines() {
                let line: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
                if !line["result"].is_null() {
                    answered += 1;
                }
            }
            let status = child.wait().unwrap();
            assert!(
                status.success(),
                "{site}: a swipe went unanswered ({status})"
            );
            answered
        })
    }

    /// Stops the gateway (SIGTERM, then waits until it has exited).
    fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.process.id().to_string()])
            .status();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while self.process.try_wait().unwrap().is_none() {
            if std::time::Instant::now() > deadline {
                let _ = self.process.kill();
                panic!(
                    "{}: the gateway did not stop within 30 s of SIGTERM",
                    self.site
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Estate {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

fn peer(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/peers")
        .join(name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_estate_cut_off_for_a_minute_and_the_office_stopped_for_a_minute_lose_nothing() {
    let cut_s: u64 = std::env::var("WAN_CUT_S")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    // Listening on every address: the estates reach it through their veth lines.
    let cluster = Cluster::start_on("0.0.0.0");
    let pg = Postgres::start();
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::from_bytes(&[13; 32]);
    let (stop_office, office_task) = office(office_config(dir.path(), &cluster, &pg, &key));
    let db = connect(&pg.url).await;
    stream_made(&cluster).await;

    let cut = Estate::start(1, "hill-estate", &cluster, &key);
    let steady = Estate::start(2, "lake-estate", &cluster, &key);
    let warm = [
        cut.swipes(10, Duration::from_millis(150)),
        steady.swipes(10, Duration::from_millis(150)),
    ];
    for w in warm {
        assert_eq!(w.await.unwrap(), 10);
    }
    until_complete(&db, "hill-estate", 10, Duration::from_secs(90)).await;
    until_complete(&db, "lake-estate", 10, Duration::from_secs(90)).await;

    // The cut: hill-estate's line goes down while both readers swipe, 4 a second.
    cut.netns.line(false);
    let cut_at = tokio::time::Instant::now();
    let during = (cut_s * 4) as usize;
    let cut_swipes = cut.swipes(during, Duration::from_millis(250));
    let steady_swipes = steady.swipes(during, Duration::from_millis(250));
    // The office carries on with the estate whose line is up …
    until_complete(
        &db,
        "lake-estate",
        10 + during as i64 / 2,
        Duration::from_secs(cut_s),
    )
    .await;
    let hill_access = view(&db, "hill-estate").await.access;
    assert_eq!(
        hill_access, 10,
        "nothing of the cut estate reaches the office while its line is down"
    );
    assert!(
        cut_at.elapsed() < Duration::from_secs(cut_s),
        "the steady estate's events came during the cut"
    );
    // … and the cut estate answers every swipe meanwhile.
    let answered = cut_swipes.await.unwrap();
    assert_eq!(
        answered, during,
        "every swipe at the cut estate was answered"
    );
    let elapsed = cut_at.elapsed();
    if elapsed < Duration::from_secs(cut_s) {
        tokio::time::sleep(Duration::from_secs(cut_s) - elapsed).await;
    }
    let hill_access = view(&db, "hill-estate").await.access;
    assert_eq!(hill_access, 10, "still nothing at the end of the cut");
    cut.netns.line(true);
    let steady_answered = steady_swipes.await.unwrap();
    assert_eq!(steady_answered, during);

    // The line is back: everything arrives, once, in a complete chain.
    for site in ["hill-estate", "lake-estate"] {
        until_complete(&db, site, 10 + during as i64, Duration::from_secs(120)).await;
    }

    // The office stops for as long while both estates go on swiping; restarted, it resumes
    // from its durable consumer: nothing lost, nothing stored twice.
    stop_office.cancel();
    office_task.await.unwrap().unwrap();
    let away = [
        cut.swipes(during, Duration::from_millis(250)),
        steady.swipes(during, Duration::from_millis(250)),
    ];
    for (site, swiped) in ["hill-estate", "lake-estate"].into_iter().zip(away) {
        let answered = swiped.await.unwrap();
        assert_eq!(
            answered, during,
            "{site} answered every swipe with the office away"
        );
    }
    let (stop_office, office_task) = office(office_config(dir.path(), &cluster, &pg, &key));
    for site in ["hill-estate", "lake-estate"] {
        until_complete(&db, site, 10 + 2 * during as i64, Duration::from_secs(120)).await;
    }
    stop_office.cancel();
    office_task.await.unwrap().unwrap();

    // Each row is the estate's own record: same seq, same hash, and the office's head is the
    // estate's last access event at least.
    for mut estate in [cut, steady] {
        estate.stop();
        let site = estate.site.clone();
        let store = gatehouse_store::Store::open(&estate.data.path().join("data"), &site).unwrap();
        let rows = db
            .query(
                "SELECT seq, body->>'hash' FROM events WHERE site = $1 ORDER BY seq",
                &[&site],
            )
            .await
            .unwrap();
        let stored = store.events(1, rows.len() + 1).unwrap();
        let mut last_access = 0;
        for e in &stored {
            if e.kind == gatehouse_core::Kind::Access {
                last_access = e.seq;
            }
        }
        assert!(
            rows.len() as u64 >= last_access,
            "{site}: every access event is at the office"
        );
        for (row, event) in rows.iter().zip(&stored) {
            let seq: i64 = row.get(0);
            let hash: Option<String> = row.get(1);
            assert_eq!(seq as u64, event.seq, "{site}: rows in seq order from 1");
            assert_eq!(
                hash.as_deref(),
                Some(event.hash.as_str()),
                "{site}: seq {seq} is the estate's record"
            );
        }
        assert_eq!(
            store.verify().unwrap().first_bad,
            None,
            "{site}: its own chain is whole"
        );
    }
}
