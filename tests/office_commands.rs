//! `gatehouse keys new` and `gatehouse command`, run as the office would, against the real
//! daemon (`gatehouse run`, its embedded broker): a new key pair goes into the estate's
//! configuration; lockdown and lift are applied and each is a `mode` event on the broker; a
//! hold with `--until` ends by itself; a command for an unknown zone is refused with its
//! error code and a non-zero exit.

mod support;

use gatehouse_testkit::mqtt::Probe;
use gatehouse_testkit::ports::free_port;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;
use support::cli::{gatehouse, text};

const SITE: &str = "north-estate";
/// Generous: the daemon and the CLI are debug builds on a shared machine.
const WAIT: Duration = Duration::from_secs(30);

/// `gatehouse run` in its own process; stopped with SIGTERM (as an init system would) when
/// dropped.
struct Daemon(Child);

impl Daemon {
    /// Starts the daemon and returns once it prints `ready` (everything listens); if it stops
    /// before that, its log.
    fn start(config: &Path, data: &Path, log: &Path) -> Result<Daemon, String> {
        let mut child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
            .args(["run", "--config"])
            .arg(config)
            .arg("--data-dir")
            .arg(data)
            .args(["--web-listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(log).unwrap())
            .spawn()
            .expect("the daemon starts");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let daemon = Daemon(child);
        loop {
            match lines.next() {
                Some(Ok(line)) if line.starts_with("ready") => break,
                Some(Ok(_)) => {}
                _ => return Err(std::fs::read_to_string(log).unwrap_or_default()),
            }
        }
        // Keep draining stdout so the daemon never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Ok(daemon)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(self.0.id().to_string()).status();
        let _ = self.0.wait();
    }
}

/// A watcher on the gateway's broker: status and every event.
struct Watch {
    probe: Probe,
    /// Messages received while waiting for another.
    seen: Vec<(String, serde_json::Value)>,
}

impl Watch {
    async fn connect(port: u16) -> Watch {
        let filters = ["status", "events/#"].map(|f| format!("gatehouse/{SITE}/{f}"));
        // A persistent session: if its connection drops and comes back, the QoS 1 events
        // published meanwhile are queued for it, not lost to the test.
        Watch {
            probe: Probe::persistent(port, "office-test-watch", &filters).await,
            seen: Vec::new(),
        }
    }

    /// The first message on `gatehouse/{site}/{topic}` that satisfies `pred`, whether it came
    /// already (events arrive in `seq` order, not in the order the test asks for them) or
    /// comes within [`WAIT`].
    async fn next(
        &mut self,
        topic: &str,
        pred: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let want = format!("gatehouse/{SITE}/{topic}");
        if let Some(i) = self.seen.iter().position(|(t, v)| *t == want && pred(v)) {
            return self.seen.remove(i).1;
        }
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.probe.messages.recv()).await {
                Ok(Some(p)) => {
                    let Ok(v) = serde_json::from_slice(&p.payload) else {
                        continue;
                    };
                    if p.topic == want && pred(&v) {
                        return v;
                    }
                    self.seen.push((p.topic, v));
                }
                _ => panic!("nothing on {want} matched within {WAIT:?}"),
            }
        }
    }
}

/// Runs `gatehouse command ACTION args… --key … --issuer office --config …` off the runtime.
async fn command(dir: &Path, action: &str, args: &[&str]) -> Output {
    let mut all: Vec<String> = vec!["command".into(), action.into()];
    all.extend(args.iter().map(|a| a.to_string()));
    let key = dir.join("office.key");
    let config = dir.join("estate.toml");
    all.extend([
        "--key".into(),
        key.display().to_string(),
        "--issuer".into(),
        "office".into(),
        "--config".into(),
        config.display().to_string(),
        "--username".into(),
        "office".into(),
        "--password".into(),
        OFFICE_PASSWORD.into(),
    ]);
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = all.iter().map(String::as_str).collect();
        gatehouse(&args)
    })
    .await
    .unwrap()
}

/// The result line the CLI prints on stdout.
fn result_of(out: &Output) -> serde_json::Value {
    serde_json::from_str(text(&out.stdout).trim()).unwrap_or_else(|e| {
        panic!(
            "no result on stdout ({e}):\nstdout: {}\nstderr: {}",
            text(&out.stdout),
            text(&out.stderr)
        )
    })
}

/// The office's login on the embedded broker (readers stay anonymous on its loopback
/// listener; commands need an issuer's login).
const OFFICE_PASSWORD: &str = "office-s3cret";

/// `gatehouse broker hash-password`, as an installer would run it.
fn hashed(password: &str) -> String {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["broker", "hash-password"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(password.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    text(&out.stdout).trim().to_string()
}

fn estate(port: u16, issuer_lines: &str) -> String {
    let hash = hashed(OFFICE_PASSWORD);
    format!(
        r#"
[site]
id = "{SITE}"
name = "North Estate"

[broker]
mode = "embedded"
listen = "127.0.0.1:{port}"

[[broker.users]]
name = "office"
password_hash = "{hash}"
issuer = "office"

[[zones]]
id = "bldg-18"
name = "Building 18"
parent = "site"

[[doors]]
id = "gate-north"
name = "North gate"
kind = "pedestrian"
outside = "outside"
inside = "site"
controller = "mqtt"

[[doors]]
id = "door-18"
name = "Building 18"
kind = "unit"
outside = "site"
inside = "bldg-18"
controller = "mqtt"

{issuer_lines}
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_office_signs_and_sends_commands_with_the_cli() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();

    // A key pair, and the lines to add to the configuration.
    let out = gatehouse(&["keys", "new", "--out", dir.join("office").to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let printed = text(&out.stdout);
    let issuer_lines: String = printed
        .lines()
        .skip_while(|l| *l != "[[issuers]]")
        .take(3)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        issuer_lines.starts_with("[[issuers]]\nid = \"office\"\npublic_key = \""),
        "{printed}"
    );
    let public = std::fs::read_to_string(dir.join("office.pub")).unwrap();
    assert!(issuer_lines.contains(public.trim()));
    // A second `keys new` with the same name must not overwrite the key.
    let again = gatehouse(&["keys", "new", "--out", dir.join("office").to_str().unwrap()]);
    assert!(!again.status.success());
    assert!(text(&again.stderr).contains("already exists"));

    // A port found free can be taken before the daemon's broker binds it (as another test's
    // ephemeral port): the daemon then stops with "cannot listen", and another port is tried.
    let (port, daemon) = (0..20)
        .find_map(|_| {
            let port = free_port();
            std::fs::write(dir.join("estate.toml"), estate(port, &issuer_lines)).unwrap();
            match Daemon::start(
                &dir.join("estate.toml"),
                &dir.join("data"),
                &dir.join("daemon.log"),
            ) {
                Ok(daemon) => Some((port, daemon)),
                Err(log) if log.contains("cannot listen") => None,
                Err(log) => panic!("the daemon stopped before it was ready:\n{log}"),
            }
        })
        .expect("the daemon found a free port for its broker in 20 tries");
    let mut watch = Watch::connect(port).await;
    watch.next("status", |v| v["state"] == "online").await;

    // Lockdown: applied, exit 0, and the `mode` event says so.
    let out = command(
        dir,
        "lockdown",
        &[
            "--zone",
            "bldg-18",
            "--mode",
            "quarantine",
            "--reason",
            "closed-loop management",
        ],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let result = result_of(&out);
    assert_eq!(result["ok"], true, "{result}");
    assert!(result["applied_at"].is_string());
    let id = result["id"].as_str().unwrap().to_string();
    let mode = watch
        .next("events/mode", |v| {
            v["zone"] == "bldg-18" && v["mode"] == "quarantine"
        })
        .await;
    assert_eq!(mode["by"], "office");
    assert_eq!(mode["detail"], "closed-loop management");
    let event = watch
        .next("events/command", |v| v["command"] == id.as_str())
        .await;
    assert_eq!(event["ok"], true);
    let first_counter = event["counter"].as_u64().unwrap();

    // Lift: a fresh id and a higher counter from the counter file, applied.
    let out = command(dir, "lift", &["--zone", "bldg-18"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let result = result_of(&out);
    assert_eq!(result["ok"], true, "{result}");
    assert_ne!(result["id"], id.as_str());
    watch
        .next("events/mode", |v| {
            v["zone"] == "bldg-18" && v["mode"] == "lifted"
        })
        .await;
    let event = watch
        .next("events/command", |v| v["command"] == result["id"])
        .await;
    assert!(event["counter"].as_u64().unwrap() > first_counter);

    // Refused: an unknown zone gives its error code, advice and a non-zero exit.
    let out = command(dir, "lift", &["--zone", "bldg-99"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let result = result_of(&out);
    assert_eq!(result["ok"], false);
    assert_eq!(result["error"], "unknown_zone");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("refused: unknown_zone"), "{stderr}");
    assert!(stderr.contains("[[zones]]"), "says what to do: {stderr}");
    watch
        .next("events/command", |v| {
            v["command"] == result["id"] && v["error"] == "unknown_zone"
        })
        .await;

    // Replay: this estate has no uplink, so the command is applied and says there is no
    // district outbox to rewind; without --from-seq the CLI refuses before sending.
    let out = command(dir, "replay", &["--from-seq", "1"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let result = result_of(&out);
    assert_eq!(result["ok"], true, "{result}");
    assert!(
        result["detail"]
            .as_str()
            .is_some_and(|d| d.contains("no [uplink]")),
        "{result}"
    );
    let out = command(dir, "replay", &[]).await;
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("--from-seq"),
        "{}",
        text(&out.stderr)
    );

    // Held open until a moment from now: the hold ends by itself.
    let until = (jiff::Timestamp::now() + jiff::SignedDuration::from_secs(5)).to_string();
    let out = command(
        dir,
        "hold_open",
        &["--door", "gate-north", "--until", &until],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    watch
        .next("events/mode", |v| {
            v["door"] == "gate-north" && v["mode"] == "held_open"
        })
        .await;
    let expired = watch
        .next("events/mode", |v| {
            v["door"] == "gate-north"
                && v["detail"]
                    .as_str()
                    .is_some_and(|d| d.starts_with("hold expired"))
        })
        .await;
    assert_eq!(expired["mode"], "normal");
    // An `until` in the past is refused with the reason.
    let out = command(
        dir,
        "hold_open",
        &["--door", "gate-north", "--until", "2020-01-01T00:00:00Z"],
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(result_of(&out)["error"], "not_applied");
    assert!(
        text(&out.stderr).contains("not in the future"),
        "{}",
        text(&out.stderr)
    );

    // Usage mistakes never reach the gateway.
    let out = command(dir, "open_sesame", &[]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unknown action 'open_sesame'"));

    drop(daemon);
}
