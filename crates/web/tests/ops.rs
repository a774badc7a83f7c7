//! The metrics listener (`/metrics`, `/healthz`, `/readyz`) on a real core and store: what a
//! Prometheus server and a supervisor would read.

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use gatehouse_core::io::{AccessPoint, AccessRequest, Credential, Input, Reply};
use gatehouse_core::{Direction, Reason};
use gatehouse_runtime::{BrokerStatus, Gateway};
use gatehouse_web::ops::{self, Ops};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

fn ops(gateway: &Gateway) -> Ops {
    Ops {
        gateway: gateway.clone(),
        ready_controllers: 0.5,
    }
}

async fn get(gateway: &Gateway, path: &str) -> (StatusCode, String) {
    let request = Request::get(path).body(Body::empty()).unwrap();
    let response = ops::router(ops(gateway)).oneshot(request).await.unwrap();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

fn swipe(card: &str) -> Input {
    Input::Access(AccessRequest {
        point: AccessPoint::Door {
            door: "gate-b".into(),
            direction: Direction::In,
        },
        credential: Credential::Card(card.parse().unwrap()),
        pin: None,
        requested_at: None,
        actor: None,
        source: "test".into(),
    })
}

async fn decide(gateway: &Gateway, card: &str) -> (bool, Reason) {
    let replies = gateway.submit(swipe(card)).await.unwrap();
    match &replies[..] {
        [Reply::Access(r)] => (r.grant, r.reason),
        other => panic!("expected one access reply, got {other:?}"),
    }
}

fn connected(gateway: &Gateway) {
    gateway.set_broker_status(BrokerStatus {
        broker: "127.0.0.1:1883".into(),
        connected: true,
        protocol: "5".into(),
        problem: None,
        since: "2026-12-04T00:00:00Z".into(),
    });
}

fn parse(text: &str) -> prometheus_parse::Scrape {
    let lines = text.lines().map(|l| Ok(l.to_string()));
    prometheus_parse::Scrape::parse(lines).expect("the exposition parses")
}

/// The value of `metric` with exactly `labels`.
fn value(scrape: &prometheus_parse::Scrape, metric: &str, labels: &[(&str, &str)]) -> Option<f64> {
    scrape
        .samples
        .iter()
        .find(|s| {
            s.metric == metric
                && s.labels.len() == labels.len()
                && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v))
        })
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            ref other => panic!("{metric} is not a single value: {other:?}"),
        })
}

#[tokio::test]
async fn metrics_count_decisions_by_result_and_reason() {
    let estate = support::estate().await;
    let gw = &estate.gateway;
    let revoked = decide(gw, "04A1B2C4").await;
    assert_eq!(revoked, (false, Reason::PassRevoked));
    let unknown = decide(gw, "0BADCAFE").await;
    assert_eq!(unknown, (false, Reason::UnknownPass));
    decide(gw, "0BADCAFE").await;
    let active = decide(gw, "04A1B2C3").await;

    let (status, text) = get(gw, "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    let scrape = parse(&text);
    let decisions = |result: &str, reason: &str| {
        value(
            &scrape,
            "gatehouse_decisions_total",
            &[("result", result), ("reason", reason)],
        )
    };
    assert_eq!(decisions("deny", "pass_revoked"), Some(1.0), "{text}");
    assert_eq!(decisions("deny", "unknown_pass"), Some(2.0), "{text}");
    let active_result = if active.0 { "grant" } else { "deny" };
    let expected_same = if active.1 == Reason::UnknownPass {
        3.0
    } else {
        1.0
    };
    assert_eq!(
        decisions(active_result, active.1.as_str()),
        Some(expected_same),
        "{text}"
    );
    // Every decision was timed.
    let timed = scrape
        .samples
        .iter()
        .find(|s| s.metric == "gatehouse_decision_seconds")
        .expect("decision latency histogram");
    match &timed.value {
        prometheus_parse::Value::Histogram(buckets) => {
            let all = buckets.iter().map(|b| b.count).fold(0.0, f64::max);
            assert_eq!(all, 4.0, "{text}");
        }
        other => panic!("decision latency is not a histogram: {other:?}"),
    }
    // The log holds the four decisions, and the gauges read at scrape time are there.
    assert!(value(&scrape, "gatehouse_log_records_total", &[]).unwrap() >= 4.0);
    assert_eq!(value(&scrape, "gatehouse_log_writable", &[]), Some(1.0));
    assert_eq!(value(&scrape, "gatehouse_lockdowns_active", &[]), Some(0.0));
    assert!(value(&scrape, "gatehouse_data_dir_free_bytes", &[]).unwrap() > 0.0);
    assert!(value(&scrape, "gatehouse_store_file_bytes", &[]).unwrap() > 0.0);
    assert_eq!(
        value(&scrape, "gatehouse_queue_depth", &[("queue", "urgent")]),
        Some(0.0)
    );
    assert_eq!(
        value(&scrape, "gatehouse_dropped_total", &[("what", "signals")]),
        Some(0.0)
    );
    // No phone number, card number or person reaches the metrics: not in a name, a label or
    // a comment. (A sample's value is a number, which may contain "5678" by chance: free
    // bytes, a latency sum.)
    let words: Vec<&str> = text
        .lines()
        .map(|line| match line.starts_with('#') {
            true => line,
            false => line
                .rsplit_once(' ')
                .map_or(line, |(series, _value)| series),
        })
        .collect();
    for secret in [
        "13812345678",
        "5678",
        "04A1B2C3",
        "0BADCAFE",
        "R-1",
        "王卫平",
    ] {
        assert!(
            !words.iter().any(|w| w.contains(secret)),
            "{secret} leaked into /metrics: {text}"
        );
    }
}

#[tokio::test]
async fn readyz_fails_while_the_log_cannot_be_written_and_recovers() {
    let estate = support::estate().await;
    let gw = &estate.gateway;
    connected(gw);
    let (status, body) = get(gw, "/readyz").await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // The disk fills: the next swipe is refused and the gateway knows the log is down.
    estate.store.fail_appends(true);
    assert_eq!(
        decide(gw, "04A1B2C4").await,
        (false, Reason::LogUnavailable)
    );
    let (status, body) = get(gw, "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["ready"], false);
    let failing: Vec<&serde_json::Value> = json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == false)
        .collect();
    assert_eq!(failing.len(), 1, "{body}");
    assert_eq!(failing[0]["name"], "log");
    assert!(
        failing[0]["problem"]
            .as_str()
            .unwrap()
            .contains("free space in the data directory"),
        "{body}"
    );
    // The console's health fact says the same.
    let live = gw.live().borrow().clone();
    let doors = gatehouse_web::api::site::doors_of(&estate.app.site, &live);
    assert!(!doors.log_writable);
    // And so do the metrics.
    let (_, text) = get(gw, "/metrics").await;
    let scrape = parse(&text);
    assert_eq!(value(&scrape, "gatehouse_log_writable", &[]), Some(0.0));
    assert_eq!(
        value(&scrape, "gatehouse_ready_check", &[("check", "log")]),
        Some(0.0)
    );
    assert_eq!(
        value(
            &scrape,
            "gatehouse_decisions_total",
            &[("result", "deny"), ("reason", "log_unavailable")]
        ),
        Some(1.0)
    );

    // Space is freed: the next write succeeds and everything says healthy again.
    estate.store.fail_appends(false);
    decide(gw, "04A1B2C4").await;
    let (status, body) = get(gw, "/readyz").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let live = gw.live().borrow().clone();
    assert!(gatehouse_web::api::site::doors_of(&estate.app.site, &live).log_writable);
}

#[tokio::test]
async fn readyz_says_when_the_broker_is_not_connected() {
    let estate = support::estate().await;
    let (status, body) = get(&estate.gateway, "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(body.contains("\"broker\""), "{body}");
    assert!(body.contains("[broker]"), "{body}");
}

#[tokio::test]
async fn healthz_answers_on_its_own_listener() {
    let estate = support::estate().await;
    let served = ops::serve("127.0.0.1:0", ops(&estate.gateway), estate.token.clone())
        .await
        .unwrap();
    let mut stream = tokio::net::TcpStream::connect(served.addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with("ok\n"), "{response}");
}

#[tokio::test]
async fn a_taken_port_is_a_clear_error() {
    let estate = support::estate().await;
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let err = ops::serve(&addr, ops(&estate.gateway), estate.token.clone())
        .await
        .err()
        .expect("the port is taken");
    let message = err.to_string();
    assert!(message.contains(&addr), "{message}");
    assert!(message.contains("[metrics] listen"), "{message}");
}
