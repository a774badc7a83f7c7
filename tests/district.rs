//! The district office against real peers: a three-node NATS cluster (JetStream, MQTT), a
//! PostgreSQL server of its own, and a real gateway daemon whose uplink publishes to the
//! cluster. Proved here: every event reaches PostgreSQL once, keyed by `(site, seq)`, with its
//! chain checked; the office stopped while the estate goes on resumes from its durable
//! consumer; and a gap forced into the stream (messages deleted before the office read them)
//! is found and filled through a signed `replay` that the gateway carries out.

#[path = "support/nats_cluster.rs"]
mod nats_cluster;
#[path = "support/postgres.rs"]
mod postgres;

use ed25519_dalek::SigningKey;
use gatehouse::daemon::{self, Options};
use nats_cluster::Cluster;
use postgres::Postgres;
use rumqttc::{AsyncClient, MqttOptions, QoS};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const SITE: &str = "river-estate";

fn gateway_config(cluster: &Cluster, office: &SigningKey) -> gatehouse::config::ValidConfig {
    let urls: Vec<String> = (1..=3)
        .map(|k| format!("\"mqtt://127.0.0.1:{}\"", cluster.mqtt(k)))
        .collect();
    gatehouse::config::parse(
        &format!(
            r#"
            [site]
            id = "{SITE}"
            name = "River Estate"
            [broker]
            mode = "embedded"
            listen = "127.0.0.1:0"
            [web]
            listen = "127.0.0.1:0"
            [metrics]
            enabled = false
            [uplink]
            urls = [{urls}]
            [[issuers]]
            id = "district"
            public_key = "{public}"
            [[zones]]
            id = "court"
            name = "Court"
            parent = "site"
            [[doors]]
            id = "gate"
            name = "Gate"
            kind = "pedestrian"
            outside = "outside"
            inside = "court"
            controller = "mqtt"
            readers = [{{ id = "r-in", direction = "in" }}]
            "#,
            urls = urls.join(", "),
            public = gatehouse_core::command::public_key_text(office),
        ),
        "river.toml",
    )
    .unwrap()
}

fn office_config(
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
            "[nats]\nservers = [{}]\n[postgres]\nurl = \"{}\"\n[issuer]\nid = \"district\"\nkey_file = \"district.key\"\n",
            servers.join(", "),
            pg.url
        ),
    )
    .unwrap();
    gatehouse_office::config::OfficeConfig::load(&file).unwrap()
}

/// Starts the office; returns its stop token and task.
fn office(
    config: gatehouse_office::config::OfficeConfig,
) -> (
    CancellationToken,
    tokio::task::JoinHandle<Result<(), gatehouse_office::OfficeError>>,
) {
    let token = CancellationToken::new();
    let task = tokio::spawn(gatehouse_office::run(config, token.clone()));
    (token, task)
}

/// `n` swipes of an unknown card at the estate's reader: each one a durable `access` event.
async fn swipes(client: &AsyncClient, n: usize) {
    for _ in 0..n {
        client
            .publish(
                format!("gatehouse/{SITE}/readers/r-in/swipe"),
                QoS::AtLeastOnce,
                false,
                r#"{"card":"0BADCAFE"}"#,
            )
            .await
            .unwrap();
        // A reader sends a few a second; the gateway's admission lets more than that in.
        tokio::time::sleep(Duration::from_millis(120)).await;
    }
}

/// The estate as PostgreSQL has it: head, rows, highest seq, access rows, open gaps, problems.
async fn district_view(db: &tokio_postgres::Client) -> (i64, i64, i64, i64, i64, i64) {
    let row = db
        .query_one(
            "SELECT COALESCE((SELECT head_seq FROM estates WHERE site = $1), 0),
                    (SELECT count(*) FROM events WHERE site = $1),
                    COALESCE((SELECT max(seq) FROM events WHERE site = $1), 0),
                    (SELECT count(*) FROM events WHERE site = $1 AND kind = 'access'),
                    (SELECT count(*) FROM gaps WHERE site = $1 AND filled IS NULL),
                    (SELECT count(*) FROM chain_problems WHERE site = $1)",
            &[&SITE],
        )
        .await
        .unwrap();
    (
        row.get(0),
        row.get(1),
        row.get(2),
        row.get(3),
        row.get(4),
        row.get(5),
    )
}

/// Waits until PostgreSQL holds `access` events at least `accesses`, every seq from 1 to
/// its head once, no gap open.
async fn until_complete(db: &tokio_postgres::Client, accesses: i64) -> (i64, i64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        let (head, rows, max, access, open_gaps, problems) = district_view(db).await;
        assert_eq!(problems, 0, "no estate's chain is broken");
        if access >= accesses && head == max && rows == head && open_gaps == 0 {
            return (head, rows);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the district has head {head}, {rows} rows, max seq {max}, {access} of {accesses} access events, {open_gaps} open gaps"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_office_stores_every_event_once_and_repairs_a_gap_through_replay() {
    let cluster = Cluster::start();
    let pg = Postgres::start();
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::from_bytes(&[11; 32]);
    let office_cfg = office_config(dir.path(), &cluster, &pg, &key);
    let (db, connection) = tokio_postgres::connect(&pg.url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);

    let (stop_office, office_task) = office(office_cfg.clone());
    // The office listens for the estates' state before it makes its stream: once the stream
    // is there, a gateway's first status will be heard.
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

    // The gateway, with its uplink to the cluster.
    let data = tempfile::tempdir().unwrap();
    let options = Options {
        data_dir: data.path().to_path_buf(),
        ..Options::default()
    };
    let stop_gateway = CancellationToken::new();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let token = stop_gateway.clone();
    let config = gateway_config(&cluster, &key);
    let gateway = tokio::spawn(async move {
        daemon::run(config, options, token.cancelled_owned(), move |running| {
            let _ = tx.send(running.mqtt.clone());
        })
        .await
    });
    let mqtt = rx
        .await
        .expect("the gateway started")
        .expect("embedded broker");
    let (host, port) = mqtt.rsplit_once(':').unwrap();
    let (reader, mut eventloop) = AsyncClient::new(
        MqttOptions::new("reader-r-in", host, port.parse().unwrap()),
        64,
    );
    tokio::spawn(async move { while eventloop.poll().await.is_ok() {} });

    // Every event reaches PostgreSQL once, in a complete chain.
    swipes(&reader, 20).await;
    let (head, rows) = until_complete(&db, 20).await;
    assert_eq!(rows, head);
    // The estate's status and lockdown table, as its uplink published them, with their age.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let row = db
            .query_opt(
                "SELECT payload->>'state', now() - received < interval '10 minutes' FROM estate_state
                 WHERE site = $1 AND topic = 'status'",
                &[&SITE],
            )
            .await
            .unwrap();
        if let Some(row) = row {
            assert_eq!(row.get::<_, Option<String>>(0).as_deref(), Some("online"));
            assert!(row.get::<_, bool>(1), "its age is known");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the office keeps the estate's status"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let lockdown: i64 = db
        .query_one(
            "SELECT count(*) FROM estate_state WHERE site = $1 AND topic = 'lockdown'",
            &[&SITE],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(lockdown, 1, "the lockdown table is kept too");

    // The office stops; the estate goes on; messages are deleted from the stream before the
    // office reads them: a gap it must find and have filled.
    stop_office.cancel();
    office_task.await.unwrap().unwrap();
    let mut stream = js.get_stream("GATEHOUSE_EVENTS").await.unwrap();
    let before = stream.info().await.unwrap().state.last_sequence;
    swipes(&reader, 10).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let after = loop {
        let last = stream.info().await.unwrap().state.last_sequence;
        if last >= before + 10 {
            break last;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the stream got {} of 10 new events",
            last - before
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    for seq in [after - 6, after - 5, after - 4] {
        assert!(
            stream.delete_message(seq).await.unwrap(),
            "deleted stream message {seq}"
        );
    }

    let (stop_office, office_task) = office(office_cfg);
    let (head, rows) = until_complete(&db, 30).await;
    assert_eq!(rows, head, "no event stored twice");
    let filled: i64 = db
        .query_one(
            "SELECT count(*) FROM gaps WHERE site = $1 AND filled IS NOT NULL AND asked IS NOT NULL",
            &[&SITE],
        )
        .await
        .unwrap()
        .get(0);
    assert!(filled >= 1, "the gap was asked for and filled");

    stop_office.cancel();
    office_task.await.unwrap().unwrap();
    stop_gateway.cancel();
    gateway.await.unwrap().unwrap();
}
