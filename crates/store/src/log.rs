//! The event log's writer: group commit. One thread owns every append; appenders hand it
//! `(event, reply)` through a channel; it takes everything that is waiting, writes it in one
//! redb write transaction (records, seals, command counters, sealed head; the indexes follow
//! behind, see [`crate::index`]), commits
//! (durable: one fsync for the whole group), and only then answers each appender.
//!
//! Backpressure: the channel is unbounded on purpose. Every appender waits for its durable
//! reply, so there are never more pending appends than appenders; a [`Job::Cursor`] is sent
//! only when a cursor move finds none waiting, so at most one is queued per write of the
//! moves; a batch is capped at [`MAX_BATCH`] events so that one transaction stays a
//! reasonable size.
//!
//! A failed commit (disk full, I/O error) fails every append of that group with
//! [`StoreError::Unavailable`]; the next group first reopens the database ([`crate::disk::Db`])
//! and tries again, so the log comes back by itself when the disk does.

use crate::chain;
use crate::disk::Db;
use crate::errors::{StoreError, fail};
use crate::import::{ImportKey, Imported};
use crate::index;
use crate::tables;
use gatehouse_core::{Event, Kind};
use redb::{Database, ReadableTable, WriteTransaction};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use tokio::sync::{oneshot, watch};

/// Most events written in one transaction.
pub const MAX_BATCH: usize = 10_000;

/// What the writer is asked to do.
pub(crate) enum Job {
    /// One event; answered with the stored event.
    Append(Box<Event>, oneshot::Sender<Result<Event, StoreError>>),
    /// Many events in order (at most [`MAX_BATCH`]); answered with the last seq.
    Many(Vec<Event>, oneshot::Sender<Result<u64, StoreError>>),
    /// Imported records with their keys (at most [`MAX_BATCH`]): each is appended unless its
    /// key is already stored; answered with what was done.
    Import(Box<ImportJob>),
    /// A cursor moved (it waits in [`Shared::cursors`]): write it with the next index write.
    Cursor,
    /// Finish what is queued and stop (the store is being dropped).
    Stop,
}

/// An import chunk and, once written, how many of it were appended or already there.
pub(crate) struct ImportJob {
    pub records: Vec<(ImportKey, Event)>,
    pub appended: u64,
    pub already: u64,
    pub reply: oneshot::Sender<Result<Imported, StoreError>>,
}

impl Job {
    fn len(&self) -> usize {
        match self {
            Job::Append(..) => 1,
            Job::Many(events, _) => events.len(),
            Job::Import(job) => job.records.len(),
            Job::Cursor | Job::Stop => 0,
        }
    }
}

/// What the writer shares with the store's readers.
pub(crate) struct Shared {
    pub db: Db,
    pub site: String,
    pub seal_key: [u8; 32],
    /// The last durable seq.
    pub last_seq: AtomicU64,
    /// The last durable seq, for those who wait for new events (outbox, live feeds).
    pub durable: watch::Sender<u64>,
    /// How many times a cursor was saved, for those who wait for a consumer to catch up.
    pub cursor_saves: watch::Sender<u64>,
    /// Group commits made since open (events per commit is what group commit buys).
    pub commits: AtomicU64,
    /// Time spent inside redb's `commit` (the fsync), in microseconds, and in the whole
    /// group write, for the benchmark's breakdown.
    pub commit_micros: AtomicU64,
    pub write_micros: AtomicU64,
    /// Told of every group commit (metrics' histograms), once set.
    pub observer: std::sync::OnceLock<CommitObserver>,
    /// Cursor moves waiting for the next index write.
    pub cursors: crate::cursors::Pending,
}

/// One group commit of the log, as [`crate::Store::observe_commits`] reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Committed {
    /// Records written in the group (its batch size).
    pub records: u64,
    /// Time inside redb's commit (the fsync).
    pub commit: std::time::Duration,
    /// Time for the whole group: records, seals, commit.
    pub write: std::time::Duration,
}

/// What is called on the writer thread after each group commit; it must not block.
pub type CommitObserver = Box<dyn Fn(Committed) + Send + Sync>;

/// Checks what the log needs of an event before it is queued, so that one bad event never
/// fails the group it would have been written with.
pub(crate) fn check(event: &Event) -> Result<i64, StoreError> {
    event
        .timestamp()
        .map(|t| t.as_microsecond())
        .ok_or_else(|| {
            StoreError::InvalidEvent(format!(
                "`at` {:?} is not an RFC 3339 time with an offset",
                event.at
            ))
        })
}

/// Runs the writer until [`Job::Stop`] or until every sender is gone.
pub(crate) fn run(shared: Arc<Shared>, jobs: mpsc::Receiver<Job>) {
    let mut writer = Writer {
        shared,
        tip: None,
        generation: u64::MAX,
        unindexed: Vec::new(),
    };
    loop {
        let first = if writer.unindexed.is_empty() && writer.shared.cursors.is_empty() {
            jobs.recv().ok()
        } else {
            match jobs.recv_timeout(index::DELAY) {
                Ok(job) => Some(job),
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    // Idle: the index write (and any cursor move) is made durable now, while
                    // nobody waits, so that the next append's commit carries only its own
                    // pages (see `index`).
                    writer.index(true);
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => None,
            }
        };
        let Some(first) = first else { break };
        let mut batch = Vec::new();
        let mut count = first.len();
        let mut stop = matches!(first, Job::Stop);
        batch.push(first);
        while count < MAX_BATCH && !stop {
            match jobs.try_recv() {
                Ok(Job::Stop) => stop = true,
                Ok(job) => {
                    count += job.len();
                    batch.push(job);
                }
                Err(_) => break,
            }
        }
        writer.write(batch);
        if writer.unindexed.len() >= index::BATCH {
            writer.index(false);
        }
        if stop {
            break;
        }
    }
    // Closing: the indexes are made complete and durable.
    writer.index(true);
}

struct Writer {
    shared: Arc<Shared>,
    /// The last written (seq, hash); `None` until read from the database.
    tip: Option<(u64, String)>,
    /// The database generation the tip was read from: after a reopen it is read again, since
    /// a commit reported as failed may have reached the disk after all.
    generation: u64,
    /// Index entries of durable records, not yet written (see [`index`]).
    unindexed: Vec<index::Entry>,
}

impl Writer {
    /// Writes the waiting index entries and cursor moves; on failure they wait for the next
    /// try (readers read the tail from the log meanwhile, and a reopen indexes it again).
    fn index(&mut self, durable: bool) {
        let cursors = self.shared.cursors.snapshot();
        if self.unindexed.is_empty() && cursors.is_empty() && !durable {
            return;
        }
        match self
            .shared
            .db
            .write(|db| index::write(db, &self.unindexed, &cursors, durable))
        {
            Ok(()) => {
                self.unindexed.clear();
                self.shared.cursors.written(&cursors);
            }
            Err(e) => {
                tracing::warn!(error = %e, "Could not write the event log's indexes; will retry.")
            }
        }
    }

    fn write(&mut self, mut batch: Vec<Job>) {
        if batch.iter().all(|j| j.len() == 0) {
            return; // only Stop, or an empty import chunk: nothing to write
        }
        let result = self.commit(&mut batch);
        match result {
            Ok(seq) => {
                self.shared.last_seq.store(seq, Ordering::Release);
                self.shared.commits.fetch_add(1, Ordering::Relaxed);
                // The appenders first (a reader waits for its result), then whoever watches
                // the log (the outboxes): on two cores, the first woken runs first.
                for job in batch {
                    match job {
                        Job::Append(event, reply) => drop(reply.send(Ok(*event))),
                        Job::Many(events, reply) => {
                            drop(reply.send(Ok(events.last().map(|e| e.seq).unwrap_or(seq))))
                        }
                        Job::Import(job) => drop(job.reply.send(Ok(Imported {
                            appended: job.appended,
                            already: job.already,
                            last_seq: seq,
                        }))),
                        Job::Cursor | Job::Stop => {}
                    }
                }
                self.shared.durable.send_replace(seq);
            }
            Err(e) => {
                tracing::error!(error = %e, events = batch.iter().map(Job::len).sum::<usize>(), "Event log commit failed.");
                let reason = e.to_string();
                for job in batch {
                    let e = || StoreError::Unavailable(reason.clone());
                    match job {
                        Job::Append(_, reply) => drop(reply.send(Err(e()))),
                        Job::Many(_, reply) => drop(reply.send(Err(e()))),
                        Job::Import(job) => drop(job.reply.send(Err(e()))),
                        Job::Cursor | Job::Stop => {}
                    }
                }
            }
        }
    }

    /// Writes the batch in one transaction and commits; fills in seq, id, hashes. Returns the
    /// last durable seq.
    fn commit(&mut self, batch: &mut [Job]) -> Result<u64, StoreError> {
        let shared = self.shared.clone();
        let started = std::time::Instant::now();
        shared.db.write(|db| {
            let generation = shared.db.generation();
            if self.tip.is_none() || generation != self.generation {
                self.tip = Some(chain::tip(db)?);
                self.generation = generation;
            }
            let (mut seq, mut prev) = self.tip.clone().expect("tip was just read");
            let first = seq;
            let what = "write to the event log";
            let txn = begin(db)?;
            let mut entries = Vec::with_capacity(batch.iter().map(Job::len).sum());
            {
                let mut records = Records::open(&txn, &shared)?;
                let mut imported = None;
                for job in batch.iter_mut() {
                    let events: &mut [Event] = match job {
                        Job::Append(event, _) => std::slice::from_mut(&mut **event),
                        Job::Many(events, _) => events,
                        Job::Import(job) => {
                            if imported.is_none() {
                                imported =
                                    Some(txn.open_table(tables::IMPORTED).map_err(fail(what))?);
                            }
                            let keys = imported.as_mut().expect("just opened");
                            job.appended = 0;
                            job.already = 0;
                            for (key, event) in &mut job.records {
                                if keys.get(key.as_slice()).map_err(fail(what))?.is_some() {
                                    job.already += 1;
                                    continue;
                                }
                                seq += 1;
                                keys.insert(key.as_slice(), seq).map_err(fail(what))?;
                                entries.push(records.insert(seq, &prev, event)?);
                                prev.clone_from(&event.hash);
                                job.appended += 1;
                            }
                            &mut []
                        }
                        Job::Cursor | Job::Stop => &mut [],
                    };
                    for event in events {
                        seq += 1;
                        entries.push(records.insert(seq, &prev, event)?);
                        prev.clone_from(&event.hash);
                    }
                }
                records.set_head(seq, &prev)?;
            }
            let committing = std::time::Instant::now();
            txn.commit().map_err(fail(what))?;
            let (commit, write) = (committing.elapsed(), started.elapsed());
            let micros = |d: std::time::Duration| d.as_micros() as u64;
            shared
                .commit_micros
                .fetch_add(micros(commit), Ordering::Relaxed);
            shared
                .write_micros
                .fetch_add(micros(write), Ordering::Relaxed);
            if let Some(observe) = shared.observer.get() {
                observe(Committed {
                    records: seq - first,
                    commit,
                    write,
                });
            }
            self.tip = Some((seq, prev));
            self.unindexed.append(&mut entries);
            Ok(seq)
        })
    }
}

fn begin(db: &Database) -> Result<WriteTransaction, StoreError> {
    db.begin_write()
        .map_err(crate::errors::fail("start a write to the event log"))
}

/// The tables one append touches, open in a write transaction.
struct Records<'t> {
    shared: &'t Shared,
    events: redb::Table<'t, u64, &'static str>,
    seals: redb::Table<'t, u64, &'static [u8]>,
    counters: redb::Table<'t, &'static str, u64>,
    meta: redb::Table<'t, &'static str, &'static [u8]>,
}

impl<'t> Records<'t> {
    fn open(txn: &'t WriteTransaction, shared: &'t Shared) -> Result<Records<'t>, StoreError> {
        let what = "open the event log's tables";
        Ok(Records {
            shared,
            events: txn.open_table(tables::EVENTS).map_err(fail(what))?,
            seals: txn.open_table(tables::SEALS).map_err(fail(what))?,
            counters: txn.open_table(tables::COUNTERS).map_err(fail(what))?,
            meta: txn.open_table(tables::META).map_err(fail(what))?,
        })
    }

    /// Makes `event` record `seq` after `prev` and writes it with its seal; returns its index
    /// entry, written later.
    fn insert(
        &mut self,
        seq: u64,
        prev: &str,
        event: &mut Event,
    ) -> Result<index::Entry, StoreError> {
        let what = "write to the event log";
        let micros = check(event)?;
        // No phone number is ever stored, in any field or form (see `Event::mask_phones`).
        event.mask_phones();
        event.seq = seq;
        event.id = format!("{}:{seq}", self.shared.site);
        event.prev_hash = prev.to_string();
        event.hash = chain::hash(prev, &chain::canonical(event));
        let json = serde_json::to_string(&*event).expect("an Event always serialises");
        self.events.insert(seq, json.as_str()).map_err(fail(what))?;
        let seal = chain::seal(&self.shared.seal_key, seq, &event.hash);
        self.seals
            .insert(seq, seal.as_slice())
            .map_err(fail(what))?;
        if let (Kind::Command, Some(true), Some(issuer), Some(counter)) =
            (event.kind, event.ok, &event.issuer, event.counter)
        {
            let current = self
                .counters
                .get(issuer.as_str())
                .map_err(fail(what))?
                .map(|c| c.value());
            if current.is_none_or(|c| counter > c) {
                self.counters
                    .insert(issuer.as_str(), counter)
                    .map_err(fail(what))?;
            }
        }
        Ok(index::Entry::of(seq, micros, event))
    }

    fn set_head(&mut self, seq: u64, hash: &str) -> Result<(), StoreError> {
        let head = chain::head_bytes(&self.shared.seal_key, seq, hash);
        self.meta
            .insert(tables::HEAD, head.as_slice())
            .map_err(fail("write the event log's head"))?;
        Ok(())
    }
}
