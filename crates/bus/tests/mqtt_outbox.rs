//! The durable event outbox across broker outages: stop Mosquitto, make 1,000 decisions, start
//! it again — every event arrives, in order, none lost — and the same across a gateway restart
//! while the broker is down; a record damaged on disk does not stop the events after it; and
//! a broker whose answer to CONNECT takes longer than the outbox's 200 ms save interval (a slow
//! WAN line) is still connected to.

use gatehouse_core::io::Reply;
use gatehouse_testkit::estate::north::*;
use gatehouse_testkit::mqtt::*;
use std::collections::HashSet;
use std::time::Duration;

const DECISIONS: usize = 1000;

/// Makes `n` decisions directly through the core (the broker is down: they come from the
/// guard's console or Modbus readers). Returns how many were decided.
async fn decide_many(gate: &Gate, n: usize) -> usize {
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let gw = gate.gateway.clone();
        let card = if i % 2 == 0 { "04A1B2C3" } else { "DEADBEEF" };
        tasks.spawn(async move { gw.submit(swipe_at_north_gate(card)).await });
    }
    let mut decided = 0;
    while let Some(done) = tasks.join_next().await {
        let replies = done
            .unwrap()
            .expect("the core answers while the broker is down");
        if replies
            .iter()
            .any(|r| matches!(r, Reply::Access(a) if !a.event.is_empty()))
        {
            decided += 1;
        }
    }
    decided
}

/// Reads events off the probe until every seq in `want` was seen; checks that first
/// deliveries come in seq order. Returns the seqs in the order first seen.
async fn collect(probe: &mut Probe, want: std::ops::RangeInclusive<u64>) -> Vec<u64> {
    let mut seen = HashSet::new();
    let mut order = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    while !want.clone().all(|s| seen.contains(&s)) {
        let p = tokio::time::timeout_at(deadline, probe.messages.recv())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "timed out with {} of {} events",
                    seen.len(),
                    want.clone().count()
                )
            })
            .expect("probe open");
        let event: serde_json::Value = serde_json::from_slice(&p.payload).unwrap();
        let seq = event["seq"].as_u64().unwrap();
        assert_eq!(
            p.topic,
            format!(
                "gatehouse/{SITE}/events/{}",
                event["kind"].as_str().unwrap()
            )
        );
        assert_eq!(event["id"], format!("{SITE}:{seq}"));
        // Consumers de-duplicate by id: only first deliveries count.
        if seen.insert(seq) {
            order.push(seq);
        }
    }
    order
}

fn assert_in_order(order: &[u64], want: std::ops::RangeInclusive<u64>) {
    let mut sorted = order.to_vec();
    sorted.sort_unstable();
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "events out of seq order"
    );
    let wanted: Vec<u64> = want.collect();
    assert!(sorted.ends_with(&wanted), "missing events");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_outage_loses_no_event() {
    let mut mosquitto = Mosquitto::start();
    let dir = tempfile::tempdir().unwrap();
    let config = config(&external(mosquitto.port));
    let mut probe = Probe::persistent(
        mosquitto.port,
        "consumer-1",
        &[format!("gatehouse/{SITE}/events/#")],
    )
    .await;
    let gate = Gate::start(&config, dir.path()).await;
    // One event published while all is well, so the outbox is known to be running.
    assert_eq!(decide_many(&gate, 1).await, 1);
    let first = gate.gateway.store().last_seq();
    let order = collect(&mut probe, 1..=first).await;
    assert_in_order(&order, 1..=first);

    mosquitto.stop();
    let before = gate.gateway.store().last_seq();
    assert_eq!(
        decide_many(&gate, DECISIONS).await,
        DECISIONS,
        "decisions went on while the broker was down"
    );
    let after = gate.gateway.store().last_seq();
    assert_eq!(after - before, DECISIONS as u64);
    mosquitto.resume();

    let order = collect(&mut probe, before + 1..=after).await;
    assert_in_order(&order, before + 1..=after);
    // The durable cursor follows the acknowledgements: woken by each save, never by a timer.
    let store = gate.gateway.store().clone();
    let mut saves = store.cursor_saves();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while store.cursor("mqtt").unwrap() < after {
        tokio::time::timeout_at(deadline, saves.changed())
            .await
            .unwrap_or_else(|_| panic!("cursor did not reach {after}"))
            .expect("store open");
    }
    gate.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_restart_during_an_outage_loses_no_event() {
    let mut mosquitto = Mosquitto::start();
    let dir = tempfile::tempdir().unwrap();
    let config = config(&external(mosquitto.port));
    let mut probe = Probe::persistent(
        mosquitto.port,
        "consumer-2",
        &[format!("gatehouse/{SITE}/events/#")],
    )
    .await;
    let gate = Gate::start(&config, dir.path()).await;
    assert_eq!(decide_many(&gate, 1).await, 1);
    let first = gate.gateway.store().last_seq();
    collect(&mut probe, 1..=first).await;

    mosquitto.stop();
    let before = gate.gateway.store().last_seq();
    assert_eq!(decide_many(&gate, DECISIONS / 2).await, DECISIONS / 2);
    gate.stop().await;
    // The store is closed with the gateway; a new gateway opens the same data directory.
    let gate = Gate::start(&config, dir.path()).await;
    assert_eq!(decide_many(&gate, DECISIONS / 2).await, DECISIONS / 2);
    let after = gate.gateway.store().last_seq();
    assert!(after - before >= DECISIONS as u64);
    mosquitto.resume();

    let order = collect(&mut probe, before + 1..=after).await;
    assert_in_order(&order, before + 1..=after);
    gate.stop().await;
}

/// One record of the log damaged on disk (a byte changed inside it): the outbox publishes an
/// `unreadable` marker in its place and every event after it, instead of retrying the damaged
/// record for ever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_record_goes_out_as_a_marker_and_the_events_after_it_flow_on() {
    const RECORDS: u32 = 30;
    const DAMAGED: u64 = 10;
    let root = tempfile::tempdir().unwrap();
    let path = root.path().to_path_buf();
    let data = tokio::task::spawn_blocking(move || damaged_store(&path, RECORDS, DAMAGED))
        .await
        .unwrap();

    let broker = broker(BrokerKind::Embedded);
    let mut events = Probe::connect(
        broker.port,
        "events-watch",
        &[format!("gatehouse/{SITE}/events/#")],
    )
    .await;
    let mut config = config(&broker_section(BrokerKind::Embedded, broker.port));
    // The check of the whole log runs at once.
    config.log.verify_after_s = 0;
    let gate = Gate::start(&config, &data).await;
    let mut seen = HashSet::new();
    let mut alarm = None;
    let mut marker = None;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !(1..=u64::from(RECORDS)).all(|s| seen.contains(&s)) {
        let p = tokio::time::timeout_at(deadline, events.messages.recv())
            .await
            .unwrap_or_else(|_| panic!("the outbox stalled; seqs seen: {seen:?}"))
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&p.payload).unwrap();
        let seq = v["seq"].as_u64().unwrap();
        if v["alarm"] == "log_damaged" {
            alarm = Some(v.clone());
        }
        if seq == DAMAGED {
            assert_eq!(p.topic, format!("gatehouse/{SITE}/events/unreadable"));
            marker = Some(v.clone());
        }
        seen.insert(seq);
    }
    // The check of the log raises one alarm naming the damaged record, counted as active.
    while alarm.is_none() {
        let p = tokio::time::timeout_at(deadline, events.messages.recv())
            .await
            .expect("an alarm log_damaged from the check of the log")
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&p.payload).unwrap();
        if v["alarm"] == "log_damaged" {
            alarm = Some(v);
        }
    }
    let alarm = alarm.unwrap();
    let detail = alarm["detail"].as_str().unwrap_or_default();
    assert!(
        detail.starts_with(&format!(
            "1 record of the event log is damaged (seq {DAMAGED})"
        )),
        "{alarm}"
    );
    assert!(detail.contains("gatehouse log salvage"), "{alarm}");
    let (damaged, active) = gate
        .gateway
        .read(|core| (core.log_damage().records(), core.active_alarms()))
        .await
        .unwrap();
    assert_eq!((damaged, active), (1, 1));
    let marker = marker.expect("the damaged record's marker");
    assert_eq!(marker["skipped"], "unreadable", "{marker}");
    assert_eq!(marker["id"], format!("{SITE}:{DAMAGED}"), "{marker}");
    assert!(
        marker["error"]
            .as_str()
            .is_some_and(|e| e.contains("log verify")),
        "the marker says what to do: {marker}"
    );
    gate.stop().await;
}

/// A store of `records` events, copied by a backup into one fresh file (so that every record's
/// bytes appear exactly once in it) under `root/data`, with record `damaged` changed on disk.
fn damaged_store(root: &std::path::Path, records: u32, damaged: u64) -> std::path::PathBuf {
    use gatehouse_core::event::{Decision, Kind, Reason};
    use gatehouse_store::{SEAL_KEY, Store, secrets, tables};
    let live = root.join("live");
    let store = Store::open(&live, SITE).unwrap();
    let mut written = Vec::new();
    for i in 0..records {
        let mut e = gatehouse_core::Event::new(
            Kind::Access,
            format!("2026-11-22T08:{:02}:00.000+08:00", i),
        );
        e.door = Some("gate-north".into());
        e.decision = Some(Decision::Grant);
        e.reason = Some(Reason::Granted);
        let e = store.append_blocking(e).unwrap();
        written.push(serde_json::to_string(&e).unwrap());
    }
    let data = root.join("data");
    std::fs::create_dir(&data).unwrap();
    store.backup(&data.join(tables::FILE_NAME)).unwrap();
    drop(store);
    std::fs::copy(
        secrets::path(&live, SEAL_KEY).unwrap(),
        secrets::path(&data, SEAL_KEY).unwrap(),
    )
    .unwrap();
    let file = data.join(tables::FILE_NAME);
    let mut bytes = std::fs::read(&file).unwrap();
    let json = written[damaged as usize - 1].as_bytes();
    let at: Vec<usize> = bytes
        .windows(json.len())
        .enumerate()
        .filter(|(_, w)| *w == json)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(at.len(), 1, "record {damaged} appears once in the file");
    // 0x80 makes the byte invalid UTF-8: the record cannot be read at all.
    bytes[at[0] + 5] ^= 0x80;
    std::fs::write(&file, bytes).unwrap();
    data
}

/// A TCP relay to `port` whose first bytes back to the client on each connection (the
/// broker's CONNACK) are held for `delay`: a broker at the end of a slow line.
async fn slow_line(port: u16, delay: Duration) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let local = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((client, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let Ok(broker) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await else {
                    return;
                };
                let _ = client.set_nodelay(true);
                let (mut client_rx, mut client_tx) = client.into_split();
                let (mut broker_rx, mut broker_tx) = broker.into_split();
                let up = tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut client_rx, &mut broker_tx).await;
                });
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut first = vec![0u8; 4096];
                if let Ok(n) = broker_rx.read(&mut first).await
                    && n > 0
                {
                    tokio::time::sleep(delay).await;
                    if client_tx.write_all(&first[..n]).await.is_ok() {
                        let _ = tokio::io::copy(&mut broker_rx, &mut client_tx).await;
                    }
                }
                up.abort();
            });
        }
    });
    local
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_that_answers_slower_than_the_save_interval_is_still_connected_to() {
    let mosquitto = Mosquitto::start();
    // 500 ms for each CONNACK: more than the outbox's 200 ms cursor-save interval, which
    // used to interrupt rumqttc's connect (its poll is not cancel-safe then) every time.
    let port = slow_line(mosquitto.port, Duration::from_millis(500)).await;
    let dir = tempfile::tempdir().unwrap();
    let mut probe = Probe::persistent(
        mosquitto.port,
        "consumer-slow",
        &[format!("gatehouse/{SITE}/events/#")],
    )
    .await;
    let gate = Gate::start(&config(&external(port)), dir.path()).await;
    assert_eq!(decide_many(&gate, 3).await, 3);
    let last = gate.gateway.store().last_seq();
    let order = collect(&mut probe, 1..=last).await;
    assert_in_order(&order, 1..=last);
    gate.stop().await;
}
