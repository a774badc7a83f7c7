//! The office's side of signed commands (`docs/interfaces.md#mqtt`), for `gatehouse keys new` and
//! `gatehouse command`: key pairs kept in files, a counter kept beside the key, the signed
//! envelope, and one command sent to a gateway with its result awaited.
//!
//! Key files hold base64 text, the formats `gatehouse_core::command` parses: `NAME.key` the
//! 32-byte Ed25519 secret (mode 0600), `NAME.pub` the public key for `[[issuers]]`.
//!
//! Counters are time-based and persisted: each command takes `max(last + 1, now in Unix
//! milliseconds)` and writes it to `NAME.counter` (under a file lock, synced) before the
//! command leaves. The file keeps counters rising when the clock is set back or two commands
//! fall in one millisecond; the clock keeps them rising when the file is lost or a copy of
//! the key is used elsewhere.

use crate::client::Endpoint;
use crate::topics::Topics;
use ed25519_dalek::SigningKey;
use gatehouse_core::command::{
    ACTIONS, envelope, parse_secret_key, public_key_text, secret_key_text,
};
use gatehouse_core::io::CommandResult;
use jiff::{SignedDuration, Timestamp};
use rumqttc::{Event, Packet, QoS};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What went wrong on the office's side; each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum OfficeError {
    /// A key or counter file could not be read or written.
    #[error("{path}: cannot be {action}: {source}; check the path and its permissions")]
    File {
        path: PathBuf,
        action: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// `keys new` would overwrite a key.
    #[error(
        "{0} already exists; choose another name with --out, or move the old key away first (a key that is overwritten cannot be recovered)"
    )]
    KeyExists(PathBuf),
    /// The key file does not hold a key.
    #[error("{path}: {problem}; pass the .key file written by `gatehouse keys new`")]
    BadKey { path: PathBuf, problem: String },
    /// The command's arguments do not make a command.
    #[error("{0}")]
    Usage(String),
    /// The broker could not be reached or refused us.
    #[error(
        "cannot reach the MQTT broker at {broker}: {problem}; check that the gateway (or the broker) is running and give its address with --broker mqtt://host:port"
    )]
    Broker { broker: String, problem: String },
    /// No result came back in time.
    #[error(
        "no result for command {id} within {secs} s on {topic}; check that the gateway is running and connected to this broker (its `status` topic says online), then send again — a command that arrived late is refused as expired or replayed, never applied twice"
    )]
    NoResult {
        id: String,
        secs: u64,
        topic: String,
    },
}

/// The files a new key pair was written to.
pub struct KeyPair {
    pub private: PathBuf,
    pub public: PathBuf,
    /// The public key as `[[issuers]] public_key` wants it.
    pub public_key: String,
}

/// `out` with `.{ext}` appended (`office` → `office.key`; `keys/office` → `keys/office.key`).
fn beside(out: &Path, ext: &str) -> PathBuf {
    let mut name = out.as_os_str().to_owned();
    name.push(".");
    name.push(ext);
    PathBuf::from(name)
}

/// Makes a new Ed25519 key pair from the OS's randomness and writes `{out}.key` (mode 0600)
/// and `{out}.pub`. Never overwrites a key.
pub fn new_key_pair(out: &Path) -> Result<KeyPair, OfficeError> {
    let private = beside(out, "key");
    let public = beside(out, "pub");
    for path in [&private, &public] {
        if path.exists() {
            return Err(OfficeError::KeyExists(path.clone()));
        }
    }
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| OfficeError::File {
        path: private.clone(),
        action: "made (no randomness from the operating system)",
        source: std::io::Error::other(e.to_string()),
    })?;
    let key = SigningKey::from_bytes(&secret);
    let public_key = public_key_text(&key);
    write_new(&private, &format!("{}\n", secret_key_text(&key)), 0o600)?;
    write_new(&public, &format!("{public_key}\n"), 0o644)?;
    Ok(KeyPair {
        private,
        public,
        public_key,
    })
}

fn write_new(path: &Path, text: &str, mode: u32) -> Result<(), OfficeError> {
    let fail = |source| OfficeError::File {
        path: path.to_path_buf(),
        action: "written",
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::AlreadyExists {
            OfficeError::KeyExists(path.to_path_buf())
        } else {
            fail(source)
        }
    })?;
    file.write_all(text.as_bytes()).map_err(fail)?;
    file.sync_all().map_err(fail)
}

/// Reads a `.key` file.
pub fn load_key(path: &Path) -> Result<SigningKey, OfficeError> {
    let text = std::fs::read_to_string(path).map_err(|source| OfficeError::File {
        path: path.to_path_buf(),
        action: "read",
        source,
    })?;
    parse_secret_key(&text).map_err(|problem| OfficeError::BadKey {
        path: path.to_path_buf(),
        problem,
    })
}

/// The counter file of a key: `office.key` → `office.counter`.
pub fn counter_path(key: &Path) -> PathBuf {
    key.with_extension("counter")
}

/// Takes the next counter for the key at `key` at time `now` (see the module's first lines)
/// and persists it before returning.
pub fn next_counter(key: &Path, now: Timestamp) -> Result<u64, OfficeError> {
    let path = counter_path(key);
    let fail = |action, source| OfficeError::File {
        path: path.clone(),
        action,
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| fail("opened", e))?;
    // Two commands sent at once from one key file must not take the same counter.
    file.lock().map_err(|e| fail("locked", e))?;
    let mut text = String::new();
    file.read_to_string(&mut text)
        .map_err(|e| fail("read", e))?;
    let last: u64 = match text.trim() {
        "" => 0,
        t => t.parse().map_err(|_| {
            fail(
                "read",
                std::io::Error::other(format!(
                    "it holds '{t}', not a counter (a whole number); put the last counter back, or delete the file (counters then continue from the clock)"
                )),
            )
        })?,
    };
    let clock = u64::try_from(now.as_millisecond()).unwrap_or(0);
    let next = clock.max(last + 1);
    file.set_len(0).map_err(|e| fail("written", e))?;
    file.rewind().map_err(|e| fail("written", e))?;
    file.write_all(format!("{next}\n").as_bytes())
        .map_err(|e| fail("written", e))?;
    file.sync_all().map_err(|e| fail("written", e))?;
    Ok(next)
}

/// What the office asks for: the action and its fields (`zone`, `mode`, `reason`, `door`,
/// `pulse_ms`, `until`, `pass`, `from_seq`), as in `docs/interfaces.md#mqtt`.
#[derive(Clone, Debug, Default)]
pub struct Order {
    pub action: String,
    pub zone: Option<String>,
    pub mode: Option<String>,
    pub reason: Option<String>,
    pub door: Option<String>,
    pub pulse_ms: Option<u32>,
    /// RFC 3339, sent as given.
    pub until: Option<String>,
    pub pass: Option<String>,
    /// The first seq the uplink publishes again (`replay`).
    pub from_seq: Option<u64>,
}

impl Order {
    /// Checks what can be checked without the gateway: the action exists, the fields it
    /// needs are there, `until` is RFC 3339. Zones, doors and passes are the gateway's to know.
    pub fn check(&self) -> Result<(), OfficeError> {
        if !ACTIONS.contains(&self.action.as_str()) {
            return Err(OfficeError::Usage(format!(
                "unknown action '{}': use one of {}",
                self.action,
                ACTIONS.join(", ")
            )));
        }
        let needs: &[(&str, bool)] = match self.action.as_str() {
            "replay" => {
                if self.from_seq == Some(0) {
                    return Err(OfficeError::Usage(
                        "--from-seq 0: the log's seqs start at 1".into(),
                    ));
                }
                &[("from-seq", self.from_seq.is_some())]
            }
            "lockdown" => &[("zone", self.zone.is_some()), ("mode", self.mode.is_some())],
            "lift" | "ack_fire" => &[("zone", self.zone.is_some())],
            "unlock" | "hold_open" | "release_hold" => &[("door", self.door.is_some())],
            _ => &[("pass", self.pass.is_some())],
        };
        for (field, given) in needs {
            if !given {
                return Err(OfficeError::Usage(format!(
                    "{} needs --{field}",
                    self.action
                )));
            }
        }
        if let Some(until) = &self.until {
            until.parse::<Timestamp>().map_err(|e| {
                OfficeError::Usage(format!(
                    "--until '{until}' is not an RFC 3339 time ({e}); write it like 2026-11-22T23:00:00+08:00"
                ))
            })?;
        }
        Ok(())
    }
}

/// A command ready to send: its id and the envelope's text.
pub struct Signed {
    pub id: String,
    pub counter: u64,
    pub envelope: String,
}

/// Builds and signs the body of `order` for `site`, issued at `now` and valid for `valid`.
pub fn sign_order(
    order: &Order,
    site: &str,
    issuer: &str,
    counter: u64,
    key: &SigningKey,
    now: Timestamp,
    valid: SignedDuration,
) -> Signed {
    let id = uuid::Uuid::new_v4().to_string();
    let mut body = serde_json::json!({
        "id": id,
        "issuer": issuer,
        "counter": counter,
        "issued_at": now.to_string(),
        "expires_at": (now + valid).to_string(),
        "site": site,
        "action": order.action,
    });
    let fields = [
        ("zone", order.zone.clone().map(Into::into)),
        ("mode", order.mode.clone().map(Into::into)),
        ("reason", order.reason.clone().map(Into::into)),
        ("door", order.door.clone().map(Into::into)),
        ("pulse_ms", order.pulse_ms.map(Into::into)),
        ("until", order.until.clone().map(Into::into)),
        ("pass", order.pass.clone().map(Into::into)),
        ("from_seq", order.from_seq.map(Into::into)),
    ];
    for (name, value) in fields {
        if let Some(value) = value {
            body[name] = value;
        }
    }
    let text = body.to_string();
    Signed {
        id,
        counter,
        envelope: envelope(&text, key),
    }
}

/// Publishes `signed` on `gatehouse/{site}/commands` (QoS 1, not retained) and waits up to
/// `within` for its result on `commands/result`. Subscribes before publishing, so the
/// result cannot slip past.
pub async fn send(
    endpoint: &Endpoint,
    site: &str,
    signed: &Signed,
    within: Duration,
) -> Result<CommandResult, OfficeError> {
    let topics = Topics::new(site);
    let result_topic = topics.command_result();
    let client_id = format!("gatehouse-office-{}", &signed.id[..8]);
    let (client, mut eventloop) = endpoint.connect(&client_id, None);
    let broker = format!("{}:{}", endpoint.host, endpoint.port);
    let exchange = async {
        loop {
            let event = eventloop.poll().await.map_err(|e| OfficeError::Broker {
                broker: broker.clone(),
                problem: e.to_string(),
            })?;
            match event {
                Event::Incoming(Packet::ConnAck(_)) => {
                    let _ = client.try_subscribe(result_topic.clone(), QoS::AtLeastOnce);
                }
                Event::Incoming(Packet::SubAck(_)) => {
                    let _ = client.try_publish(
                        topics.commands(),
                        QoS::AtLeastOnce,
                        false,
                        signed.envelope.clone(),
                    );
                }
                Event::Incoming(Packet::Publish(p)) if p.topic == result_topic => {
                    if let Ok(result) = serde_json::from_slice::<CommandResult>(&p.payload)
                        && result.id == signed.id
                    {
                        return Ok(result);
                    }
                }
                _ => {}
            }
        }
    };
    let outcome = tokio::time::timeout(within, exchange).await;
    let _ = client.try_disconnect();
    // Let the disconnect leave; the broker drops the session either way.
    let _ = tokio::time::timeout(Duration::from_millis(200), eventloop.poll()).await;
    outcome.unwrap_or_else(|_| {
        Err(OfficeError::NoResult {
            id: signed.id.clone(),
            secs: within.as_secs(),
            topic: result_topic,
        })
    })
}

/// What to do about a refusal, by its error code.
pub fn advice(code: &str) -> &'static str {
    match code {
        "bad_signature" => {
            "the gateway holds another public key for this issuer: check that --key is the private half of the issuer's public_key in [[issuers]] and that --issuer names the right issuer"
        }
        "unknown_issuer" => {
            "the gateway does not know this issuer: add it to [[issuers]] in the gateway's configuration (`gatehouse keys new` prints the lines) and restart the gateway, or pass --issuer with a configured id"
        }
        "wrong_site" => {
            "the command was signed for another estate: pass --config with this estate's configuration (its site.id)"
        }
        "expired" => {
            "the command reached the gateway after its validity ended: check that this machine's clock and the gateway's agree (NTP), or give more time with --valid-s"
        }
        "not_yet_valid" => {
            "this machine's clock is more than 60 s ahead of the gateway's: fix the clocks (NTP) and send again"
        }
        "counter_replayed" => {
            "the gateway already accepted a higher counter from this issuer (a copy of the key used elsewhere, or this machine's clock set back): raise the number in the .counter file beside the key above the gateway's last one and send again"
        }
        "duplicate_id" => {
            "a command with this id was already applied; nothing to do (send a new command if you meant another)"
        }
        "retained" => {
            "the command arrived with the retain flag: publish commands without it (`gatehouse command` never sets it)"
        }
        "unknown_action" => {
            "use one of lockdown, lift, unlock, hold_open, release_hold, suspend_pass, restore_pass, ack_fire"
        }
        "unknown_zone" => {
            "use a zone id from the estate's [[zones]] (or `site`); `gatehouse check-config` lists them"
        }
        "unknown_door" => "use a door id from the estate's [[doors]]",
        "unknown_pass" => "check the pass number (P-…) in the console's pass list",
        "malformed" => {
            "a field is missing or not in its format: see the detail, or the gateway's `command` event (`gatehouse log tail`)"
        }
        "not_applied" => {
            "the command was authentic but could not be carried out now (see the detail): check the state in the console and send the command that fits it"
        }
        "log_unavailable" => {
            "the gateway cannot write its event log, so it applied nothing: free or repair the gateway's disk, then send again"
        }
        _ => "see the gateway's `command` event for this refusal (`gatehouse log tail`)",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_core::command::parse_public_key;

    #[test]
    fn a_new_key_pair_is_written_in_the_configured_formats_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("office");
        let pair = new_key_pair(&out).unwrap();
        assert_eq!(pair.private, dir.path().join("office.key"));
        let key = load_key(&pair.private).unwrap();
        let public = std::fs::read_to_string(&pair.public).unwrap();
        assert_eq!(public.trim(), pair.public_key);
        assert_eq!(
            parse_public_key(&public).unwrap(),
            key.verifying_key(),
            "the .pub file is the .key file's public half"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&pair.private)
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(matches!(new_key_pair(&out), Err(OfficeError::KeyExists(_))));
        assert_eq!(load_key(&pair.private).unwrap().to_bytes(), key.to_bytes());
        let other = new_key_pair(&dir.path().join("other")).unwrap();
        assert_ne!(other.public_key, pair.public_key, "keys are random");
    }

    #[test]
    fn counters_rise_across_runs_even_when_the_clock_goes_back() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("office.key");
        let now: Timestamp = "2026-11-22T14:00:00Z".parse().unwrap();
        let first = next_counter(&key, now).unwrap();
        assert_eq!(first, now.as_millisecond() as u64);
        let same_ms = next_counter(&key, now).unwrap();
        assert_eq!(same_ms, first + 1);
        let earlier = next_counter(&key, now - SignedDuration::from_hours(1)).unwrap();
        assert_eq!(
            earlier,
            first + 2,
            "a clock set back does not lower the counter"
        );
        let later = next_counter(&key, now + SignedDuration::from_secs(1)).unwrap();
        assert_eq!(later, first + 1000);
        assert_eq!(
            std::fs::read_to_string(dir.path().join("office.counter"))
                .unwrap()
                .trim(),
            later.to_string()
        );
        std::fs::write(dir.path().join("office.counter"), "forty").unwrap();
        let err = next_counter(&key, now).unwrap_err().to_string();
        assert!(err.contains("not a counter"), "{err}");
    }

    #[test]
    fn orders_are_checked_and_signed_as_the_gateway_reads_them() {
        let lockdown = Order {
            action: "lockdown".into(),
            zone: Some("bldg-38".into()),
            ..Order::default()
        };
        assert!(lockdown.check().unwrap_err().to_string().contains("--mode"));
        let bad = Order {
            action: "open_sesame".into(),
            ..Order::default()
        };
        assert!(bad.check().unwrap_err().to_string().contains("hold_open"));
        let hold = Order {
            action: "hold_open".into(),
            door: Some("gate-north".into()),
            until: Some("tonight".into()),
            ..Order::default()
        };
        assert!(hold.check().unwrap_err().to_string().contains("RFC 3339"));
        let replay = Order {
            action: "replay".into(),
            ..Order::default()
        };
        assert!(
            replay
                .check()
                .unwrap_err()
                .to_string()
                .contains("--from-seq")
        );
        let from_zero = Order {
            from_seq: Some(0),
            ..replay.clone()
        };
        assert!(
            from_zero
                .check()
                .unwrap_err()
                .to_string()
                .contains("start at 1")
        );
        let from_seq = Order {
            from_seq: Some(12),
            ..replay
        };
        from_seq.check().unwrap();
        let body = sign_order(
            &from_seq,
            "north-estate",
            "office-1",
            7,
            &SigningKey::from_bytes(&[3; 32]),
            "2026-11-22T14:00:00Z".parse().unwrap(),
            SignedDuration::from_mins(2),
        );
        let envelope: serde_json::Value = serde_json::from_str(&body.envelope).unwrap();
        let body: serde_json::Value =
            serde_json::from_str(envelope["body"].as_str().unwrap()).unwrap();
        assert_eq!(body["from_seq"], 12, "{body}");

        let key = SigningKey::from_bytes(&[3; 32]);
        let order = Order {
            until: Some("2026-11-22T23:00:00+08:00".into()),
            ..hold
        };
        order.check().unwrap();
        let now: Timestamp = "2026-11-22T14:00:00Z".parse().unwrap();
        let signed = sign_order(
            &order,
            "north-estate",
            "office-1",
            42,
            &key,
            now,
            SignedDuration::from_mins(2),
        );
        let envelope: serde_json::Value = serde_json::from_str(&signed.envelope).unwrap();
        let body_text = envelope["body"].as_str().unwrap();
        let body: serde_json::Value = serde_json::from_str(body_text).unwrap();
        assert_eq!(body["id"], signed.id);
        assert_eq!(body["counter"], 42);
        assert_eq!(body["site"], "north-estate");
        assert_eq!(body["until"], "2026-11-22T23:00:00+08:00");
        assert_eq!(body["expires_at"], "2026-11-22T14:02:00Z");
        assert!(body.get("zone").is_none());
        assert_eq!(
            envelope["sig"],
            gatehouse_core::command::sign(body_text, &key),
            "signed over the exact body text"
        );
    }
}
