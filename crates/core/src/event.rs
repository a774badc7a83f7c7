//! The event record of `docs/interfaces.md#events`: what the log stores, MQTT carries, the console shows
//! and occupancy reads. Fields that do not apply are `None` and are omitted from JSON.

use serde::{Deserialize, Serialize};

codes! {
    /// What happened. The closed list of `docs/interfaces.md#events`; also the MQTT topic suffix
    /// (`events/{kind}`).
    Kind {
        Access = "access",
        Egress = "egress",
        Door = "door",
        Alarm = "alarm",
        Device = "device",
        Mode = "mode",
        Command = "command",
        Admin = "admin",
        RejectedInput = "rejected_input",
    }
}

/// Which way a person passes a door.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    In,
    Out,
}

codes! {
    /// How a person proved who they are.
    Method {
        Card = "card",
        CardPhone = "card+phone",
        Guard = "guard",
        Qr = "qr",
        Remote = "remote",
        Rex = "rex",
        Manual = "manual",
        Import = "import",
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Grant,
    Deny,
}

/// Declares a closed list of wire codes: the enum, its serde names, `ALL` and `as_str`.
macro_rules! codes {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $wire)] $variant),+
        }
        impl $name {
            /// Every code, in the order of the spec.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The wire name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use codes;

codes! {
    /// The closed list of reason codes. Every refusal carries one; a grant says which rule
    /// granted.
    Reason {
        Granted = "granted",
        GrantedOverride = "granted_override",
        UnknownPass = "unknown_pass",
        QrInvalid = "qr_invalid",
        PassRevoked = "pass_revoked",
        PassSuspended = "pass_suspended",
        PassLost = "pass_lost",
        PassNotYetValid = "pass_not_yet_valid",
        PassExpired = "pass_expired",
        VisitorNotValid = "visitor_not_valid",
        VisitorEntriesUsed = "visitor_entries_used",
        LogUnavailable = "log_unavailable",
        ZoneLockedDown = "zone_locked_down",
        NotResidentOfZone = "not_resident_of_zone",
        DoorClosedBySchedule = "door_closed_by_schedule",
        OutsideSchedule = "outside_schedule",
        NoAccessToDoor = "no_access_to_door",
        PhoneRequired = "phone_required",
        PhoneMismatch = "phone_mismatch",
        AntiPassback = "anti_passback",
        ExitQuotaExceeded = "exit_quota_exceeded",
        QuarantineExit = "quarantine_exit",
        StaleRequest = "stale_request",
        DoorOffline = "door_offline",
        FireRelease = "fire_release",
        Rex = "rex",
        RemoteUnlock = "remote_unlock",
        ManualEntry = "manual_entry",
    }
}

impl Reason {
    /// The reason's stable number on disk (the passage projection keeps it in one byte).
    /// Written out, never derived from a reason's place in [`Reason::ALL`]: a reason added to
    /// the list, wherever it goes in the spec's order, takes the next unused number, and the
    /// numbers below never change (rows written by older versions keep reading right).
    pub const fn code(self) -> u8 {
        match self {
            Reason::Granted => 1,
            Reason::GrantedOverride => 2,
            Reason::UnknownPass => 3,
            Reason::QrInvalid => 4,
            Reason::PassRevoked => 5,
            Reason::PassSuspended => 6,
            Reason::PassLost => 7,
            Reason::PassNotYetValid => 8,
            Reason::PassExpired => 9,
            Reason::VisitorNotValid => 10,
            Reason::VisitorEntriesUsed => 11,
            Reason::LogUnavailable => 12,
            Reason::ZoneLockedDown => 13,
            Reason::NotResidentOfZone => 14,
            Reason::DoorClosedBySchedule => 15,
            Reason::OutsideSchedule => 16,
            Reason::NoAccessToDoor => 17,
            Reason::PhoneRequired => 18,
            Reason::PhoneMismatch => 19,
            Reason::AntiPassback => 20,
            Reason::ExitQuotaExceeded => 21,
            Reason::QuarantineExit => 22,
            Reason::StaleRequest => 23,
            Reason::DoorOffline => 24,
            Reason::FireRelease => 25,
            Reason::Rex => 26,
            Reason::RemoteUnlock => 27,
            Reason::ManualEntry => 28,
        }
    }

    /// The reason whose [`Reason::code`] is `code`, if any.
    pub fn from_code(code: u8) -> Option<Reason> {
        Reason::ALL.iter().copied().find(|r| r.code() == code)
    }

    /// Whether this reason lets the person through.
    pub fn is_grant(self) -> bool {
        matches!(
            self,
            Reason::Granted
                | Reason::GrantedOverride
                | Reason::FireRelease
                | Reason::Rex
                | Reason::RemoteUnlock
                | Reason::ManualEntry
        )
    }

    /// Plain words for the guard's screen and the reader's display, Chinese first.
    pub fn words(self) -> (&'static str, &'static str) {
        match self {
            Reason::Granted => ("放行", "Let in"),
            Reason::GrantedOverride => ("特许放行", "Let in (override pass)"),
            Reason::UnknownPass => ("未登记的卡", "Unknown pass"),
            Reason::QrInvalid => ("二维码无效", "Invalid QR code"),
            Reason::PassRevoked => ("通行证已注销", "Pass revoked"),
            Reason::PassSuspended => ("通行证已暂停", "Pass suspended"),
            Reason::PassLost => ("通行证已挂失", "Pass reported lost"),
            Reason::PassNotYetValid => ("通行证尚未生效", "Pass not yet valid"),
            Reason::PassExpired => ("通行证已过期", "Pass expired"),
            Reason::VisitorNotValid => ("访客通行证不在有效期", "Visitor pass not valid now"),
            Reason::VisitorEntriesUsed => ("访客次数已用完", "Visitor entries used up"),
            Reason::LogUnavailable => ("记录系统故障，暂停进入", "Log unavailable: no entry"),
            Reason::ZoneLockedDown => ("封控中", "Zone locked down"),
            Reason::NotResidentOfZone => ("非本区住户", "Not a resident of this zone"),
            Reason::DoorClosedBySchedule => ("此门现在关闭", "Door closed at this hour"),
            Reason::OutsideSchedule => ("不在通行时段", "Outside permitted hours"),
            Reason::NoAccessToDoor => ("无权通过此门", "No access to this door"),
            Reason::PhoneRequired => ("请输入手机号后四位", "Enter phone digits"),
            Reason::PhoneMismatch => ("手机号不符", "Phone mismatch"),
            Reason::AntiPassback => ("进出记录不符（防回传）", "Anti-passback"),
            Reason::ExitQuotaExceeded => ("外出次数已用完", "Exit quota used up"),
            Reason::QuarantineExit => ("隔离期间不得外出", "Quarantine: no exit"),
            Reason::StaleRequest => ("请求已过期，请重刷", "Stale request: swipe again"),
            Reason::DoorOffline => ("门禁离线，请人工放行", "Door offline: let in by hand"),
            Reason::FireRelease => ("火警，门已释放", "Fire release: door free"),
            Reason::Rex => ("出门按钮", "Exit button"),
            Reason::RemoteUnlock => ("远程开门", "Remote unlock"),
            Reason::ManualEntry => ("人工放行", "Manual entry"),
        }
    }
}

codes! {
    /// Alarms: something a person must look at.
    AlarmKind {
        DoorForced = "door_forced",
        DoorHeldOpen = "door_held_open",
        Tamper = "tamper",
        Fire = "fire",
        PhoneFailures = "phone_failures",
        AntiPassback = "anti_passback",
        QuarantineExit = "quarantine_exit",
        ImpossibleTravel = "impossible_travel",
        ReadsLost = "reads_lost",
        LogUnavailable = "log_unavailable",
        Clock = "clock",
        LogDamaged = "log_damaged",
    }
}

/// One event. `seq`, `id`, `prev_hash` and `hash` are set by the log when the event is
/// appended; everything else by whoever made the event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// `{site}:{seq}`; empty until the log assigns it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// Gap-free, starting at 1; 0 until the log assigns it.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub seq: u64,
    /// RFC 3339 with the site's offset and milliseconds (see [`crate::time::rfc3339`]).
    pub at: String,
    pub kind: Kind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub door: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reader: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<Direction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pass: Option<String>,
    /// The card number presented, recorded when no pass holds it (unknown cards are events too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub household: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<Method>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// Door or device state for `door` and `device` events (`opened`, `offline`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarm: Option<AlarmKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleared: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// The command's own id, for `command` events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// The id of the event whose request this one follows up (`unlock_failed`: the grant).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// What was done: the command's action, or the admin action (`import_residents`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// The issuer's counter of an accepted command; the store keeps the highest per issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counter: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ok: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Where rejected input came from: a topic, a device, a route.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// What an admin action touched (a pass id, a file name, a report).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// Body temperature noted by a guard at manual entry, in °C.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    /// For a `rejected_input` summary: how many inputs from `source` were refused between
    /// `first_at` and `last_at` (`error` is the first one's reason, `sample` an excerpt of it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_at: Option<String>,
    /// An excerpt of one refused input (printable characters only, cut to a bounded length).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub prev_hash: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub hash: String,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Event {
    /// Masks every phone number, in any written form, in every text field (all but the
    /// log's own `id`, `at` and hashes). The log calls this on every event before it is
    /// hashed, so no number reaches the log, MQTT, the console or an export. A new text
    /// field must be added here.
    pub fn mask_phones(&mut self) {
        use crate::phone::mask_field;
        for field in [
            &mut self.door,
            &mut self.reader,
            &mut self.pass,
            &mut self.card,
            &mut self.person,
            &mut self.household,
            &mut self.detail,
            &mut self.actor,
            &mut self.state,
            &mut self.device,
            &mut self.zone,
            &mut self.mode,
            &mut self.by,
            &mut self.command,
            &mut self.issuer,
            &mut self.action,
            &mut self.error,
            &mut self.source,
            &mut self.object,
            &mut self.request,
            &mut self.first_at,
            &mut self.last_at,
            &mut self.sample,
        ] {
            mask_field(field);
        }
    }

    /// A new event of `kind` at `at` (already formatted with the site's offset).
    pub fn new(kind: Kind, at: impl Into<String>) -> Self {
        Event {
            id: String::new(),
            seq: 0,
            at: at.into(),
            kind,
            door: None,
            reader: None,
            direction: None,
            pass: None,
            card: None,
            person: None,
            household: None,
            method: None,
            decision: None,
            reason: None,
            detail: None,
            actor: None,
            state: None,
            alarm: None,
            cleared: None,
            device: None,
            zone: None,
            mode: None,
            by: None,
            command: None,
            request: None,
            issuer: None,
            action: None,
            counter: None,
            ok: None,
            error: None,
            source: None,
            object: None,
            temperature: None,
            count: None,
            first_at: None,
            last_at: None,
            sample: None,
            prev_hash: String::new(),
            hash: String::new(),
        }
    }

    /// The instant of the event, parsed from `at`.
    pub fn timestamp(&self) -> Option<jiff::Timestamp> {
        self.at.parse().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The numbers rows were written with before codes were written out (1 + the place in
    /// the first list): they must keep naming the same reasons.
    const FIRST_CODES: [(u8, &str); 28] = [
        (1, "granted"),
        (2, "granted_override"),
        (3, "unknown_pass"),
        (4, "qr_invalid"),
        (5, "pass_revoked"),
        (6, "pass_suspended"),
        (7, "pass_lost"),
        (8, "pass_not_yet_valid"),
        (9, "pass_expired"),
        (10, "visitor_not_valid"),
        (11, "visitor_entries_used"),
        (12, "log_unavailable"),
        (13, "zone_locked_down"),
        (14, "not_resident_of_zone"),
        (15, "door_closed_by_schedule"),
        (16, "outside_schedule"),
        (17, "no_access_to_door"),
        (18, "phone_required"),
        (19, "phone_mismatch"),
        (20, "anti_passback"),
        (21, "exit_quota_exceeded"),
        (22, "quarantine_exit"),
        (23, "stale_request"),
        (24, "door_offline"),
        (25, "fire_release"),
        (26, "rex"),
        (27, "remote_unlock"),
        (28, "manual_entry"),
    ];

    #[test]
    fn reason_codes_are_the_first_ones_and_never_move() {
        for (code, name) in FIRST_CODES {
            let reason = Reason::from_code(code).unwrap_or_else(|| panic!("code {code}"));
            assert_eq!(reason.as_str(), name, "code {code}");
        }
    }

    #[test]
    fn every_reason_has_its_own_code() {
        let mut seen = std::collections::HashSet::new();
        for &r in Reason::ALL {
            assert_ne!(r.code(), 0, "0 means no reason on disk");
            assert!(seen.insert(r.code()), "{r} shares code {}", r.code());
            assert_eq!(Reason::from_code(r.code()), Some(r));
        }
        assert_eq!(Reason::from_code(0), None);
    }
}
