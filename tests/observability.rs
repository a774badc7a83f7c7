//! The metrics listener of the real daemon (`gatehouse run`'s start-up): it listens beside
//! the console, says ready once the embedded broker is connected, and counts a swipe made
//! through an MQTT reader. The test waits for conditions, never on a fixed sleep.

mod support;

use gatehouse_testkit::estate::court;
use gatehouse_testkit::mqtt::Probe;
use rumqttc::QoS;
use std::time::Duration;
use support::daemon::Daemon;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SITE: &str = "watched-estate";

/// The court estate with a metrics listener on a free port.
fn config() -> gatehouse::config::ValidConfig {
    let text = court::config(
        SITE,
        "Watched Estate",
        "[metrics]\nlisten = \"127.0.0.1:0\"",
    );
    gatehouse::config::parse(&text, "watched.toml").unwrap()
}

/// `GET path` over plain HTTP/1.1: the status code and the body.
async fn get(base: &str, path: &str) -> (u16, String) {
    let addr = base.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let status = response[9..12].parse().unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map_or(String::new(), |(_, b)| b.to_string());
    (status, body)
}

/// The value of the unlabelled or labelled series `metric` whose labels include `labels`.
fn value(text: &str, metric: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).unwrap();
    scrape
        .samples
        .iter()
        .find(|s| s.metric == metric && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            _ => f64::NAN,
        })
}

/// How many observations the unlabelled histogram `metric` holds (its `+Inf` bucket).
fn observed(text: &str, metric: &str) -> Option<f64> {
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).unwrap();
    scrape.samples.iter().find_map(|s| match &s.value {
        prometheus_parse::Value::Histogram(buckets) if s.metric == metric => buckets
            .iter()
            .find(|b| b.less_than == f64::INFINITY)
            .map(|b| b.count),
        _ => None,
    })
}

/// Scrapes until `ok` holds (at most 10 s).
async fn scrape_until(base: &str, ok: impl Fn(&str) -> bool) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = get(base, "/metrics").await;
        assert_eq!(status, 200);
        if ok(&body) || tokio::time::Instant::now() > deadline {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_serves_metrics_and_health_on_its_own_listener() {
    let dir = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(config(), dir.path()).await;
    let base = daemon
        .metrics
        .clone()
        .expect("a [metrics] section")
        .expect("the metrics listener is up");
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");

    let (status, body) = get(&base, "/healthz").await;
    assert_eq!((status, body.as_str()), (200, "ok\n"));

    // Ready once the gateway is connected to its embedded broker.
    let text = scrape_until(&base, |t| {
        value(t, "gatehouse_broker_connected", &[]) == Some(1.0)
    })
    .await;
    assert_eq!(
        value(&text, "gatehouse_broker_connected", &[]),
        Some(1.0),
        "{text}"
    );
    let (status, body) = get(&base, "/readyz").await;
    assert_eq!(status, 200, "{body}");

    // An unknown card at the reader: one denial, counted with its reason, and the outbox
    // publishes its record.
    let reader = Probe::connect(daemon.broker_port(), "reader-in", &[]).await;
    reader
        .client
        .publish(
            format!("gatehouse/{SITE}/readers/r-in/swipe"),
            QoS::AtLeastOnce,
            false,
            r#"{"card":"0BADCAFE"}"#,
        )
        .await
        .unwrap();
    let denied = &[("result", "deny"), ("reason", "unknown_pass")];
    let text = scrape_until(&base, |t| {
        value(t, "gatehouse_decisions_total", denied) == Some(1.0)
            && value(t, "gatehouse_outbox_lag_events", &[]) == Some(0.0)
    })
    .await;
    assert_eq!(
        value(&text, "gatehouse_decisions_total", denied),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        value(&text, "gatehouse_outbox_lag_events", &[]),
        Some(0.0),
        "{text}"
    );
    assert!(!text.contains("0BADCAFE"), "no card number in the metrics");
    // The denial's record was committed: the commit-latency and batch-size histograms
    // counted at least that one group commit, and the log check found nothing damaged.
    let commits = value(&text, "gatehouse_log_commits_total", &[]).expect("log_commits");
    assert!(commits >= 1.0, "{text}");
    assert_eq!(
        observed(&text, "gatehouse_log_commit_latency_seconds"),
        Some(commits),
        "one latency sample per commit: {text}"
    );
    assert_eq!(
        observed(&text, "gatehouse_log_commit_records"),
        Some(commits),
        "one batch-size sample per commit: {text}"
    );
    assert_eq!(
        value(&text, "gatehouse_log_damaged_records", &[]),
        Some(0.0),
        "{text}"
    );

    daemon.stop().await;
}
