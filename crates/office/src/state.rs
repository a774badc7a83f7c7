//! Each estate's state as its uplink publishes it: `status` (online, or the last will's
//! offline), the `lockdown` table, the `occupancy` head counts and the `head` of its log (the
//! seq of its last durable event, every 10 s), kept in `estate_state` with when each arrived,
//! so that the district sees how old what it shows is, and [`crate::replay`] sees an
//! estate's events end short.
//!
//! Read from plain NATS subscriptions on `gatehouse.*.status`, `gatehouse.*.lockdown` and
//! `gatehouse.*.occupancy` (the MQTT topics as NATS subjects). The uplink republishes all of
//! its retained state after every connection; an office started later sees an estate's state
//! at its next change or reconnection. One row per estate and topic: bounded by the estates.

use crate::db;
use futures::StreamExt;
use tokio_util::sync::CancellationToken;
use tracing::warn;

/// The state topics kept.
pub const TOPICS: &[&str] = &["status", "lockdown", "occupancy", "head"];

/// Site and topic of a state subject (`gatehouse.{site}.{topic}`).
pub fn parse_subject(subject: &str) -> Option<(&str, &str)> {
    let mut tokens = subject.split('.');
    match (tokens.next(), tokens.next(), tokens.next(), tokens.next()) {
        (Some("gatehouse"), Some(site), Some(topic), None) if TOPICS.contains(&topic) => {
            Some((site, topic))
        }
        _ => None,
    }
}

/// The subscriptions to every estate's state subjects.
pub struct Subscriptions(Vec<async_nats::Subscriber>);

/// Subscribes (before the office consumes anything, so no state published from then on is
/// missed).
pub async fn subscribe(nats: &async_nats::Client) -> Result<Subscriptions, crate::OfficeError> {
    let mut subscriptions = Vec::new();
    for topic in TOPICS {
        let subscriber = nats
            .subscribe(format!("gatehouse.*.{topic}"))
            .await
            .map_err(|e| crate::OfficeError::Nats(e.to_string()))?;
        subscriptions.push(subscriber);
    }
    // The server has the subscriptions once a round trip after them has come back.
    nats.flush()
        .await
        .map_err(|e| crate::OfficeError::Nats(e.to_string()))?;
    Ok(Subscriptions(subscriptions))
}

/// Keeps the state until `shutdown`, on a database connection of its own (a slow batch of
/// events never holds a state update back).
pub async fn run(subscriptions: Subscriptions, postgres: String, shutdown: CancellationToken) {
    let db = db::Reconnecting::new(&postgres);
    let mut messages = futures::stream::select_all(subscriptions.0);
    loop {
        let message = tokio::select! {
            () = shutdown.cancelled() => break,
            m = messages.next() => match m { Some(m) => m, None => break },
        };
        let Some((site, topic)) = parse_subject(message.subject.as_str()) else {
            continue;
        };
        let payload = String::from_utf8_lossy(&message.payload);
        let kept = match db.get().await {
            Ok(client) => db::state(&client, site, topic, &payload).await,
            Err(e) => Err(e),
        };
        if let Err(e) = kept {
            warn!(site, topic, error = %e, "Could not keep an estate's state.");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_state_subjects_are_kept() {
        assert_eq!(
            parse_subject("gatehouse.north-estate.status"),
            Some(("north-estate", "status"))
        );
        assert_eq!(
            parse_subject("gatehouse.north-estate.occupancy"),
            Some(("north-estate", "occupancy"))
        );
        assert_eq!(parse_subject("gatehouse.north-estate.events.access"), None);
        assert_eq!(parse_subject("gatehouse.north-estate.commands"), None);
        assert_eq!(parse_subject("other.north-estate.status"), None);
    }
}
