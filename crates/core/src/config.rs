//! The estate's configuration file (`docs/interfaces.md#files-and-commands`): TOML, unknown keys are errors.
//!
//! Keys of the spec keep their names. Extensions (marked "extension") are additions the spec
//! allows ("more may be added"); each says why it exists.

use serde::{Deserialize, Serialize};

/// One estate's whole configuration.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub site: Site,
    #[serde(default)]
    pub broker: Broker,
    #[serde(default)]
    pub web: Web,
    #[serde(default)]
    pub policy: Policy,
    #[serde(default)]
    pub zones: Vec<Zone>,
    #[serde(default)]
    pub controllers: Vec<Controller>,
    #[serde(default)]
    pub doors: Vec<Door>,
    #[serde(default)]
    pub schedules: Vec<Schedule>,
    /// Extension: named sets of doors with time windows, referenced by passes.
    #[serde(default)]
    pub access_groups: Vec<AccessGroup>,
    /// Extension: controller points wired to fire-alarm panels, each for a zone.
    #[serde(default)]
    pub fire_inputs: Vec<FireInput>,
    #[serde(default)]
    pub issuers: Vec<Issuer>,
    /// Extension: backups the running gateway makes of its store (the store is held by one
    /// process, so only the gateway itself can copy it while it runs). Absent: none.
    #[serde(default)]
    pub backup: Option<Backup>,
    /// Extension: the metrics and health listener (`/metrics`, `/healthz`, `/readyz`).
    #[serde(default)]
    pub metrics: Metrics,
    /// Extension: the periodic check of the whole event log (`alarm` `log_damaged`).
    #[serde(default)]
    pub log: LogCheck,
    /// Extension: the connection to the district's broker (`docs/district.md`). Absent: the
    /// estate stands alone.
    #[serde(default)]
    pub uplink: Option<Uplink>,
}

/// `[log]`: the gateway re-checks its whole event log (chain, seals, readable records) on a
/// blocking thread, first `verify_after_s` seconds after start and then every
/// `verify_every_h` hours, and raises `alarm` `log_damaged` when it finds damage.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogCheck {
    /// Hours between checks (default 24); 0: never.
    #[serde(default = "default_verify_every_h")]
    pub verify_every_h: u32,
    /// Seconds after start before the first check (default 60: start-up comes first).
    #[serde(default = "default_verify_after_s")]
    pub verify_after_s: u32,
}

impl LogCheck {
    /// The longest wait before the first check: a day.
    pub const MAX_AFTER_S: u32 = 24 * 3600;
}

impl Default for LogCheck {
    fn default() -> Self {
        LogCheck {
            verify_every_h: default_verify_every_h(),
            verify_after_s: default_verify_after_s(),
        }
    }
}

fn default_verify_every_h() -> u32 {
    24
}

fn default_verify_after_s() -> u32 {
    60
}

/// `[uplink]`: a second MQTT connection, to the district's broker, carrying the gateway's
/// status (with its last will), the event outbox (its own cursor), the retained lockdown,
/// door and occupancy state, and the office's signed commands. Readers and doors stay on the
/// estate's own broker, so a WAN outage never cuts a reader off from its gate.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Uplink {
    /// The district broker's nodes, `mqtt://host:port` or `mqtts://host:port`, tried in turn:
    /// a lost or unreachable node makes the gateway move to the next.
    pub urls: Vec<String>,
    /// CA, client certificate and key (PEM) for `mqtts://`.
    #[serde(default)]
    pub ca: Option<String>,
    #[serde(default)]
    pub cert: Option<String>,
    #[serde(default)]
    pub key: Option<String>,
    /// Default `gatehouse-{site}-uplink`.
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    /// Default `3.1.1`: what NATS's MQTT speaks.
    #[serde(default = "default_uplink_protocol")]
    pub protocol: BrokerProtocol,
}

fn default_uplink_protocol() -> BrokerProtocol {
    BrokerProtocol::V311
}

impl Uplink {
    /// The `[broker]` section an external broker at `url` would have, with this uplink's
    /// TLS files and login: what the MQTT client reads.
    pub fn as_broker(&self, url: &str) -> Broker {
        Broker {
            mode: BrokerMode::External,
            url: Some(url.to_string()),
            ca: self.ca.clone(),
            cert: self.cert.clone(),
            key: self.key.clone(),
            client_id: self.client_id.clone(),
            username: self.username.clone(),
            password: self.password.clone(),
            protocol: self.protocol,
            ..Broker::default()
        }
    }
}

/// `[metrics]`: Prometheus metrics and health checks on their own plain-HTTP listener,
/// loopback by default (they tell anyone who can read them how the estate is doing: put them
/// on the LAN only behind a firewall that admits the monitoring host).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metrics {
    /// False: no listener at all.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// `address:port` (default `127.0.0.1:9464`).
    #[serde(default = "default_metrics_listen")]
    pub listen: String,
    /// The share of controllers (0 to 1) that must be online for `/readyz` (default 0.5).
    #[serde(default = "default_ready_controllers")]
    pub ready_controllers: f64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            enabled: true,
            listen: default_metrics_listen(),
            ready_controllers: default_ready_controllers(),
        }
    }
}

fn default_metrics_listen() -> String {
    "127.0.0.1:9464".into()
}

fn default_ready_controllers() -> f64 {
    0.5
}

/// `[backup]`: every `every_h` hours a consistent copy of the store is written to `dir`
/// (relative paths are taken from the data directory) as `gatehouse-YYYYMMDDTHHMMSSZ.redb`;
/// the newest `keep` are kept and older ones removed.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Backup {
    pub every_h: u32,
    pub keep: u32,
    pub dir: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Site {
    /// `[a-z0-9-]{1,32}`; the MQTT topic prefix and the first half of every event id.
    pub id: String,
    pub name: String,
    /// IANA zone name; schedules run in it, events carry its offset.
    #[serde(default = "default_timezone")]
    pub timezone: String,
    #[serde(default = "default_data_dir")]
    pub data_dir: String,
}

impl Site {
    /// The site's zone, from `timezone`. Validation refuses a file whose zone is unknown, so
    /// after it this does not fail.
    pub fn time_zone(&self) -> Result<jiff::tz::TimeZone, jiff::Error> {
        jiff::tz::TimeZone::get(&self.timezone)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum BrokerMode {
    #[default]
    Embedded,
    External,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Broker {
    #[serde(default)]
    pub mode: BrokerMode,
    /// The embedded broker's listener.
    #[serde(default = "default_broker_listen")]
    pub listen: String,
    /// External broker: `mqtt://host:port` or `mqtts://host:port`.
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub ca: Option<String>,
    #[serde(default)]
    pub cert: Option<String>,
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default)]
    pub client_id: Option<String>,
    /// Extension: broker login, for brokers that want one.
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    /// Announce doors to Home Assistant (`docs/interfaces.md#mqtt`).
    #[serde(default)]
    pub home_assistant: bool,
    /// Extension: the MQTT version the gateway speaks: `auto` (5, falling back to 3.1.1 when
    /// the broker refuses 5, as NATS does), `5` or `3.1.1`.
    #[serde(default)]
    pub protocol: BrokerProtocol,
    /// Extension, embedded broker: the largest MQTT payload it accepts, in bytes. Above the
    /// contract's 4 KiB so that an oversize request still reaches the gateway and is answered
    /// with `rejected_input`; a larger packet closes the sender's connection.
    #[serde(default = "default_max_payload")]
    pub max_payload: u32,
    /// Extension, embedded broker: connections at once; more are refused.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Extension, embedded broker: QoS 1 messages sent to one client and not yet acknowledged.
    #[serde(default = "default_max_inflight")]
    pub max_inflight: u16,
    /// Extension, embedded broker: messages waiting for one client behind its in-flight
    /// window (every retained message a subscription matches is queued at once); past it the
    /// newest are dropped and counted in a warning.
    #[serde(default = "default_max_queued")]
    pub max_queued: usize,
    /// Extension, embedded broker: retained topics kept; a retained publish on a new topic
    /// past it is not kept (logged as a warning), updates of kept topics always are.
    #[serde(default = "default_max_retained")]
    pub max_retained: usize,
    /// Extension, embedded broker: clients without a user name may connect with the rights of
    /// a card reader (any reader's `swipe`, any reader's `result`, the public state topics).
    /// Only on a loopback listener (the demo); a listener on any other address refuses to
    /// start while this is on.
    #[serde(default = "default_true")]
    pub allow_anonymous: bool,
    /// Extension, embedded broker: who may log in, and as what. Rights follow from the
    /// estate: see `docs/mqtt.md` ("Who may publish what").
    #[serde(default)]
    pub users: Vec<BrokerUser>,
}

/// The MQTT version the gateway's client speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum BrokerProtocol {
    /// MQTT 5, or 3.1.1 when the broker refuses 5.
    #[default]
    #[serde(rename = "auto")]
    Auto,
    #[serde(rename = "5")]
    V5,
    #[serde(rename = "3.1.1")]
    V311,
}

/// One login on the embedded broker (and in the files `gatehouse broker acl` writes for an
/// external one). At most one of `reader`, `door`, `issuer`; none makes an observer, who only
/// reads the public state topics.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrokerUser {
    /// The MQTT user name.
    pub name: String,
    /// Argon2 hash of the password, in PHC form (`$argon2id$v=19$...`), as
    /// `gatehouse broker hash-password` prints it.
    pub password_hash: String,
    /// A card reader's id: publishes `readers/{reader}/swipe`, reads `readers/{reader}/result`.
    #[serde(default)]
    pub reader: Option<String>,
    /// An MQTT-driven door's id: publishes `doors/{door}/input`, reads `doors/{door}/set`.
    #[serde(default)]
    pub door: Option<String>,
    /// An office issuer's id: publishes `commands`, reads `commands/result`.
    #[serde(default)]
    pub issuer: Option<String>,
}

fn default_max_payload() -> u32 {
    64 * 1024
}

fn default_max_connections() -> usize {
    1024
}

fn default_max_inflight() -> u16 {
    64
}

fn default_max_queued() -> usize {
    65_536
}

fn default_max_retained() -> usize {
    65_536
}

fn default_true() -> bool {
    true
}

impl Default for Broker {
    fn default() -> Self {
        Broker {
            mode: BrokerMode::Embedded,
            listen: default_broker_listen(),
            url: None,
            ca: None,
            cert: None,
            key: None,
            client_id: None,
            username: None,
            password: None,
            home_assistant: false,
            protocol: BrokerProtocol::Auto,
            max_payload: default_max_payload(),
            max_connections: default_max_connections(),
            max_inflight: default_max_inflight(),
            max_queued: default_max_queued(),
            max_retained: default_max_retained(),
            allow_anonymous: true,
            users: Vec::new(),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Web {
    #[serde(default = "default_web_listen")]
    pub listen: String,
    /// PEM files; without them a self-signed certificate is made on first run.
    #[serde(default)]
    pub cert: Option<String>,
    #[serde(default)]
    pub key: Option<String>,
    /// How many leading digits of a registered phone the guard's screen shows (default 3,
    /// `138********`). The digits the guard asks for (`policy.phone_digits`, at the end) are
    /// never shown, whatever this says: at most `11 - phone_digits` are.
    #[serde(default = "default_phone_head_digits")]
    pub phone_head_digits: u8,
}

impl Default for Web {
    fn default() -> Self {
        Web {
            listen: default_web_listen(),
            cert: None,
            key: None,
            phone_head_digits: default_phone_head_digits(),
        }
    }
}

fn default_phone_head_digits() -> u8 {
    3
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ApbMode {
    Off,
    #[default]
    Soft,
    Hard,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    #[serde(default = "default_phone_digits")]
    pub phone_digits: u8,
    #[serde(default = "default_max_phone_failures")]
    pub max_phone_failures: u32,
    /// Extension: the window in which consecutive phone mismatches count, in minutes.
    #[serde(default = "default_phone_failure_window_min")]
    pub phone_failure_window_min: u32,
    #[serde(default = "default_max_swipe_age_s")]
    pub max_swipe_age_s: u32,
    #[serde(default)]
    pub apb: ApbMode,
    #[serde(default = "default_apb_timeout_h")]
    pub apb_timeout_h: u32,
    #[serde(default = "default_exit_quota")]
    pub exit_quota: u32,
    #[serde(default = "default_exit_quota_period_h")]
    pub exit_quota_period_h: u32,
}

impl Policy {
    /// The longest any policy duration in hours may be (366 days): validation refuses more,
    /// so that no time arithmetic on them can leave the calendar.
    pub const MAX_HOURS: u32 = 24 * 366;
    /// The longest `phone_failure_window_min` may be (a week).
    pub const MAX_WINDOW_MIN: u32 = 7 * 24 * 60;
    /// The longest `max_swipe_age_s` may be (a day).
    pub const MAX_SWIPE_AGE_S: u32 = 24 * 3600;

    /// How far back the log is read at start to restore presence (anti-passback) and exit
    /// quotas: the longer of the two windows, at least an hour. Saturates at the start of
    /// the calendar rather than overflowing, whatever the numbers.
    pub fn restore_since(&self, now: jiff::Timestamp) -> jiff::Timestamp {
        let hours = self.apb_timeout_h.max(self.exit_quota_period_h).max(1);
        now.checked_sub(jiff::SignedDuration::from_hours(i64::from(hours)))
            .unwrap_or(jiff::Timestamp::MIN)
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            phone_digits: default_phone_digits(),
            max_phone_failures: default_max_phone_failures(),
            phone_failure_window_min: default_phone_failure_window_min(),
            max_swipe_age_s: default_max_swipe_age_s(),
            apb: ApbMode::default(),
            apb_timeout_h: default_apb_timeout_h(),
            exit_quota: default_exit_quota(),
            exit_quota_period_h: default_exit_quota_period_h(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ZoneKind {
    Area,
    Building,
    Unit,
}

/// A node of the zone tree. `site` is the implicit root and `outside` the street.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Zone {
    pub id: String,
    pub name: String,
    pub parent: String,
    /// Extension: what the zone is; buildings and units are matched to household ids.
    #[serde(default)]
    pub kind: Option<ZoneKind>,
    /// Extension: the building or unit number as it appears in household ids
    /// (`18` for building 18, `2` for its unit 2 in `18-2-501`).
    #[serde(default)]
    pub number: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    Tcp,
    Rtu,
}

/// One Modbus door controller.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Controller {
    pub id: String,
    /// A profile file name in `config/profiles/` without `.toml`.
    pub profile: String,
    pub transport: Transport,
    /// TCP: `host:port` (port 502 when omitted).
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default = "default_unit")]
    pub unit: u8,
    /// RTU: the serial device; controllers with the same path share one bus task.
    #[serde(default)]
    pub serial: Option<String>,
    #[serde(default = "default_baud")]
    pub baud: u32,
    #[serde(default = "default_parity")]
    pub parity: String,
    #[serde(default = "default_data_bits")]
    pub data_bits: u8,
    #[serde(default = "default_stop_bits")]
    pub stop_bits: u8,
    #[serde(default = "default_poll_ms")]
    pub poll_ms: u64,
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    #[serde(default = "default_offline_after")]
    pub offline_after: u32,
    /// `reader-controller`: reader index on the controller → reader id.
    #[serde(default)]
    pub readers: Vec<ControllerReader>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControllerReader {
    pub index: u16,
    pub id: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DoorKind {
    Pedestrian,
    Vehicle,
    Unit,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Verify {
    #[default]
    #[serde(rename = "card")]
    Card,
    #[serde(rename = "card+phone")]
    CardPhone,
    #[serde(rename = "guard")]
    Guard,
}

/// A door between two zones.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Door {
    pub id: String,
    pub name: String,
    pub kind: DoorKind,
    pub outside: String,
    pub inside: String,
    /// A controller id, or `"mqtt"` for a door driven over MQTT; none for a guard-only door.
    #[serde(default)]
    pub controller: Option<String>,
    #[serde(default)]
    pub channel: u16,
    #[serde(default = "default_pulse_ms")]
    pub pulse_ms: u32,
    #[serde(default = "default_held_open_after_s")]
    pub held_open_after_s: u32,
    #[serde(default)]
    pub verify: Verify,
    /// The door is open for normal passage inside this schedule's windows and
    /// `closed_by_schedule` outside them; no schedule = always open.
    #[serde(default)]
    pub schedule: Option<String>,
    #[serde(default)]
    pub readers: Vec<DoorReader>,
    /// Extension: a phone number shown on a locked door (vehicles call it), masked nowhere
    /// because it is the office's, not a person's.
    #[serde(default)]
    pub contact_phone: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DoorReader {
    pub id: String,
    pub direction: crate::event::Direction,
}

/// Weekly windows like `"mon-fri 07:00-19:00"` or `"mon-sun 22:00-06:00"` (across midnight),
/// in the site's time zone; on a holiday the windows do not apply.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    pub id: String,
    pub windows: Vec<String>,
    #[serde(default)]
    pub holidays: Vec<String>,
}

/// Extension: which doors a pass of the group may use, and when.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessGroup {
    pub id: String,
    /// Door ids; `"*"` for every door.
    pub doors: Vec<String>,
    /// A schedule id; none = at all hours.
    #[serde(default)]
    pub schedule: Option<String>,
}

/// Extension: a controller point that reports a fire alarm for a zone.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FireInput {
    pub id: String,
    pub controller: String,
    /// `coil`, `discrete`, `input` or `holding`.
    pub table: String,
    pub address: u16,
    /// For registers: which bit is the alarm (0 when omitted).
    #[serde(default)]
    pub bit: u8,
    pub zone: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Issuer {
    pub id: String,
    /// Base64 of the 32-byte Ed25519 public key.
    pub public_key: String,
}

fn default_timezone() -> String {
    "Asia/Shanghai".into()
}
fn default_data_dir() -> String {
    "./data".into()
}
fn default_broker_listen() -> String {
    "127.0.0.1:1883".into()
}
fn default_web_listen() -> String {
    "127.0.0.1:8443".into()
}
fn default_phone_digits() -> u8 {
    4
}
fn default_max_phone_failures() -> u32 {
    5
}
fn default_phone_failure_window_min() -> u32 {
    60
}
fn default_max_swipe_age_s() -> u32 {
    10
}
fn default_apb_timeout_h() -> u32 {
    24
}
fn default_exit_quota() -> u32 {
    1
}
fn default_exit_quota_period_h() -> u32 {
    48
}
fn default_unit() -> u8 {
    1
}
fn default_baud() -> u32 {
    9600
}
fn default_parity() -> String {
    "N".into()
}
fn default_data_bits() -> u8 {
    8
}
fn default_stop_bits() -> u8 {
    1
}
fn default_poll_ms() -> u64 {
    100
}
fn default_timeout_ms() -> u64 {
    500
}
fn default_offline_after() -> u32 {
    3
}
fn default_pulse_ms() -> u32 {
    3000
}
fn default_held_open_after_s() -> u32 {
    30
}
