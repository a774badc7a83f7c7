//! The shipped profiles against `docs/interfaces.md#modbus-controllers`, and the loader's errors.

use super::*;

fn at(p: Option<Point>, ch: u16) -> (Table, u16, Option<u8>) {
    let p = p.expect("point present");
    (p.table, p.address(ch), p.bit)
}

#[test]
fn relay_io_is_the_spec_map() {
    let p = Profiles::builtin().get("relay-io").unwrap().clone();
    assert_eq!(p.unlock, Unlock::Pulse);
    assert_eq!(p.exit_release, ExitRelease::Gateway);
    for ch in 0..4 {
        assert_eq!(at(p.lock, ch), (Table::Coil, ch, None));
        assert_eq!(at(p.contact, ch), (Table::Discrete, ch, None));
        assert_eq!(at(p.exit, ch), (Table::Discrete, 4 + ch, None));
    }
}

#[test]
fn timed_relay_is_the_spec_map() {
    let p = Profiles::builtin().get("timed-relay").unwrap().clone();
    assert_eq!(
        p.unlock,
        Unlock::Timed {
            unit_ms: 100,
            max: 600
        }
    );
    assert_eq!(p.exit_release, ExitRelease::Hardware);
    for ch in [0, 1, 7] {
        assert_eq!(at(p.unlock_point, ch), (Table::Holding, 0x0100 + ch, None));
        assert_eq!(at(p.hold_open, ch), (Table::Holding, 0x0200 + ch, None));
        assert_eq!(at(p.lock_released, ch), (Table::Input, ch, Some(0)));
        assert_eq!(at(p.contact, ch), (Table::Input, ch, Some(1)));
        assert_eq!(at(p.exit, ch), (Table::Input, ch, Some(2)));
        assert_eq!(at(p.tamper, ch), (Table::Input, ch, Some(3)));
        assert_eq!(at(p.fire, ch), (Table::Input, 0x0010, Some(0)));
    }
}

#[test]
fn reader_controller_is_the_spec_map() {
    let p = Profiles::builtin()
        .get("reader-controller")
        .unwrap()
        .clone();
    assert_eq!(at(p.lock, 2), (Table::Coil, 2, None));
    assert_eq!(at(p.contact, 2), (Table::Discrete, 2, None));
    let r = p.reads.clone().unwrap();
    assert_eq!(
        (r.counter.table, r.counter.address(0)),
        (Table::Input, 0x0100)
    );
    assert_eq!(
        (r.slots_table, r.slot_count, r.slot_size),
        (Table::Input, 16, 6)
    );
    assert_eq!(r.slot_address(0), 0x0110);
    assert_eq!(r.slot_address(15), 0x0110 + 6 * 15);
    assert_eq!(
        (
            r.reader,
            r.card_high,
            r.card_low,
            r.pin_length,
            r.pin_high,
            r.pin_low
        ),
        (0, 1, 2, Some(3), Some(4), Some(5))
    );
}

const GOOD: &str = r#"
name = "acme"
channels = 2
[unlock]
mode = "pulse"
[points]
lock = { table = "coil", address = "ch" }
"#;

fn error_of(text: &str) -> String {
    Profile::parse(text, "acme.toml").unwrap_err().to_string()
}

#[test]
fn errors_name_file_key_and_fix() {
    assert!(Profile::parse(GOOD, "acme.toml").is_ok());
    let cases = [
        (GOOD.replace("\"coil\"", "\"coils_x\""), "points.lock.table"),
        (GOOD.replace("\"ch\"", "\"ch - 1\""), "points.lock.address"),
        (
            GOOD.replace("\"coil\"", "\"discrete\""),
            "points.lock.table",
        ),
        (GOOD.replace("\"pulse\"", "\"timed\""), "unlock.unit_ms"),
        (GOOD.replace("\"pulse\"", "\"magic\""), "unlock.mode"),
        (GOOD.replace("lock =", "door_lock ="), "points.door_lock"),
        (GOOD.replace("channels = 2", "channels = 0"), "channels"),
        (
            GOOD.replace("address = \"ch\"", "address = \"ch\", bit = 3"),
            "points.lock.bit",
        ),
    ];
    for (text, key) in cases {
        let e = error_of(&text);
        assert!(e.starts_with("acme.toml: "), "{e}");
        assert!(e.contains(key), "{key} not in: {e}");
    }
    let e = error_of(&format!("{GOOD}\ncolour = \"red\"\n"));
    assert!(e.contains("acme.toml") && e.contains("colour"), "{e}");
}

#[test]
fn a_directory_overrides_and_adds_profiles() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("acme.toml"), GOOD).unwrap();
    let profiles = Profiles::load(Some(dir.path())).unwrap();
    assert!(profiles.get("acme").is_some());
    assert!(profiles.get("relay-io").is_some());
    std::fs::write(dir.path().join("other.toml"), GOOD).unwrap();
    let e = Profiles::load(Some(dir.path())).unwrap_err().to_string();
    assert!(e.contains("other.toml") && e.contains("`name`"), "{e}");
}
