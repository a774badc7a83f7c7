//! Asking an estate to publish its events again from a seq (`replay`), when its chain has a
//! gap: a signed command on `gatehouse.{site}.commands`, the NATS subject of the estate's
//! MQTT `commands` topic. Its counter is taken from PostgreSQL (rising, at least the time in
//! Unix milliseconds) before it leaves. A gap is asked for again every [`AGAIN_S`] seconds
//! until it is filled; the estate may be offline, and a command expires after five minutes.
//! A gap is also what an estate's reported `head` shows beyond its stored events once they
//! have been quiet for [`QUIET_S`] seconds ([`crate::db::tail_gaps`]): events lost at the end,
//! with nothing after them to show the hole.

use crate::db;
use ed25519_dalek::SigningKey;
use tokio_postgres::Client;
use tracing::{info, warn};

/// Seconds between two requests for the same gap.
pub const AGAIN_S: i64 = 30;

/// An estate whose reported head is beyond its stored events, with no batch of its events
/// for this long, is asked for the rest.
pub const QUIET_S: i64 = 10;

/// The signed envelope of a `replay` command for `site` from `from_seq`.
pub fn command(
    issuer: &str,
    key: &SigningKey,
    counter: u64,
    site: &str,
    from_seq: u64,
    now: jiff::Timestamp,
) -> String {
    let body = serde_json::json!({
        "id": format!("replay-{site}-{from_seq}-{counter}"),
        "issuer": issuer,
        "counter": counter,
        "issued_at": now.to_string(),
        "expires_at": (now + jiff::SignedDuration::from_mins(5)).to_string(),
        "site": site,
        "action": "replay",
        "from_seq": from_seq,
    });
    gatehouse_core::command::envelope(&body.to_string(), key)
}

/// Sends a `replay` for every gap that is due; returns how many were sent.
pub async fn send_due(
    client: &Client,
    nats: &async_nats::Client,
    issuer: &str,
    key: &SigningKey,
) -> Result<usize, crate::OfficeError> {
    let short = db::tail_gaps(client, QUIET_S).await?;
    if short > 0 {
        info!(
            estates = short,
            "Estates' reported heads go beyond their stored events: asking for the rest."
        );
    }
    let due = db::gaps_due(client, AGAIN_S).await?;
    for (site, from_seq) in &due {
        let now = jiff::Timestamp::now();
        let counter = db::next_counter(client, issuer, now.as_millisecond()).await?;
        let envelope = command(issuer, key, counter, site, *from_seq, now);
        match nats
            .publish(format!("gatehouse.{site}.commands"), envelope.into())
            .await
        {
            Ok(()) => {
                info!(site = %site, from_seq, "Asked the estate to publish its events again from a gap.");
                db::asked(client, site, *from_seq).await?;
            }
            Err(e) => {
                warn!(site = %site, error = %e, "Could not ask for a replay; will try again.")
            }
        }
    }
    Ok(due.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_is_signed_for_the_site_with_its_seq() {
        let key = SigningKey::from_bytes(&[9; 32]);
        let now: jiff::Timestamp = "2026-12-04T08:00:00Z".parse().unwrap();
        let text = command("district", &key, 42, "north-estate", 17, now);
        let envelope: serde_json::Value = serde_json::from_str(&text).unwrap();
        let body: serde_json::Value =
            serde_json::from_str(envelope["body"].as_str().unwrap()).unwrap();
        assert_eq!(body["action"], "replay");
        assert_eq!(body["from_seq"], 17);
        assert_eq!(body["site"], "north-estate");
        assert_eq!(body["counter"], 42);
        assert_eq!(
            envelope["sig"].as_str().unwrap(),
            gatehouse_core::command::sign(envelope["body"].as_str().unwrap(), &key)
        );
    }
}
