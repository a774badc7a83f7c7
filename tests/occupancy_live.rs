//! Live occupancy end to end: the real daemon with its embedded broker publishes the retained
//! `gatehouse/{site}/occupancy` summary of docs/interfaces.md#mqtt, and the summary follows swipes made
//! through an MQTT reader. The test waits on the topic, never on a fixed sleep.

use gatehouse::config::ValidConfig;
use gatehouse::daemon::{self, Options};
use gatehouse_core::estate::{EstateData, Household, Pass, Person};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::Value;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const SITE: &str = "live-estate";
const CARD: &str = "04A1B2C3";
const PHONE: &str = "13800005678";

fn config() -> ValidConfig {
    gatehouse::config::parse(
        &format!(
        r#"
        [site]
        id = "{SITE}"
        name = "Live Estate"
        [broker]
        mode = "embedded"
        listen = "127.0.0.1:0"
        [web]
        listen = "127.0.0.1:0"
        [policy]
        apb = "off"
        [[zones]]
        id = "area-a"
        name = "Area A"
        parent = "site"
        kind = "area"
        [[zones]]
        id = "bldg-18"
        name = "Building 18"
        parent = "area-a"
        kind = "building"
        number = "18"
        [[doors]]
        id = "gate-north"
        name = "North gate"
        kind = "pedestrian"
        outside = "outside"
        inside = "area-a"
        controller = "mqtt"
        readers = [{{ id = "r-north-in", direction = "in" }}, {{ id = "r-north-out", direction = "out" }}]
        "#
        ),
        "live.toml",
    )
    .unwrap()
}

fn estate() -> EstateData {
    EstateData {
        households: vec![Household {
            id: "18-2-501".into(),
            zone: "bldg-18".into(),
            tenure: Default::default(),
        }],
        people: vec![Person {
            id: "R-1".into(),
            name: "王卫平".into(),
            phone: PHONE.into(),
            household: Some("18-2-501".into()),
            role: Default::default(),
        }],
        passes: vec![Pass::card("P-000123", CARD.parse().unwrap(), "R-1")],
    }
}

/// An MQTT client that hands on every publish it receives.
async fn client(
    addr: &str,
    id: &str,
    filter: &str,
) -> (
    AsyncClient,
    mpsc::UnboundedReceiver<(String, bool, Vec<u8>)>,
) {
    let addr: std::net::SocketAddr = addr.parse().unwrap();
    let mut options = MqttOptions::new(id, addr.ip().to_string(), addr.port());
    options.set_keep_alive(Duration::from_secs(5));
    let (client, mut eventloop) = AsyncClient::new(options, 64);
    let (tx, rx) = mpsc::unbounded_channel();
    let sub = client.clone();
    let filter = filter.to_string();
    tokio::spawn(async move {
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    let _ = sub.try_subscribe(filter.clone(), QoS::AtLeastOnce);
                }
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    if tx.send((p.topic, p.retain, p.payload.to_vec())).is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    });
    (client, rx)
}

/// The next summary on the topic that `want` accepts, or none within the limit.
async fn summary_where(
    rx: &mut mpsc::UnboundedReceiver<(String, bool, Vec<u8>)>,
    want: impl Fn(&Value) -> bool,
) -> Option<(bool, Value)> {
    let topic = format!("gatehouse/{SITE}/occupancy");
    tokio::time::timeout(Duration::from_secs(30), async {
        while let Some((t, retain, payload)) = rx.recv().await {
            if t != topic {
                continue;
            }
            let v: Value = serde_json::from_slice(&payload).expect("the summary is JSON");
            if want(&v) {
                return Some((retain, v));
            }
        }
        None
    })
    .await
    .ok()
    .flatten()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_retained_summary_follows_swipes() {
    let dir = tempfile::tempdir().unwrap();
    let config = config();
    {
        let store = gatehouse_store::Store::open(dir.path(), SITE).unwrap();
        store.put_estate(&estate()).unwrap();
    }
    let options = Options {
        data_dir: dir.path().to_path_buf(),
        occupancy: gatehouse::occupancy::Timing {
            min_interval: Duration::from_millis(50),
            refresh: Duration::from_secs(900),
        },
        ..Options::default()
    };
    let token = CancellationToken::new();
    let (addr_tx, addr_rx) = tokio::sync::oneshot::channel();
    let stop = token.clone();
    let daemon = tokio::spawn(async move {
        daemon::run(config, options, stop.cancelled_owned(), move |running| {
            let _ = addr_tx.send(running.mqtt.clone().expect("embedded broker"));
        })
        .await
    });
    let addr = addr_rx.await.expect("the daemon started");

    let (_watch, mut summaries) = client(
        &addr,
        "occupancy-watch",
        &format!("gatehouse/{SITE}/occupancy"),
    )
    .await;
    // Nobody inside yet: the first summary counts zero everywhere, and it is retained: a
    // client that subscribes after it was published gets it with the retain flag. (The
    // watcher above may have subscribed before it was published, and then gets it live.)
    let (_, first) = summary_where(&mut summaries, |_| true)
        .await
        .expect("a summary at start");
    let (_late, mut late) = client(
        &addr,
        "occupancy-late",
        &format!("gatehouse/{SITE}/occupancy"),
    )
    .await;
    let (retain, _) = summary_where(&mut late, |_| true)
        .await
        .expect("the retained summary for a late subscriber");
    assert!(retain, "the summary is retained");
    assert_eq!(first["inside"]["site"], 0, "{first}");
    assert_eq!(first["inside"]["area-a"], 0, "{first}");
    assert!(first["at"].is_string(), "{first}");
    // Registered residents beside the head counts: the one person, in her building and up.
    assert_eq!(first["registered"]["site"], 1, "{first}");
    assert_eq!(first["registered"]["bldg-18"], 1, "{first}");
    assert_eq!(first["registered"]["area-a"], 1, "{first}");
    for status in ["occupied", "occasional", "vacant", "unknown"] {
        assert!(first["households"][status].is_u64(), "{status} in {first}");
    }
    assert_eq!(
        first["households"]["unknown"], 1,
        "the only household has no reads, so the data cannot tell: {first}"
    );

    // A resident swipes in at the north gate: the summary counts one inside.
    let (reader, _) = client(&addr, "reader-north", "gatehouse/none").await;
    let swipe = |reader_id: &str| {
        (
            format!("gatehouse/{SITE}/readers/{reader_id}/swipe"),
            serde_json::json!({ "card": CARD }).to_string(),
        )
    };
    let (topic, payload) = swipe("r-north-in");
    reader
        .publish(topic, QoS::AtLeastOnce, false, payload)
        .await
        .unwrap();
    let (_, inside) = summary_where(&mut summaries, |v| v["inside"]["site"] == 1)
        .await
        .expect("the summary counts the resident who came in");
    assert_eq!(inside["inside"]["area-a"], 1, "{inside}");
    assert_eq!(
        inside["inside"]["bldg-18"], 0,
        "the gate leads into the area: {inside}"
    );

    // A newcomer to the broker gets the latest summary at once: it is retained.
    let (_late, mut late) =
        client(&addr, "late-watch", &format!("gatehouse/{SITE}/occupancy")).await;
    let (retain, latest) = summary_where(&mut late, |_| true)
        .await
        .expect("the retained summary");
    assert!(retain);
    assert_eq!(latest["inside"]["site"], 1, "{latest}");

    // Out again: back to zero.
    let (topic, payload) = swipe("r-north-out");
    reader
        .publish(topic, QoS::AtLeastOnce, false, payload)
        .await
        .unwrap();
    let (_, out) = summary_where(&mut summaries, |v| v["inside"]["site"] == 0)
        .await
        .expect("the summary counts the resident who left");
    assert_eq!(out["inside"]["area-a"], 0, "{out}");

    // No names, ids or phones of people on MQTT.
    for v in [&first, &inside, &latest, &out] {
        let text = v.to_string();
        for personal in ["R-1", "P-000123", "王卫平", PHONE, CARD, "18-2-501"] {
            assert!(!text.contains(personal), "{personal} in {text}");
        }
    }
    token.cancel();
    daemon.await.unwrap().unwrap();
}
