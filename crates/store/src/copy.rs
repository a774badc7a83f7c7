//! Copying a store into a fresh file, table by table from one read transaction: the backup
//! (a consistent snapshot of a running store: the read transaction sees one commit, and appends
//! go on meanwhile) and the salvage (every readable record of a damaged store).
//!
//! Each record is read on its own behind [`guard`], so a damaged record or page loses that
//! record (or, for the tables read in order, the rest of that table), never the copy. The
//! event log is read by seq, from 1 to the last record or the head, so a damaged page hides
//! nothing after it. What was lost is returned in [`Copied`].

use crate::chain::{self, raw};
use crate::errors::{StoreError, fail};
use crate::{guard, tables};
use gatehouse_core::Event;
use redb::{
    Database, Key, ReadTransaction, ReadableTable, TableDefinition, TableHandle, Value,
    WriteTransaction,
};
use std::collections::HashSet;
use std::path::Path;

/// What a copy kept and lost.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Copied {
    /// Event records copied.
    pub records: u64,
    /// The last seq of the source (its last record or its head, whichever is further).
    pub last_seq: u64,
    /// Records that could not be read, as inclusive seq ranges.
    pub lost_records: Vec<(u64, u64)>,
    /// Other rows lost, one line per table that lost any.
    pub lost_rows: Vec<String>,
}

/// How the copy treats the log's head.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Everything as it is, the sealed head included (a backup).
    Snapshot,
    /// The head sealed again at the last record copied, with this key (a salvage).
    Salvage([u8; 32]),
}

const WHAT: &str = "copy the store";

/// The copy's own page cache: redb's default is 1 GiB, and a copy written in one transaction
/// would fill it (a backup of a 1 GB store peaked at 1.1 GB of memory); past this budget redb
/// writes the dirty pages out before the commit.
pub(crate) const COPY_CACHE_BYTES: usize = 64 * 1024 * 1024;

/// Copies everything `src` sees into `dst`, a new empty database, in one write transaction
/// (made durable by its commit).
pub(crate) fn copy(
    src: &ReadTransaction,
    dst: &Database,
    mode: Mode,
) -> Result<Copied, StoreError> {
    let txn = dst.begin_write().map_err(fail(WHAT))?;
    let mut copied = Copied::default();
    let kept = events(src, &txn, mode, &mut copied)?;
    let alive = |seq: u64| kept.contains(&seq);
    let lost = &mut copied.lost_rows;
    table(src, &txn, tables::BY_TIME, lost, |k| alive(k.1))?;
    table(src, &txn, tables::BY_PERSON, lost, |k| alive(k.1))?;
    table(src, &txn, tables::BY_DOOR, lost, |k| alive(k.1))?;
    table(src, &txn, tables::PASSAGES, lost, |k| alive(*k))?;
    table(src, &txn, tables::COUNTERS, lost, |_| true)?;
    table(src, &txn, tables::CURSORS, lost, |_| true)?;
    table(src, &txn, tables::HOUSEHOLDS, lost, |_| true)?;
    table(src, &txn, tables::PEOPLE, lost, |_| true)?;
    table(src, &txn, tables::PASSES, lost, |_| true)?;
    table(src, &txn, tables::STATE, lost, |_| true)?;
    let salvage = matches!(mode, Mode::Salvage(_));
    table(src, &txn, tables::META, lost, |k| {
        !(salvage && *k == tables::HEAD)
    })?;
    if let Mode::Salvage(key) = mode {
        let last = kept.iter().max().copied().unwrap_or(0);
        let events = txn.open_table(tables::EVENTS).map_err(fail(WHAT))?;
        let hash = match events.get(last).map_err(fail(WHAT))? {
            Some(json) => chain::decode(last, json.value())?.hash,
            None => chain::GENESIS.to_string(),
        };
        drop(events);
        let mut meta = txn.open_table(tables::META).map_err(fail(WHAT))?;
        if last > 0 {
            let head = chain::head_bytes(&key, last, &hash);
            meta.insert(tables::HEAD, head.as_slice())
                .map_err(fail(WHAT))?;
        }
    }
    txn.commit().map_err(fail(WHAT))?;
    Ok(copied)
}

/// The event records and their seals, by seq; returns the seqs copied.
fn events(
    src: &ReadTransaction,
    dst: &WriteTransaction,
    mode: Mode,
    copied: &mut Copied,
) -> Result<HashSet<u64>, StoreError> {
    let events = src.open_table(tables::EVENTS).map_err(fail(WHAT))?;
    let seals = src.open_table(tables::SEALS).map_err(fail(WHAT))?;
    let meta = src.open_table(tables::META).map_err(fail(WHAT))?;
    let head_seq = guard::value(|| {
        meta.get(tables::HEAD)
            .ok()
            .flatten()
            .and_then(|h| chain::parse_head(h.value()))
            .map(|(seq, _, _)| seq)
    })
    .flatten()
    .unwrap_or(0);
    let last_key = guard::value(|| events.last().ok().flatten().map(|(k, _)| k.value()))
        .flatten()
        .unwrap_or(0);
    copied.last_seq = head_seq.max(last_key);
    let mut out_events = dst.open_table(tables::EVENTS).map_err(fail(WHAT))?;
    let mut out_seals = dst.open_table(tables::SEALS).map_err(fail(WHAT))?;
    let mut kept = HashSet::new();
    for seq in 1..=copied.last_seq {
        let record = raw(&events, seq).ok().flatten().filter(|json| {
            // A salvage keeps only records that are still events; a snapshot copies bytes.
            mode == Mode::Snapshot
                || serde_json::from_str::<Event>(json).is_ok_and(|e| e.seq == seq)
        });
        let Some(json) = record else {
            lose(&mut copied.lost_records, seq);
            continue;
        };
        out_events.insert(seq, json.as_str()).map_err(fail(WHAT))?;
        let seal = guard::value(|| seals.get(seq).ok().flatten().map(|s| s.value().to_vec()));
        if let Some(Some(seal)) = seal {
            out_seals.insert(seq, seal.as_slice()).map_err(fail(WHAT))?;
        }
        kept.insert(seq);
        copied.records += 1;
    }
    Ok(kept)
}

fn lose(ranges: &mut Vec<(u64, u64)>, seq: u64) {
    match ranges.last_mut() {
        Some(range) if range.1 + 1 == seq => range.1 = seq,
        _ => ranges.push((seq, seq)),
    }
}

/// Copies the rows of one table that `keep` accepts, in key order. A row that cannot be read
/// ends that table's copy; the loss is noted in `lost`.
fn table<K: Key + 'static, V: Value + 'static>(
    src: &ReadTransaction,
    dst: &WriteTransaction,
    def: TableDefinition<K, V>,
    lost: &mut Vec<String>,
    keep: impl Fn(&K::SelfType<'_>) -> bool,
) -> Result<(), StoreError> {
    let from = src.open_table(def).map_err(fail(WHAT))?;
    let mut to = dst.open_table(def).map_err(fail(WHAT))?;
    let mut rows = from.iter().map_err(fail(WHAT))?;
    let mut count = 0u64;
    loop {
        let step = guard::value(|| -> Result<bool, StoreError> {
            let Some(row) = rows.next() else {
                return Ok(false);
            };
            let (k, v) = row.map_err(fail(WHAT))?;
            if keep(&k.value()) {
                to.insert(k.value(), v.value()).map_err(fail(WHAT))?;
            }
            Ok(true)
        });
        match step {
            Some(Ok(true)) => count += 1,
            Some(Ok(false)) => return Ok(()),
            Some(Err(e)) => {
                lost.push(format!(
                    "table {}: the rows after the first {count} could not be read ({e})",
                    def.name()
                ));
                return Ok(());
            }
            None => {
                lost.push(format!(
                    "table {}: the rows after the first {count} are damaged",
                    def.name()
                ));
                return Ok(());
            }
        }
    }
}

/// Makes a fresh database at `path` (which must not exist) with the given `fill`, written as
/// `path.partial` and renamed into place once complete and synced.
pub(crate) fn fresh(
    path: &Path,
    fill: impl FnOnce(&Database) -> Result<Copied, StoreError>,
) -> Result<Copied, StoreError> {
    let io = |action: &'static str, p: &Path| {
        let p = p.to_path_buf();
        move |source| StoreError::Io {
            path: p,
            action,
            source,
        }
    };
    if path.exists() {
        return Err(StoreError::Io {
            path: path.to_path_buf(),
            action: "written (it already exists; choose a new name)",
            source: std::io::Error::from(std::io::ErrorKind::AlreadyExists),
        });
    }
    let partial = path.with_extension("partial");
    let _ = std::fs::remove_file(&partial);
    let db = redb::Builder::new()
        .set_cache_size(COPY_CACHE_BYTES)
        .create(&partial)
        .map_err(fail("create the copy"))?;
    let copied = fill(&db)?;
    drop(db);
    std::fs::rename(&partial, path).map_err(io("renamed into place", path))?;
    Ok(copied)
}
