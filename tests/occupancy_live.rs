//! Live occupancy end to end: the real daemon with its embedded broker publishes the retained
//! `gatehouse/{site}/occupancy` summary of docs/interfaces.md#mqtt, and the summary follows swipes made
//! through an MQTT reader. The test waits on the topic, never on a fixed sleep.

mod support;

use gatehouse::config::ValidConfig;
use gatehouse::daemon::Options;
use gatehouse_core::estate::{EstateData, Pass, Person};
use gatehouse_testkit::estate::household;
use gatehouse_testkit::mqtt::Probe;
use rumqttc::QoS;
use serde_json::Value;
use std::time::Duration;
use support::daemon::Daemon;

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
        households: vec![household("18-2-501", "bldg-18")],
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

/// The next summary on the topic that `want` accepts, with its retain flag, or none within
/// the limit.
async fn summary_where(probe: &mut Probe, want: impl Fn(&Value) -> bool) -> Option<(bool, Value)> {
    let topic = format!("gatehouse/{SITE}/occupancy");
    tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(p) = probe.messages.recv().await {
            if p.topic != topic {
                continue;
            }
            let v: Value = serde_json::from_slice(&p.payload).expect("the summary is JSON");
            if want(&v) {
                return Some((p.retain, v));
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
    let daemon = Daemon::start_with(config, options).await;
    let port = daemon.broker_port();

    let summary_topic = format!("gatehouse/{SITE}/occupancy");
    let mut summaries = Probe::connect(
        port,
        "occupancy-watch",
        std::slice::from_ref(&summary_topic),
    )
    .await;
    // Nobody inside yet: the first summary counts zero everywhere, and it is retained: a
    // client that subscribes after it was published gets it with the retain flag. (The
    // watcher above may have subscribed before it was published, and then gets it live.)
    let (_, first) = summary_where(&mut summaries, |_| true)
        .await
        .expect("a summary at start");
    let mut late =
        Probe::connect(port, "occupancy-late", std::slice::from_ref(&summary_topic)).await;
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
    let reader = Probe::connect(port, "reader-north", &[]).await;
    let swipe = |reader_id: &str| {
        (
            format!("gatehouse/{SITE}/readers/{reader_id}/swipe"),
            serde_json::json!({ "card": CARD }).to_string(),
        )
    };
    let (topic, payload) = swipe("r-north-in");
    reader
        .client
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
    let mut late = Probe::connect(port, "late-watch", std::slice::from_ref(&summary_topic)).await;
    let (retain, latest) = summary_where(&mut late, |_| true)
        .await
        .expect("the retained summary");
    assert!(retain);
    assert_eq!(latest["inside"]["site"], 1, "{latest}");

    // Out again: back to zero.
    let (topic, payload) = swipe("r-north-out");
    reader
        .client
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
    daemon.stop().await;
}
