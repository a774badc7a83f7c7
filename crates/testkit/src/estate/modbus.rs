//! The Modbus acceptance tests' estate: doors A and B on a reader-controller (`ctl-r`), door C
//! (short held-open alarm) on a relay board (`ctl-x`), around the controllers' own lines; one
//! staff member whose pass opens every door.

use gatehouse_core::estate::{EstateData, Pass, Person, Role};

/// The card of the one valid pass.
pub const CARD: u32 = 0x04A1_B2C3;
/// A card nobody holds.
pub const UNKNOWN_CARD: u32 = 0xDEAD_BEEF;
/// The test controllers' poll interval.
pub const POLL_MS: u64 = 100;
/// The test controllers' request timeout.
pub const TIMEOUT_MS: u64 = 300;

/// Doors and controllers of the tests, around the controllers' `[[controllers]]` tables.
pub fn config(controllers: &str) -> String {
    format!(
        r#"
[site]
id = "modbus-test"
name = "Modbus test estate"

[[zones]]
id = "area-a"
name = "A"
parent = "site"

{controllers}

[[doors]]
id = "door-a"
name = "A"
kind = "pedestrian"
outside = "outside"
inside = "area-a"
controller = "ctl-r"
channel = 0
pulse_ms = 1000
readers = [ {{ id = "r-a-in", direction = "in" }} ]

[[doors]]
id = "door-b"
name = "B"
kind = "pedestrian"
outside = "outside"
inside = "area-a"
controller = "ctl-r"
channel = 1
pulse_ms = 1000
readers = [ {{ id = "r-b-in", direction = "in" }} ]

[[doors]]
id = "door-c"
name = "C"
kind = "unit"
outside = "outside"
inside = "area-a"
controller = "ctl-x"
channel = 0
pulse_ms = 1000
held_open_after_s = 2

[[access_groups]]
id = "everywhere"
doors = ["*"]
"#
    )
}

/// The line every test controller shares: fast polls, short timeouts.
pub fn timing() -> String {
    format!("poll_ms = {POLL_MS}\ntimeout_ms = {TIMEOUT_MS}\noffline_after = 3")
}

/// The reader-controller's readers: index 0 on door A, index 1 on door B.
pub const READERS: &str =
    r#"readers = [ { index = 0, id = "r-a-in" }, { index = 1, id = "r-b-in" } ]"#;

/// One staff member, 王卫平 (`R-1`), whose pass `P-1` ([`CARD`]) is in the group of every door.
pub fn residents() -> EstateData {
    EstateData {
        households: vec![],
        people: vec![Person::new(
            "R-1",
            "王卫平",
            "13812345678",
            None,
            Role::Staff,
        )],
        passes: vec![Pass {
            groups: vec!["everywhere".into()],
            ..Pass::card("P-1", gatehouse_core::CardNumber::from_u32(CARD), "R-1")
        }],
    }
}
