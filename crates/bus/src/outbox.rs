//! The event outbox: every durable event is published at QoS 1 on `events/{kind}`, in `seq`
//! order, from a durable cursor in the store (`mqtt`). The cursor moves only past events the
//! broker acknowledged (PubAck), so a lost broker or a restart resumes where delivery really
//! stopped. Delivery is at-least-once: after a reconnect the unacknowledged tail is sent
//! again, and consumers de-duplicate by event `id`.
//!
//! No event can stall the outbox: an event whose record is larger than [`MAX_EVENT_BYTES`]
//! (the broker would refuse it), or one the broker drops the connection over
//! [`STALL_TRIES`] times in a row, is replaced on the wire by a marker with the same `id`,
//! `seq`, `at` and `kind` and `"skipped"` saying why (see [`marker`]); an error is logged, and
//! the events after it flow on. The record itself stays whole in the log. A record the store
//! cannot read at all (damaged on disk) goes out as an [`unreadable`] marker on
//! `events/unreadable`, with its `seq` and the error, and the events after it flow on too.
//!
//! The outbox has its own connection so that its packet ids map to events one to one, and it
//! starts each connection afresh: rumqttc's own in-flight queue is not trusted (with a clean
//! session it drops unacknowledged publishes on reconnect).
//!
//! The uplink's outbox also takes the office's `replay {from_seq}` commands
//! ([`Gateway::replay_requests`]): when events from `from_seq` on were already sent, it moves
//! its cursor back to `from_seq - 1` (never past an unacknowledged event) and starts a fresh
//! connection from there at once. The estate broker's outbox ignores them.

use crate::client::drive::Role;
use crate::client::{Backoff, Endpoint};
use crate::topics::Topics;
use gatehouse_runtime::{Gateway, ReplayRequest};
use rumqttc::{AsyncClient, Event, Outgoing, Packet, QoS};
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

/// The store cursor's name: the estate broker's outbox.
pub const CURSOR: &str = "mqtt";
/// The uplink's outbox keeps its own cursor: the district may be hours behind the estate.
pub const UPLINK_CURSOR: &str = "uplink";

/// The store cursor of an outbox on `role`'s connection.
fn cursor(role: Role) -> &'static str {
    match role {
        Role::Estate => CURSOR,
        Role::Uplink => UPLINK_CURSOR,
    }
}

/// Tells the gateway how far `role`'s broker has acknowledged (metrics: outbox lag).
fn report(gateway: &Gateway, role: Role, acked: u64) {
    match role {
        Role::Estate => gateway.set_published(acked),
        Role::Uplink => gateway.set_uplinked(acked),
    }
}
/// Events sent but not yet acknowledged, at most.
const WINDOW: u64 = 64;
/// Events read from the store at a time.
const BATCH: usize = 256;
/// The cursor is written after this many acknowledged events, or after [`SAVE_EVERY`]: one
/// fsync per event would compete with the log's own. A crash re-sends at most this tail.
const SAVE_AFTER: u64 = 256;
const SAVE_EVERY: Duration = Duration::from_millis(200);

/// Largest event record published as is: below the 64 KiB payload limit of the embedded
/// broker and of common broker defaults, with room for the topic and packet header.
pub const MAX_EVENT_BYTES: usize = 60 * 1024;
/// Connections lost in a row with the same first unacknowledged event before it is skipped.
pub const STALL_TRIES: u32 = 3;

/// The stand-in published for an event that cannot be: same `id`, `seq`, `at` and `kind`,
/// `"skipped"` with the reason (`too_large`, `refused_by_broker`) and the record's size.
/// Consumers see no gap in `seq` and can fetch the record from the gateway's log.
pub fn marker(event: &gatehouse_core::Event, reason: &str, bytes: usize) -> Vec<u8> {
    serde_json::json!({
        "id": event.id,
        "seq": event.seq,
        "at": event.at,
        "kind": event.kind.as_str(),
        "skipped": reason,
        "bytes": bytes,
    })
    .to_string()
    .into_bytes()
}

/// The stand-in published on `events/unreadable` for record `seq`, which the store cannot read
/// (damaged on disk): `id`, `seq`, `"skipped": "unreadable"` and the store's error. Consumers
/// see no gap in `seq`; `gatehouse log verify` names the damaged range and `gatehouse log
/// salvage` copies what is readable.
pub fn unreadable(site: &str, seq: u64, error: &str) -> Vec<u8> {
    serde_json::json!({
        "id": format!("{site}:{seq}"),
        "seq": seq,
        "kind": "unreadable",
        "skipped": "unreadable",
        "error": error,
    })
    .to_string()
    .into_bytes()
}

/// Whether a read failed on the record's own bytes (damage), not on the store as a whole.
fn damaged(e: &gatehouse_store::StoreError) -> bool {
    matches!(
        e,
        gatehouse_store::StoreError::Damaged { .. } | gatehouse_store::StoreError::Corrupt { .. }
    )
}

/// What goes on the wire for `event`: its record, or a [`marker`] when it is too large or
/// is the one the broker keeps refusing (`stalled`).
pub fn wire(event: &gatehouse_core::Event, stalled: Option<u64>) -> Vec<u8> {
    let payload = serde_json::to_vec(event).unwrap_or_default();
    if payload.len() > MAX_EVENT_BYTES || payload.is_empty() {
        tracing::error!(
            seq = event.seq,
            bytes = payload.len(),
            "Event too large for the broker; published as a 'skipped' marker. The record is whole in the log (gatehouse log export)."
        );
        return marker(event, "too_large", payload.len());
    }
    if stalled == Some(event.seq) {
        tracing::error!(
            seq = event.seq,
            bytes = payload.len(),
            "The broker dropped the connection over this event {STALL_TRIES} times; published as a 'skipped' marker. Check the broker's payload limit; the record is whole in the log."
        );
        return marker(event, "refused_by_broker", payload.len());
    }
    payload
}

/// Which event the broker keeps refusing: the first unacknowledged seq of each lost
/// connection, and how many connections in a row were lost on it.
#[derive(Default)]
struct Stall {
    seq: u64,
    tries: u32,
}

impl Stall {
    /// Called when a connection ends with `first_unacked` outstanding (None: nothing was).
    /// Returns the seq to skip on the next connection, once it has failed [`STALL_TRIES`] times.
    fn lost(&mut self, first_unacked: Option<u64>) -> Option<u64> {
        match first_unacked {
            Some(seq) if seq == self.seq => self.tries += 1,
            Some(seq) => {
                self.seq = seq;
                self.tries = 1;
            }
            None => self.tries = 0,
        }
        (self.tries >= STALL_TRIES).then_some(self.seq)
    }
}

/// Which events are out and which came back.
struct Progress {
    /// Highest seq acknowledged with everything before it.
    acked: u64,
    /// Highest seq handed to the client.
    sent: u64,
    /// Seqs handed to the client whose packet id is not known yet, in order.
    awaiting_pkid: VecDeque<u64>,
    in_flight: HashMap<u16, u64>,
    /// Acknowledged out of order.
    acked_ahead: BTreeSet<u64>,
    /// What the store's cursor holds.
    saved: u64,
}

impl Progress {
    fn new(cursor: u64) -> Progress {
        Progress {
            acked: cursor,
            sent: cursor,
            awaiting_pkid: VecDeque::new(),
            in_flight: HashMap::new(),
            acked_ahead: BTreeSet::new(),
            saved: cursor,
        }
    }

    fn on_packet_id(&mut self, pkid: u16) {
        if let Some(seq) = self.awaiting_pkid.pop_front() {
            self.in_flight.insert(pkid, seq);
        }
    }

    fn on_puback(&mut self, pkid: u16) {
        let Some(seq) = self.in_flight.remove(&pkid) else {
            return;
        };
        self.acked_ahead.insert(seq);
        while self.acked_ahead.remove(&(self.acked + 1)) {
            self.acked += 1;
        }
    }
}

/// How a connection ended.
struct Ended {
    /// The cursor: where the next connection starts.
    saved: u64,
    /// The first event sent but not acknowledged, when the broker was lost.
    first_unacked: Option<u64>,
    /// A `replay` rewound the cursor: the next connection starts at once, on the same node.
    rewound: bool,
}

/// Where an outbox that has `acked` and `sent` restarts for a replay from `from_seq`: the new
/// cursor, or None when nothing from `from_seq` on was sent yet (it goes out in turn anyway;
/// this also covers a `from_seq` beyond the log's end). Never past an unacknowledged event.
fn rewind_to(from_seq: u64, acked: u64, sent: u64) -> Option<u64> {
    let from = from_seq.max(1);
    (from <= sent).then(|| (from - 1).min(acked))
}

/// The next `replay` request's `from_seq`; pending for ever without a receiver (the estate
/// broker's outbox) or once the gateway is gone.
async fn replay_request(
    replays: &mut Option<tokio::sync::watch::Receiver<Option<ReplayRequest>>>,
) -> u64 {
    if let Some(rx) = replays {
        while rx.changed().await.is_ok() {
            if let Some(request) = *rx.borrow_and_update() {
                return request.from_seq;
            }
        }
        *replays = None;
    }
    std::future::pending().await
}

/// Publishes events until shutdown, reconnecting with backoff; with several endpoints (the
/// uplink's district nodes), each new connection goes to the next one in turn.
pub(crate) async fn run(
    endpoints: Vec<Endpoint>,
    role: Role,
    client_id: String,
    topics: Arc<Topics>,
    gateway: Gateway,
    shutdown: CancellationToken,
) {
    let mut backoff = Backoff::default();
    let mut saved = match gateway.cursor(cursor(role)).get() {
        Ok(c) => c,
        Err(e) => {
            warn!(error = %e, "Could not read the outbox cursor; events are published from the start of the log.");
            0
        }
    };
    report(&gateway, role, saved);
    // Subscribed before the first await: a replay applied from here on is seen.
    let mut replays = (role == Role::Uplink).then(|| gateway.replay_requests());
    let mut stall = Stall::default();
    let mut skip = None;
    let mut attempt = 0usize;
    while !shutdown.is_cancelled() {
        let progress = Progress::new(saved);
        let endpoint = &endpoints[attempt % endpoints.len()];
        let (client, mut eventloop) = endpoint.connect(&client_id, None);
        let ended = connection(
            &client,
            &mut eventloop,
            role,
            progress,
            &topics,
            &gateway,
            &shutdown,
            &mut backoff,
            skip,
            &mut replays,
        )
        .await;
        saved = ended.saved;
        if ended.rewound {
            report(&gateway, role, saved);
            continue;
        }
        attempt = attempt.wrapping_add(1);
        skip = stall.lost(ended.first_unacked);
        if shutdown.is_cancelled() {
            break;
        }
        let delay = backoff.next_delay();
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(delay) => {}
        }
    }
}

/// One connection's life: returns the saved cursor when it ends, and the first event that
/// was sent but not acknowledged, if any. `skip` is published as a marker. A `replay`
/// request (`replays`, the uplink's) that rewinds the cursor ends it.
#[allow(clippy::too_many_arguments)]
async fn connection(
    client: &AsyncClient,
    eventloop: &mut rumqttc::EventLoop,
    role: Role,
    mut progress: Progress,
    topics: &Topics,
    gateway: &Gateway,
    shutdown: &CancellationToken,
    backoff: &mut Backoff,
    skip: Option<u64>,
    replays: &mut Option<tokio::sync::watch::Receiver<Option<ReplayRequest>>>,
) -> Ended {
    let ended = |saved, first_unacked| Ended {
        saved,
        first_unacked,
        rewound: false,
    };
    let store = gateway.store().clone();
    let position = gateway.cursor(cursor(role));
    let mut latest = store.subscribe();
    let mut connected = false;
    let mut queue: VecDeque<gatehouse_core::Event> = VecDeque::new();
    let mut save_timer = tokio::time::interval(SAVE_EVERY);
    save_timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        if connected {
            // Keep the window full, from the store, in seq order.
            while progress.sent - progress.acked < WINDOW {
                if queue.is_empty() {
                    let head = *latest.borrow_and_update();
                    if head <= progress.sent {
                        break;
                    }
                    let next = progress.sent + 1;
                    match read(&store, next, BATCH).await {
                        Ok(events) if !events.is_empty() => queue.extend(events),
                        Ok(_) => break,
                        // A damaged record in the batch: read the next one alone, and if it
                        // is the damaged one, publish its marker and go on past it.
                        Err(e) if damaged(&e) => match read(&store, next, 1).await {
                            Ok(events) if !events.is_empty() => queue.extend(events),
                            Ok(_) => break,
                            Err(e) => {
                                let error = e.to_string();
                                tracing::error!(seq = next, error = %error, "A record of the log is unreadable; published as an 'unreadable' marker so that the events after it flow on. Run `gatehouse log verify`, then `gatehouse log salvage` or restore a backup.");
                                let payload = unreadable(gateway.site_id(), next, &error);
                                if client
                                    .try_publish(
                                        topics.event("unreadable"),
                                        QoS::AtLeastOnce,
                                        false,
                                        payload,
                                    )
                                    .is_err()
                                {
                                    break;
                                }
                                progress.sent = next;
                                progress.awaiting_pkid.push_back(next);
                                continue;
                            }
                        },
                        Err(e) => {
                            warn!(error = %e, "Could not read events for the outbox; retrying.");
                            break;
                        }
                    }
                }
                let Some(event) = queue.pop_front() else {
                    break;
                };
                if event.seq <= progress.sent {
                    continue;
                }
                let payload = wire(&event, skip);
                if client
                    .try_publish(
                        topics.event(event.kind.as_str()),
                        QoS::AtLeastOnce,
                        false,
                        payload,
                    )
                    .is_err()
                {
                    queue.push_front(event);
                    break;
                }
                progress.sent = event.seq;
                progress.awaiting_pkid.push_back(event.seq);
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => {
                save(&position, &mut progress);
                let _ = client.try_disconnect();
                return ended(progress.saved, None);
            }
            changed = latest.changed(), if connected => {
                if changed.is_err() {
                    return ended(progress.saved, None);
                }
            }
            from_seq = replay_request(replays) => {
                let Some(cursor) = rewind_to(from_seq, progress.acked, progress.sent) else {
                    info!(from_seq, sent = progress.sent, "Replay asked for events not sent yet; they go out in turn.");
                    continue;
                };
                // The rest goes out again on a fresh connection: this one's packet ids and
                // rumqttc's queue would mix old publishes with new ones.
                rewind(&position, cursor);
                info!(from_seq, cursor, "Replay: the outbox publishes the log again from the seq after its cursor.");
                if connected {
                    disconnect(client, eventloop).await;
                }
                return Ended { saved: cursor, first_unacked: None, rewound: true };
            }
            // Only while connected: rumqttc's `poll` is not cancel-safe while it connects (a
            // dropped poll abandons the attempt and the next one dials again), so a timer
            // firing then would restart the connection every 200 ms, and a connection slower
            // than that (TLS over a WAN line) would never be made. Nothing is acknowledged
            // before the ConnAck, so there is nothing to save meanwhile.
            _ = save_timer.tick(), if connected => save(&position, &mut progress),
            event = eventloop.poll() => match event {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    connected = true;
                    backoff.reset();
                    info!(from_seq = progress.acked + 1, "Event outbox connected; publishing.");
                }
                Ok(Event::Outgoing(Outgoing::Publish(pkid))) => progress.on_packet_id(pkid),
                Ok(Event::Incoming(Packet::PubAck(ack))) => {
                    progress.on_puback(ack.pkid);
                    report(gateway, role, progress.acked);
                    if progress.acked - progress.saved >= SAVE_AFTER {
                        save(&position, &mut progress);
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    if connected {
                        warn!(error = %e, unacked = progress.sent - progress.acked, "Event outbox lost the broker; will resume from the last acknowledged event.");
                    } else {
                        debug!(error = %e, "Event outbox could not connect.");
                    }
                    save(&position, &mut progress);
                    let first_unacked = (progress.sent > progress.acked).then_some(progress.acked + 1);
                    return ended(progress.saved, first_unacked);
                }
            }
        }
    }
}

async fn read(
    store: &gatehouse_store::StoreReader,
    from: u64,
    limit: usize,
) -> Result<Vec<gatehouse_core::Event>, gatehouse_store::StoreError> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || store.events(from, limit))
        .await
        .unwrap_or_else(|e| {
            Err(gatehouse_store::StoreError::InvalidEvent(format!(
                "outbox read panicked: {e}"
            )))
        })
}

/// Moves the cursor back to `seq` (a replay). When it cannot be written the replay still
/// happens on this run (the next connection starts from `seq`); a restart would not repeat it.
fn rewind(position: &gatehouse_store::Cursor, seq: u64) {
    if let Err(e) = position.set(seq) {
        warn!(error = %e, "Could not save the rewound outbox cursor; the replay goes ahead.")
    }
}

/// Says goodbye to the broker before a replay's fresh connection (same client id), waiting
/// briefly for the packet to go out.
async fn disconnect(client: &AsyncClient, eventloop: &mut rumqttc::EventLoop) {
    if client.try_disconnect().is_err() {
        return;
    }
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        loop {
            match eventloop.poll().await {
                Ok(Event::Outgoing(Outgoing::Disconnect)) | Err(_) => break,
                Ok(_) => {}
            }
        }
    })
    .await;
}

/// Moves the store's cursor if it moved (no I/O here: the log writer writes it with its next
/// index write, see `gatehouse_store::Store::set_cursor`).
fn save(position: &gatehouse_store::Cursor, progress: &mut Progress) {
    if progress.acked <= progress.saved {
        return;
    }
    match position.set(progress.acked) {
        Ok(()) => progress.saved = progress.acked,
        Err(e) => {
            warn!(error = %e, "Could not save the outbox cursor; some events may be published twice.")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cursor_moves_only_over_contiguous_acknowledgements() {
        let mut p = Progress::new(10);
        for seq in 11..=13 {
            p.sent = seq;
            p.awaiting_pkid.push_back(seq);
        }
        p.on_packet_id(1);
        p.on_packet_id(2);
        p.on_packet_id(3);
        p.on_puback(2);
        assert_eq!(
            p.acked, 10,
            "12 acknowledged before 11 does not move the cursor"
        );
        p.on_puback(1);
        assert_eq!(p.acked, 12);
        p.on_puback(7);
        assert_eq!(p.acked, 12, "an unknown packet id changes nothing");
        p.on_puback(3);
        assert_eq!(p.acked, 13);
    }

    #[test]
    fn a_replay_rewinds_only_over_what_was_sent_and_never_past_an_unacknowledged_event() {
        // Everything up to 10 acknowledged.
        assert_eq!(rewind_to(3, 10, 10), Some(2));
        assert_eq!(rewind_to(1, 10, 10), Some(0));
        assert_eq!(rewind_to(10, 10, 10), Some(9));
        // Not sent yet (or beyond the log): it goes out in turn, nothing to rewind.
        assert_eq!(rewind_to(11, 10, 10), None);
        assert_eq!(rewind_to(u64::MAX, 10, 10), None);
        // 6..=10 in flight: the cursor stays at 5 whatever was asked for.
        assert_eq!(rewind_to(8, 5, 10), Some(5));
        assert_eq!(rewind_to(3, 5, 10), Some(2));
    }

    #[test]
    fn an_event_the_broker_keeps_refusing_is_skipped() {
        let mut s = Stall::default();
        assert_eq!(s.lost(Some(7)), None);
        assert_eq!(s.lost(Some(7)), None);
        assert_eq!(s.lost(Some(7)), Some(7), "third connection lost on seq 7");
        assert_eq!(s.lost(Some(9)), None, "a new seq starts over");
        assert_eq!(s.lost(None), None);
    }

    #[test]
    fn a_too_large_event_goes_out_as_a_marker() {
        let mut e = gatehouse_core::Event::new(
            gatehouse_core::Kind::RejectedInput,
            "2026-11-22T08:00:00.000+08:00",
        );
        e.id = "s:5".into();
        e.seq = 5;
        e.detail = Some("x".repeat(MAX_EVENT_BYTES));
        let m: serde_json::Value = serde_json::from_slice(&wire(&e, None)).unwrap();
        assert_eq!(
            (m["id"].as_str(), m["seq"].as_u64(), m["skipped"].as_str()),
            (Some("s:5"), Some(5), Some("too_large"))
        );
        e.detail = None;
        let whole: serde_json::Value = serde_json::from_slice(&wire(&e, None)).unwrap();
        assert!(whole.get("skipped").is_none());
        let stalled: serde_json::Value = serde_json::from_slice(&wire(&e, Some(5))).unwrap();
        assert_eq!(stalled["skipped"], "refused_by_broker");
    }
}
