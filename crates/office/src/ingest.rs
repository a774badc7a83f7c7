//! The office's consumer: fetches batches from the event stream with a durable pull consumer,
//! checks each estate's chain, writes the batch in one PostgreSQL transaction and only then
//! acknowledges its messages. A crash, a lost database or a restart re-delivers what was not
//! acknowledged; what is already stored is recognised by the chain's head and the table's key.
//!
//! Estates come from the stream's subjects (`gatehouse.{site}.events.{kind}`), so the map of
//! chains is fed from outside: it holds at most [`MAX_ESTATES`]; events of further estates
//! are refused (logged, acknowledged, not stored) until the office is given room.

use crate::chain::{Arrived, Chain, Verdict};
use crate::db::{self, Row};
use async_nats::jetstream::{self, AckKind, Message, consumer::PullConsumer};
use futures::StreamExt;
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use tokio_postgres::Client;
use tracing::{error, info, warn};

/// Messages fetched at a time.
pub const BATCH: usize = 500;
/// How long a fetch waits for its first message.
const FETCH_WAIT: Duration = Duration::from_secs(1);
/// Estates the office keeps chains for (a district has a few hundred compounds).
pub const MAX_ESTATES: usize = 10_000;

/// One message, read.
struct Parsed {
    site: String,
    seq: u64,
    at: String,
    kind: String,
    body: String,
    event: Option<gatehouse_core::Event>,
}

/// Why a message cannot be stored (it is acknowledged all the same: it would never parse).
fn parse(message: &Message) -> Result<Parsed, String> {
    let subject = message.subject.as_str();
    let mut tokens = subject.split('.');
    let site = match (tokens.next(), tokens.next(), tokens.next()) {
        (Some("gatehouse"), Some(site), Some("events")) => site.to_string(),
        _ => {
            return Err(format!(
                "subject {subject} is not gatehouse.SITE.events.KIND"
            ));
        }
    };
    let body = std::str::from_utf8(&message.payload)
        .map_err(|_| "the payload is not UTF-8".to_string())?;
    let value: serde_json::Value =
        serde_json::from_str(body).map_err(|e| format!("the payload is not JSON ({e})"))?;
    let seq = value["seq"]
        .as_u64()
        .filter(|&s| s > 0)
        .ok_or("the payload has no seq")?;
    if value["id"] != format!("{site}:{seq}") {
        return Err(format!("id {} does not name {site}:{seq}", value["id"]));
    }
    let kind = value["kind"].as_str().unwrap_or("unknown").to_string();
    let marker = value.get("skipped").is_some();
    let event = if marker {
        None
    } else {
        Some(
            serde_json::from_value::<gatehouse_core::Event>(value.clone())
                .map_err(|e| format!("not an event record ({e})"))?,
        )
    };
    // A marker of an unreadable record has no time: it is filed at its arrival.
    let at = value["at"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| jiff::Timestamp::now().to_string());
    if at.parse::<jiff::Timestamp>().is_err() {
        return Err(format!("`at` {at:?} is not an RFC 3339 time"));
    }
    Ok(Parsed {
        site,
        seq,
        at,
        kind,
        body: body.to_string(),
        event,
    })
}

/// The consumer's state between batches.
pub struct Ingest {
    consumer: PullConsumer,
    client: Client,
    chains: HashMap<String, Chain>,
    partitions: HashSet<String>,
    /// Events stored since start (for the log line and tests).
    pub stored: u64,
}

impl Ingest {
    pub fn new(consumer: PullConsumer, client: Client) -> Ingest {
        Ingest {
            consumer,
            client,
            chains: HashMap::new(),
            partitions: HashSet::new(),
            stored: 0,
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Connects again when the connection has dropped (PostgreSQL restarted): the batch that
    /// failed was not acknowledged and comes again. `Ok(false)` when it was not needed.
    pub async fn reconnect_if_closed(&mut self, url: &str) -> Result<bool, db::DbError> {
        if !self.client.is_closed() {
            return Ok(false);
        }
        self.client = db::connect(url).await?;
        // What the database holds is read again, as after a failed batch.
        self.chains.clear();
        Ok(true)
    }

    /// Fetches and handles one batch; returns how many messages it held.
    pub async fn batch(&mut self) -> Result<usize, crate::OfficeError> {
        let mut fetched = self
            .consumer
            .fetch()
            .max_messages(BATCH)
            .expires(FETCH_WAIT)
            .messages()
            .await
            .map_err(|e| crate::OfficeError::Nats(e.to_string()))?;
        let mut messages = Vec::new();
        while let Some(message) = fetched.next().await {
            match message {
                Ok(m) => messages.push(m),
                Err(e) => {
                    warn!(error = %e, "A message of the event stream could not be fetched.");
                    break;
                }
            }
        }
        if messages.is_empty() {
            return Ok(0);
        }
        let n = messages.len();
        match self.store(&messages).await {
            Ok(()) => {
                for m in &messages {
                    if let Err(e) = m.ack().await {
                        warn!(error = %e, "Could not acknowledge an event; it will come again and be recognised.");
                    }
                }
            }
            Err(e) => {
                error!(error = %e, "Could not store a batch of events; they will be fetched again.");
                // What the database did not take is not known here: read it again.
                self.chains.clear();
                for m in &messages {
                    let _ = m.ack_with(AckKind::Nak(Some(Duration::from_secs(1)))).await;
                }
                return Err(e);
            }
        }
        Ok(n)
    }

    /// Checks the chains and writes the batch in one transaction.
    async fn store(&mut self, messages: &[Message]) -> Result<(), crate::OfficeError> {
        let mut parsed: Vec<Parsed> = Vec::with_capacity(messages.len());
        for m in messages {
            match parse(m) {
                Ok(p) => parsed.push(p),
                Err(why) => {
                    warn!(subject = %m.subject, "A message on the event stream is not an event and is dropped: {why}.")
                }
            }
        }
        parsed.sort_by(|a, b| (&a.site, a.seq).cmp(&(&b.site, b.seq)));
        // Working copies: the chains change only if the transaction commits.
        let mut working: HashMap<String, Chain> = HashMap::new();
        for p in &parsed {
            if working.contains_key(&p.site) {
                continue;
            }
            let chain = match self.chains.get(&p.site) {
                Some(c) => c.clone(),
                None => {
                    if self.chains.len() + working.len() >= MAX_ESTATES {
                        warn!(site = %p.site, "More estates than the office keeps ({MAX_ESTATES}); this one's events are not stored.");
                        continue;
                    }
                    db::chain(&self.client, &p.site).await?
                }
            };
            working.insert(p.site.clone(), chain);
        }
        let mut rows = Vec::new();
        let mut applied = Vec::new();
        let mut last_at: HashMap<&str, &str> = HashMap::new();
        for p in &parsed {
            let Some(chain) = working.get_mut(&p.site) else {
                continue;
            };
            let verdict = chain.take(Arrived {
                seq: p.seq,
                event: p.event.clone(),
            });
            if verdict == Verdict::New {
                rows.push(Row {
                    site: &p.site,
                    seq: p.seq,
                    at: &p.at,
                    kind: &p.kind,
                    body: &p.body,
                });
                last_at.insert(&p.site, &p.at);
                if let Some(id) = applied_command(p.event.as_ref()) {
                    applied.push((p.site.clone(), id.to_string()));
                }
            }
        }
        for row in &rows {
            let month = row.at.get(..7).unwrap_or_default().to_string();
            if !self.partitions.contains(&month) {
                db::partition_for(&self.client, row.at).await?;
                self.partitions.insert(month);
            }
        }
        let tx = self.client.transaction().await.map_err(db::DbError::from)?;
        let inserted = db::insert(&tx, &rows).await?;
        let mut problems_found = Vec::new();
        for (site, chain) in working.iter_mut() {
            let problems = chain.take_problems();
            db::save_chain(
                &tx,
                site,
                chain,
                &problems,
                last_at.get(site.as_str()).copied(),
            )
            .await?;
            problems_found.extend(problems.into_iter().map(|p| (site.clone(), p)));
        }
        tx.commit().await.map_err(db::DbError::from)?;
        // District orders the estates' logs show applied (their answers may have been lost).
        if let Err(e) = crate::orders::confirm(&self.client, &applied).await {
            warn!(error = %e, "Could not mark district orders applied from the estates' logs; their answers still count.");
        }
        for (site, p) in problems_found {
            error!(site = %site, seq = p.seq, "An estate's hash chain is broken: record {} {}.", p.seq, p.what);
        }
        self.stored += inserted;
        self.chains.extend(working);
        Ok(())
    }
}

/// The id of a signed district order that this `command` event shows applied.
fn applied_command(event: Option<&gatehouse_core::Event>) -> Option<&str> {
    let e = event?;
    (e.kind == gatehouse_core::event::Kind::Command && e.ok == Some(true))
        .then_some(e.command.as_deref())
        .flatten()
        .filter(|id| id.starts_with("district-"))
}

/// The stream (created when missing) and the office's durable consumer on it.
pub async fn consumer(
    js: &jetstream::Context,
    nats: &crate::config::Nats,
) -> Result<PullConsumer, crate::OfficeError> {
    let nats_error = |e: &dyn std::fmt::Display| crate::OfficeError::Nats(e.to_string());
    let stream = js
        .get_or_create_stream(jetstream::stream::Config {
            name: nats.stream.clone(),
            subjects: vec!["gatehouse.*.events.>".into()],
            storage: jetstream::stream::StorageType::File,
            num_replicas: nats.replicas,
            duplicate_window: Duration::from_secs(120),
            ..Default::default()
        })
        .await
        .map_err(|e| nats_error(&e))?;
    let consumer = stream
        .get_or_create_consumer(
            &nats.consumer,
            jetstream::consumer::pull::Config {
                durable_name: Some(nats.consumer.clone()),
                ack_policy: jetstream::consumer::AckPolicy::Explicit,
                ack_wait: Duration::from_secs(30),
                max_ack_pending: 20_000,
                ..Default::default()
            },
        )
        .await
        .map_err(|e| nats_error(&e))?;
    info!(stream = %nats.stream, consumer = %nats.consumer, "Consuming the district's event stream.");
    Ok(consumer)
}
