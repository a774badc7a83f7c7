//! The district office against real peers: a three-node NATS cluster (JetStream, MQTT), a
//! PostgreSQL server of its own, and real gateway daemons whose uplinks publish to the
//! cluster. Proved here:
//! - every event reaches PostgreSQL once, keyed by `(site, seq)`, with its chain checked, also
//!   across a NATS node killed during traffic;
//! - the office stopped while the estate goes on resumes from its durable consumer, and
//!   carries on through a PostgreSQL restart;
//! - a gap forced into the stream (messages deleted before the office read them) is found and
//!   filled through a signed `replay` that the gateway carries out, and so are the last events
//!   of a burst, lost with nothing after them (found by the estate's `head`);
//! - with three estates, through the district console: a district lockdown applied and
//!   answered by each estate, by an estate that was offline when it comes back; an order that
//!   expired before an estate returned reported `expired` by that estate; the audited search,
//!   head counts and reports.

mod support;

use ed25519_dalek::SigningKey;
use gatehouse_testkit::district::{Cluster, Postgres};
use gatehouse_testkit::estate::court;
use gatehouse_testkit::mqtt::Probe;
use rumqttc::{AsyncClient, QoS};
use std::time::Duration;
use support::daemon::Daemon;
use support::district::{connect, office, office_config, stream_made};

const SITE: &str = "river-estate";

fn gateway_config(cluster: &Cluster, office: &SigningKey) -> gatehouse::config::ValidConfig {
    gateway_config_for(SITE, cluster, office)
}

fn gateway_config_for(
    site: &str,
    cluster: &Cluster,
    office: &SigningKey,
) -> gatehouse::config::ValidConfig {
    let urls: Vec<String> = (1..=3)
        .map(|k| format!("\"mqtt://127.0.0.1:{}\"", cluster.mqtt(k)))
        .collect();
    let extra = format!(
        r#"
[metrics]
enabled = false
[uplink]
urls = [{urls}]
[[issuers]]
id = "district"
public_key = "{public}"
[[zones]]
id = "bldg-1"
name = "1号楼"
parent = "court"
"#,
        urls = urls.join(", "),
        public = gatehouse_core::command::public_key_text(office),
    );
    gatehouse::config::parse(&court::config(site, "River Estate", &extra), "river.toml").unwrap()
}

/// A reader's connection to the broker of `estate` (a gateway daemon with its uplink).
async fn reader_of(estate: &Daemon) -> Probe {
    Probe::connect(estate.broker_port(), "reader-r-in", &[]).await
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

/// Waits until PostgreSQL holds at least `accesses` access events of the estate, every seq
/// from 1 to its head once, no gap open; returns (head, rows).
async fn until_complete(db: &tokio_postgres::Client, accesses: i64) -> (i64, i64) {
    support::district::until_complete(db, SITE, accesses, Duration::from_secs(90)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_office_stores_every_event_once_and_repairs_a_gap_through_replay() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter("gatehouse_office=info,gatehouse_bus=info,gatehouse_core=info")
        .with_test_writer()
        .try_init();
    let cluster = Cluster::start();
    let pg = Postgres::start();
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::from_bytes(&[11; 32]);
    let office_cfg = office_config(dir.path(), &cluster, &pg, &key);
    let db = connect(&pg.url).await;

    let (stop_office, office_task) = office(office_cfg.clone());
    let js = stream_made(&cluster).await;

    // The gateway, with its uplink to the cluster.
    let data = tempfile::tempdir().unwrap();
    let gateway = Daemon::start(gateway_config(&cluster, &key), data.path()).await;
    let reader = reader_of(&gateway).await;

    // Every event reaches PostgreSQL once, in a complete chain.
    swipes(&reader.client, 20).await;
    let (head, rows) = until_complete(&db, 20).await;
    assert_eq!(rows, head);
    // A node of the cluster (the one the uplink's first URL names) is killed while swipes go
    // on: the uplink moves to another node, the stream keeps its other two replicas, the
    // office's client reconnects; no event is lost or stored twice.
    let burst = {
        let client = reader.client.clone();
        tokio::spawn(async move { swipes(&client, 30).await })
    };
    tokio::time::sleep(Duration::from_millis(1500)).await;
    cluster.run(&["kill", &cluster.path(), "n1"]);
    burst.await.unwrap();
    let (head, rows) = until_complete(&db, 50).await;
    assert_eq!(rows, head, "no event stored twice");
    cluster.run(&["start-node", &cluster.path(), "n1"]);
    // PostgreSQL restarts under the running office: it connects again and carries on.
    pg.restart();
    let db = connect(&pg.url).await;
    swipes(&reader.client, 5).await;
    let (head, rows) = until_complete(&db, 55).await;
    assert_eq!(rows, head, "no event stored twice");
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
    let after = swipes_into_stream(&js, &reader.client, 10).await;
    let stream = js.get_stream("GATEHOUSE_EVENTS").await.unwrap();
    for seq in [after - 6, after - 5, after - 4] {
        assert!(
            stream.delete_message(seq).await.unwrap(),
            "deleted stream message {seq}"
        );
    }

    let (stop_office, office_task) = office(office_cfg.clone());
    let (head, rows) = until_complete(&db, 65).await;
    assert_eq!(rows, head, "no event stored twice");
    let filled = filled_gaps(&db).await;
    assert!(filled >= 1, "the gap was asked for and filled");

    // Lost at the end: the last two events of a burst never reach the office, and no later
    // event shows the hole. The estate's reported head does: the office asks for the rest,
    // also with another "estate" reporting a head that is not a whole number.
    db.batch_execute(
        r#"INSERT INTO estates (site, head_seq, updated) VALUES ('bogus', 0, now() - interval '1 hour');
           INSERT INTO estate_state (site, topic, payload) VALUES ('bogus', 'head', '{"seq": 1.5}')"#,
    )
    .await
    .unwrap();
    stop_office.cancel();
    office_task.await.unwrap().unwrap();
    let after = swipes_into_stream(&js, &reader.client, 5).await;
    for seq in [after - 1, after] {
        assert!(
            stream.delete_message(seq).await.unwrap(),
            "deleted stream message {seq}"
        );
    }
    let (stop_office, office_task) = office(office_cfg);
    let (head, rows) = until_complete(&db, 70).await;
    assert_eq!(rows, head, "no event stored twice");
    assert!(
        filled_gaps(&db).await > filled,
        "the missing tail was asked for and filled"
    );

    stop_office.cancel();
    office_task.await.unwrap().unwrap();
    gateway.stop().await;
}

/// `n` swipes while the office is away; returns the stream's last sequence once all their
/// events are in the stream.
async fn swipes_into_stream(
    js: &async_nats::jetstream::Context,
    reader: &AsyncClient,
    n: u64,
) -> u64 {
    let mut stream = js.get_stream("GATEHOUSE_EVENTS").await.unwrap();
    let before = stream.info().await.unwrap().state.last_sequence;
    swipes(reader, n as usize).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let last = stream.info().await.unwrap().state.last_sequence;
        if last >= before + n {
            return last;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the stream got {} of {n} new events",
            last - before
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Gaps the office asked for that are filled.
async fn filled_gaps(db: &tokio_postgres::Client) -> i64 {
    db.query_one(
        "SELECT count(*) FROM gaps WHERE site = $1 AND filled IS NOT NULL AND asked IS NOT NULL",
        &[&SITE],
    )
    .await
    .unwrap()
    .get(0)
}

/// The district console's router, signed in: JSON in and out, the session's cookies and
/// CSRF token on every request.
struct Console {
    router: axum::Router,
    cookies: String,
    csrf: String,
}

impl Console {
    async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, Vec<u8>, axum::http::HeaderMap) {
        use tower::ServiceExt;
        let mut req = axum::http::Request::builder()
            .method(method)
            .uri(path)
            .header("cookie", &self.cookies)
            .header("x-csrf-token", &self.csrf);
        if body.is_some() {
            req = req.header("content-type", "application/json");
        }
        let req = req
            .body(axum::body::Body::from(
                body.map(|b| b.to_string()).unwrap_or_default(),
            ))
            .unwrap();
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let bytes = axum::body::to_bytes(res.into_body(), 16 << 20)
            .await
            .unwrap();
        (status, bytes.to_vec(), headers)
    }

    async fn json(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let (status, bytes, _) = self.call(method, path, body).await;
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
        )
    }

    /// Signs in as `user`; panics unless the console lets them in.
    async fn sign_in(router: axum::Router, user: &str, password: &str) -> Console {
        let anonymous = Console {
            router,
            cookies: String::new(),
            csrf: String::new(),
        };
        let (status, body, headers) = anonymous
            .call(
                "POST",
                "/api/login",
                Some(serde_json::json!({"user": user, "password": password})),
            )
            .await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        let cookies: Vec<String> = headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
            .collect();
        let me: serde_json::Value = serde_json::from_slice(&body).unwrap();
        Console {
            router: anonymous.router,
            cookies: cookies.join("; "),
            csrf: me["csrf"].as_str().unwrap().to_string(),
        }
    }
}

/// Polls `path` until `done` holds for its JSON, or fails after `secs` naming the last answer.
async fn until_json(
    console: &Console,
    path: &str,
    secs: u64,
    what: &str,
    done: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let (status, v) = console.json("GET", path, None).await;
        if status == 200 && done(&v) {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: last answer {status} {v}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn site_state<'a>(order: &'a serde_json::Value, site: &str) -> &'a str {
    order["sites"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["site"] == site))
        .and_then(|s| s["state"].as_str())
        .unwrap_or("")
}

fn estate<'a>(estates: &'a serde_json::Value, site: &str) -> &'a serde_json::Value {
    estates
        .as_array()
        .and_then(|e| e.iter().find(|e| e["site"] == site))
        .unwrap_or(&serde_json::Value::Null)
}

/// One resident with a card, imported into a gateway's store before it starts.
fn import_resident(config: &gatehouse::config::ValidConfig, data: &std::path::Path) {
    let store = gatehouse_store::Store::open(data, &config.site.id).unwrap();
    let file = data.join("residents.csv");
    std::fs::write(
        &file,
        "household,name,phone,role,pass,valid_until\n1-1-101,王伟,13800001234,owner,0A1B2C3D,2030-06-30\n",
    )
    .unwrap();
    gatehouse::import::residents::import(&file, config, &store, "test", &mut |_, _| {}).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn district_orders_reach_every_estate_and_the_console_reads_the_district() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter("gatehouse_office=debug")
        .with_test_writer()
        .try_init();
    let cluster = Cluster::start();
    let pg = Postgres::start();
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::from_bytes(&[12; 32]);
    let mut office_cfg = office_config(dir.path(), &cluster, &pg, &key);
    // Orders valid for 8 s, so that an estate can come back after one expired.
    office_cfg.web.order_valid_s = 8;
    let (stop_office, office_task) = office(office_cfg.clone());
    stream_made(&cluster).await;

    // Three estates, each a gateway daemon with its uplink to the cluster.
    let sites = ["east-1", "east-2", "east-3"];
    let datas: Vec<_> = sites.iter().map(|_| tempfile::tempdir().unwrap()).collect();
    let configs: Vec<_> = sites
        .iter()
        .map(|s| gateway_config_for(s, &cluster, &key))
        .collect();
    tokio::task::block_in_place(|| import_resident(&configs[0], datas[0].path()));
    let mut estates = Vec::new();
    for (config, data) in configs.iter().zip(&datas) {
        estates.push(Some(Daemon::start(config.clone(), data.path()).await));
    }

    // The district console over the office's database, its users file and the cluster, as
    // the office serves it; the first admin's password comes back on the first run.
    let nats = async_nats::connect(format!("nats://127.0.0.1:{}", cluster.client(2)))
        .await
        .unwrap();
    let parts = gatehouse_office::console::Parts {
        postgres: pg.url.clone(),
        nats,
        issuer: "district".into(),
        key: key.clone(),
        password_cost: gatehouse_web::PasswordCost::Light,
    };
    let mut web = office_cfg.web.clone();
    web.data_dir = dir.path().join("console-data");
    let (console, password) = gatehouse_office::console::Console::new(&web, parts).unwrap();
    let router = gatehouse_office::console::api::router(console);
    let password = password.expect("a first admin is made on the first run");

    // Not signed in: refused with the documented error; a wrong password too.
    let anonymous = Console {
        router: router.clone(),
        cookies: String::new(),
        csrf: String::new(),
    };
    let (status, v) = anonymous.json("GET", "/api/district/estates", None).await;
    assert_eq!((status, v["error"].as_str()), (401, Some("not_signed_in")));
    let (status, v) = anonymous
        .json(
            "POST",
            "/api/login",
            Some(serde_json::json!({"user": "admin", "password": "nope"})),
        )
        .await;
    assert_eq!((status, v["error"].as_str()), (401, Some("bad_password")));
    let admin = Console::sign_in(router.clone(), "admin", &password).await;

    // Every estate online, with its name and head counts against its registered residents.
    let all = until_json(
        &admin,
        "/api/district/estates",
        60,
        "all three estates online",
        |v| {
            sites
                .iter()
                .all(|s| estate(v, s)["state"] == "online" && estate(v, s)["registered"].is_i64())
        },
    )
    .await;
    assert_eq!(estate(&all, "east-1")["name"], "River Estate");
    assert_eq!(
        estate(&all, "east-1")["registered"],
        1,
        "one resident registered"
    );
    assert_eq!(estate(&all, "east-2")["registered"], 0);
    assert_eq!(estate(&all, "east-1")["stale"], false);

    // An order naming an estate the office never heard of is refused, with the reason.
    let (status, v) = admin
        .json("POST", "/api/district/orders", Some(serde_json::json!({
            "action": "lockdown", "sites": ["east-1", "west-9"], "mode": "quarantine", "reason": "x"})))
        .await;
    assert_eq!(
        (status, v["error"].as_str()),
        (400, Some("bad_order")),
        "{v}"
    );
    assert!(v["message"].as_str().unwrap().contains("west-9"), "{v}");
    // Without the session's CSRF token: refused.
    let forged = Console {
        router: router.clone(),
        cookies: admin.cookies.clone(),
        csrf: "x".into(),
    };
    let (status, v) = forged
        .json(
            "POST",
            "/api/district/orders",
            Some(serde_json::json!({"action": "lift", "sites": ["east-1"]})),
        )
        .await;
    assert_eq!((status, v["error"].as_str()), (403, Some("csrf")), "{v}");

    // east-3 goes offline; a district lockdown of all three: two apply it at once, east-3
    // when it comes back (its order still valid).
    estates[2].take().unwrap().stop().await;
    until_json(&admin, "/api/district/estates", 30, "east-3 offline", |v| {
        estate(v, "east-3")["state"] == "offline"
    })
    .await;
    let (status, order) = admin
        .json("POST", "/api/district/orders", Some(serde_json::json!({
            "action": "lockdown", "sites": sites, "mode": "quarantine", "reason": "district order"})))
        .await;
    assert_eq!(status, 201, "{order}");
    let id = order["id"].as_i64().unwrap();
    let path = format!("/api/district/orders/{id}");
    let done = until_json(
        &admin,
        &path,
        30,
        "east-1 and east-2 applied the lockdown",
        |o| site_state(o, "east-1") == "applied" && site_state(o, "east-2") == "applied",
    )
    .await;
    assert_eq!(site_state(&done, "east-3"), "waiting", "{done}");
    estates[2] = Some(Daemon::start(configs[2].clone(), datas[2].path()).await);
    until_json(
        &admin,
        &path,
        30,
        "east-3 applied the lockdown on reconnection",
        |o| site_state(o, "east-3") == "applied",
    )
    .await;
    // Each estate's own lockdown table, as it publishes it, says so.
    until_json(
        &admin,
        "/api/district/estates",
        30,
        "every estate shows the lockdown",
        |v| {
            sites
                .iter()
                .all(|s| estate(v, s)["lockdowns"]["site"]["mode"] == "quarantine")
        },
    )
    .await;

    // east-3 away again; a lift for it expires before it returns: it says `expired` itself,
    // and keeps its lockdown.
    estates[2].take().unwrap().stop().await;
    let (status, lift) = admin
        .json(
            "POST",
            "/api/district/orders",
            Some(serde_json::json!({"action": "lift", "sites": ["east-3"]})),
        )
        .await;
    assert_eq!(status, 201, "{lift}");
    let lift_path = format!("/api/district/orders/{}", lift["id"]);
    tokio::time::sleep(Duration::from_secs(9)).await;
    estates[2] = Some(Daemon::start(configs[2].clone(), datas[2].path()).await);
    let expired = until_json(
        &admin,
        &lift_path,
        40,
        "east-3 answered that the lift expired",
        |o| site_state(o, "east-3") != "waiting",
    )
    .await;
    assert_eq!(site_state(&expired, "east-3"), "expired", "{expired}");
    let v = admin.json("GET", "/api/district/estates", None).await.1;
    assert_eq!(
        estate(&v, "east-3")["lockdowns"]["site"]["mode"],
        "quarantine"
    );

    // The district search: a resident's swipe at east-1, found by pass id; the search is audited.
    let reader = reader_of(estates[0].as_ref().unwrap()).await;
    reader
        .client
        .publish(
            "gatehouse/east-1/readers/r-in/swipe",
            QoS::AtLeastOnce,
            false,
            r#"{"card":"0A1B2C3D"}"#,
        )
        .await
        .unwrap();
    let db = connect(&pg.url).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let pass: String = loop {
        let row = db
            .query_opt(
                "SELECT body->>'pass' FROM events WHERE site = 'east-1' AND kind = 'access' AND body ? 'pass' LIMIT 1",
                &[],
            )
            .await
            .unwrap();
        if let Some(row) = row {
            break row.get(0);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the resident's swipe reached the office"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let (status, found) = admin
        .json("GET", &format!("/api/district/search?q={pass}"), None)
        .await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
    assert_eq!(found[0]["site"], "east-1");
    assert_eq!(found[0]["pass"].as_str(), Some(pass.as_str()));
    assert_eq!(found[0]["last_door"], "gate");
    for instant in [&found[0]["last_seen"], &found[0]["first_seen"]] {
        let text = instant.as_str().unwrap_or_default();
        assert!(
            text.parse::<jiff::Timestamp>().is_ok(),
            "RFC 3339: {instant}"
        );
    }
    let (status, v) = admin.json("GET", "/api/district/search?q=%20", None).await;
    assert_eq!((status, v["error"].as_str()), (400, Some("bad_query")));
    let audit = admin.json("GET", "/api/district/audit", None).await.1;
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["action"] == "search"
                && l["detail"] == pass.as_str()
                && l["actor"] == "admin:admin"),
        "{audit}"
    );
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["action"] == "order"),
        "{audit}"
    );

    // Head counts summed over the district, and the reports.
    let counts = admin.json("GET", "/api/district/headcounts", None).await.1;
    assert_eq!(counts["estates"].as_array().unwrap().len(), 3, "{counts}");
    assert_eq!(counts["registered"], 1, "{counts}");
    let (status, html, headers) = admin.call("GET", "/api/district/report.html", None).await;
    assert_eq!(status, 200);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = String::from_utf8(html).unwrap();
    assert!(html.contains("east-1") && html.contains("east-3"), "{html}");
    let (status, xlsx, headers) = admin.call("GET", "/api/district/report.xlsx", None).await;
    assert_eq!(status, 200);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .contains("spreadsheetml")
    );
    let sheet =
        zip::ZipArchive::new(std::io::Cursor::new(xlsx)).expect("the report is an XLSX (zip)");
    assert!(sheet.file_names().any(|n| n == "xl/worksheets/sheet1.xml"));

    stop_office.cancel();
    office_task.await.unwrap().unwrap();
    for e in estates.into_iter().flatten() {
        e.stop().await;
    }
}
