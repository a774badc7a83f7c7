//! The hash chain and the seals: what makes the log tamper-evident, and `verify`, which checks
//! it from the first record to the sealed head.
//!
//! - `hash = hex(blake3(prev_hash_hex ‖ canonical bytes))`, the canonical bytes being the
//!   record's JSON with `hash` left out (`docs/interfaces.md#events`). The first record's `prev_hash` is
//!   [`GENESIS`]. Anyone holding the records (an MQTT consumer) can check this part.
//! - Each record also has a seal beside it (not in its JSON): a blake3 keyed hash of its seq and
//!   hash, with a key kept in the data directory outside the database. A chain rebuilt from a
//!   forged point is a valid chain, but its seals cannot be made without the key.
//! - The head (last seq and hash) is sealed too, so cutting records off the end shows.

use crate::errors::{StoreError, fail};
use crate::{guard, tables};
use gatehouse_core::Event;
use redb::{Database, ReadableDatabase, ReadableTable};

/// `prev_hash` of the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The result of [`crate::Store::verify`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyReport {
    /// How many records were found good before the first bad one (or in all).
    pub checked: u64,
    /// The last seq stored.
    pub last_seq: u64,
    /// The first record that is not as it was written, if any.
    pub first_bad: Option<BadRecord>,
    /// Every bad record (unreadable, missing, changed, unsealed), as inclusive seq ranges in
    /// order: what a damaged file lost.
    pub damaged: Vec<(u64, u64)>,
}

/// Where verification first failed, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadRecord {
    pub seq: u64,
    pub problem: String,
}

/// The canonical bytes of `event` (its JSON without `hash`).
pub fn canonical(event: &Event) -> Vec<u8> {
    let mut without = event.clone();
    without.hash.clear();
    serde_json::to_vec(&without).expect("an Event always serialises")
}

/// `hex(blake3(prev_hash_hex ‖ canonical))`.
pub fn hash(prev_hash: &str, canonical: &[u8]) -> String {
    let mut h = blake3::Hasher::new();
    h.update(prev_hash.as_bytes());
    h.update(canonical);
    h.finalize().to_hex().to_string()
}

/// The seal of record `seq` whose hash is `hash`.
pub fn seal(key: &[u8; 32], seq: u64, hash: &str) -> [u8; 32] {
    let mut h = blake3::Hasher::new_keyed(key);
    h.update(b"gatehouse log seal v1\0");
    h.update(&seq.to_be_bytes());
    h.update(hash.as_bytes());
    *h.finalize().as_bytes()
}

/// The sealed head as stored in `META`: seq (8 bytes BE) ‖ hash (hex) ‖ seal (32 bytes).
pub(crate) fn head_bytes(key: &[u8; 32], seq: u64, hash: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + hash.len() + 32);
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(hash.as_bytes());
    out.extend_from_slice(&head_seal(key, seq, hash));
    out
}

fn head_seal(key: &[u8; 32], seq: u64, hash: &str) -> [u8; 32] {
    let mut h = blake3::Hasher::new_keyed(key);
    h.update(b"gatehouse log head v1\0");
    h.update(&seq.to_be_bytes());
    h.update(hash.as_bytes());
    *h.finalize().as_bytes()
}

/// The head as stored: (seq, hash, seal), or `None` for an empty log.
pub(crate) fn parse_head(bytes: &[u8]) -> Option<(u64, String, [u8; 32])> {
    if bytes.len() != 8 + 64 + 32 {
        return None;
    }
    let seq = u64::from_be_bytes(bytes[..8].try_into().ok()?);
    let hash = std::str::from_utf8(&bytes[8..72]).ok()?.to_string();
    let seal = bytes[72..].try_into().ok()?;
    Some((seq, hash, seal))
}

/// The writer's starting point: the last stored seq and hash ([`GENESIS`] for an empty log).
/// The sealed head gives them when the last record itself cannot be read (a damaged byte), so
/// the chain goes on from what was written.
pub(crate) fn tip(db: &Database) -> Result<(u64, String), StoreError> {
    let what = "read the end of the event log";
    let txn = db.begin_read().map_err(fail(what))?;
    let events = txn.open_table(tables::EVENTS).map_err(fail(what))?;
    let meta = txn.open_table(tables::META).map_err(fail(what))?;
    let head = guard::value(|| {
        meta.get(tables::HEAD)
            .ok()
            .flatten()
            .and_then(|h| parse_head(h.value()))
    })
    .flatten();
    let last = guard::value(|| {
        events
            .last()
            .map(|r| r.map(|(k, v)| (k.value(), decode(k.value(), v.value()))))
    });
    match (last, head) {
        (Some(Ok(None)), _) => Ok((0, GENESIS.to_string())),
        (Some(Ok(Some((seq, Ok(event))))), _) => Ok((seq, event.hash)),
        (_, Some((seq, hash, _))) => Ok((seq, hash)),
        (Some(Ok(Some((_, Err(e))))), None) => Err(e),
        (Some(Err(e)), None) => Err(fail(what)(e)),
        (None, None) => Err(StoreError::Corrupt {
            table: "events",
            key: "last".into(),
            problem: "the last record and the log head are both unreadable".into(),
        }),
    }
}

pub(crate) fn decode(seq: u64, json: &str) -> Result<Event, StoreError> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt {
        table: "events",
        key: seq.to_string(),
        problem: e.to_string(),
    })
}

/// Record `seq` as stored: `Ok(None)` if absent, `Err` with why if it cannot be read.
pub(crate) fn raw(
    events: &impl ReadableTable<u64, &'static str>,
    seq: u64,
) -> Result<Option<String>, String> {
    match guard::value(|| events.get(seq).map(|v| v.map(|v| v.value().to_string()))) {
        None => Err(format!("record {seq} is unreadable: its bytes are damaged")),
        Some(Err(e)) => Err(format!("record {seq} is unreadable: {e}")),
        Some(Ok(v)) => Ok(v),
    }
}

/// Checks every record from 1 to the last (or the head, if further), reading each by its
/// seq so that a damaged record or page does not hide the ones after it. Every bad record is
/// reported in [`VerifyReport::damaged`]; the first one in `first_bad`.
pub(crate) fn verify(
    db: &impl ReadableDatabase,
    key: &[u8; 32],
) -> Result<VerifyReport, StoreError> {
    let what = "read the event log to verify it";
    let txn = db.begin_read().map_err(fail(what))?;
    let events = txn.open_table(tables::EVENTS).map_err(fail(what))?;
    let seals = txn.open_table(tables::SEALS).map_err(fail(what))?;
    let meta = txn.open_table(tables::META).map_err(fail(what))?;
    let head = guard::value(|| {
        meta.get(tables::HEAD)
            .map(|h| h.map(|h| h.value().to_vec()))
    });
    let head_seq = head
        .as_ref()
        .and_then(|h| h.as_ref().ok())
        .and_then(|h| h.as_deref())
        .and_then(parse_head)
        .map_or(0, |(seq, _, _)| seq);
    let last_key = guard::value(|| events.last().map(|r| r.map(|(k, _)| k.value())))
        .and_then(Result::ok)
        .flatten()
        .unwrap_or(0);
    let mut report = VerifyReport {
        checked: 0,
        last_seq: last_key,
        first_bad: None,
        damaged: Vec::new(),
    };
    // The hash the next record must name; `None` after an unreadable record.
    let mut prev = Some(GENESIS.to_string());
    let mut last_found = 0;
    for seq in 1..=last_key.max(head_seq) {
        let stored = raw(&events, seq).and_then(|json| {
            let json = json.ok_or_else(|| format!("record {seq} is missing"))?;
            let seal = guard::value(|| seals.get(seq).map(|s| s.map(|s| s.value().to_vec())))
                .and_then(Result::ok)
                .flatten();
            let event = check(key, seq, &json, seal.as_deref(), prev.as_deref())?;
            Ok(event)
        });
        match stored {
            Ok(event) => {
                last_found = seq;
                prev = Some(event.hash);
                if report.first_bad.is_none() {
                    report.checked += 1;
                }
            }
            Err(problem) => {
                if seq > last_key {
                    break; // the head names records past the last one: check_head says so
                }
                // The next record's link cannot be checked against a bad one; its own hash
                // and seal still are.
                last_found = seq;
                prev = None;
                report.bad(seq, problem);
            }
        }
    }
    let head = head.and_then(Result::ok).flatten();
    // After an unreadable last record only the head's seq and seal can be checked.
    if let Some((seq, problem)) = check_head(key, head.as_deref(), last_found, prev.as_deref()) {
        report.bad(seq, problem);
    }
    Ok(report)
}

impl VerifyReport {
    fn bad(&mut self, seq: u64, problem: String) {
        if self.first_bad.is_none() {
            self.first_bad = Some(BadRecord { seq, problem });
        }
        match self.damaged.last_mut() {
            Some(range) if range.1 + 1 == seq => range.1 = seq,
            Some(range) if range.0 <= seq && seq <= range.1 => {}
            _ => self.damaged.push((seq, seq)),
        }
    }
}

/// Record `seq` decoded, or why it is bad. `prev` is the hash it must name (`None`: not
/// known, the record before it is unreadable).
fn check(
    key: &[u8; 32],
    seq: u64,
    json: &str,
    stored_seal: Option<&[u8]>,
    prev: Option<&str>,
) -> Result<Event, String> {
    let event: Event = serde_json::from_str(json)
        .map_err(|e| format!("record {seq} is not a readable event: {e}"))?;
    if event.seq != seq {
        return Err(format!(
            "record stored as {seq} says it is {} (records moved)",
            event.seq
        ));
    }
    if !event.id.ends_with(&format!(":{seq}")) {
        return Err(format!(
            "record {seq} has id {:?}, not ending in :{seq}",
            event.id
        ));
    }
    if prev.is_some_and(|prev| event.prev_hash != prev) {
        return Err(format!(
            "record {seq}'s prev_hash does not match the hash of record {}",
            seq - 1
        ));
    }
    if hash(&event.prev_hash, &canonical(&event)) != event.hash {
        return Err(format!(
            "record {seq} was changed after it was written: its hash does not match its content"
        ));
    }
    match stored_seal {
        None => Err(format!("record {seq} has no seal")),
        Some(s) if s != seal(key, seq, &event.hash) => Err(format!(
            "record {seq}'s seal does not match: it was rewritten without the log key (forged chain)"
        )),
        Some(_) => Ok(event),
    }
}

/// Whether the sealed head agrees with the last record found (`last`, with hash `hash`); if
/// not, the first seq that is wrong and why.
fn check_head(
    key: &[u8; 32],
    head: Option<&[u8]>,
    last: u64,
    hash: Option<&str>,
) -> Option<(u64, String)> {
    let Some(bytes) = head else {
        return (last != 0).then(|| (1, "the log head is missing".to_string()));
    };
    let Some((seq, head_hash, head_seal_stored)) = parse_head(bytes) else {
        return Some((1, "the log head is unreadable".to_string()));
    };
    if head_seal_stored != head_seal(key, seq, &head_hash) {
        return Some((
            1,
            "the log head's seal does not match: it was rewritten without the log key".to_string(),
        ));
    }
    if seq > last {
        return Some((
            last + 1,
            format!(
                "records {} to {seq} are missing: the log was cut short",
                last + 1
            ),
        ));
    }
    if seq < last || hash.is_some_and(|hash| head_hash != hash) {
        return Some((
            seq + 1,
            format!("records after {seq} were added without the log key"),
        ));
    }
    None
}
