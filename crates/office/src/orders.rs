//! District orders: a lockdown or a lift over chosen estates, one signed command per estate,
//! each re-sent until its estate answers (docs/district.md#orders).
//!
//! An order is kept in PostgreSQL (`orders`, and one `order_sites` row per estate with the
//! signed envelope) before anything is published, so an office restart goes on re-sending.
//! An estate's answer comes three ways, and any one settles its row:
//! - its `commands/result` on the district broker (the fast way);
//! - the `command` event of the application in its event stream (the durable way: a result
//!   lost while the office was down is found here);
//! - for `counter_replayed` (the estate took a higher counter from this issuer before this
//!   one), the office looks for that event; if the command was not applied it is signed
//!   again with a new counter, at most [`MAX_SIGNINGS`] times.
//!
//! An estate that does not answer is sent the command again every [`AGAIN`] while it is
//! valid, then every [`AGAIN_EXPIRED`] for a day after, and at once when its `status` says
//! `online` again, so that an estate coming back late
//! answers `expired` itself; after that day the row is closed as `no_answer`.

use crate::db::DbError;
use ed25519_dalek::SigningKey;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tokio_postgres::Client;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

/// A waiting command is re-sent this long after its last send while it is valid.
pub const AGAIN: Duration = Duration::from_secs(3);
/// ...and this long after it expired, until [`GIVE_UP`].
pub const AGAIN_EXPIRED: Duration = Duration::from_secs(30);
/// How long after expiry an unanswered command is still sent (to hear `expired`).
pub const GIVE_UP: Duration = Duration::from_secs(24 * 3600);
/// How many times one estate's command is signed (a new counter after `counter_replayed`).
pub const MAX_SIGNINGS: i32 = 5;
/// The most estates one order names.
pub const MAX_SITES: usize = 1000;

/// What an order does at each estate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Lockdown,
    Lift,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Lockdown => "lockdown",
            Action::Lift => "lift",
        }
    }
}

/// An order as the console asks for it.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewOrder {
    pub action: Action,
    pub sites: Vec<String>,
    /// The zone at each estate; the whole estate (`site`) when left out.
    #[serde(default)]
    pub zone: Option<String>,
    /// `quarantine`, `closed` or the other lockdown modes of docs/interfaces.md (lockdown only).
    #[serde(default)]
    pub mode: Option<String>,
    #[serde(default)]
    pub reason: String,
}

/// Why an order cannot be made, and what to do.
#[derive(Debug, thiserror::Error)]
pub enum OrderError {
    #[error("choose at least one estate")]
    NoSites,
    #[error("an order names at most {MAX_SITES} estates; split it")]
    TooManySites,
    #[error("'{0}' is not an estate the office has heard from; choose from the list")]
    UnknownSite(String),
    #[error("a lockdown needs a mode (quarantine, closed, ...)")]
    NoMode,
    #[error("a lockdown needs a reason the estates' guards will read")]
    NoReason,
    #[error("the reason is longer than 200 characters; shorten it")]
    LongReason,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<tokio_postgres::Error> for OrderError {
    fn from(e: tokio_postgres::Error) -> OrderError {
        OrderError::Db(DbError::from(e))
    }
}

/// One estate's signed command.
#[derive(Clone, Debug)]
pub struct Command {
    pub site: String,
    pub id: String,
    pub counter: u64,
    pub envelope: String,
}

/// The body of one estate's command (docs/interfaces.md, signed commands).
#[allow(clippy::too_many_arguments)]
pub fn body(
    order: &NewOrder,
    issuer: &str,
    id: &str,
    counter: u64,
    site: &str,
    now: jiff::Timestamp,
    expires_at: jiff::Timestamp,
) -> serde_json::Value {
    let mut body = serde_json::json!({
        "id": id,
        "issuer": issuer,
        "counter": counter,
        "issued_at": now.to_string(),
        "expires_at": expires_at.to_string(),
        "site": site,
        "action": order.action.as_str(),
        "zone": order.zone.as_deref().unwrap_or("site"),
    });
    if order.action == Action::Lockdown {
        body["mode"] = order.mode.clone().unwrap_or_default().into();
        body["reason"] = order.reason.clone().into();
    }
    body
}

/// The command id of an order at one estate.
pub fn command_id(order: i64, site: &str) -> String {
    format!("district-{order}-{site}")
}

/// Checks an order before anything is written.
pub fn check(order: &NewOrder, known: &[String]) -> Result<(), OrderError> {
    if order.sites.is_empty() {
        return Err(OrderError::NoSites);
    }
    if order.sites.len() > MAX_SITES {
        return Err(OrderError::TooManySites);
    }
    if let Some(unknown) = order.sites.iter().find(|s| !known.contains(s)) {
        return Err(OrderError::UnknownSite(unknown.clone()));
    }
    if order.action == Action::Lockdown {
        if order.mode.as_deref().is_none_or(str::is_empty) {
            return Err(OrderError::NoMode);
        }
        if order.reason.trim().is_empty() {
            return Err(OrderError::NoReason);
        }
    }
    if order.reason.chars().count() > 200 {
        return Err(OrderError::LongReason);
    }
    Ok(())
}

/// Writes an order and signs one command per estate (each with the next counter of the
/// issuer, persisted first); returns the order's id and the commands to publish.
pub async fn create(
    client: &Client,
    order: &NewOrder,
    by: &str,
    issuer: &str,
    key: &SigningKey,
    valid: Duration,
) -> Result<(i64, Vec<Command>), OrderError> {
    let now = jiff::Timestamp::now();
    let expires_at = now + jiff::SignedDuration::try_from(valid).unwrap_or_default();
    let row = client
        .query_one(
            "INSERT INTO orders (action, zone, mode, reason, by_user, expires_at)
             VALUES ($1, $2, $3, $4, $5, ($6::text)::timestamptz) RETURNING id",
            &[
                &order.action.as_str(),
                &order.zone.as_deref().unwrap_or("site"),
                &order.mode,
                &order.reason,
                &by,
                &expires_at.to_string(),
            ],
        )
        .await?;
    let id: i64 = row.get(0);
    let mut commands = Vec::with_capacity(order.sites.len());
    for site in &order.sites {
        let counter = crate::db::next_counter(client, issuer, now.as_millisecond()).await?;
        let command_id = command_id(id, site);
        let body = body(order, issuer, &command_id, counter, site, now, expires_at);
        let envelope = gatehouse_core::command::envelope(&body.to_string(), key);
        client
            .execute(
                "INSERT INTO order_sites (order_id, site, command_id, counter, body, envelope)
                 VALUES ($1, $2, $3, $4, ($5::text)::jsonb, $6)",
                &[
                    &id,
                    site,
                    &command_id,
                    &(counter as i64),
                    &body.to_string(),
                    &envelope,
                ],
            )
            .await?;
        commands.push(Command {
            site: site.clone(),
            id: command_id,
            counter,
            envelope,
        });
    }
    Ok((id, commands))
}

/// Publishes commands and notes each send.
pub async fn send(
    client: &Client,
    nats: &async_nats::Client,
    commands: &[Command],
) -> Result<(), OrderError> {
    for c in commands {
        if let Err(e) = nats
            .publish(
                format!("gatehouse.{}.commands", c.site),
                c.envelope.clone().into(),
            )
            .await
        {
            warn!(site = %c.site, error = %e, "Could not send a district order; it is sent again shortly.");
            continue;
        }
        client
            .execute(
                "UPDATE order_sites SET sends = sends + 1, last_sent = now() WHERE command_id = $1",
                &[&c.id],
            )
            .await?;
    }
    let _ = nats.flush().await;
    Ok(())
}

/// Commands waiting for an answer whose next send is due, oldest counter first; rows a day
/// past their expiry are closed as `no_answer`.
async fn due(client: &Client) -> Result<Vec<Command>, OrderError> {
    client
        .execute(
            "UPDATE order_sites s SET state = 'no_answer', answered = now()
             FROM orders o
             WHERE s.order_id = o.id AND s.state = 'waiting'
               AND o.expires_at < now() - make_interval(secs => $1::float8)",
            &[&(GIVE_UP.as_secs_f64())],
        )
        .await?;
    let rows = client
        .query(
            "SELECT s.site, s.command_id, s.counter, s.envelope FROM order_sites s
             JOIN orders o ON o.id = s.order_id
             WHERE s.state = 'waiting'
               AND (s.last_sent IS NULL
                    OR s.last_sent < now() - make_interval(secs => CASE WHEN o.expires_at > now() THEN $1::float8 ELSE $2::float8 END))
             ORDER BY s.site, s.counter
             LIMIT 5000",
            &[&AGAIN.as_secs_f64(), &AGAIN_EXPIRED.as_secs_f64()],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| Command {
            site: r.get(0),
            id: r.get(1),
            counter: r.get::<_, i64>(2) as u64,
            envelope: r.get(3),
        })
        .collect())
}

/// An estate's answer on `commands/result`.
#[derive(Debug, Deserialize)]
pub struct Answer {
    pub id: String,
    pub ok: bool,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub detail: Option<String>,
}

/// What an answer does to its waiting row.
#[derive(Debug, PartialEq, Eq)]
pub enum Settle {
    /// Applied (`ok`).
    Applied,
    /// The estate took a higher counter first: applied before, or to be signed again.
    Recheck,
    /// Refused for good: `expired`, `not_applied`, `unknown_zone`, ...
    Refused(String),
}

/// Reads an answer.
pub fn settle(answer: &Answer) -> Settle {
    match (answer.ok, answer.error.as_deref()) {
        (true, _) => Settle::Applied,
        (false, Some("counter_replayed" | "duplicate_id")) => Settle::Recheck,
        (false, error) => Settle::Refused(error.unwrap_or("refused").to_string()),
    }
}

/// Applies an estate's answer to its row (only a row still waiting changes).
pub async fn answer(
    client: &Client,
    site: &str,
    answer: &Answer,
    issuer: &str,
    key: &SigningKey,
) -> Result<(), OrderError> {
    match settle(answer) {
        Settle::Applied => {
            client
                .execute(
                    "UPDATE order_sites SET state = 'applied', answered = now(), error = NULL, detail = $3
                     WHERE command_id = $1 AND site = $2 AND state <> 'applied'",
                    &[&answer.id, &site, &answer.detail],
                )
                .await?;
        }
        Settle::Refused(error) => {
            let state = if error == "expired" {
                "expired"
            } else {
                "refused"
            };
            client
                .execute(
                    "UPDATE order_sites SET state = $3, answered = now(), error = $4, detail = $5
                     WHERE command_id = $1 AND site = $2 AND state = 'waiting'",
                    &[&answer.id, &site, &state, &error, &answer.detail],
                )
                .await?;
        }
        Settle::Recheck => recheck(client, site, &answer.id, issuer, key).await?,
    }
    Ok(())
}

/// After `counter_replayed`: applied if the estate's log says so, else signed again with a
/// new counter (same id) and left waiting, or refused after [`MAX_SIGNINGS`].
async fn recheck(
    client: &Client,
    site: &str,
    id: &str,
    issuer: &str,
    key: &SigningKey,
) -> Result<(), OrderError> {
    let applied = client
        .query_opt(
            "SELECT 1 FROM events WHERE site = $1 AND kind = 'command'
               AND body->>'command' = $2 AND (body->>'ok')::boolean LIMIT 1",
            &[&site, &id],
        )
        .await?
        .is_some();
    if applied {
        confirm(client, &[(site.to_string(), id.to_string())]).await?;
        return Ok(());
    }
    let Some(row) = client
        .query_opt(
            "SELECT body::text, signings FROM order_sites WHERE command_id = $1 AND site = $2 AND state = 'waiting'",
            &[&id, &site],
        )
        .await?
    else {
        return Ok(());
    };
    let (text, signings): (String, i32) = (row.get(0), row.get(1));
    if signings >= MAX_SIGNINGS {
        client
            .execute(
                "UPDATE order_sites SET state = 'refused', answered = now(), error = 'counter_replayed'
                 WHERE command_id = $1 AND site = $2",
                &[&id, &site],
            )
            .await?;
        return Ok(());
    }
    let mut body: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    let now = jiff::Timestamp::now();
    let counter = crate::db::next_counter(client, issuer, now.as_millisecond()).await?;
    body["counter"] = counter.into();
    body["issued_at"] = now.to_string().into();
    let envelope = gatehouse_core::command::envelope(&body.to_string(), key);
    client
        .execute(
            "UPDATE order_sites SET counter = $3, body = ($4::text)::jsonb, envelope = $5,
                    signings = signings + 1, last_sent = NULL
             WHERE command_id = $1 AND site = $2",
            &[&id, &site, &(counter as i64), &body.to_string(), &envelope],
        )
        .await?;
    info!(
        site,
        id, "An estate had taken a later command first; this one is signed again."
    );
    Ok(())
}

/// Marks commands applied whose `command` event the estate's log holds (from ingest).
pub async fn confirm(client: &Client, applied: &[(String, String)]) -> Result<u64, DbError> {
    if applied.is_empty() {
        return Ok(0);
    }
    let (sites, ids): (Vec<&str>, Vec<&str>) = applied
        .iter()
        .map(|(s, i)| (s.as_str(), i.as_str()))
        .unzip();
    Ok(client
        .execute(
            "UPDATE order_sites s SET state = 'applied', answered = COALESCE(s.answered, now()), error = NULL
             FROM UNNEST($1::text[], $2::text[]) AS c(site, id)
             WHERE s.site = c.site AND s.command_id = c.id AND s.state <> 'applied'",
            &[&sites, &ids],
        )
        .await?)
}

/// Re-sends what is due, and reads the estates' answers, until `shutdown`.
pub async fn run(
    postgres: String,
    nats: async_nats::Client,
    issuer: String,
    key: SigningKey,
    shutdown: CancellationToken,
) {
    let db = crate::db::Reconnecting::new(&postgres);
    let mut answers = match nats.subscribe("gatehouse.*.commands.result").await {
        Ok(s) => s,
        Err(e) => {
            warn!(error = %e, "District orders' answers are not read: no subscription.");
            return;
        }
    };
    // An estate coming back online is sent what waits for it at once.
    let mut statuses = match nats.subscribe("gatehouse.*.status").await {
        Ok(s) => s,
        Err(e) => {
            warn!(error = %e, "District orders are not re-sent on reconnection: no subscription.");
            return;
        }
    };
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            m = answers.next() => {
                let Some(m) = m else { break };
                let Some(site) = result_site(m.subject.as_str()) else { continue };
                let Ok(a) = serde_json::from_slice::<Answer>(&m.payload) else { continue };
                if !a.id.starts_with("district-") {
                    continue;
                }
                let recorded = match db.get().await {
                    Ok(client) => answer(&client, site, &a, &issuer, &key).await,
                    Err(e) => Err(e.into()),
                };
                if let Err(e) = recorded {
                    warn!(site, error = %e, "Could not record an estate's answer to a district order.");
                }
            }
            m = statuses.next() => {
                let Some(m) = m else { break };
                let site = crate::state::parse_subject(m.subject.as_str()).map(|(site, _)| site);
                let online = serde_json::from_slice::<serde_json::Value>(&m.payload)
                    .is_ok_and(|v| v["state"] == "online");
                if let (Some(site), true) = (site, online)
                    && let Err(e) = bring_forward(&db, site).await
                {
                    warn!(site, error = %e, "Could not bring an estate's waiting orders forward.");
                }
            }
            _ = tick.tick() => {
                if let Err(e) = resend_due(&db, &nats).await {
                    warn!(error = %e, "Could not re-send the district orders waiting for answers.");
                }
            }
        }
    }
}

/// An estate back online: its waiting commands are due at once.
async fn bring_forward(db: &crate::db::Reconnecting, site: &str) -> Result<(), OrderError> {
    db.get()
        .await?
        .execute(
            "UPDATE order_sites SET last_sent = NULL WHERE site = $1 AND state = 'waiting'",
            &[&site],
        )
        .await?;
    Ok(())
}

/// Sends again what is due.
async fn resend_due(
    db: &crate::db::Reconnecting,
    nats: &async_nats::Client,
) -> Result<(), OrderError> {
    let client = db.get().await?;
    let commands = due(&client).await?;
    if !commands.is_empty() {
        send(&client, nats, &commands).await?;
    }
    Ok(())
}

/// `gatehouse.{site}.commands.result` → the site.
pub fn result_site(subject: &str) -> Option<&str> {
    let mut t = subject.split('.');
    match (t.next(), t.next(), t.next(), t.next(), t.next()) {
        (Some("gatehouse"), Some(site), Some("commands"), Some("result"), None) => Some(site),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(action: Action) -> NewOrder {
        NewOrder {
            action,
            sites: vec!["east-1".into()],
            zone: None,
            mode: Some("quarantine".into()),
            reason: "district order".into(),
        }
    }

    #[test]
    fn a_lockdown_body_names_the_whole_estate_with_mode_and_reason() {
        let now: jiff::Timestamp = "2026-12-04T08:00:00Z".parse().unwrap();
        let later = now + jiff::SignedDuration::from_mins(10);
        let b = body(
            &order(Action::Lockdown),
            "district",
            "district-7-east-1",
            42,
            "east-1",
            now,
            later,
        );
        assert_eq!(b["action"], "lockdown");
        assert_eq!(b["zone"], "site");
        assert_eq!(b["mode"], "quarantine");
        assert_eq!(b["site"], "east-1");
        assert_eq!(b["counter"], 42);
        assert_eq!(b["expires_at"], "2026-12-04T08:10:00Z");
        let lift = body(
            &order(Action::Lift),
            "district",
            "x",
            43,
            "east-1",
            now,
            later,
        );
        assert_eq!(lift["action"], "lift");
        assert!(lift.get("mode").is_none());
    }

    #[test]
    fn orders_are_checked_before_anything_is_written() {
        let known = vec!["east-1".to_string()];
        assert!(check(&order(Action::Lockdown), &known).is_ok());
        let mut o = order(Action::Lockdown);
        o.sites = vec![];
        assert!(matches!(check(&o, &known), Err(OrderError::NoSites)));
        o.sites = vec!["west-9".into()];
        assert!(matches!(check(&o, &known), Err(OrderError::UnknownSite(s)) if s == "west-9"));
        let mut o = order(Action::Lockdown);
        o.mode = None;
        assert!(matches!(check(&o, &known), Err(OrderError::NoMode)));
        let mut o = order(Action::Lockdown);
        o.reason = " ".into();
        assert!(matches!(check(&o, &known), Err(OrderError::NoReason)));
        let mut o = order(Action::Lift);
        o.reason = String::new();
        o.mode = None;
        assert!(check(&o, &known).is_ok(), "a lift needs no mode or reason");
    }

    #[test]
    fn answers_settle_rows() {
        let a = |ok: bool, error: Option<&str>| Answer {
            id: "district-1-a".into(),
            ok,
            error: error.map(str::to_string),
            detail: None,
        };
        assert_eq!(settle(&a(true, None)), Settle::Applied);
        assert_eq!(settle(&a(false, Some("counter_replayed"))), Settle::Recheck);
        assert_eq!(
            settle(&a(false, Some("expired"))),
            Settle::Refused("expired".into())
        );
        assert_eq!(
            settle(&a(false, Some("not_applied"))),
            Settle::Refused("not_applied".into())
        );
        assert_eq!(
            result_site("gatehouse.east-1.commands.result"),
            Some("east-1")
        );
        assert_eq!(result_site("gatehouse.east-1.commands"), None);
    }
}
