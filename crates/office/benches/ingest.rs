//! The office's ingest, measured against real peers (`bench/district-ingest.sh` starts a
//! three-node NATS cluster and a PostgreSQL server and passes their addresses):
//!
//! 1. **Sustained ingest**: `EVENTS` events of `SITES` estates (valid hash chains, about the
//!    size of an access record) are put into the stream first; then the office starts with a
//!    fresh consumer and the time until PostgreSQL holds them all is measured.
//! 2. **Latency at a district's pace**: with the office running, events are published at
//!    `RATE` a second spread over the estates, each stamped with its publish time; the delay
//!    from that time to the row's `received` time in PostgreSQL is read back as p50/p99.
//!
//! Environment: `NATS_SERVERS` (comma-separated), `PG_URL`, and optionally `EVENTS`
//! (default 100000), `SITES` (37), `RATE` (100), `SECONDS` (30).

use ed25519_dalek::SigningKey;
use gatehouse_core::event::{Decision, Kind, Reason};
use gatehouse_store::chain::{GENESIS, canonical, hash};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Each estate's next record, chained.
struct Estates {
    heads: HashMap<String, (u64, String)>,
}

impl Estates {
    fn new(sites: u64) -> Estates {
        Estates {
            heads: (1..=sites)
                .map(|i| (format!("estate-{i:02}"), (0, GENESIS.to_string())))
                .collect(),
        }
    }

    fn next(&mut self, site: &str, at: jiff::Timestamp) -> (String, Vec<u8>) {
        let (seq, prev) = self.heads.get_mut(site).expect("a known estate");
        *seq += 1;
        let mut e = gatehouse_core::Event::new(Kind::Access, at.to_string());
        e.seq = *seq;
        e.id = format!("{site}:{seq}");
        e.door = Some("gate-north".into());
        e.reader = Some("r-north-in".into());
        e.pass = Some(format!("p-{:06}", *seq % 100_000));
        e.person = Some(format!("person-{:06}", *seq % 100_000));
        e.household = Some("h-0001".into());
        e.decision = Some(Decision::Grant);
        e.reason = Some(Reason::Granted);
        e.prev_hash = prev.clone();
        e.hash = hash(prev, &canonical(&e));
        prev.clone_from(&e.hash);
        (
            format!("gatehouse.{site}.events.access"),
            serde_json::to_vec(&e).unwrap(),
        )
    }
}

async fn count(db: &tokio_postgres::Client) -> i64 {
    db.query_one("SELECT count(*) FROM events", &[])
        .await
        .unwrap()
        .get(0)
}

#[tokio::main]
async fn main() {
    let servers: Vec<String> = std::env::var("NATS_SERVERS")
        .expect("NATS_SERVERS (bench/district-ingest.sh sets it)")
        .split(',')
        .map(str::to_string)
        .collect();
    let pg_url = std::env::var("PG_URL").expect("PG_URL");
    let events = env_or("EVENTS", 100_000);
    let sites = env_or("SITES", 37);
    let rate = env_or("RATE", 100);
    let seconds = env_or("SECONDS", 30);

    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::from_bytes(&[5; 32]);
    std::fs::write(
        dir.path().join("office.key"),
        gatehouse_core::command::secret_key_text(&key),
    )
    .unwrap();
    let file = dir.path().join("office.toml");
    std::fs::write(
        &file,
        format!(
            "[nats]\nservers = [{}]\nconsumer = \"bench\"\n[postgres]\nurl = \"{pg_url}\"\n[issuer]\nid = \"district\"\nkey_file = \"office.key\"\n[web]\nlisten = \"127.0.0.1:0\"\n",
            servers
                .iter()
                .map(|s| format!("\"{s}\""))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )
    .unwrap();
    let config = gatehouse_office::config::OfficeConfig::load(&file).unwrap();

    let nats = async_nats::connect(servers.clone()).await.unwrap();
    let js = async_nats::jetstream::new(nats);
    // The stream as the office makes it.
    gatehouse_office::ingest::consumer(&js, &config.nats)
        .await
        .unwrap();
    // Connected the way the office connects: the schema is made before anything is counted.
    let db = gatehouse_office::db::connect(&pg_url).await.unwrap();

    // 1. Put the events into the stream, then let the office take them.
    let mut estates = Estates::new(sites);
    let names: Vec<String> = estates.heads.keys().cloned().collect();
    let started = Instant::now();
    let mut acks = Vec::with_capacity(1024);
    let now = jiff::Timestamp::now();
    for i in 0..events {
        let site = &names[(i % sites) as usize];
        let (subject, payload) = estates.next(site, now);
        acks.push(js.publish(subject, payload.into()).await.unwrap());
        if acks.len() == 1024 {
            for ack in acks.drain(..) {
                ack.await.unwrap();
            }
        }
    }
    for ack in acks.drain(..) {
        ack.await.unwrap();
    }
    let fill = started.elapsed();
    println!(
        "stream filled: {events} events of {sites} estates in {:.1} s ({:.0}/s)",
        fill.as_secs_f64(),
        events as f64 / fill.as_secs_f64()
    );

    let before = count(&db).await;
    let stop = CancellationToken::new();
    let office = tokio::spawn(gatehouse_office::run(
        config,
        gatehouse_web::PasswordCost::Light,
        stop.clone(),
        |_| {},
    ));
    let started = Instant::now();
    let target = before + events as i64;
    loop {
        let n = count(&db).await;
        if n >= target {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "ingest stalled at {} of {events}",
            n - before
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let took = started.elapsed();
    println!(
        "ingest: {events} events into PostgreSQL in {:.2} s = {:.0} events/s (target >= 5,000)",
        took.as_secs_f64(),
        events as f64 / took.as_secs_f64()
    );

    // 2. At a district's pace: publish-to-row latency.
    let paced = rate * seconds;
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let first_row = count(&db).await;
    for i in 0..paced {
        ticker.tick().await;
        let site = &names[(i % sites) as usize];
        let (subject, payload) = estates.next(site, jiff::Timestamp::now());
        js.publish(subject, payload.into()).await.unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while count(&db).await < first_row + paced as i64 {
        assert!(Instant::now() < deadline, "paced events did not all arrive");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let row = db
        .query_one(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms),
                    percentile_cont(0.99) WITHIN GROUP (ORDER BY ms),
                    max(ms)
             FROM (SELECT (EXTRACT(EPOCH FROM (received - at)) * 1000)::float8 AS ms
                   FROM events ORDER BY received DESC LIMIT $1) recent",
            &[&(paced as i64)],
        )
        .await
        .unwrap();
    let (p50, p99, max): (f64, f64, f64) = (
        row.get::<_, f64>(0),
        row.get::<_, f64>(1),
        row.get::<_, f64>(2),
    );
    println!(
        "latency at {rate} events/s over {sites} estates ({paced} events): publish -> row p50 {p50:.0} ms, p99 {p99:.0} ms, max {max:.0} ms (target p99 <= 1000 ms)"
    );
    stop.cancel();
    office.await.unwrap().unwrap();
}
