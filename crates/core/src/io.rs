//! What goes into the core and what comes out. Adapters turn the world into [`Input`]s and
//! carry out [`Output`]s; the core never touches the world itself.
//!
//! Write-ahead is in the types: an actuation or a reply can only come out inside
//! [`Output::Record`], and the runtime carries out `then` only once `event` is durable.

use crate::card::CardNumber;
use crate::estate::{EstateData, Pass, PassStatus, Person};
use crate::event::{Direction, Event, Reason};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Something that happened outside the core.
#[derive(Clone, Debug)]
pub enum Input {
    /// A credential presented at a door: card swipe, QR scan, keypad, or a guard's check.
    Access(AccessRequest),
    /// A guard lets a person in (or out) by hand, without a pass, with a note.
    ManualEntry(ManualEntry),
    /// Signals read from a door's hardware; any subset may be present.
    DoorSignal(DoorSignal),
    /// A fire-alarm input of a zone changed.
    Fire {
        zone: String,
        active: bool,
        source: String,
    },
    /// A controller or reader went online or offline, or reported an error.
    Device(DeviceHealth),
    /// A signed office command as it arrived (verification is the core's job: counters are state).
    Command(SignedCommand),
    /// A change to estate data made by a person (console, CLI) or a query of it.
    Admin(Admin),
    /// Input that could not be parsed or validated by an adapter.
    Rejected { source: String, error: String },
    /// Refused input from one source over an interval, summarised in one event (a flood of
    /// garbage must not become one durable event per message).
    Refused(RefusedSummary),
    /// The log writer reports whether it can write (disk full, I/O error, recovered).
    LogWritable(bool),
    /// The runtime's check of the whole log found damaged records (inclusive seq ranges).
    LogDamaged { ranges: Vec<(u64, u64)> },
    /// Time passed: schedule transitions, held-open timers, expiries. Sent about once a second.
    Tick,
    /// A granted unlock was not carried out: its adapter failed or timed out, or its deadline
    /// passed before it could be started (it is then never started).
    UnlockFailed(UnlockFailure),
    /// The runtime saw the wall clock move against the monotonic clock by `by` (positive:
    /// forward) since it last looked, more than [`crate::clock::MAX_JUMP`].
    ClockJumped { by: jiff::SignedDuration },
}

/// A door actuation that did not happen, as its adapter or the runtime reported it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnlockFailure {
    pub door: String,
    /// The id of the durable event that asked for the unlock (the grant), when there was one.
    pub request: Option<String>,
    /// What went wrong, for the office (`no answer within 500 ms`, `deadline passed`).
    pub error: String,
}

/// How many inputs from one source were refused in an interval, and the first one's reason.
#[derive(Clone, Debug, PartialEq)]
pub struct RefusedSummary {
    /// A topic, a device, a route (`gatehouse/north-estate/readers/r-1/swipe`).
    pub source: String,
    /// Why the first input of the interval was refused.
    pub error: String,
    /// An excerpt of that input, when the adapter keeps one.
    pub sample: Option<String>,
    pub count: u64,
    pub first: Timestamp,
    pub last: Timestamp,
}

/// Where a request was made: a reader (whose door and direction the config knows), or a door
/// and direction directly (the guard's screen).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccessPoint {
    Reader(String),
    Door { door: String, direction: Direction },
}

/// What was presented.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credential {
    /// A card number, parsed by the adapter that read it.
    Card(CardNumber),
    /// A visitor's signed QR token.
    Qr(String),
    /// A pass number typed by a guard (`P-000123`) or a card number read at the desk.
    PassNumber(String),
}

#[derive(Clone, Debug)]
pub struct AccessRequest {
    pub point: AccessPoint,
    pub credential: Credential,
    /// Digits typed on the reader's keypad, or said to the guard.
    pub pin: Option<String>,
    /// The reader's own clock, when it sent one (staleness check).
    pub requested_at: Option<Timestamp>,
    /// `guard:wang` when a guard made the check at the console.
    pub actor: Option<String>,
    /// Where it came from, for logs (`mqtt`, `modbus:ctl-3`, `web`, `cli`).
    pub source: String,
}

#[derive(Clone, Debug)]
pub struct ManualEntry {
    pub door: String,
    pub direction: Direction,
    pub actor: String,
    pub note: String,
    /// Body temperature the guard noted, °C.
    pub temperature: Option<f32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Contact {
    Open,
    Closed,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct DoorSignal {
    pub door: String,
    pub contact: Option<Contact>,
    /// Exit button (request to exit) pressed.
    pub rex: bool,
    pub tamper: Option<bool>,
    /// The lock's own report that it is released, where the hardware has one.
    pub lock_released: Option<bool>,
    /// A fire input wired to this door's controller (MQTT doors report it here).
    pub fire: Option<bool>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeviceState {
    Online,
    Offline,
    Error,
}

#[derive(Clone, Debug)]
pub struct DeviceHealth {
    pub device: String,
    pub state: DeviceState,
    /// The doors this device opens: they are reported `online:false` while it is offline.
    pub doors: Vec<String>,
    pub detail: Option<String>,
    /// Extra alarms a device raises (e.g. `reads_lost` with how many).
    pub lost_reads: Option<u32>,
}

/// An office command envelope as received (`docs/interfaces.md#mqtt`).
#[derive(Clone, Debug)]
pub struct SignedCommand {
    /// The JSON text of the body, exactly as signed.
    pub body: String,
    /// Base64 Ed25519 signature of `body`'s UTF-8 bytes.
    pub sig: String,
    /// The message arrived with the retain flag set.
    pub retained: bool,
}

/// Changes and queries made by people through the console or the CLI.
#[derive(Clone, Debug)]
pub enum Admin {
    /// Suspend, restore, revoke, mark lost.
    SetPassStatus {
        pass: String,
        status: PassStatus,
        actor: String,
        note: Option<String>,
    },
    /// An import's households, people and passes (the residents import): the core takes
    /// them in, records `action` (with the import's counts as `detail`), then saves them.
    ImportEstate {
        changes: EstateData,
        actor: String,
        action: String,
        /// The imported file's name.
        object: String,
        /// What the import did, as counts (never names or phones).
        detail: String,
    },
    /// Issue a pass (a visitor's QR pass, or a new card) to a person, creating them if new.
    IssuePass {
        pass: Pass,
        person: Option<Person>,
        actor: String,
    },
    /// Lockdown or lift from the console (signed commands come as [`Input::Command`]).
    Lockdown {
        zone: String,
        mode: Option<String>,
        reason: String,
        actor: String,
    },
    /// Unlock, hold open or release a door from the console.
    DoorControl {
        door: String,
        action: DoorAction,
        /// For `HoldOpen`: when the hold ends by itself (`None`: when released).
        until: Option<Timestamp>,
        actor: String,
    },
    /// The office acknowledged a cleared fire alarm for a zone.
    AckFire { zone: String, actor: String },
    /// Someone viewed or exported personal data: recorded, nothing changes.
    Viewed {
        actor: String,
        action: String,
        object: String,
    },
}

/// Something the core wants done.
// Outputs are moved once from the core to the runtime; boxing the event would cost an
// allocation per decision to save a few hundred bytes of stack.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Output {
    /// Append `event` to the log; only once it is durable carry out `then`, in order.
    Record { event: Event, then: Vec<Effect> },
    /// An effect that records nothing (a state publication).
    Effect(Effect),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// Drive a door.
    Door { door: String, action: DoorAction },
    /// Answer whoever sent the input.
    Reply(Reply),
    /// Persist changed state so it survives a restart.
    Save(Save),
    /// Publish current state (MQTT retained topics, the console's live view).
    Publish(Publish),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum DoorAction {
    /// Release for `pulse_ms`, then lock.
    Unlock { pulse_ms: u32 },
    /// Keep released until told otherwise.
    HoldOpen,
    /// Back to locked (end of hold open, start-up, recovery).
    Lock,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    Access(AccessResult),
    Command(CommandResult),
    Admin(AdminResult),
}

/// The answer to an access request. `event` is filled in by the runtime once the event is
/// durable (it is the event's id).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccessResult {
    pub grant: bool,
    pub reason: Reason,
    pub door: String,
    /// Short text for the reader's display (`欢迎回家 18-2-501`).
    pub display: String,
    /// The door wants phone digits and none came.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub need_pin: bool,
    #[serde(default)]
    pub event: String,
    /// For the guard's screen: who the pass belongs to (never the phone in full).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<HolderView>,
}

/// What a guard may see of a pass holder.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HolderView {
    pub person: String,
    pub name: String,
    pub household: Option<String>,
    /// `138****5678`.
    pub phone_masked: String,
    pub pass: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandResult {
    pub id: String,
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Extension: what exactly was wrong, for a refusal that has more to say than its code
    /// (`malformed`, `not_applied`), or a note on an applied command (`replay`): the same
    /// text as the `command` event's `detail`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AdminResult {
    pub ok: bool,
    /// What went wrong and what to do, for a person.
    pub error: Option<String>,
}

/// State to persist.
#[derive(Clone, Debug, PartialEq)]
pub enum Save {
    Pass(std::sync::Arc<Pass>),
    Person(std::sync::Arc<Person>),
    /// The whole lockdown table (small).
    Lockdowns(Vec<crate::lockdown::Lockdown>),
    /// Zones whose fire alarm has cleared but waits for the office's acknowledgement.
    FireZones(Vec<crate::fire::FireZone>),
    /// The whole table of doors the office holds open (small).
    Holds(Vec<crate::holds::Hold>),
    /// Households, people and passes an import added or changed (upserted in one
    /// transaction, after the import's `admin` event is durable).
    Estate(std::sync::Arc<crate::estate::SharedEstate>),
}

/// Current state for everyone (retained MQTT topics, the console).
#[derive(Clone, Debug, PartialEq)]
pub enum Publish {
    DoorState(crate::doors::DoorState),
    Lockdowns(Vec<crate::lockdown::Lockdown>),
    /// Estate data the core took in whole (an import's reload), for the people directory.
    Estate(std::sync::Arc<crate::estate::SharedEstate>),
    /// The `replay` command: the uplink's outbox publishes the log's events again from
    /// `from_seq` (≥ 1) to the district broker. The estate broker's outbox is not affected.
    /// (A kind of publication rather than an [`Effect`] of its own, so that consumers that
    /// match effects exhaustively and ignore publications need no change.)
    Replay {
        from_seq: u64,
    },
}
