//! The decision estate: a small estate for the core's decision tests, built in code (not from
//! `config/estate.toml`): two areas, a building with a unit, gates with each verify mode, a
//! night schedule, access groups, passes in every state and a visitor. Shared by the core's unit
//! tables (through `crates/core/tests/support/estate.rs`), its integration tests and its
//! `decide` benchmark. It names nothing of the testkit: the unit tables compile it inside the
//! core itself.
#![allow(dead_code)]

use gatehouse_core::config::Config;
use gatehouse_core::estate::{EstateData, Household, Pass, PassStatus, Person, Role, VisitorGrant};
use gatehouse_core::io::{AccessPoint, AccessRequest, Credential, Input};
use gatehouse_core::{Core, Direction, Restored};
use jiff::Timestamp;

/// The estate's time zone.
pub const TZ: &str = "Asia/Shanghai";
/// The gateway's key in tests.
pub const GATEWAY_SECRET: [u8; 32] = [9; 32];
/// R-1's registered phone; its last four digits are `5678`.
pub const PHONE_R1: &str = "13812345678";

/// The estate's configuration file.
pub const CONFIG: &str = r#"
[site]
id = "test-estate"
name = "测试小区"
timezone = "Asia/Shanghai"

[policy]
apb = "soft"

[[zones]]
id = "area-a"
name = "A区"
parent = "site"
[[zones]]
id = "bldg-18"
name = "18号楼"
parent = "area-a"
[[zones]]
id = "unit-18-2"
name = "18号楼2单元"
parent = "bldg-18"
[[zones]]
id = "area-b"
name = "B区"
parent = "site"
[[zones]]
id = "bldg-3"
name = "3号楼"
parent = "area-b"

[[doors]]
id = "gate-north"
name = "北门"
kind = "pedestrian"
outside = "outside"
inside = "area-a"
controller = "ctl-1"
verify = "card+phone"
pulse_ms = 4000
readers = [ { id = "r-north-in", direction = "in" }, { id = "r-north-out", direction = "out" } ]

[[doors]]
id = "gate-south"
name = "南门"
kind = "pedestrian"
outside = "outside"
inside = "area-a"
controller = "ctl-1"
channel = 1
schedule = "day-only"
readers = [ { id = "r-south-in", direction = "in" }, { id = "r-south-out", direction = "out" } ]

[[doors]]
id = "door-18"
name = "18号楼门"
kind = "unit"
outside = "area-a"
inside = "bldg-18"
controller = "ctl-2"
readers = [ { id = "r-18-in", direction = "in" }, { id = "r-18-out", direction = "out" } ]

[[doors]]
id = "door-18-2"
name = "18号楼2单元门"
kind = "unit"
outside = "bldg-18"
inside = "unit-18-2"
controller = "ctl-2"
channel = 1
readers = [ { id = "r-18-2-in", direction = "in" }, { id = "r-18-2-out", direction = "out" } ]

[[doors]]
id = "gate-b"
name = "B区门"
kind = "pedestrian"
outside = "outside"
inside = "area-b"
controller = "ctl-3"
verify = "guard"
readers = [ { id = "r-b-in", direction = "in" }, { id = "r-b-out", direction = "out" } ]

[[doors]]
id = "door-3"
name = "3号楼门"
kind = "unit"
outside = "area-b"
inside = "bldg-3"
controller = "ctl-3"
channel = 1
readers = [ { id = "r-3-in", direction = "in" }, { id = "r-3-out", direction = "out" } ]

[[schedules]]
id = "day-only"
windows = [ "daily 06:00-22:00" ]

[[schedules]]
id = "office-hours"
windows = [ "mon-fri 08:00-18:00" ]

[[access_groups]]
id = "cleaners"
doors = [ "gate-south", "door-18" ]
schedule = "office-hours"

[[access_groups]]
id = "everywhere"
doors = [ "*" ]
"#;

/// [`CONFIG`], parsed.
pub fn config() -> Config {
    toml::from_str(CONFIG).expect("the test estate parses")
}

/// A civil time in the estate's zone (`2026-11-23T10:00` is a Monday morning).
pub fn at(local: &str) -> Timestamp {
    local
        .parse::<jiff::civil::DateTime>()
        .expect("a civil date-time")
        .to_zoned(jiff::tz::TimeZone::get(TZ).unwrap())
        .unwrap()
        .timestamp()
}

/// A person named `Name of {id}`.
pub fn person(id: &str, phone: &str, household: Option<&str>, role: Role) -> Person {
    Person::new(id, &format!("Name of {id}"), phone, household, role)
}

/// An active card pass with no groups, for all time.
pub fn pass(id: &str, card: &str, holder: &str) -> Pass {
    Pass::card(id, card.parse().expect("a test card number"), holder)
}

/// The residents, staff and visitor, and their passes: R-1's `P-1` (card `A1`) and one pass
/// of R-1's in every other state (`P-REV`, `P-SUS`, `P-LOST`, `P-FUT`, `P-EXP`), a medic's
/// override pass, a cleaner's, a guard's and a visitor's for two entries on 2026-11-23.
pub fn estate() -> EstateData {
    let households = vec![
        Household {
            id: "18-2-501".into(),
            zone: "unit-18-2".into(),
            tenure: Default::default(),
        },
        Household {
            id: "18-2-502".into(),
            zone: "unit-18-2".into(),
            tenure: Default::default(),
        },
        Household {
            id: "3-1-101".into(),
            zone: "bldg-3".into(),
            tenure: Default::default(),
        },
    ];
    let people = vec![
        person("R-1", PHONE_R1, Some("18-2-501"), Role::Owner),
        person("R-2", "13900001111", Some("3-1-101"), Role::Tenant),
        person("R-3", "13700002222", Some("18-2-502"), Role::Family),
        person("S-1", "13600003333", None, Role::Medical),
        person("C-1", "13500004444", None, Role::Staff),
        person("G-1", "13400005555", None, Role::Staff),
        person("V-1", "13300006666", None, Role::Visitor),
    ];
    let mut passes = vec![
        pass("P-1", "A1", "R-1"),
        pass("P-2", "B2", "R-2"),
        pass("P-3", "C3", "R-3"),
        Pass {
            override_modes: true,
            ..pass("P-S", "5A", "S-1")
        },
        Pass {
            groups: vec!["cleaners".into()],
            ..pass("P-C", "C1", "C-1")
        },
        Pass {
            groups: vec!["everywhere".into()],
            ..pass("P-G", "6A", "G-1")
        },
        Pass {
            status: PassStatus::Revoked,
            ..pass("P-REV", "DEAD01", "R-1")
        },
        Pass {
            status: PassStatus::Suspended,
            ..pass("P-SUS", "DEAD02", "R-1")
        },
        Pass {
            status: PassStatus::Lost,
            ..pass("P-LOST", "DEAD03", "R-1")
        },
        Pass {
            valid_from: Some(at("2027-01-01T00:00")),
            ..pass("P-FUT", "DEAD04", "R-1")
        },
        Pass {
            valid_until: Some(at("2026-01-01T00:00")),
            ..pass("P-EXP", "DEAD05", "R-1")
        },
    ];
    passes.push(Pass {
        valid_from: Some(at("2026-11-23T00:00")),
        valid_until: Some(at("2026-11-24T00:00")),
        visitor: Some(Box::new(VisitorGrant {
            host_household: "18-2-501".into(),
            entries_allowed: Some(2),
            entries_used: 0,
            reason: Some("family visit".into()),
        })),
        ..pass("V-1", "F1", "V-1")
    });
    EstateData {
        households,
        people,
        passes,
    }
}

/// A core on the estate with its residents, and the gateway's key.
pub fn core() -> Core {
    core_with(config())
}

/// [`core`] on another configuration (the same residents).
pub fn core_with(config: Config) -> Core {
    let restored = Restored {
        gateway_key: Some(GATEWAY_SECRET),
        ..Restored::default()
    };
    Core::new(&config, estate(), restored).expect("the test estate builds a core")
}

/// A swipe of `card` at `reader`, with optional phone digits.
pub fn swipe(reader: &str, card: &str, pin: Option<&str>) -> Input {
    request(
        AccessPoint::Reader(reader.into()),
        Credential::Card(card.parse().expect("a test card number")),
        pin,
    )
}

/// A QR scan at `reader`.
pub fn scan(reader: &str, token: &str) -> Input {
    request(
        AccessPoint::Reader(reader.into()),
        Credential::Qr(token.into()),
        None,
    )
}

/// The guard checks a pass number at a door.
pub fn guard_check(door: &str, direction: Direction, pass: &str, pin: Option<&str>) -> Input {
    let mut input = request(
        AccessPoint::Door {
            door: door.into(),
            direction,
        },
        Credential::PassNumber(pass.into()),
        pin,
    );
    if let Input::Access(req) = &mut input {
        req.actor = Some("guard:wang".into());
    }
    input
}

/// An access request at `point` from the `test` source.
pub fn request(point: AccessPoint, credential: Credential, pin: Option<&str>) -> Input {
    Input::Access(AccessRequest {
        point,
        credential,
        pin: pin.map(str::to_string),
        requested_at: None,
        actor: None,
        source: "test".into(),
    })
}
