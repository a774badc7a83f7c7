//! The office's PostgreSQL database: its schema (migrated on start, its version in
//! `schema_version`), and the writes of one batch in one transaction.
//!
//! - `events`: every estate's events, keyed by `(site, seq, at)`, partitioned by month of
//!   `at` (a partition is made when its first event arrives). The body is the event as the
//!   estate wrote it (`jsonb`). Duplicates are not stored twice: the chain's head says which
//!   seqs are here already, and the key catches the rest.
//! - `estates`: per estate, the head (every seq up to it is stored), its hash, when the last
//!   event arrived, and the last problem found in its chain.
//! - `chain_problems`: each break found, with its seq.
//! - `gaps`: missing seq ranges, when they were found, asked for again, and filled.
//! - `issuer_counters`: the counter of the office's signed commands (they must rise).
//! - `estate_state`: each estate's latest `status`, `lockdown` and `occupancy` as published,
//!   with when it arrived (its age is `now() - received`).

use crate::chain::{Chain, Problem};
use tokio_postgres::{Client, NoTls, Transaction};
use tracing::warn;

/// Each migration, in order; `schema_version` holds how many ran.
const MIGRATIONS: &[&str] = &[
    r#"
    CREATE TABLE estates (
        site TEXT PRIMARY KEY,
        head_seq BIGINT NOT NULL DEFAULT 0,
        head_hash TEXT,
        last_event_at TIMESTAMPTZ,
        last_problem TEXT,
        updated TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    CREATE TABLE events (
        site TEXT NOT NULL,
        seq BIGINT NOT NULL,
        at TIMESTAMPTZ NOT NULL,
        kind TEXT NOT NULL,
        body JSONB NOT NULL,
        received TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
        PRIMARY KEY (site, seq, at)
    ) PARTITION BY RANGE (at);
    CREATE TABLE chain_problems (
        site TEXT NOT NULL,
        seq BIGINT NOT NULL,
        problem TEXT NOT NULL,
        found TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    CREATE TABLE gaps (
        site TEXT NOT NULL,
        from_seq BIGINT NOT NULL,
        to_seq BIGINT NOT NULL,
        found TIMESTAMPTZ NOT NULL DEFAULT now(),
        asked TIMESTAMPTZ,
        filled TIMESTAMPTZ,
        PRIMARY KEY (site, from_seq)
    );
    CREATE TABLE issuer_counters (
        issuer TEXT PRIMARY KEY,
        counter BIGINT NOT NULL
    );
"#,
    r#"
    CREATE TABLE estate_state (
        site TEXT NOT NULL,
        topic TEXT NOT NULL,
        payload JSONB NOT NULL,
        received TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
        PRIMARY KEY (site, topic)
    );
"#,
    r#"
    CREATE TABLE orders (
        id BIGSERIAL PRIMARY KEY,
        action TEXT NOT NULL,
        zone TEXT NOT NULL,
        mode TEXT,
        reason TEXT NOT NULL DEFAULT '',
        by_user TEXT NOT NULL,
        created TIMESTAMPTZ NOT NULL DEFAULT now(),
        expires_at TIMESTAMPTZ NOT NULL
    );
    CREATE TABLE order_sites (
        order_id BIGINT NOT NULL REFERENCES orders (id),
        site TEXT NOT NULL,
        command_id TEXT NOT NULL UNIQUE,
        counter BIGINT NOT NULL,
        body JSONB NOT NULL,
        envelope TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'waiting',
        error TEXT,
        detail TEXT,
        signings INT NOT NULL DEFAULT 1,
        sends INT NOT NULL DEFAULT 0,
        last_sent TIMESTAMPTZ,
        answered TIMESTAMPTZ,
        PRIMARY KEY (order_id, site)
    );
    CREATE INDEX order_sites_waiting ON order_sites (site, counter) WHERE state = 'waiting';
    CREATE TABLE audit (
        id BIGSERIAL PRIMARY KEY,
        at TIMESTAMPTZ NOT NULL DEFAULT now(),
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        detail TEXT NOT NULL
    );
    CREATE INDEX events_pass ON events ((body->>'pass')) WHERE body ? 'pass';
    CREATE INDEX events_person ON events ((body->>'person')) WHERE body ? 'person';
    CREATE INDEX events_alarms ON events (site, at) WHERE kind = 'alarm';
    CREATE INDEX events_commands ON events ((body->>'command')) WHERE kind = 'command';
"#,
    r#"
    CREATE FUNCTION rfc3339(t TIMESTAMPTZ) RETURNS TEXT LANGUAGE sql IMMUTABLE
        AS $$ SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') $$;
"#,
];

/// What went wrong with the database, and what to do.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot connect to PostgreSQL ({0}); check [postgres] url and that the server runs")]
    Connect(tokio_postgres::Error),
    #[error("PostgreSQL: {}", message(.0))]
    Query(#[from] tokio_postgres::Error),
    #[error(
        "the database's schema is version {found}, newer than this office knows ({known}); run the newer office, or point [postgres] url at another database"
    )]
    Newer { found: i64, known: i64 },
}

/// The server's own words for an error (tokio-postgres's `Display` says only "db error").
fn message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => e.to_string(),
    }
}

/// A connection that is made again when it has dropped (PostgreSQL restarted, the network
/// cut): the office's long-running tasks and the console take theirs from one of these, so
/// a database that comes back is used again without restarting the office.
pub struct Reconnecting {
    url: String,
    client: tokio::sync::Mutex<Option<std::sync::Arc<Client>>>,
}

impl Reconnecting {
    pub fn new(url: &str) -> Reconnecting {
        Reconnecting {
            url: url.to_string(),
            client: tokio::sync::Mutex::new(None),
        }
    }

    /// The live connection, or a new one.
    pub async fn get(&self) -> Result<std::sync::Arc<Client>, DbError> {
        let mut slot = self.client.lock().await;
        if let Some(c) = slot.as_ref().filter(|c| !c.is_closed()) {
            return Ok(c.clone());
        }
        let client = std::sync::Arc::new(connect(&self.url).await?);
        *slot = Some(client.clone());
        Ok(client)
    }
}

/// Connects and migrates.
pub async fn connect(url: &str) -> Result<Client, DbError> {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .map_err(DbError::Connect)?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            warn!(error = %e, "The PostgreSQL connection ended.");
        }
    });
    migrate(&client).await?;
    Ok(client)
}

async fn migrate(client: &Client) -> Result<(), DbError> {
    client
        .batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")
        .await?;
    let found: i64 = client
        .query_opt("SELECT version FROM schema_version", &[])
        .await?
        .map_or(0, |row| row.get(0));
    let known = MIGRATIONS.len() as i64;
    if found > known {
        return Err(DbError::Newer { found, known });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        client.batch_execute("BEGIN").await?;
        client.batch_execute(sql).await?;
        client.batch_execute("DELETE FROM schema_version").await?;
        client
            .execute(
                "INSERT INTO schema_version (version) VALUES ($1)",
                &[&(i as i64 + 1)],
            )
            .await?;
        client.batch_execute("COMMIT").await?;
    }
    Ok(())
}

/// An estate's chain as stored (a fresh chain for an estate never seen).
pub async fn chain(client: &Client, site: &str) -> Result<Chain, DbError> {
    let row = client
        .query_opt(
            "SELECT head_seq, head_hash FROM estates WHERE site = $1",
            &[&site],
        )
        .await?;
    Ok(match row {
        Some(row) => {
            let head: i64 = row.get(0);
            Chain::at(head as u64, row.get(1))
        }
        None => Chain::default(),
    })
}

/// One event to store.
pub struct Row<'a> {
    pub site: &'a str,
    pub seq: u64,
    pub at: &'a str,
    pub kind: &'a str,
    pub body: &'a str,
}

/// Makes sure the month partition for `at` exists (outside any batch transaction: DDL
/// takes locks a long batch should not hold).
pub async fn partition_for(client: &Client, at: &str) -> Result<(), DbError> {
    let row = client
        .query_one(
            "SELECT to_char(date_trunc('month', ($1::text)::timestamptz AT TIME ZONE 'UTC'), 'YYYY_MM'),
                    date_trunc('month', ($1::text)::timestamptz AT TIME ZONE 'UTC')::text,
                    (date_trunc('month', ($1::text)::timestamptz AT TIME ZONE 'UTC') + interval '1 month')::text",
            &[&at],
        )
        .await?;
    let (name, from, to): (String, String, String) = (row.get(0), row.get(1), row.get(2));
    client
        .batch_execute(&format!(
            "CREATE TABLE IF NOT EXISTS events_{name} PARTITION OF events FOR VALUES FROM ('{from} UTC') TO ('{to} UTC')"
        ))
        .await?;
    Ok(())
}

/// Inserts events in one statement (duplicates by key are ignored); returns how many were new.
pub async fn insert(tx: &Transaction<'_>, rows: &[Row<'_>]) -> Result<u64, DbError> {
    if rows.is_empty() {
        return Ok(0);
    }
    let sites: Vec<&str> = rows.iter().map(|r| r.site).collect();
    let seqs: Vec<i64> = rows.iter().map(|r| r.seq as i64).collect();
    let ats: Vec<&str> = rows.iter().map(|r| r.at).collect();
    let kinds: Vec<&str> = rows.iter().map(|r| r.kind).collect();
    let bodies: Vec<&str> = rows.iter().map(|r| r.body).collect();
    Ok(tx
        .execute(
            "INSERT INTO events (site, seq, at, kind, body)
             SELECT site, seq, at::timestamptz, kind, body::jsonb
             FROM UNNEST($1::text[], $2::int8[], $3::text[], $4::text[], $5::text[])
                  AS batch(site, seq, at, kind, body)
             ON CONFLICT DO NOTHING",
            &[&sites, &seqs, &ats, &kinds, &bodies],
        )
        .await?)
}

/// Writes an estate's head, its problems and its gap after a batch.
pub async fn save_chain(
    tx: &Transaction<'_>,
    site: &str,
    chain: &Chain,
    problems: &[Problem],
    last_at: Option<&str>,
) -> Result<(), DbError> {
    let last_problem = problems
        .last()
        .map(|p| format!("seq {}: {}", p.seq, p.what));
    tx.execute(
        "INSERT INTO estates (site, head_seq, head_hash, last_event_at, last_problem)
         VALUES ($1, $2, $3, ($4::text)::timestamptz, $5)
         ON CONFLICT (site) DO UPDATE SET
            head_seq = EXCLUDED.head_seq,
            head_hash = EXCLUDED.head_hash,
            last_event_at = COALESCE(EXCLUDED.last_event_at, estates.last_event_at),
            last_problem = COALESCE(EXCLUDED.last_problem, estates.last_problem),
            updated = now()",
        &[
            &site,
            &(chain.head() as i64),
            &chain.head_hash(),
            &last_at,
            &last_problem,
        ],
    )
    .await?;
    for p in problems {
        tx.execute(
            "INSERT INTO chain_problems (site, seq, problem) VALUES ($1, $2, $3)",
            &[&site, &(p.seq as i64), &p.what],
        )
        .await?;
    }
    // Gaps below the head are filled; the one beyond it (if any) is recorded.
    tx.execute(
        "UPDATE gaps SET filled = now() WHERE site = $1 AND filled IS NULL AND to_seq <= $2",
        &[&site, &(chain.head() as i64)],
    )
    .await?;
    if let Some((from, to)) = chain.gap() {
        tx.execute(
            "INSERT INTO gaps (site, from_seq, to_seq) VALUES ($1, $2, $3)
             ON CONFLICT (site, from_seq) DO UPDATE SET to_seq = GREATEST(gaps.to_seq, EXCLUDED.to_seq)",
            &[&site, &(from as i64), &(to as i64)],
        )
        .await?;
    }
    Ok(())
}

/// Keeps the latest state an estate published on `topic` (`status`, `lockdown`,
/// `occupancy`); a payload that is not JSON is kept as a JSON string.
pub async fn state(client: &Client, site: &str, topic: &str, payload: &str) -> Result<(), DbError> {
    let json = if serde_json::from_str::<serde_json::Value>(payload).is_ok() {
        payload.to_string()
    } else {
        serde_json::Value::String(payload.to_string()).to_string()
    };
    client
        .execute(
            "INSERT INTO estate_state (site, topic, payload) VALUES ($1, $2, ($3::text)::jsonb)
             ON CONFLICT (site, topic) DO UPDATE SET payload = EXCLUDED.payload, received = clock_timestamp()",
            &[&site, &topic, &json],
        )
        .await?;
    Ok(())
}

/// Records as a gap what an estate's reported `head` says exists beyond what is stored,
/// once no batch of that estate has come for `quiet_s` (its events may still be on their way
/// before that). A report whose `seq` is not a whole number of at most 18 digits is ignored
/// (one bad report must not stop the check for every estate). Returns how many estates it
/// found short.
pub async fn tail_gaps(client: &Client, quiet_s: i64) -> Result<u64, DbError> {
    Ok(client
        .execute(
            "INSERT INTO gaps (site, from_seq, to_seq)
             SELECT e.site, e.head_seq + 1, (s.payload->>'seq')::bigint
             FROM estate_state s JOIN estates e ON e.site = s.site
             WHERE s.topic = 'head' AND s.payload->>'seq' ~ '^[0-9]{1,18}$'
               AND (s.payload->>'seq')::bigint > e.head_seq
               AND e.updated < now() - make_interval(secs => $1::float8)
               AND s.received > e.updated
             ON CONFLICT (site, from_seq) DO UPDATE SET to_seq = GREATEST(gaps.to_seq, EXCLUDED.to_seq)",
            &[&(quiet_s as f64)],
        )
        .await?)
}

/// Gaps not filled whose replay is due: never asked, or asked more than `again_s` ago.
pub async fn gaps_due(client: &Client, again_s: i64) -> Result<Vec<(String, u64)>, DbError> {
    let rows = client
        .query(
            "SELECT site, from_seq FROM gaps
             WHERE filled IS NULL AND (asked IS NULL OR asked < now() - make_interval(secs => $1))
             ORDER BY site, from_seq",
            &[&(again_s as f64)],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| (r.get::<_, String>(0), r.get::<_, i64>(1) as u64))
        .collect())
}

/// Notes that a gap's replay was asked for now.
pub async fn asked(client: &Client, site: &str, from_seq: u64) -> Result<(), DbError> {
    client
        .execute(
            "UPDATE gaps SET asked = now() WHERE site = $1 AND from_seq = $2",
            &[&site, &(from_seq as i64)],
        )
        .await?;
    Ok(())
}

/// The next counter for `issuer`: above the last one used and at least `now_ms`, persisted
/// before the command leaves.
pub async fn next_counter(client: &Client, issuer: &str, now_ms: i64) -> Result<u64, DbError> {
    let row = client
        .query_one(
            "INSERT INTO issuer_counters (issuer, counter) VALUES ($1, $2)
             ON CONFLICT (issuer) DO UPDATE SET counter = GREATEST(issuer_counters.counter + 1, $2)
             RETURNING counter",
            &[&issuer, &now_ms],
        )
        .await?;
    Ok(row.get::<_, i64>(0) as u64)
}
