//! The log's secondary indexes (by time, by person, by door), written behind the log.
//!
//! A group commit makes only the records durable (events, seals, the sealed head): every
//! table a commit touches adds B-tree pages to its fsync, and the indexes were half of them.
//! The writer keeps the index entries of what it committed and writes them in one
//! transaction per [`BATCH`] records without an fsync of their own (the next group commit
//! carries them to disk), or, once it has been idle for [`DELAY`], with one: nobody waits
//! then, and the next lone swipe's commit carries only its own pages instead of the indexes'; under paced swipes this took the mean commit from about
//! 1.2 to 0.85 ms (docs/benchmarks.md, "The default broker, from an independent reader").
//! The outboxes' cursor moves are written in the same transactions ([`crate::cursors`]). `META[indexed]` says up
//! to which seq the indexes are complete; readers add the records after it (the *tail*,
//! at most a few thousand) by reading them from the log itself, so every read sees every
//! durable record. After a crash the tail is indexed again when the database opens.

use crate::chain::{self, decode};
use crate::errors::{StoreError, fail};
use crate::{passage, tables};
use gatehouse_core::Event;
use gatehouse_core::passage::Passage;
use redb::{
    Database, Durability, ReadTransaction, ReadableDatabase, ReadableTable, WriteTransaction,
};
use std::time::Duration;

/// Index entries written in one transaction once this many records wait. The writer writes
/// them between group commits, so appends that arrive meanwhile wait: 1,024 entries took 7–8 ms
/// (a p99 of 7–29 ms at 1,000 swipes/s), 256 take about 1.2 ms (p99 2.5 ms) at the same
/// throughput with 64 writers (docs/benchmarks.md, "Decisions with the durable log").
pub(crate) const BATCH: usize = 256;
/// Index entries are written once the writer has had no appends for this long.
pub(crate) const DELAY: Duration = Duration::from_millis(50);

/// What the indexes need of one record.
pub(crate) struct Entry {
    pub seq: u64,
    /// `at` in Unix microseconds.
    pub micros: i64,
    pub person: Option<String>,
    pub door: Option<String>,
    /// The passage projection's row, for an `access` record (see [`crate::passage`]).
    pub passage: Option<Vec<u8>>,
}

impl Entry {
    pub(crate) fn of(seq: u64, micros: i64, event: &Event) -> Entry {
        Entry {
            seq,
            micros,
            person: event.person.clone(),
            door: event.door.clone(),
            passage: Passage::of(event, micros).map(|p| passage::encode(&p)),
        }
    }
}

/// Writes `entries` (records already durable, in seq order) in one transaction: entries at or
/// below the watermark are skipped, records between the watermark and the first entry are
/// read back from the log; the waiting cursor moves go in the same transaction (see
/// [`crate::cursors`]). `durable` makes the transaction fsync (idle, on close, after a crash).
pub(crate) fn write(
    db: &Database,
    entries: &[Entry],
    cursors: &[(String, u64)],
    durable: bool,
) -> Result<(), StoreError> {
    let what = "write the event log's indexes";
    let mut txn = db.begin_write().map_err(fail(what))?;
    if !durable {
        txn.set_durability(Durability::None).map_err(fail(what))?;
    }
    {
        let mut w = Writer::open(&txn)?;
        let mut done = w.watermark()?;
        let first = entries.first().map_or(u64::MAX, |e| e.seq);
        if first > done + 1 {
            // Records committed but whose entries are gone (a restart, a reopen).
            let missing = read_after(&txn, done, first.saturating_sub(1))?;
            for (seq, event) in missing {
                let micros = micros_of(seq, &event)?;
                w.insert(&Entry::of(seq, micros, &event))?;
                done = seq;
            }
        }
        for entry in entries {
            if entry.seq > done {
                w.insert(entry)?;
                done = entry.seq;
            }
        }
        w.set_watermark(done)?;
    }
    crate::cursors::write(&txn, cursors)?;
    txn.commit().map_err(fail(what))?;
    Ok(())
}

/// At open: a log written before the watermark existed is fully indexed; otherwise the
/// records after the watermark (left by a crash) are indexed now, durably.
pub(crate) fn catch_up(db: &Database) -> Result<(), StoreError> {
    let what = "bring the event log's indexes up to date";
    let txn = db.begin_read().map_err(fail(what))?;
    let meta = txn.open_table(tables::META).map_err(fail(what))?;
    let known = meta.get(tables::INDEXED).map_err(fail(what))?.is_some();
    let projected = meta
        .get(tables::PASSAGES_FROM)
        .map_err(fail(what))?
        .is_some();
    drop(meta);
    drop(txn);
    if !known || !projected {
        // Written before the watermark or the passage projection existed: what is in the log
        // now is indexed (or, for the projection, is read from the log by scans).
        let txn = db.begin_write().map_err(fail(what))?;
        {
            let mut w = Writer::open(&txn)?;
            let done = if known {
                w.watermark()?
            } else {
                let (head, _) = chain::tip(db)?;
                w.set_watermark(head)?;
                head
            };
            w.meta
                .insert(tables::PASSAGES_FROM, (done + 1).to_be_bytes().as_slice())
                .map_err(fail(what))?;
        }
        txn.commit().map_err(fail(what))?;
    }
    write(db, &[], &[], true)
}

/// The watermark and the records after it, decoded, in seq order.
pub(crate) fn tail(txn: &ReadTransaction) -> Result<(u64, Vec<(u64, Event)>), StoreError> {
    let what = "read the event log";
    let meta = txn.open_table(tables::META).map_err(fail(what))?;
    let done = watermark_of(&meta)?;
    let events = txn.open_table(tables::EVENTS).map_err(fail(what))?;
    let mut out = Vec::new();
    readable(&events, done + 1, u64::MAX, &mut out)?;
    Ok((done, out))
}

/// The highest seq the indexes cover.
pub(crate) fn watermark(db: &Database) -> Result<u64, StoreError> {
    let what = "read the event log's index watermark";
    let txn = db.begin_read().map_err(fail(what))?;
    let meta = txn.open_table(tables::META).map_err(fail(what))?;
    watermark_of(&meta)
}

/// `at` of a stored record in Unix microseconds.
pub(crate) fn micros_of(seq: u64, event: &Event) -> Result<i64, StoreError> {
    event
        .timestamp()
        .map(|t| t.as_microsecond())
        .ok_or_else(|| StoreError::Corrupt {
            table: "events",
            key: seq.to_string(),
            problem: format!("`at` {:?} is not an RFC 3339 time", event.at),
        })
}

fn read_after(
    txn: &WriteTransaction,
    after: u64,
    upto: u64,
) -> Result<Vec<(u64, Event)>, StoreError> {
    let what = "read the event log to index it";
    let events = txn.open_table(tables::EVENTS).map_err(fail(what))?;
    let mut out = Vec::new();
    readable(&events, after + 1, upto, &mut out)?;
    Ok(out)
}

/// The records `from..=to` that can be read, decoded; damaged ones are left out with a
/// warning (`log verify` reports them), so one bad byte never stops the indexes or a read.
fn readable(
    events: &impl ReadableTable<u64, &'static str>,
    from: u64,
    to: u64,
    out: &mut Vec<(u64, Event)>,
) -> Result<(), StoreError> {
    let what = "read the event log";
    let last = events
        .last()
        .map_err(fail(what))?
        .map_or(0, |(k, _)| k.value());
    for seq in from..=to.min(last) {
        match chain::raw(events, seq).map(|v| v.map(|json| decode(seq, &json))) {
            Ok(Some(Ok(event))) if event.timestamp().is_some() => out.push((seq, event)),
            Ok(Some(Ok(event))) => {
                tracing::warn!(seq, at = %event.at, "Skipping a damaged record (its time is unreadable).")
            }
            Ok(None) => {}
            Ok(Some(Err(e))) => tracing::warn!(seq, error = %e, "Skipping a damaged record."),
            Err(problem) => tracing::warn!(seq, %problem, "Skipping a damaged record."),
        }
    }
    Ok(())
}

fn watermark_of(meta: &impl ReadableTable<&'static str, &'static [u8]>) -> Result<u64, StoreError> {
    let what = "read the event log's index watermark";
    match meta.get(tables::INDEXED).map_err(fail(what))? {
        None => Ok(0),
        Some(v) => {
            let bytes: [u8; 8] = v.value().try_into().map_err(|_| StoreError::Corrupt {
                table: "meta",
                key: tables::INDEXED.into(),
                problem: "not an 8-byte seq".into(),
            })?;
            Ok(u64::from_be_bytes(bytes))
        }
    }
}

/// The index tables open in a write transaction.
struct Writer<'t> {
    by_time: redb::Table<'t, (i64, u64), ()>,
    by_person: redb::Table<'t, (&'static str, u64), ()>,
    by_door: redb::Table<'t, (&'static str, u64), ()>,
    passages: redb::Table<'t, u64, &'static [u8]>,
    meta: redb::Table<'t, &'static str, &'static [u8]>,
}

impl<'t> Writer<'t> {
    fn open(txn: &'t WriteTransaction) -> Result<Writer<'t>, StoreError> {
        let what = "open the event log's indexes";
        Ok(Writer {
            by_time: txn.open_table(tables::BY_TIME).map_err(fail(what))?,
            by_person: txn.open_table(tables::BY_PERSON).map_err(fail(what))?,
            by_door: txn.open_table(tables::BY_DOOR).map_err(fail(what))?,
            passages: txn.open_table(tables::PASSAGES).map_err(fail(what))?,
            meta: txn.open_table(tables::META).map_err(fail(what))?,
        })
    }

    fn watermark(&self) -> Result<u64, StoreError> {
        watermark_of(&self.meta)
    }

    fn set_watermark(&mut self, seq: u64) -> Result<(), StoreError> {
        self.meta
            .insert(tables::INDEXED, seq.to_be_bytes().as_slice())
            .map_err(fail("write the event log's index watermark"))?;
        Ok(())
    }

    fn insert(&mut self, e: &Entry) -> Result<(), StoreError> {
        let what = "write the event log's indexes";
        self.by_time
            .insert((e.micros, e.seq), ())
            .map_err(fail(what))?;
        if let Some(person) = &e.person {
            self.by_person
                .insert((person.as_str(), e.seq), ())
                .map_err(fail(what))?;
        }
        if let Some(door) = &e.door {
            self.by_door
                .insert((door.as_str(), e.seq), ())
                .map_err(fail(what))?;
        }
        if let Some(row) = &e.passage {
            self.passages
                .insert(e.seq, row.as_slice())
                .map_err(fail(what))?;
        }
        Ok(())
    }
}
