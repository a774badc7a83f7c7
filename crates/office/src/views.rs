//! What the district console reads from PostgreSQL: the estates with their state and its age,
//! active alarms, orders with each estate's answer, the district search, the head counts, and
//! the audit of who searched and ordered. Instants are RFC 3339 in UTC (`rfc3339()`, a SQL
//! function of the schema).

use crate::db::DbError;
use serde::Serialize;
use serde_json::Value;
use tokio_postgres::Client;

/// State older than this is shown as stale: a gateway refreshes its occupancy summary at
/// least every 15 minutes.
pub const STALE_AFTER_S: f64 = 20.0 * 60.0;

/// Alarms are looked for this far back.
pub const ALARM_HOURS: i32 = 24;

/// The longest search text.
pub const MAX_QUERY: usize = 64;

/// One estate as the console shows it.
#[derive(Debug, Serialize)]
pub struct Estate {
    pub site: String,
    pub name: Option<String>,
    /// What the estate last said on `status` (`online`, `offline`), if anything.
    pub state: Option<String>,
    pub state_age_s: Option<f64>,
    /// No occupancy summary (the estate's heartbeat) for [`STALE_AFTER_S`].
    pub stale: bool,
    /// Zone → `{mode, since, by, reason}`.
    pub lockdowns: Value,
    pub lockdown_age_s: Option<f64>,
    pub inside: Option<i64>,
    pub registered: Option<i64>,
    pub households: Value,
    pub occupancy_at: Option<String>,
    pub occupancy_age_s: Option<f64>,
    pub alarms: i64,
    pub head_seq: i64,
    pub last_event_at: Option<String>,
    pub open_gaps: i64,
    pub last_problem: Option<String>,
}

/// The open alarms (`site`, `at`, `body`): per estate, alarm and place (door, else zone), the
/// latest alarm event of the last `$1` hours, when it is not a clearing one. The console's
/// alarm count and its alarm list both read this one query.
const OPEN_ALARMS: &str = "
    SELECT site, at, body FROM (
        SELECT DISTINCT ON (site, body->>'alarm', COALESCE(body->>'door', body->>'zone', ''))
               site, at, body
        FROM events
        WHERE kind = 'alarm' AND at > now() - make_interval(hours => $1)
        ORDER BY site, body->>'alarm', COALESCE(body->>'door', body->>'zone', ''), at DESC, seq DESC
    ) latest
    WHERE (body->>'cleared')::boolean IS NOT TRUE";

fn json(text: Option<String>) -> Value {
    text.and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null)
}

/// Every estate the office has heard from, by site id.
pub async fn estates(client: &Client) -> Result<Vec<Estate>, DbError> {
    let rows = client
        .query(
            &format!(
                "WITH sites AS (SELECT site FROM estates UNION SELECT site FROM estate_state),
                  alarms AS (SELECT site, count(*) AS n FROM ({OPEN_ALARMS}) open GROUP BY site)
             SELECT s.site,
                    st.payload::text, EXTRACT(EPOCH FROM clock_timestamp() - st.received)::float8,
                    ld.payload::text, EXTRACT(EPOCH FROM clock_timestamp() - ld.received)::float8,
                    oc.payload::text, EXTRACT(EPOCH FROM clock_timestamp() - oc.received)::float8,
                    COALESCE(a.n, 0), COALESCE(e.head_seq, 0), rfc3339(e.last_event_at),
                    (SELECT count(*) FROM gaps g WHERE g.site = s.site AND g.filled IS NULL),
                    e.last_problem
             FROM sites s
             LEFT JOIN estates e ON e.site = s.site
             LEFT JOIN estate_state st ON st.site = s.site AND st.topic = 'status'
             LEFT JOIN estate_state ld ON ld.site = s.site AND ld.topic = 'lockdown'
             LEFT JOIN estate_state oc ON oc.site = s.site AND oc.topic = 'occupancy'
             LEFT JOIN alarms a ON a.site = s.site
             ORDER BY s.site"
            ),
            &[&ALARM_HOURS],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let status = json(r.get(1));
            let lockdown = json(r.get(3));
            let occupancy = json(r.get(5));
            let occupancy_age_s: Option<f64> = r.get(6);
            Estate {
                site: r.get(0),
                name: status["name"].as_str().map(str::to_string),
                state: status["state"].as_str().map(str::to_string),
                state_age_s: r.get(2),
                stale: occupancy_age_s.is_none_or(|age| age > STALE_AFTER_S),
                lockdowns: lockdown.get("zones").cloned().unwrap_or(Value::Null),
                lockdown_age_s: r.get(4),
                inside: occupancy["inside"]["site"].as_i64(),
                registered: occupancy["registered"]["site"].as_i64(),
                households: occupancy["households"].clone(),
                occupancy_at: occupancy["at"].as_str().map(str::to_string),
                occupancy_age_s,
                alarms: r.get(7),
                head_seq: r.get(8),
                last_event_at: r.get(9),
                open_gaps: r.get(10),
                last_problem: r.get(11),
            }
        })
        .collect())
}

/// The site ids the office knows (orders may name only these).
pub async fn known_sites(client: &Client) -> Result<Vec<String>, DbError> {
    Ok(client
        .query(
            "SELECT site FROM estates UNION SELECT site FROM estate_state",
            &[],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

/// An alarm not cleared in the last [`ALARM_HOURS`].
#[derive(Debug, Serialize)]
pub struct Alarm {
    pub site: String,
    pub at: String,
    pub alarm: Option<String>,
    pub door: Option<String>,
    pub zone: Option<String>,
    pub detail: Option<String>,
}

pub async fn alarms(client: &Client) -> Result<Vec<Alarm>, DbError> {
    let rows = client
        .query(
            &format!(
                "SELECT site, rfc3339(at), body::text FROM ({OPEN_ALARMS}) open
                 ORDER BY at DESC LIMIT 500"
            ),
            &[&ALARM_HOURS],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let body = json(r.get(2));
            let text = |k: &str| body[k].as_str().map(str::to_string);
            Alarm {
                site: r.get(0),
                at: r.get(1),
                alarm: text("alarm"),
                door: text("door"),
                zone: text("zone"),
                detail: text("detail"),
            }
        })
        .collect())
}

/// An order and each estate's answer.
#[derive(Debug, Serialize)]
pub struct Order {
    pub id: i64,
    pub action: String,
    pub zone: String,
    pub mode: Option<String>,
    pub reason: String,
    pub by: String,
    pub created: String,
    pub expires_at: String,
    pub expired: bool,
    pub sites: Vec<OrderSite>,
}

#[derive(Debug, Serialize)]
pub struct OrderSite {
    pub site: String,
    /// `waiting`, `applied`, `refused`, `expired` (the estate said so), `no_answer`.
    pub state: String,
    pub error: Option<String>,
    pub detail: Option<String>,
    pub sends: i32,
    pub answered: Option<String>,
    /// Seconds from the order to the answer.
    pub answered_after_s: Option<f64>,
}

/// The latest `limit` orders, newest first (or just `only`).
pub async fn orders(client: &Client, limit: i64, only: Option<i64>) -> Result<Vec<Order>, DbError> {
    let orders = client
        .query(
            "SELECT id, action, zone, mode, reason, by_user, rfc3339(created), rfc3339(expires_at),
                    expires_at < now()
             FROM orders WHERE ($2::int8 IS NULL OR id = $2) ORDER BY id DESC LIMIT $1",
            &[&limit, &only],
        )
        .await?;
    let ids: Vec<i64> = orders.iter().map(|r| r.get(0)).collect();
    let sites = client
        .query(
            "SELECT s.order_id, s.site, s.state, s.error, s.detail, s.sends, rfc3339(s.answered),
                    EXTRACT(EPOCH FROM s.answered - o.created)::float8
             FROM order_sites s JOIN orders o ON o.id = s.order_id
             WHERE s.order_id = ANY($1) ORDER BY s.site",
            &[&ids],
        )
        .await?;
    Ok(orders
        .iter()
        .map(|r| {
            let id: i64 = r.get(0);
            Order {
                id,
                action: r.get(1),
                zone: r.get(2),
                mode: r.get(3),
                reason: r.get(4),
                by: r.get(5),
                created: r.get(6),
                expires_at: r.get(7),
                expired: r.get(8),
                sites: sites
                    .iter()
                    .filter(|s| s.get::<_, i64>(0) == id)
                    .map(|s| OrderSite {
                        site: s.get(1),
                        state: s.get(2),
                        error: s.get(3),
                        detail: s.get(4),
                        sends: s.get(5),
                        answered: s.get(6),
                        answered_after_s: s.get(7),
                    })
                    .collect(),
            }
        })
        .collect())
}

/// Where a pass or person is known, and where they were last seen.
#[derive(Debug, Serialize)]
pub struct Found {
    pub site: String,
    /// Access events naming them at this estate.
    pub events: i64,
    pub first_seen: String,
    pub last_seen: String,
    pub last_door: Option<String>,
    pub last_direction: Option<String>,
    pub last_decision: Option<String>,
    pub last_reason: Option<String>,
    pub pass: Option<String>,
    pub person: Option<String>,
    pub household: Option<String>,
}

/// Why a search text is refused.
pub fn check_query(q: &str) -> Result<&str, &'static str> {
    let q = q.trim();
    if q.is_empty() {
        return Err("Type a pass id (P-000123) or a person id (R-004211).");
    }
    if q.chars().count() > MAX_QUERY {
        return Err("The search text is longer than 64 characters: type a pass or person id.");
    }
    Ok(q)
}

/// Every estate whose events name `q` as a pass or person id, with the latest access there.
pub async fn search(client: &Client, q: &str) -> Result<Vec<Found>, DbError> {
    let rows = client
        .query(
            "WITH hits AS (
                 SELECT site, seq, at, body FROM events
                 WHERE kind = 'access' AND (body->>'pass' = $1 OR body->>'person' = $1)
             )
             SELECT h.site, n.events, rfc3339(n.first), rfc3339(h.at), h.body::text
             FROM (SELECT DISTINCT ON (site) site, at, body FROM hits ORDER BY site, at DESC, seq DESC) h
             JOIN (SELECT site, count(*) AS events, min(at) AS first FROM hits GROUP BY site) n
               ON n.site = h.site
             ORDER BY h.at DESC
             LIMIT 200",
            &[&q],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let body = json(r.get(4));
            let text = |k: &str| body[k].as_str().map(str::to_string);
            Found {
                site: r.get(0),
                events: r.get(1),
                first_seen: r.get(2),
                last_seen: r.get(3),
                last_door: text("door"),
                last_direction: text("direction"),
                last_decision: text("decision"),
                last_reason: text("reason"),
                pass: text("pass"),
                person: text("person"),
                household: text("household"),
            }
        })
        .collect())
}

/// The district's head counts: one row per estate and the sums.
#[derive(Debug, Serialize)]
pub struct HeadCounts {
    pub estates: Vec<HeadCount>,
    pub inside: i64,
    pub registered: i64,
    pub households: Households,
    /// Estates whose latest counts are older than [`STALE_AFTER_S`] (or missing).
    pub stale: usize,
}

#[derive(Debug, Default, Serialize)]
pub struct Households {
    pub occupied: i64,
    pub occasional: i64,
    pub vacant: i64,
    pub unknown: i64,
}

impl Households {
    fn of(v: &Value) -> Households {
        let n = |k: &str| v[k].as_i64().unwrap_or(0);
        Households {
            occupied: n("occupied"),
            occasional: n("occasional"),
            vacant: n("vacant"),
            unknown: n("unknown"),
        }
    }
    fn add(&mut self, o: &Households) {
        self.occupied += o.occupied;
        self.occasional += o.occasional;
        self.vacant += o.vacant;
        self.unknown += o.unknown;
    }
}

#[derive(Debug, Serialize)]
pub struct HeadCount {
    pub site: String,
    pub name: Option<String>,
    pub inside: Option<i64>,
    pub registered: Option<i64>,
    pub households: Households,
    pub at: Option<String>,
    pub age_s: Option<f64>,
    pub stale: bool,
}

/// One query over the kept state of every estate.
pub async fn head_counts(client: &Client) -> Result<HeadCounts, DbError> {
    let rows = client
        .query(
            "SELECT oc.site, oc.payload::text, EXTRACT(EPOCH FROM clock_timestamp() - oc.received)::float8,
                    st.payload->>'name'
             FROM estate_state oc
             LEFT JOIN estate_state st ON st.site = oc.site AND st.topic = 'status'
             WHERE oc.topic = 'occupancy' ORDER BY oc.site",
            &[],
        )
        .await?;
    let mut all = HeadCounts {
        estates: Vec::with_capacity(rows.len()),
        inside: 0,
        registered: 0,
        households: Households::default(),
        stale: 0,
    };
    for r in &rows {
        let payload = json(r.get(1));
        let age_s: Option<f64> = r.get(2);
        let row = HeadCount {
            site: r.get(0),
            name: r.get(3),
            inside: payload["inside"]["site"].as_i64(),
            registered: payload["registered"]["site"].as_i64(),
            households: Households::of(&payload["households"]),
            at: payload["at"].as_str().map(str::to_string),
            age_s,
            stale: age_s.is_none_or(|a| a > STALE_AFTER_S),
        };
        all.inside += row.inside.unwrap_or(0);
        all.registered += row.registered.unwrap_or(0);
        all.households.add(&row.households);
        all.stale += usize::from(row.stale);
        all.estates.push(row);
    }
    Ok(all)
}

/// Notes who did what in the console (searches, orders, reports).
pub async fn audit(
    client: &Client,
    actor: &str,
    action: &str,
    detail: &str,
) -> Result<(), DbError> {
    client
        .execute(
            "INSERT INTO audit (actor, action, detail) VALUES ($1, $2, $3)",
            &[&actor, &action, &detail],
        )
        .await?;
    Ok(())
}

/// The latest audit lines, newest first.
pub async fn audit_log(
    client: &Client,
    limit: i64,
) -> Result<Vec<(String, String, String, String)>, DbError> {
    Ok(client
        .query(
            "SELECT rfc3339(at), actor, action, detail FROM audit ORDER BY id DESC LIMIT $1",
            &[&limit],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_text_is_bounded() {
        assert!(check_query("  ").is_err());
        assert_eq!(check_query(" P-000123 "), Ok("P-000123"));
        assert!(check_query(&"x".repeat(65)).is_err());
    }

    #[test]
    fn households_add_up() {
        let mut sum = Households::default();
        sum.add(&Households::of(
            &serde_json::json!({"occupied": 3, "vacant": 1}),
        ));
        sum.add(&Households::of(
            &serde_json::json!({"occupied": 2, "unknown": 4}),
        ));
        assert_eq!(
            (sum.occupied, sum.vacant, sum.unknown, sum.occasional),
            (5, 1, 4, 0)
        );
    }
}
