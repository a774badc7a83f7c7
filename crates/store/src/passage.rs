//! The passage projection: for every `access` record, what reports read of it
//! ([`gatehouse_core::passage::Passage`]) in a few dozen bytes, keyed by seq, written behind
//! the log with the indexes (see [`crate::index`]) up to the same watermark. A long scan reads
//! these instead of decoding each record's JSON: records below `META[passages_from]` (written
//! before the projection existed) and after the watermark are read from the log itself, so a
//! scan sees every durable record either way.
//!
//! Layout (version 1): `1`, `micros` (i64 LE), direction (0 none, 1 in, 2 out), decision (0
//! none, 1 grant, 2 deny), reason (0 none, else its stable [`Reason::code`]), then pass,
//! card and door, each a u16 LE length (`0xFFFF`: none) and UTF-8 bytes.
//!
//! Reason codes are written out in the core, never a reason's place in `Reason::ALL`: the
//! first release stored `1 + place`, and the codes were fixed to those numbers, so rows it
//! wrote read the same without a migration; a reason added anywhere in the list takes a new
//! number.

use crate::errors::{StoreError, fail};
use crate::{chain, tables};
use gatehouse_core::event::{Decision, Direction, Reason};
use gatehouse_core::passage::{Passage, Scanned};
use redb::{Database, ReadTransaction, ReadableDatabase};
use std::ops::ControlFlow;

const VERSION: u8 = 1;
const NONE: u16 = u16::MAX;

/// The projection row of `p`.
pub(crate) fn encode(p: &Passage<'_>) -> Vec<u8> {
    let text = |s: Option<&str>| s.map_or(0, str::len);
    let mut out = Vec::with_capacity(18 + text(p.pass) + text(p.card) + text(p.door));
    out.push(VERSION);
    out.extend_from_slice(&p.micros.to_le_bytes());
    out.push(match p.direction {
        None => 0,
        Some(Direction::In) => 1,
        Some(Direction::Out) => 2,
    });
    out.push(match p.decision {
        None => 0,
        Some(Decision::Grant) => 1,
        Some(Decision::Deny) => 2,
    });
    out.push(p.reason.map_or(0, Reason::code));
    for s in [p.pass, p.card, p.door] {
        match s {
            // Ids and card numbers are short; a longer one (never written by gatehouse) is
            // cut at a character boundary rather than failing the log's indexing.
            Some(s) => {
                let mut end = s.len().min(NONE as usize - 1);
                while !s.is_char_boundary(end) {
                    end -= 1;
                }
                out.extend_from_slice(&(end as u16).to_le_bytes());
                out.extend_from_slice(&s.as_bytes()[..end]);
            }
            None => out.extend_from_slice(&NONE.to_le_bytes()),
        }
    }
    out
}

/// Reads a projection row back.
pub(crate) fn decode(seq: u64, row: &[u8]) -> Result<Passage<'_>, StoreError> {
    let corrupt = |problem: &str| StoreError::Corrupt {
        table: "passages",
        key: seq.to_string(),
        problem: problem.to_string(),
    };
    if row.len() < 18 || row[0] != VERSION {
        return Err(corrupt("not a version-1 passage row"));
    }
    let micros = i64::from_le_bytes(row[1..9].try_into().expect("8 bytes"));
    let direction = match row[9] {
        0 => None,
        1 => Some(Direction::In),
        2 => Some(Direction::Out),
        _ => return Err(corrupt("unknown direction")),
    };
    let decision = match row[10] {
        0 => None,
        1 => Some(Decision::Grant),
        2 => Some(Decision::Deny),
        _ => return Err(corrupt("unknown decision")),
    };
    let reason = match row[11] {
        0 => None,
        n => Some(Reason::from_code(n).ok_or_else(|| corrupt("unknown reason"))?),
    };
    let mut at = 12;
    let mut text = || -> Result<Option<&str>, StoreError> {
        let len = row
            .get(at..at + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
            .ok_or_else(|| corrupt("cut short"))?;
        at += 2;
        if len == NONE {
            return Ok(None);
        }
        let bytes = row
            .get(at..at + len as usize)
            .ok_or_else(|| corrupt("cut short"))?;
        at += len as usize;
        std::str::from_utf8(bytes)
            .map(Some)
            .map_err(|_| corrupt("not UTF-8"))
    };
    Ok(Passage {
        micros,
        pass: text()?,
        card: text()?,
        door: text()?,
        direction,
        decision,
        reason,
    })
}

/// Calls `f` on every record with seq in `from..=to`, in order, until it breaks: from the
/// projection where it covers the record, else the record itself from the log.
pub(crate) fn scan(
    db: &Database,
    from: u64,
    to: u64,
    mut f: impl FnMut(u64, Scanned<'_>) -> ControlFlow<()>,
) -> Result<(), StoreError> {
    const WHAT: &str = "read the event log";
    if to < from {
        return Ok(());
    }
    let txn = db.begin_read().map_err(fail(WHAT))?;
    let (start, end) = covered(&txn)?;
    let events = txn.open_table(tables::EVENTS).map_err(fail(WHAT))?;
    let from_log = |a: u64, b: u64, f: &mut dyn FnMut(u64, Scanned<'_>) -> ControlFlow<()>| {
        if b < a {
            return Ok(ControlFlow::Continue(()));
        }
        for row in events.range(a..=b).map_err(fail(WHAT))? {
            let (k, v) = row.map_err(fail(WHAT))?;
            let event = chain::decode(k.value(), v.value())?;
            if f(k.value(), Scanned::Event(&event)).is_break() {
                return Ok(ControlFlow::Break(()));
            }
        }
        Ok::<_, StoreError>(ControlFlow::Continue(()))
    };
    // Before the projection.
    if from_log(from, to.min(start.saturating_sub(1)), &mut f)?.is_break() {
        return Ok(());
    }
    // The projection: seqs it lacks are records of other kinds.
    let (a, b) = (from.max(start), to.min(end));
    if a <= b {
        let rows = txn.open_table(tables::PASSAGES).map_err(fail(WHAT))?;
        let mut next = a;
        for row in rows.range(a..=b).map_err(fail(WHAT))? {
            let (k, v) = row.map_err(fail(WHAT))?;
            let seq = k.value();
            for other in next..seq {
                if f(other, Scanned::Other).is_break() {
                    return Ok(());
                }
            }
            if f(seq, Scanned::Passage(decode(seq, v.value())?)).is_break() {
                return Ok(());
            }
            next = seq + 1;
        }
        for other in next..=b {
            if f(other, Scanned::Other).is_break() {
                return Ok(());
            }
        }
    }
    // After the watermark.
    from_log(from.max(end + 1), to, &mut f).map(|_| ())
}

/// The seqs the projection covers: from `META[passages_from]` to the indexes' watermark.
fn covered(txn: &ReadTransaction) -> Result<(u64, u64), StoreError> {
    let what = "read the event log's passage projection";
    let meta = txn.open_table(tables::META).map_err(fail(what))?;
    let seq_of = |key: &str| -> Result<Option<u64>, StoreError> {
        match meta.get(key).map_err(fail(what))? {
            None => Ok(None),
            Some(v) => v
                .value()
                .try_into()
                .map(|b: [u8; 8]| Some(u64::from_be_bytes(b)))
                .map_err(|_| StoreError::Corrupt {
                    table: "meta",
                    key: key.into(),
                    problem: "not an 8-byte seq".into(),
                }),
        }
    };
    let start = seq_of(tables::PASSAGES_FROM)?.unwrap_or(u64::MAX);
    let end = seq_of(tables::INDEXED)?.unwrap_or(0);
    Ok((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_direction_and_decision_round_trips() {
        let reasons = std::iter::once(None).chain(Reason::ALL.iter().copied().map(Some));
        for (i, reason) in reasons.enumerate() {
            let p = Passage {
                micros: -1_234_567 + i as i64 * 1_000_003,
                pass: (i % 2 == 0).then_some("R-0001"),
                card: (i % 3 == 0).then_some("04A1B2C3"),
                door: (i % 4 != 0).then_some("北门-1"),
                direction: [None, Some(Direction::In), Some(Direction::Out)][i % 3],
                decision: [Some(Decision::Deny), None, Some(Decision::Grant)][i % 3],
                reason,
            };
            let row = encode(&p);
            assert_eq!(decode(7, &row).unwrap(), p);
        }
    }

    #[test]
    fn a_damaged_row_is_an_error_naming_the_table_and_seq() {
        let p = Passage {
            micros: 0,
            pass: Some("R-1"),
            card: None,
            door: Some("gate"),
            direction: Some(Direction::In),
            decision: Some(Decision::Grant),
            reason: None,
        };
        let row = encode(&p);
        for bad in [&row[..row.len() - 1], &row[..5], &[9u8; 20][..]] {
            let e = decode(42, bad).unwrap_err().to_string();
            assert!(e.contains("passages") && e.contains("42"), "{e}");
        }
        let mut reason = row.clone();
        reason[11] = 250;
        assert!(decode(42, &reason).is_err());
    }

    /// A row as the first release wrote it (reason byte = 1 + place in the list of that
    /// release), byte for byte: it must read the same reason whatever reasons are added to
    /// the list since, in spec order or not.
    #[test]
    fn rows_written_before_reasons_were_added_read_as_before() {
        let mut row = vec![1u8];
        row.extend_from_slice(&1_700_000_000_000_000i64.to_le_bytes());
        row.extend_from_slice(&[1, 2]); // in, deny
        for (byte, name) in [
            (3, "unknown_pass"),
            (20, "anti_passback"),
            (23, "stale_request"),
            (28, "manual_entry"),
        ] {
            let mut row = row.clone();
            row.push(byte);
            row.extend_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF]);
            row.extend_from_slice(&4u16.to_le_bytes());
            row.extend_from_slice(b"gate");
            let p = decode(1, &row).unwrap();
            assert_eq!(p.reason.map(Reason::as_str), Some(name), "byte {byte}");
            assert_eq!(p.door, Some("gate"));
            assert_eq!(encode(&p), row, "written again the same way");
        }
    }
}
