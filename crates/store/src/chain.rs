//! The hash chain and the seals: what makes the log tamper-evident, and `verify`, which checks
//! it from the first record to the sealed head.
//!
//! - `hash = hex(blake3(prev_hash_hex ‖ canonical bytes))`, the canonical bytes being the
//!   record's JSON with `hash` left out (`spec/events.md`). The first record's `prev_hash` is
//!   [`GENESIS`]. Anyone holding the records (an MQTT consumer) can check this part.
//! - Each record also has a seal beside it (not in its JSON): a blake3 keyed hash of its seq and
//!   hash, with a key kept in the data directory outside the database. A chain rebuilt from a
//!   forged point is a valid chain, but its seals cannot be made without the key.
//! - The head (last seq and hash) is sealed too, so cutting records off the end shows.

use crate::errors::{StoreError, fail};
use crate::tables;
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
pub(crate) fn tip(db: &Database) -> Result<(u64, String), StoreError> {
    let what = "read the end of the event log";
    let txn = db.begin_read().map_err(fail(what))?;
    let events = txn.open_table(tables::EVENTS).map_err(fail(what))?;
    match events.last().map_err(fail(what))? {
        None => Ok((0, GENESIS.to_string())),
        Some((k, v)) => {
            let event = decode(k.value(), v.value())?;
            Ok((k.value(), event.hash))
        }
    }
}

pub(crate) fn decode(seq: u64, json: &str) -> Result<Event, StoreError> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt {
        table: "events",
        key: seq.to_string(),
        problem: e.to_string(),
    })
}

/// Checks every record in order; stops at the first bad one.
pub(crate) fn verify(db: &Database, key: &[u8; 32]) -> Result<VerifyReport, StoreError> {
    let what = "read the event log to verify it";
    let txn = db.begin_read().map_err(fail(what))?;
    let events = txn.open_table(tables::EVENTS).map_err(fail(what))?;
    let seals = txn.open_table(tables::SEALS).map_err(fail(what))?;
    let meta = txn.open_table(tables::META).map_err(fail(what))?;
    let last_seq = events
        .last()
        .map_err(fail(what))?
        .map(|(k, _)| k.value())
        .unwrap_or(0);
    let mut report = VerifyReport {
        checked: 0,
        last_seq,
        first_bad: None,
    };
    let mut prev = GENESIS.to_string();
    let mut expected = 1u64;
    for row in events.iter().map_err(fail(what))? {
        let (k, v) = row.map_err(fail(what))?;
        let seq = k.value();
        let seal = seals
            .get(seq)
            .map_err(fail(what))?
            .map(|s| s.value().to_vec());
        if let Err(problem) = check(key, expected, seq, v.value(), seal.as_deref(), &prev) {
            report.first_bad = Some(BadRecord {
                seq: expected.min(seq),
                problem,
            });
            return Ok(report);
        }
        prev = decode(seq, v.value())?.hash;
        report.checked += 1;
        expected = seq + 1;
    }
    let head = meta
        .get(tables::HEAD)
        .map_err(fail(what))?
        .map(|h| h.value().to_vec());
    if let Some((seq, problem)) = check_head(key, head.as_deref(), expected - 1, &prev) {
        report.first_bad = Some(BadRecord { seq, problem });
    }
    Ok(report)
}

/// Why record `seq` (stored at key `seq`, expected to be `expected`) is bad, if it is.
fn check(
    key: &[u8; 32],
    expected: u64,
    seq: u64,
    json: &str,
    stored_seal: Option<&[u8]>,
    prev: &str,
) -> Result<(), String> {
    if seq != expected {
        return Err(format!(
            "record {expected} is missing: the log jumps from {} to {seq}",
            expected - 1
        ));
    }
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
    if event.prev_hash != prev {
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
        Some(_) => Ok(()),
    }
}

/// Whether the sealed head agrees with the last record found (`last`, with hash `hash`); if
/// not, the first seq that is wrong and why.
fn check_head(key: &[u8; 32], head: Option<&[u8]>, last: u64, hash: &str) -> Option<(u64, String)> {
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
    if seq < last || head_hash != hash {
        return Some((
            seq + 1,
            format!("records after {seq} were added without the log key"),
        ));
    }
    None
}
