//! Reading the event log: by seq, by time, by person, by door, and a streaming scan for big
//! reads (occupancy over millions of records) that never holds more than one event.

use crate::chain::decode;
use crate::errors::{StoreError, fail};
use crate::index;
use crate::tables;
use gatehouse_core::Event;
use redb::{Database, ReadTransaction, ReadableDatabase};
use std::ops::ControlFlow;

const WHAT: &str = "read the event log";

fn begin(db: &Database) -> Result<ReadTransaction, StoreError> {
    db.begin_read().map_err(fail(WHAT))
}

/// Up to `limit` events from `from_seq` on, oldest first.
pub(crate) fn events(db: &Database, from_seq: u64, limit: usize) -> Result<Vec<Event>, StoreError> {
    let mut out = Vec::new();
    if limit == 0 {
        return Ok(out);
    }
    for_each(db, from_seq, |e| {
        out.push(e.clone());
        if out.len() >= limit {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })?;
    Ok(out)
}

/// Calls `f` on every event from `from_seq` on, in order, until it breaks.
pub(crate) fn for_each(
    db: &Database,
    from_seq: u64,
    mut f: impl FnMut(&Event) -> ControlFlow<()>,
) -> Result<(), StoreError> {
    let txn = begin(db)?;
    let table = txn.open_table(tables::EVENTS).map_err(fail(WHAT))?;
    for row in table.range(from_seq..).map_err(fail(WHAT))? {
        let (k, v) = row.map_err(fail(WHAT))?;
        let event = decode(k.value(), v.value())?;
        if f(&event).is_break() {
            break;
        }
    }
    Ok(())
}

/// Up to `limit` events with `from <= at < to`, oldest first (by `at`, then seq). The index
/// covers records up to its watermark; the tail after it is read from the log.
pub(crate) fn between(
    db: &Database,
    from: jiff::Timestamp,
    to: jiff::Timestamp,
    limit: usize,
) -> Result<Vec<Event>, StoreError> {
    let txn = begin(db)?;
    let index = txn.open_table(tables::BY_TIME).map_err(fail(WHAT))?;
    let events = txn.open_table(tables::EVENTS).map_err(fail(WHAT))?;
    let (from, to) = (from.as_microsecond(), to.as_microsecond());
    let mut out: Vec<(i64, u64, Event)> = Vec::new();
    if from >= to || limit == 0 {
        return Ok(Vec::new());
    }
    for row in index.range((from, 0u64)..(to, 0u64)).map_err(fail(WHAT))? {
        if out.len() >= limit {
            break;
        }
        let (k, _) = row.map_err(fail(WHAT))?;
        let (micros, seq) = k.value();
        out.push((micros, seq, get(&events, seq)?));
    }
    let (_, tail) = index::tail(&txn)?;
    for (seq, event) in tail {
        let micros = index::micros_of(seq, &event)?;
        if (from..to).contains(&micros) {
            out.push((micros, seq, event));
        }
    }
    out.sort_by_key(|(micros, seq, _)| (*micros, *seq));
    out.truncate(limit);
    Ok(out.into_iter().map(|(_, _, e)| e).collect())
}

/// Up to `limit` events whose `person` (or `door`, per `by_door`) is `id`, newest first.
pub(crate) fn newest_for(
    db: &Database,
    by_door: bool,
    id: &str,
    limit: usize,
) -> Result<Vec<Event>, StoreError> {
    let txn = begin(db)?;
    let index = txn
        .open_table(if by_door {
            tables::BY_DOOR
        } else {
            tables::BY_PERSON
        })
        .map_err(fail(WHAT))?;
    let events = txn.open_table(tables::EVENTS).map_err(fail(WHAT))?;
    // The tail after the index's watermark first: it is the newest.
    let (_, tail) = index::tail(&txn)?;
    let mut out: Vec<Event> = tail
        .into_iter()
        .rev()
        .map(|(_, e)| e)
        .filter(|e| {
            let field = if by_door { &e.door } else { &e.person };
            field.as_deref() == Some(id)
        })
        .take(limit)
        .collect();
    for row in index
        .range((id, 0u64)..=(id, u64::MAX))
        .map_err(fail(WHAT))?
        .rev()
    {
        if out.len() >= limit {
            break;
        }
        let (k, _) = row.map_err(fail(WHAT))?;
        out.push(get(&events, k.value().1)?);
    }
    Ok(out)
}

fn get(events: &redb::ReadOnlyTable<u64, &'static str>, seq: u64) -> Result<Event, StoreError> {
    match events.get(seq).map_err(fail(WHAT))? {
        Some(v) => decode(seq, v.value()),
        None => Err(StoreError::Corrupt {
            table: "events",
            key: seq.to_string(),
            problem: "an index names this record but it is missing".into(),
        }),
    }
}
