//! Test harness: a real Mosquitto on a free port with its own config file, the embedded
//! broker, an in-process gateway (store + runtime + bus), MQTT probes, and the paho-mqtt
//! reader peer.
#![allow(dead_code)]

use base64::Engine;
use ed25519_dalek::SigningKey;
use gatehouse_core::config::Config;
use gatehouse_core::estate::{EstateData, Household, Pass, PassStatus, Person};
use gatehouse_runtime::Gateway;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, Publish, QoS};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub const SITE: &str = "north-estate";
pub const OFFICE_SECRET: [u8; 32] = [7; 32];

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(port: u16, up: bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_ok() != up {
        assert!(
            Instant::now() < deadline,
            "port {port} did not become {}",
            if up { "open" } else { "closed" }
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A Mosquitto of our own, on a free port, with its own configuration file.
pub struct Mosquitto {
    pub port: u16,
    pub dir: tempfile::TempDir,
    child: Option<Child>,
}

fn mosquitto_binary() -> PathBuf {
    for candidate in [
        "/usr/sbin/mosquitto",
        "/usr/bin/mosquitto",
        "/usr/local/sbin/mosquitto",
    ] {
        if Path::new(candidate).exists() {
            return candidate.into();
        }
    }
    panic!(
        "mosquitto is not installed: run scripts/install-test-deps (it installs Debian's mosquitto)"
    );
}

impl Mosquitto {
    /// Plain listener on loopback; anonymous clients; sessions persisted across restarts so a
    /// probe's queued messages survive a broker outage.
    pub fn start() -> Mosquitto {
        Mosquitto::start_with(|_| String::new())
    }

    /// `extra(dir)` adds lines to the listener's configuration (TLS files live in `dir`).
    pub fn start_with(extra: impl FnOnce(&Path) -> String) -> Mosquitto {
        let dir = tempfile::tempdir().unwrap();
        let extra = extra(dir.path());
        let mut m = Mosquitto {
            port: 0,
            dir,
            child: None,
        };
        // A port found free can be taken before Mosquitto binds it (as the ephemeral port of
        // another test's connection): then Mosquitto exits at once, and another port is tried.
        for _ in 0..PORT_TRIES {
            m.port = free_port();
            let conf = format!(
                "listener {} 127.0.0.1\nallow_anonymous true\nuser root\nset_tcp_nodelay true\npersistence true\npersistence_location {}/\nautosave_interval 1\nmax_queued_messages 0\n{extra}\n",
                m.port,
                m.dir.path().display(),
            );
            std::fs::write(m.dir.path().join("mosquitto.conf"), conf).unwrap();
            match m.try_resume() {
                Ok(()) => return m,
                Err(Exited) => continue,
            }
        }
        panic!(
            "mosquitto found no free port in {PORT_TRIES} tries:\n{}",
            m.log()
        );
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SIGTERM, so that Mosquitto writes its persistence file.
            let _ = Command::new("kill").arg(child.id().to_string()).status();
            let _ = child.wait();
            wait_for_port(self.port, false);
        }
    }

    /// Starts Mosquitto again on the same port (after [`Mosquitto::stop`]).
    pub fn resume(&mut self) {
        if self.try_resume().is_err() {
            panic!(
                "mosquitto exited instead of listening on port {}:\n{}",
                self.port,
                self.log()
            );
        }
    }

    /// Starts Mosquitto and waits until its port is open, or until it has exited (its port
    /// is taken). Panics with its log if it does neither within 10 s.
    fn try_resume(&mut self) -> Result<(), Exited> {
        let mut child = Command::new(mosquitto_binary())
            .arg("-c")
            .arg(self.dir.path().join("mosquitto.conf"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(self.dir.path().join("mosquitto.log")).unwrap())
            .spawn()
            .expect("starting mosquitto");
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if child.try_wait().expect("waiting on mosquitto").is_some() {
                return Err(Exited);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "mosquitto did not start on port {}:\n{}",
                    self.port,
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.child = Some(child);
        Ok(())
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("mosquitto.log")).unwrap_or_default()
    }
}

/// Mosquitto exited while starting: its port was taken.
struct Exited;

/// How many free ports a test broker tries before giving up.
const PORT_TRIES: usize = 20;

impl Drop for Mosquitto {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Which broker a test runs against.
#[derive(Clone, Copy, Debug)]
pub enum BrokerKind {
    Mosquitto,
    Embedded,
}

/// A broker the test can reach on `port`; the Mosquitto guard keeps it running.
pub struct TestBroker {
    pub port: u16,
    pub mosquitto: Option<Mosquitto>,
}

pub fn broker(kind: BrokerKind) -> TestBroker {
    match kind {
        BrokerKind::Mosquitto => {
            let m = Mosquitto::start();
            TestBroker {
                port: m.port,
                mosquitto: Some(m),
            }
        }
        BrokerKind::Embedded => {
            // Port 0: the broker binds before it returns, so the port cannot be lost.
            let handle = embedded_broker(&config(""));
            TestBroker {
                port: handle.addr.port(),
                mosquitto: None,
            }
        }
    }
}

/// Starts the embedded broker for `estate` on a free loopback port (from a synchronous
/// helper inside a multi-threaded test runtime) and remembers the gateway's login for that
/// port, so that [`broker_section`] and [`Probe::connect`] use it.
pub fn embedded_broker(estate: &Config) -> gatehouse_bus::broker::BrokerHandle {
    let handle = tokio::task::block_in_place(|| {
        tokio::runtime::Handle::current()
            .block_on(gatehouse_bus::broker::start_embedded(estate, "127.0.0.1:0"))
    })
    .expect("starting the embedded broker");
    let mut logins = LOGINS.lock().unwrap();
    logins.retain(|(port, _)| *port != handle.addr.port());
    logins.push((handle.addr.port(), handle.gateway_login.clone()));
    handle
}

/// The gateway's login on each embedded broker a test started, by port. Probes log in with
/// it too: tests of readers and commands are not about rights (`mqtt_rights.rs` is).
static LOGINS: std::sync::Mutex<Vec<(u16, (String, String))>> = std::sync::Mutex::new(Vec::new());

/// The gateway's login on the embedded broker listening on `port`, if a test started one.
pub fn gateway_login(port: u16) -> Option<(String, String)> {
    LOGINS
        .lock()
        .unwrap()
        .iter()
        .find(|(p, _)| *p == port)
        .map(|(_, login)| login.clone())
}

pub fn office_key() -> SigningKey {
    SigningKey::from_bytes(&OFFICE_SECRET)
}

/// The test estate: two gates into the site, one by card (driven over MQTT), one by card and
/// phone; a building; the office issuer. `broker` is the `[broker]` section.
pub fn config(broker: &str) -> Config {
    let public =
        base64::engine::general_purpose::STANDARD.encode(office_key().verifying_key().to_bytes());
    toml::from_str(&format!(
        r#"
        [site]
        id = "{SITE}"
        name = "North Estate"
        [broker]
        {broker}
        [policy]
        apb = "off"
        [[zones]]
        id = "bldg-18"
        name = "Building 18"
        parent = "site"
        kind = "building"
        number = "18"
        [[doors]]
        id = "gate-north"
        name = "North gate"
        kind = "pedestrian"
        outside = "outside"
        inside = "site"
        controller = "mqtt"
        readers = [{{ id = "r-north-in", direction = "in" }}, {{ id = "r-north-out", direction = "out" }}]
        [[doors]]
        id = "gate-east"
        name = "East gate"
        kind = "pedestrian"
        outside = "outside"
        inside = "site"
        verify = "card+phone"
        readers = [{{ id = "r-east-in", direction = "in" }}]
        [[issuers]]
        id = "office-1"
        public_key = "{public}"
        "#
    ))
    .unwrap()
}

pub fn external(port: u16) -> String {
    format!("mode = \"external\"\nurl = \"mqtt://127.0.0.1:{port}\"")
}

pub fn embedded(port: u16) -> String {
    let login = gateway_login(port)
        .map(|(user, password)| format!("\nusername = \"{user}\"\npassword = \"{password}\""))
        .unwrap_or_default();
    format!("mode = \"embedded\"\nlisten = \"127.0.0.1:{port}\"{login}")
}

pub fn broker_section(kind: BrokerKind, port: u16) -> String {
    match kind {
        BrokerKind::Mosquitto => external(port),
        BrokerKind::Embedded => embedded(port),
    }
}

/// Residents: Wang (active card), Li (suspended card), Zhao (expired card).
pub fn estate() -> EstateData {
    let person = |id: &str, name: &str, phone: &str| {
        Person::new(id, name, phone, Some("18-2-501"), Default::default())
    };
    let pass = |id: &str, card: &str, holder: &str, status: PassStatus, until: Option<&str>| Pass {
        valid_until: until.map(|u| u.parse().unwrap()),
        status,
        ..Pass::card(id, card.parse().unwrap(), holder)
    };
    EstateData {
        households: vec![Household {
            id: "18-2-501".into(),
            zone: "bldg-18".into(),
            tenure: Default::default(),
        }],
        people: vec![
            person("R-1", "王伟", "13800005678"),
            person("R-2", "李娜", "13900001234"),
            person("R-3", "赵磊", "13700004321"),
        ],
        passes: vec![
            pass("P-1", "04A1B2C3", "R-1", PassStatus::Active, None),
            pass("P-2", "0BADCAFE", "R-2", PassStatus::Suspended, None),
            pass(
                "P-3",
                "0EE0EE0E",
                "R-3",
                PassStatus::Active,
                Some("2020-01-01T00:00:00Z"),
            ),
        ],
    }
}

/// An in-process gateway: store, core, MQTT.
pub struct Gate {
    pub gateway: Gateway,
    pub shutdown: CancellationToken,
    core: JoinHandle<()>,
    bus: JoinHandle<()>,
    uplink: Option<JoinHandle<()>>,
}

impl Gate {
    pub async fn start(config: &Config, data: &Path) -> Gate {
        // A gateway restarted in the same process (a real restart is a new process, whose
        // exit releases the store): the previous one's last clone of the store may still be
        // on a blocking thread for a moment after it stopped.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        let store = loop {
            match gatehouse_store::Store::open(data, &config.site.id) {
                Err(gatehouse_store::StoreError::Locked { .. })
                    if tokio::time::Instant::now() < deadline =>
                {
                    tokio::time::sleep(Duration::from_millis(50)).await
                }
                other => break other.unwrap(),
            }
        };
        if store.load_estate().unwrap().passes.is_empty() {
            store.put_estate(&estate()).unwrap();
        }
        let shutdown = CancellationToken::new();
        let (gateway, core) = gatehouse_runtime::start(config, store, shutdown.clone()).unwrap();
        let bus = gatehouse_bus::run(config, gateway.clone(), shutdown.clone()).unwrap();
        let uplink = gatehouse_bus::uplink::run(config, gateway.clone(), shutdown.clone()).unwrap();
        Gate {
            gateway,
            shutdown,
            core,
            bus,
            uplink,
        }
    }

    pub async fn stop(self) {
        self.shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(10), self.bus)
            .await
            .expect("bus stops")
            .unwrap();
        if let Some(uplink) = self.uplink {
            tokio::time::timeout(Duration::from_secs(10), uplink)
                .await
                .expect("uplink stops")
                .unwrap();
        }
        tokio::time::timeout(Duration::from_secs(10), self.core)
            .await
            .expect("core stops")
            .unwrap();
        drop(self.gateway);
    }
}

/// An `[uplink]` to the district broker nodes at `urls`, in MQTT 3.1.1, without TLS or login.
pub fn uplink_to(urls: Vec<String>) -> gatehouse_core::config::Uplink {
    gatehouse_core::config::Uplink {
        urls,
        ca: None,
        cert: None,
        key: None,
        client_id: None,
        username: None,
        password: None,
        protocol: gatehouse_core::config::BrokerProtocol::V311,
    }
}

/// A card presented at the north gate's entry reader, as the core takes it.
pub fn swipe_at_north_gate(card: &str) -> gatehouse_core::io::Input {
    use gatehouse_core::io::{AccessPoint, AccessRequest, Credential, Input};
    Input::Access(AccessRequest {
        point: AccessPoint::Reader("r-north-in".into()),
        credential: Credential::Card(card.parse().unwrap()),
        pin: None,
        requested_at: None,
        actor: None,
        source: "test".into(),
    })
}

/// A test's own MQTT client: subscribes to `filters` and hands over what arrives.
pub struct Probe {
    pub client: AsyncClient,
    pub messages: mpsc::UnboundedReceiver<Publish>,
    task: JoinHandle<()>,
}

impl Probe {
    pub async fn connect(port: u16, id: &str, filters: &[String]) -> Probe {
        let mut options = MqttOptions::new(id, "127.0.0.1", port);
        if let Some((user, password)) = gateway_login(port) {
            options.set_credentials(user, password);
        }
        Probe::connect_with(options, filters).await
    }

    /// Keeps its session across broker restarts (clean session off), so QoS 1 messages
    /// published while it was away are queued for it.
    pub async fn persistent(port: u16, id: &str, filters: &[String]) -> Probe {
        let mut options = MqttOptions::new(id, "127.0.0.1", port);
        options.set_clean_session(false);
        Probe::connect_with(options, filters).await
    }

    pub async fn connect_with(mut options: MqttOptions, filters: &[String]) -> Probe {
        options.set_keep_alive(Duration::from_secs(5));
        let (client, mut eventloop) = AsyncClient::new(options, 1024);
        eventloop.network_options.set_tcp_nodelay(true);
        let (tx, messages) = mpsc::unbounded_channel();
        let (ready_tx, mut ready) = mpsc::unbounded_channel();
        let filters = filters.to_vec();
        let sub = client.clone();
        let task = tokio::spawn(async move {
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => {
                        for f in &filters {
                            let _ = sub.try_subscribe(f.clone(), QoS::AtLeastOnce);
                        }
                        if filters.is_empty() {
                            let _ = ready_tx.send(());
                        }
                    }
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        let _ = ready_tx.send(());
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        if std::env::var_os("GATEHOUSE_TEST_TRACE").is_some() {
                            eprintln!(
                                "probe got {} retain={} {}",
                                p.topic,
                                p.retain,
                                String::from_utf8_lossy(&p.payload)
                            );
                        }
                        let _ = tx.send(p);
                    }
                    Ok(_) => {}
                    Err(e) => {
                        if std::env::var_os("GATEHOUSE_TEST_TRACE").is_some() {
                            eprintln!("probe error: {e:?}");
                        }
                        tokio::time::sleep(Duration::from_millis(50)).await
                    }
                }
            }
        });
        tokio::time::timeout(Duration::from_secs(10), ready.recv())
            .await
            .expect("probe connects and subscribes");
        Probe {
            client,
            messages,
            task,
        }
    }

    /// The next message on `topic`, waiting up to `within`.
    pub async fn next_on(&mut self, topic: &str, within: Duration) -> Option<Publish> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let p = tokio::time::timeout_at(deadline, self.messages.recv())
                .await
                .ok()??;
            if p.topic == topic {
                return Some(p);
            }
        }
    }

    /// The next message on `topic` whose JSON satisfies `pred`.
    pub async fn next_json(
        &mut self,
        topic: &str,
        within: Duration,
        pred: impl Fn(&serde_json::Value) -> bool,
    ) -> Option<serde_json::Value> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
            let p = self.next_on(topic, remaining).await?;
            if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&p.payload)
                && pred(&v)
            {
                return Some(v);
            }
        }
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Runs the paho-mqtt reader peer; returns one `{"sent":…,"result":…}` per case.
pub async fn paho_reader(
    port: u16,
    reader: &str,
    cases: serde_json::Value,
) -> Vec<serde_json::Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/peers/reader.py");
    let reader = reader.to_string();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .arg(script)
            .args([
                "127.0.0.1",
                &port.to_string(),
                SITE,
                &reader,
                &cases.to_string(),
            ])
            .output()
            .expect("python3 runs")
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("No module named 'paho'"),
        "paho-mqtt is not installed: run scripts/install-test-deps"
    );
    assert!(
        output.status.success(),
        "reader peer failed: {stderr}\n{}",
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Signs a command body and wraps it in the envelope of `docs/interfaces.md#mqtt`.
pub fn envelope(body: &serde_json::Value, key: &SigningKey) -> String {
    let text = body.to_string();
    serde_json::json!({"body": text, "sig": gatehouse_core::command::sign(&text, key)}).to_string()
}

/// A command body valid now for five minutes.
pub fn command_body(id: &str, counter: u64, extra: serde_json::Value) -> serde_json::Value {
    let now = jiff::Timestamp::now();
    let mut body = serde_json::json!({
        "id": id, "issuer": "office-1", "counter": counter,
        "issued_at": now.to_string(),
        "expires_at": (now + jiff::SignedDuration::from_mins(5)).to_string(),
        "site": SITE,
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

/// Waits until the gateway's retained status on the broker at `port` says `online`.
pub async fn await_online(port: u16) {
    let topic = format!("gatehouse/{SITE}/status");
    let mut status = Probe::connect(port, "status-watch", std::slice::from_ref(&topic)).await;
    let seen = status
        .next_json(&topic, Duration::from_secs(15), |v| v["state"] == "online")
        .await;
    assert!(seen.is_some(), "gateway never said online");
}
