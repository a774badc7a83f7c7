//! Who may publish what, on the embedded broker and on a Mosquitto configured from the files
//! `gatehouse broker acl --format mosquitto` writes: strangers, the gateway's client id and
//! devices writing outside their own topics are refused; 10,000 retained messages all reach
//! a QoS 1 subscriber.

use gatehouse_bus::broker::{acl, guard};
use gatehouse_core::config::Config;
use gatehouse_testkit::estate::north::*;
use gatehouse_testkit::mqtt::*;
use rumqttc::{
    AsyncClient, Event, EventLoop, MqttOptions, Packet, Publish, QoS, SubscribeReasonCode,
};
use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

const GATEWAY_ID: &str = "gatehouse-north-estate";
const WAIT: Duration = Duration::from_secs(20);

/// One MQTT connection driven by the test itself (no background task), so that every
/// refusal and every message is seen in order.
struct Session {
    client: AsyncClient,
    events: EventLoop,
}

impl Session {
    /// Connects; `Err` carries why the broker refused.
    async fn open(port: u16, id: &str, login: Option<(&str, &str)>) -> Result<Session, String> {
        let mut options = MqttOptions::new(id, "127.0.0.1", port);
        options.set_keep_alive(Duration::from_secs(5));
        if let Some((user, password)) = login {
            options.set_credentials(user, password);
        }
        let (client, mut events) = AsyncClient::new(options, 64);
        events.network_options.set_tcp_nodelay(true);
        let connected = tokio::time::timeout(WAIT, async {
            loop {
                match events.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => return Ok(()),
                    Ok(_) => {}
                    Err(e) => return Err(e.to_string()),
                }
            }
        })
        .await
        .map_err(|_| "no ConnAck".to_string())?;
        connected.map(|()| Session { client, events })
    }

    /// Subscribes at QoS 1; true when the broker granted it.
    async fn subscribe(&mut self, filter: &str) -> bool {
        // The request queue may be full of publishes still in flight: keep the connection
        // polled while the subscription waits for room, or nothing would ever drain it.
        let client = self.client.clone();
        let wanted = filter.to_string();
        self.serve_while(async move { client.subscribe(wanted, QoS::AtLeastOnce).await })
            .await
            .unwrap();
        tokio::time::timeout(WAIT, async {
            loop {
                match self.events.poll().await {
                    Ok(Event::Incoming(Packet::SubAck(ack))) => {
                        return !ack.return_codes.contains(&SubscribeReasonCode::Failure);
                    }
                    Ok(_) => {}
                    Err(e) => panic!("connection lost while subscribing to {filter}: {e}"),
                }
            }
        })
        .await
        .expect("a SubAck")
    }

    async fn publish(&self, topic: &str, payload: &str) {
        self.client
            .publish(topic, QoS::AtLeastOnce, false, payload)
            .await
            .unwrap();
    }

    /// The next message, or why the connection ended.
    async fn next(&mut self) -> Result<Publish, String> {
        tokio::time::timeout(WAIT, async {
            loop {
                match self.events.poll().await {
                    Ok(Event::Incoming(Packet::Publish(p))) => return Ok(p),
                    Ok(_) => {}
                    Err(e) => return Err(e.to_string()),
                }
            }
        })
        .await
        .unwrap_or_else(|_| Err("nothing arrived".into()))
    }

    /// Keeps the connection polled (acknowledgements out) until `other` is done.
    async fn serve_while<T>(&mut self, other: impl std::future::Future<Output = T>) -> T {
        tokio::pin!(other);
        loop {
            tokio::select! {
                out = &mut other => return out,
                _ = self.events.poll() => {}
            }
        }
    }
}

fn topic(rest: &str) -> String {
    format!("gatehouse/{SITE}/{rest}")
}

/// The test estate with a login for one reader, the north gate's controller and the office.
fn estate_with_users(extra: &str) -> (Config, BTreeMap<String, String>) {
    let passwords: BTreeMap<String, String> = [
        ("reader-north", "rn-pass"),
        ("gate-north-ctl", "gn-pass"),
        ("office", "of-pass"),
    ]
    .into_iter()
    .map(|(u, p)| (u.to_string(), p.to_string()))
    .collect();
    let h = |u: &str| guard::hash_password(&passwords[u]).unwrap();
    let section = format!(
        r#"{extra}
        allow_anonymous = false
        users = [
          {{ name = "reader-north", password_hash = "{}", reader = "r-north-in" }},
          {{ name = "gate-north-ctl", password_hash = "{}", door = "gate-north" }},
          {{ name = "office", password_hash = "{}", issuer = "office-1" }},
        ]"#,
        h("reader-north"),
        h("gate-north-ctl"),
        h("office"),
    );
    (config(&section), passwords)
}

/// Publishes once on a connection of its own, waits for the broker's answer (an
/// acknowledgement, or the end of the connection), and lets the connection go.
async fn publish_alone(
    port: u16,
    id: &str,
    login: Option<(&str, &str)>,
    topic: &str,
    payload: &str,
) {
    let Ok(mut session) = Session::open(port, id, login).await else {
        return;
    };
    session.publish(topic, payload).await;
    let _ = tokio::time::timeout(WAIT, async {
        loop {
            match session.events.poll().await {
                Ok(Event::Incoming(Packet::PubAck(_))) | Err(_) => break,
                Ok(_) => {}
            }
        }
    })
    .await;
}

/// The checks both brokers must pass. `gateway` is the gateway's login; `kicks` says whether
/// the broker lets a device connect with the gateway's client id at all (Mosquitto renames
/// it to the device's user name instead).
async fn strangers_and_trespassers_are_refused(
    port: u16,
    gateway: (&str, &str),
    passwords: &BTreeMap<String, String>,
    refuses_gateway_id: bool,
) {
    let login = |u: &'static str| Some((u, passwords[u].as_str()));

    // No user name: refused.
    let anonymous = Session::open(port, "stranger", None).await;
    assert!(anonymous.is_err(), "an anonymous client was let in");
    // A wrong password: refused.
    assert!(
        Session::open(port, "guess", Some(("reader-north", "guess")))
            .await
            .is_err()
    );

    // The gateway's outbox login watches everything.
    let outbox = format!("{}-outbox", gateway.0);
    let mut watch = Session::open(port, &outbox, Some((&outbox, gateway.1)))
        .await
        .expect("the gateway's outbox login connects");
    assert!(watch.subscribe(&topic("#")).await);

    // The gateway itself, and a device that tries to take its client id.
    let mut gw = Session::open(port, GATEWAY_ID, Some(gateway))
        .await
        .expect("the gateway's login connects");
    assert!(gw.subscribe(&topic("lockdown")).await);
    let intruder = Session::open(port, GATEWAY_ID, login("reader-north")).await;
    if refuses_gateway_id {
        assert!(
            intruder.is_err(),
            "a reader connected with the gateway's client id"
        );
    }
    // Either way the gateway's connection is still the one with its id: a round trip works.
    gw.publish(&topic("lockdown"), r#"{"zones":{}}"#).await;
    let echo = gw.next().await.expect("the gateway was not evicted");
    assert_eq!(echo.topic, topic("lockdown"));
    assert_eq!(watch.next().await.unwrap().topic, topic("lockdown"));
    drop(intruder);

    // A reader: another door's input (a fire alarm!), another reader's swipe and a command
    // never reach anyone; its own swipe does, after them. Each forbidden publish goes on a
    // connection of its own: a broker may end a connection whose publish it denied
    // (Mosquitto 2.0.11 answers a 3.1.1 client with a version-5 reason code, and the client
    // drops the connection with whatever it had queued).
    for (t, payload) in [
        ("doors/gate-north/input", r#"{"fire":true}"#),
        ("readers/r-east-in/swipe", r#"{"card":"04A1B2C3"}"#),
        ("commands", r#"{"body":"{}","sig":""}"#),
    ] {
        publish_alone(
            port,
            "reader-north-dev",
            login("reader-north"),
            &topic(t),
            payload,
        )
        .await;
    }
    let mut reader = Session::open(port, "reader-north-dev", login("reader-north"))
        .await
        .expect("the reader's login connects");
    reader
        .publish(&topic("readers/r-north-in/swipe"), r#"{"card":"MARK"}"#)
        .await;
    let first = reader.serve_while(watch.next()).await.unwrap();
    assert_eq!(
        (first.topic.as_str(), first.payload.as_ref()),
        (
            topic("readers/r-north-in/swipe").as_str(),
            br#"{"card":"MARK"}"#.as_slice()
        ),
        "the broker passed on a publish outside the reader's rights"
    );

    // The door controller: another door's fire input refused, its own passed.
    publish_alone(
        port,
        "gate-north-dev",
        login("gate-north-ctl"),
        &topic("doors/gate-east/input"),
        r#"{"fire":true}"#,
    )
    .await;
    let mut door = Session::open(port, "gate-north-dev", login("gate-north-ctl"))
        .await
        .expect("the door controller's login connects");
    door.publish(&topic("doors/gate-north/input"), r#"{"contact":"open"}"#)
        .await;
    let next = door.serve_while(watch.next()).await.unwrap();
    assert_eq!(next.topic, topic("doors/gate-north/input"));

    // Subscriptions: a reader reads its own results and the public state, not others'. The
    // embedded broker refuses a subscription outside the rights; Mosquitto grants it and
    // delivers only what the subscriber may read. Either way no other reader's result and no
    // command reaches the reader.
    let wide = reader.subscribe(&topic("readers/+/result")).await;
    let commands = reader.subscribe(&topic("commands")).await;
    if refuses_gateway_id {
        assert!(
            !wide && !commands,
            "the embedded broker granted a subscription outside the rights"
        );
    }
    assert!(reader.subscribe(&topic("readers/r-north-in/result")).await);
    assert!(reader.subscribe(&topic("doors/+/state")).await);
    gw.publish(&topic("readers/r-east-in/result"), r#"{"id":"other"}"#)
        .await;
    gw.publish(&topic("commands"), r#"{"body":"{}","sig":""}"#)
        .await;
    gw.publish(&topic("readers/r-north-in/result"), r#"{"id":"mine"}"#)
        .await;
    let got = gw.serve_while(reader.next()).await.unwrap();
    assert_eq!(
        (got.topic.as_str(), got.payload.as_ref()),
        (
            topic("readers/r-north-in/result").as_str(),
            br#"{"id":"mine"}"#.as_slice()
        ),
        "the reader received a message outside its rights"
    );
    let _ = (
        reader.client.disconnect().await,
        door.client.disconnect().await,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_broker_keeps_every_client_to_its_rights() {
    let (estate, passwords) = estate_with_users("");
    let handle = embedded_broker(&estate);
    let (user, password) = handle.gateway_login.clone();
    strangers_and_trespassers_are_refused(handle.addr.port(), (&user, &password), &passwords, true)
        .await;
    handle.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mosquitto_from_the_generated_files_keeps_every_client_to_its_rights() {
    let (estate, passwords) = estate_with_users("password = \"gw-pass\"");
    let acl_text = acl::mosquitto_acl(&estate);
    let passwd = acl::mosquitto_passwd(&estate, &passwords).unwrap();
    let mosquitto = Mosquitto::start_with(|dir| {
        std::fs::write(dir.join("acl"), &acl_text).unwrap();
        std::fs::write(dir.join("passwd"), &passwd).unwrap();
        format!(
            "{}password_file {}/passwd\nacl_file {}/acl\n",
            acl::MOSQUITTO_CONF,
            dir.display(),
            dir.display()
        )
    });
    strangers_and_trespassers_are_refused(
        mosquitto.port,
        (GATEWAY_ID, "gw-pass"),
        &passwords,
        false,
    )
    .await;
}

const RETAINED: usize = 10_000;

/// Publishes `RETAINED` retained door states, then counts what a new QoS 1 subscriber gets.
async fn every_retained_message_reaches_a_qos1_subscriber(
    port: u16,
    login: Option<(String, String)>,
) {
    let login = login.as_ref().map(|(u, p)| (u.as_str(), p.as_str()));
    let mut publisher = Session::open(port, "retainer", login).await.unwrap();
    let mut last = None;
    for i in 0..RETAINED {
        let t = topic(&format!("doors/d{i:05}/state"));
        let client = publisher.client.clone();
        let send = client.publish(t.clone(), QoS::AtLeastOnce, true, format!("{{\"n\":{i}}}"));
        publisher.serve_while(send).await.unwrap();
        last = Some(t);
    }
    // The last one back on a subscription of the publisher's own means all are stored.
    let last = last.unwrap();
    assert!(publisher.subscribe(&last).await);
    let echo = publisher.next().await.unwrap();
    assert_eq!(echo.topic, last);

    // Anonymous readers may read door states on both test brokers.
    let mut subscriber = Session::open(port, "late-dashboard", None).await.unwrap();
    assert!(subscriber.subscribe(&topic("doors/+/state")).await);
    let mut seen = HashSet::new();
    while seen.len() < RETAINED {
        let p = subscriber.next().await.unwrap_or_else(|e| {
            panic!("{} of {RETAINED} retained messages, then: {e}", seen.len())
        });
        assert!(p.retain, "{} arrived without the retain flag", p.topic);
        assert_eq!(p.qos, QoS::AtLeastOnce);
        seen.insert(p.topic);
    }
    assert_eq!(seen.len(), RETAINED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_retained_messages_on_the_embedded_broker() {
    let broker = broker(BrokerKind::Embedded);
    every_retained_message_reaches_a_qos1_subscriber(broker.port, gateway_login(broker.port)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_retained_messages_on_mosquitto() {
    let broker = broker(BrokerKind::Mosquitto);
    every_retained_message_reaches_a_qos1_subscriber(broker.port, None).await;
}
