//! Signed office commands (`docs/interfaces.md#mqtt`): Ed25519 verification over the exact body bytes,
//! issuer counters and seen ids (replay protection), validity windows. Verification lives in
//! the core because counters and seen ids are state that must agree with the durable log: an
//! accepted command is a `command` event carrying its issuer and counter, from which the store
//! keeps the highest counter per issuer and `replay` rebuilds the seen ids.

use crate::core::Core;
use crate::estate::PassStatus;
use crate::event::{Event, Kind};
use crate::io::{CommandResult, DoorAction, Effect, Output, Publish, Reply, SignedCommand};
use crate::lockdown::{LockdownMode, known_zone};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use foldhash::HashMap;
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use std::collections::VecDeque;

/// How far in the future `issued_at` may lie before a command is `not_yet_valid` (clock skew
/// between the office and the gateway).
pub const MAX_CLOCK_SKEW: SignedDuration = SignedDuration::from_secs(60);

/// How long a command id is remembered. Commands live minutes (`expires_at`); counters block
/// anything older anyway, so a day is generous.
const SEEN_FOR: SignedDuration = SignedDuration::from_hours(24);

/// Why a command was refused: the error codes of `docs/interfaces.md#mqtt`, plus `not_applied` (an
/// extension) for an authentic, valid command whose action could not be carried out (lifting
/// a zone that is not locked down, acknowledging a fire that is still burning).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommandError {
    BadSignature,
    UnknownIssuer,
    WrongSite,
    Expired,
    NotYetValid,
    CounterReplayed,
    DuplicateId,
    Retained,
    UnknownAction,
    UnknownZone,
    UnknownDoor,
    UnknownPass,
    Malformed,
    NotApplied,
}

impl CommandError {
    /// The wire code.
    pub fn as_str(self) -> &'static str {
        match self {
            CommandError::BadSignature => "bad_signature",
            CommandError::UnknownIssuer => "unknown_issuer",
            CommandError::WrongSite => "wrong_site",
            CommandError::Expired => "expired",
            CommandError::NotYetValid => "not_yet_valid",
            CommandError::CounterReplayed => "counter_replayed",
            CommandError::DuplicateId => "duplicate_id",
            CommandError::Retained => "retained",
            CommandError::UnknownAction => "unknown_action",
            CommandError::UnknownZone => "unknown_zone",
            CommandError::UnknownDoor => "unknown_door",
            CommandError::UnknownPass => "unknown_pass",
            CommandError::Malformed => "malformed",
            CommandError::NotApplied => "not_applied",
        }
    }
}

/// The actions a command may ask for.
pub const ACTIONS: &[&str] = &[
    "lockdown",
    "lift",
    "unlock",
    "hold_open",
    "release_hold",
    "suspend_pass",
    "restore_pass",
    "ack_fire",
    "replay",
];

/// Replay protection and the issuers' keys.
#[derive(Default)]
pub struct CommandGuard {
    /// Highest accepted counter per issuer (bounded by the issuers whose commands were
    /// accepted: verified ones, and those of accepted `command` events replayed).
    counters: HashMap<String, u64>,
    /// The configured issuers and their keys.
    issuers: Issuers,
    /// Ids of accepted commands with when they were accepted, oldest first.
    seen: VecDeque<(Timestamp, String)>,
}

impl CommandGuard {
    pub fn new(counters: Vec<(String, u64)>) -> CommandGuard {
        CommandGuard {
            counters: counters.into_iter().collect(),
            ..CommandGuard::default()
        }
    }

    /// Adds the configured issuers.
    pub fn with_issuers(mut self, issuers: &[crate::config::Issuer]) -> CommandGuard {
        self.issuers = Issuers::new(issuers);
        self
    }

    /// Rebuilds the seen ids (and counters, should the store's table lag) from a past event.
    pub fn replay(&mut self, event: &Event) {
        if event.kind != Kind::Command || event.ok != Some(true) {
            return;
        }
        if let (Some(issuer), Some(counter)) = (&event.issuer, event.counter) {
            let last = self.counters.entry(issuer.clone()).or_insert(0);
            *last = (*last).max(counter);
        }
        if let (Some(id), Some(at)) = (&event.command, event.timestamp()) {
            self.seen.push_back((at, id.clone()));
        }
    }

    /// The highest counter accepted from `issuer` (0 before any).
    pub fn last_counter(&self, issuer: &str) -> u64 {
        self.counters.get(issuer).copied().unwrap_or(0)
    }

    /// Notes an accepted command: `counter` becomes its issuer's highest, and `id` is seen
    /// (a command with a counter not above it, or the same id, is refused from now on).
    /// Returns the issuer's previous highest counter.
    pub fn accept(&mut self, issuer: &str, counter: u64, id: &str, now: Timestamp) -> Option<u64> {
        self.seen.push_back((now, id.to_string()));
        self.counters.insert(issuer.to_string(), counter)
    }

    /// Whether a command with `id` was accepted within [`SEEN_FOR`] of `now` (forgetting the
    /// ids older than that).
    fn seen(&mut self, id: &str, now: Timestamp) -> bool {
        while self
            .seen
            .front()
            .is_some_and(|(at, _)| *at < now - SEEN_FOR)
        {
            self.seen.pop_front();
        }
        self.seen.iter().any(|(_, seen)| seen == id)
    }
}

/// The issuers of the configuration and their Ed25519 keys: the stateless part of a
/// command's verification. Adapters use it to screen a flood of forged envelopes before they
/// reach the core; the core uses the same check first in its own verification.
#[derive(Clone, Default)]
pub struct Issuers {
    /// Issuer id → its public key. Issuers whose key does not parse are left out
    /// (configuration validation reports them; see [`parse_public_key`]).
    keys: HashMap<String, VerifyingKey>,
}

impl Issuers {
    pub fn new(issuers: &[crate::config::Issuer]) -> Issuers {
        Issuers {
            keys: issuers
                .iter()
                .filter_map(|i| Some((i.id.clone(), parse_public_key(&i.public_key).ok()?)))
                .collect(),
        }
    }

    /// Whether `cmd`'s body names a configured issuer (`issuer` field) and `sig` is that
    /// issuer's signature over the body's exact bytes. `Malformed` when the body has no
    /// `id` and `issuer`.
    pub fn check(&self, cmd: &SignedCommand) -> Result<(), CommandError> {
        let head: Head = serde_json::from_str(&cmd.body).map_err(|_| CommandError::Malformed)?;
        let (Some(_), Some(issuer)) = (head.id, head.issuer) else {
            return Err(CommandError::Malformed);
        };
        self.check_issuer(&issuer, cmd)
    }

    fn check_issuer(&self, issuer: &str, cmd: &SignedCommand) -> Result<(), CommandError> {
        let key = self.keys.get(issuer).ok_or(CommandError::UnknownIssuer)?;
        let signature = BASE64
            .decode(cmd.sig.trim())
            .ok()
            .and_then(|bytes| Signature::from_slice(&bytes).ok())
            .ok_or(CommandError::BadSignature)?;
        key.verify(cmd.body.as_bytes(), &signature)
            .map_err(|_| CommandError::BadSignature)
    }
}

/// Parses a configured public key: base64 of 32 bytes.
pub fn parse_public_key(text: &str) -> Result<VerifyingKey, String> {
    let bytes = BASE64
        .decode(text.trim())
        .map_err(|e| format!("public key is not base64 ({e})"))?;
    let bytes: [u8; 32] = bytes
        .try_into()
        .map_err(|b: Vec<u8>| format!("public key has {} bytes, an Ed25519 key has 32", b.len()))?;
    VerifyingKey::from_bytes(&bytes)
        .map_err(|e| format!("public key is not a valid Ed25519 point ({e})"))
}

/// Signs `body` (the exact text that will be sent): base64 of the Ed25519 signature.
pub fn sign(body: &str, key: &SigningKey) -> String {
    BASE64.encode(key.sign(body.as_bytes()).to_bytes())
}

/// The envelope of `docs/interfaces.md#mqtt` for `body`: `{"body": body, "sig": sign(body)}`.
pub fn envelope(body: &str, key: &SigningKey) -> String {
    serde_json::json!({"body": body, "sig": sign(body, key)}).to_string()
}

/// A key file's text: base64 of the 32-byte Ed25519 secret (`config/demo-office.key`).
pub fn secret_key_text(key: &SigningKey) -> String {
    BASE64.encode(key.to_bytes())
}

/// The public half as the configuration's `[[issuers]] public_key` wants it (base64, 32 bytes).
pub fn public_key_text(key: &SigningKey) -> String {
    BASE64.encode(key.verifying_key().to_bytes())
}

/// Parses a key file's text: base64 of a 32-byte Ed25519 secret.
pub fn parse_secret_key(text: &str) -> Result<SigningKey, String> {
    let bytes = BASE64
        .decode(text.trim())
        .map_err(|e| format!("private key is not base64 ({e})"))?;
    let bytes: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| {
        format!(
            "private key has {} bytes, an Ed25519 secret has 32",
            b.len()
        )
    })?;
    Ok(SigningKey::from_bytes(&bytes))
}

/// The fields of a command body the gateway reads; unknown fields are ignored.
#[derive(Deserialize)]
struct Body {
    id: String,
    issuer: String,
    counter: u64,
    issued_at: Timestamp,
    expires_at: Timestamp,
    site: String,
    action: String,
    zone: Option<String>,
    mode: Option<String>,
    reason: Option<String>,
    door: Option<String>,
    pulse_ms: Option<u32>,
    /// For `hold_open`: when the hold ends (RFC 3339); absent = until `release_hold`.
    until: Option<Timestamp>,
    pass: Option<String>,
    /// For `replay`: the first seq the uplink publishes again.
    from_seq: Option<u64>,
}

/// What an applied action produced besides the `command` event.
#[derive(Default)]
struct Applied {
    /// Its own records (a lockdown's `mode` event, an unlock's `access` event).
    outputs: Vec<Output>,
    /// Effects of the `command` event itself, carried out once it is durable, before the reply.
    then: Vec<Effect>,
    /// A note for the result and the event of the accepted command.
    detail: Option<String>,
}

impl From<Vec<Output>> for Applied {
    fn from(outputs: Vec<Output>) -> Self {
        Applied {
            outputs,
            ..Applied::default()
        }
    }
}

/// Only the fields needed before the signature can be checked, and the action so that a
/// refused command's event still says what was asked. The id is kept as sent (a number is
/// not rounded through a float).
#[derive(Deserialize)]
struct Head {
    id: Option<Box<serde_json::value::RawValue>>,
    issuer: Option<String>,
    #[serde(default)]
    action: Option<serde_json::Value>,
}

/// A refusal, with what is known of the command so far.
struct Refusal {
    error: CommandError,
    detail: Option<String>,
}

impl From<CommandError> for Refusal {
    fn from(error: CommandError) -> Self {
        Refusal {
            error,
            detail: None,
        }
    }
}

impl Core {
    pub(crate) fn on_command(&mut self, cmd: SignedCommand, now: Timestamp) -> Vec<Output> {
        let head: Option<Head> = serde_json::from_str(&cmd.body).ok();
        let id = head
            .as_ref()
            .and_then(|h| h.id.as_deref())
            .map(id_text)
            .unwrap_or_default();
        let issuer = head.as_ref().and_then(|h| h.issuer.clone());
        let mut event = self.event(Kind::Command, now);
        event.command = (!id.is_empty()).then(|| id.clone());
        event.issuer = issuer.clone();
        // What was asked, even when it is refused (the spec's `action` on every command
        // event); `unknown` when the body has none that reads as text.
        event.action = Some(
            head.as_ref()
                .and_then(|h| h.action.as_ref())
                .and_then(|a| a.as_str())
                .unwrap_or("unknown")
                .to_string(),
        );
        let verified = match self.verify(&cmd, head, now) {
            Ok(body) => body,
            Err(refusal) => return vec![refuse(event, id, refusal)],
        };
        event.action = Some(verified.action.clone());
        event.zone = verified.zone.clone();
        event.door = verified.door.clone();
        event.pass = verified.pass.clone();
        let applied = match self.apply(&verified, now) {
            Ok(applied) => applied,
            Err(refusal) => return vec![refuse(event, id, refusal)],
        };
        self.commands
            .accept(&verified.issuer, verified.counter, &verified.id, now);
        event.ok = Some(true);
        event.counter = Some(verified.counter);
        event.detail = applied.detail.clone();
        let result = CommandResult {
            id,
            ok: true,
            applied_at: Some(self.model.stamp(now)),
            error: None,
            detail: applied.detail,
        };
        let mut then = applied.then;
        then.push(Effect::Reply(Reply::Command(result)));
        let mut all = vec![Output::Record { event, then }];
        all.extend(applied.outputs);
        all
    }

    /// Every check that does not depend on the action, in order: the retain flag (a stale
    /// message), the issuer and signature (nothing unsigned is believed), then the body's
    /// site, validity window, counter and id.
    fn verify(
        &mut self,
        cmd: &SignedCommand,
        head: Option<Head>,
        now: Timestamp,
    ) -> Result<Body, Refusal> {
        if cmd.retained {
            return Err(CommandError::Retained.into());
        }
        let Some(Head {
            id: Some(_),
            issuer: Some(issuer),
            ..
        }) = head
        else {
            return Err(Refusal {
                error: CommandError::Malformed,
                detail: Some("body is not a JSON object with `id` and `issuer`".into()),
            });
        };
        self.commands.issuers.check_issuer(&issuer, cmd)?;
        let body: Body = serde_json::from_str(&cmd.body).map_err(|e| Refusal {
            error: CommandError::Malformed,
            detail: Some(e.to_string()),
        })?;
        if body.site != self.model.site_id {
            return Err(CommandError::WrongSite.into());
        }
        if now > body.expires_at {
            return Err(CommandError::Expired.into());
        }
        if body.issued_at > crate::time::saturating_add(now, MAX_CLOCK_SKEW) {
            return Err(CommandError::NotYetValid.into());
        }
        if body.counter <= self.commands.last_counter(&body.issuer) {
            return Err(CommandError::CounterReplayed.into());
        }
        if self.commands.seen(&body.id, now) {
            return Err(CommandError::DuplicateId.into());
        }
        Ok(body)
    }

    /// Carries out an authentic, valid command's action.
    fn apply(&mut self, body: &Body, now: Timestamp) -> Result<Applied, Refusal> {
        let by = body.issuer.as_str();
        let not_applied = |detail: String| Refusal {
            error: CommandError::NotApplied,
            detail: Some(detail),
        };
        let outputs = match body.action.as_str() {
            "lockdown" => {
                let zone = self.command_zone(body)?;
                let mode =
                    LockdownMode::parse(required(&body.mode, "mode")?).map_err(|e| Refusal {
                        error: CommandError::Malformed,
                        detail: Some(e),
                    })?;
                let reason = body.reason.as_deref().unwrap_or("");
                self.apply_lockdown(zone, mode, by, reason, now)
                    .map_err(not_applied)
            }
            "lift" => {
                let zone = self.command_zone(body)?;
                self.lift_lockdown(zone, by, now).map_err(not_applied)
            }
            "ack_fire" => {
                let zone = self.command_zone(body)?;
                self.ack_fire(zone, by, now).map_err(not_applied)
            }
            "unlock" | "hold_open" | "release_hold" => {
                let door = required(&body.door, "door")?;
                let Some(config) = self.model.doors.get(door) else {
                    return Err(CommandError::UnknownDoor.into());
                };
                let action = match body.action.as_str() {
                    "unlock" => DoorAction::Unlock {
                        pulse_ms: body.pulse_ms.unwrap_or(config.pulse_ms),
                    },
                    "hold_open" => DoorAction::HoldOpen,
                    _ => DoorAction::Lock,
                };
                self.door_control(door, action, body.until, by, now)
                    .map_err(not_applied)
            }
            "suspend_pass" | "restore_pass" => {
                let pass = required(&body.pass, "pass")?;
                if self.model.pass(pass).is_none() {
                    return Err(CommandError::UnknownPass.into());
                }
                let status = if body.action == "suspend_pass" {
                    PassStatus::Suspended
                } else {
                    PassStatus::Active
                };
                let note = body.reason.as_deref();
                self.set_pass_status(pass, status, by, note, now)
                    .map_err(not_applied)
            }
            "replay" => return self.replay_uplink(body),
            _ => Err(CommandError::UnknownAction.into()),
        };
        outputs.map(Applied::from)
    }

    /// `replay {from_seq}`: the uplink's outbox publishes the log again from `from_seq`
    /// (the district office saw a gap in the seqs). Nothing changes in the core; the
    /// effect runs once the `command` event is durable, so that event goes out again too.
    fn replay_uplink(&self, body: &Body) -> Result<Applied, Refusal> {
        let from_seq = match body.from_seq {
            Some(seq) if seq >= 1 => seq,
            Some(_) => {
                return Err(Refusal {
                    error: CommandError::Malformed,
                    detail: Some("`from_seq` is a seq of the log, which starts at 1".into()),
                });
            }
            None => {
                return Err(Refusal {
                    error: CommandError::Malformed,
                    detail: Some("the action needs `from_seq`".into()),
                });
            }
        };
        let detail = if self.model.uplink {
            format!("the uplink publishes the events from seq {from_seq} again")
        } else {
            "this gateway has no [uplink]; there is no district outbox to rewind".to_string()
        };
        Ok(Applied {
            outputs: Vec::new(),
            then: vec![Effect::Publish(Publish::Replay { from_seq })],
            detail: Some(detail),
        })
    }

    fn command_zone<'a>(&self, body: &'a Body) -> Result<&'a str, Refusal> {
        let zone = required(&body.zone, "zone")?;
        if known_zone(&self.model, zone) {
            Ok(zone)
        } else {
            Err(CommandError::UnknownZone.into())
        }
    }
}

fn required<'a>(field: &'a Option<String>, name: &str) -> Result<&'a str, Refusal> {
    field.as_deref().ok_or_else(|| Refusal {
        error: CommandError::Malformed,
        detail: Some(format!("the action needs `{name}`")),
    })
}

/// A command id as text, whatever JSON type the sender used: a string's contents, or any
/// other value's JSON text exactly as sent (`123456789012345678901234567890`, not a float).
fn id_text(id: &serde_json::value::RawValue) -> String {
    serde_json::from_str::<String>(id.get()).unwrap_or_else(|_| id.get().to_string())
}

/// The `command` event and reply of a refused command.
fn refuse(mut event: Event, id: String, refusal: Refusal) -> Output {
    let code = refusal.error.as_str();
    event.ok = Some(false);
    event.error = Some(code.to_string());
    event.detail = refusal.detail.clone();
    let result = CommandResult {
        id,
        ok: false,
        applied_at: None,
        error: Some(code.to_string()),
        detail: refusal.detail,
    };
    Output::Record {
        event,
        then: vec![Effect::Reply(Reply::Command(result))],
    }
}

#[cfg(test)]
mod tests;
