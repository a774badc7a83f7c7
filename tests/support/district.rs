//! The district office run in process for the root package's district tests, on a cluster
//! and a PostgreSQL server from `gatehouse_testkit::district`.

use ed25519_dalek::SigningKey;
use gatehouse_testkit::district::{Cluster, Postgres};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The office's configuration in `dir`: the cluster's three nodes on loopback, `pg`'s
/// database, `key` as the district's issuer key, the console on a free port.
pub fn office_config(
    dir: &std::path::Path,
    cluster: &Cluster,
    pg: &Postgres,
    key: &SigningKey,
) -> gatehouse_office::config::OfficeConfig {
    std::fs::write(
        dir.join("district.key"),
        gatehouse_core::command::secret_key_text(key),
    )
    .unwrap();
    let servers: Vec<String> = (1..=3)
        .map(|k| format!("\"nats://127.0.0.1:{}\"", cluster.client(k)))
        .collect();
    let file = dir.join("office.toml");
    std::fs::write(
        &file,
        format!(
            "[nats]\nservers = [{}]\n[postgres]\nurl = \"{}\"\n[issuer]\nid = \"district\"\nkey_file = \"district.key\"\n[web]\nlisten = \"127.0.0.1:0\"\n",
            servers.join(", "),
            pg.url
        ),
    )
    .unwrap();
    gatehouse_office::config::OfficeConfig::load(&file).unwrap()
}

/// Starts the office; returns its stop token and task.
pub fn office(
    config: gatehouse_office::config::OfficeConfig,
) -> (
    CancellationToken,
    tokio::task::JoinHandle<Result<(), gatehouse_office::OfficeError>>,
) {
    let token = CancellationToken::new();
    let task = tokio::spawn(gatehouse_office::run(
        config,
        gatehouse_web::PasswordCost::Light,
        token.clone(),
        |_| {},
    ));
    (token, task)
}

/// The test's own connection to the office's database.
pub async fn connect(url: &str) -> tokio_postgres::Client {
    let (db, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    db
}

/// Waits until the office has made its stream. The office listens for the estates' state
/// before it makes the stream: once the stream is there, a gateway's first status is heard.
pub async fn stream_made(cluster: &Cluster) -> async_nats::jetstream::Context {
    let nats = async_nats::connect(format!("nats://127.0.0.1:{}", cluster.client(1)))
        .await
        .unwrap();
    let js = async_nats::jetstream::new(nats);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while js.get_stream("GATEHOUSE_EVENTS").await.is_err() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the office made its stream"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    js
}

/// An estate as PostgreSQL has it.
#[derive(Debug)]
pub struct View {
    /// Every seq up to this is stored (`estates.head_seq`).
    pub head: i64,
    pub rows: i64,
    pub max_seq: i64,
    /// Rows of kind `access`.
    pub access: i64,
    pub open_gaps: i64,
    pub problems: i64,
}

/// `site` as the office's database has it.
pub async fn view(db: &tokio_postgres::Client, site: &str) -> View {
    let row = db
        .query_one(
            "SELECT COALESCE((SELECT head_seq FROM estates WHERE site = $1), 0),
                    (SELECT count(*) FROM events WHERE site = $1),
                    COALESCE((SELECT max(seq) FROM events WHERE site = $1), 0),
                    (SELECT count(*) FROM events WHERE site = $1 AND kind = 'access'),
                    (SELECT count(*) FROM gaps WHERE site = $1 AND filled IS NULL),
                    (SELECT count(*) FROM chain_problems WHERE site = $1)",
            &[&site],
        )
        .await
        .unwrap();
    View {
        head: row.get(0),
        rows: row.get(1),
        max_seq: row.get(2),
        access: row.get(3),
        open_gaps: row.get(4),
        problems: row.get(5),
    }
}

/// Waits up to `within` until the office holds at least `accesses` access events of `site`,
/// every seq from 1 to its head once, no gap open; no chain problem may appear meanwhile.
/// Returns (head, rows).
pub async fn until_complete(
    db: &tokio_postgres::Client,
    site: &str,
    accesses: i64,
    within: Duration,
) -> (i64, i64) {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let v = view(db, site).await;
        assert_eq!(v.problems, 0, "{site}: the office found its chain broken");
        if v.access >= accesses && v.head == v.max_seq && v.rows == v.head && v.open_gaps == 0 {
            return (v.head, v.rows);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{site}: the office has {v:?}, waiting for {accesses} access events"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
