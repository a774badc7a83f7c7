//! `gatehouse check-config` and `gatehouse sample generate`, run as a person would.

mod support;

use support::cli::{gatehouse, shipped, text};

#[test]
fn the_shipped_sample_configuration_is_valid() {
    let out = gatehouse(&["check-config", shipped("estate.toml").to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("valid — site 'north-estate'"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn an_invalid_file_exits_64_naming_every_bad_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("estate.toml");
    let config = std::fs::read_to_string(shipped("estate.toml")).unwrap();
    // Two mistakes far apart: a door leading into a zone that does not exist, and a bad window.
    let config = config
        .replacen("inside = \"bldg-1-1\"", "inside = \"bldg-99\"", 1)
        .replacen("\"mon-sun 06:00-22:00\"", "\"mon-sun 6-22\"", 1);
    std::fs::write(&file, &config).unwrap();
    let line_of = |needle: &str| config.lines().position(|l| l.contains(needle)).unwrap() + 1;

    let out = gatehouse(&["check-config", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(64));
    let err = text(&out.stderr);
    let name = file.display().to_string();
    let expect_door = format!(
        "{name}:{}: door 'door-1-1' names inside zone 'bldg-99', which is not defined; add [[zones]] id = \"bldg-99\" or fix the door.",
        line_of("\"bldg-99\"")
    );
    assert!(
        err.contains(&expect_door),
        "expected\n{expect_door}\nin\n{err}"
    );
    assert!(
        err.contains(&format!("{name}:{}: schedule 'day-only'", line_of("6-22"))),
        "{err}"
    );
    assert!(err.contains("2 problems found"), "{err}");
}

#[test]
fn an_unknown_key_exits_64_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("estate.toml");
    std::fs::write(
        &file,
        "[site]\nid = \"x\"\nname = \"X\"\ntimezon = \"Asia/Shanghai\"\n",
    )
    .unwrap();
    let out = gatehouse(&["check-config", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(64));
    let err = text(&out.stderr);
    assert!(err.starts_with(&format!("{}:4: ", file.display())), "{err}");
    assert!(err.contains("timezon"), "{err}");
}

#[test]
fn a_missing_file_exits_64_and_says_what_to_do() {
    let out = gatehouse(&["check-config", "/nonexistent/estate.toml"]);
    assert_eq!(out.status.code(), Some(64));
    assert!(
        text(&out.stderr).contains("Check the path"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn the_generator_remakes_the_shipped_sample() {
    let dir = tempfile::tempdir().unwrap();
    let out = gatehouse(&[
        "sample",
        "generate",
        "--seed",
        "7",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for name in ["estate.toml", "residents.csv", "demo-office.key"] {
        let made = std::fs::read(dir.path().join(name)).unwrap();
        let committed = std::fs::read(shipped(name)).unwrap();
        assert!(
            made == committed,
            "config/{name} differs from the generator's output; regenerate and commit it"
        );
    }
    assert!(dir.path().join("residents.xlsx").metadata().unwrap().len() > 10_000);
}

#[test]
fn the_longest_look_backs_a_u32_holds_never_panic_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("estate.toml");
    let config = std::fs::read_to_string(shipped("estate.toml"))
        .unwrap()
        .replace("apb_timeout_h = 24", "apb_timeout_h = 4294967295")
        .replace(
            "exit_quota_period_h = 48",
            "exit_quota_period_h = 4294967295",
        );
    std::fs::write(&file, config).unwrap();
    let data = dir.path().join("data");
    // `decide` starts a core on the store as the daemon does: it restores presence and quotas
    // from the log, the longer of the two look-backs back. Whether the configuration's checks
    // accept such values or refuse them, the command must end with a message, never exit 101.
    let out = gatehouse(&[
        "decide",
        "--config",
        file.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
        "--door",
        "gate-north",
        "--card",
        "8EB8F02A",
        "--direction",
        "out",
    ]);
    let err = text(&out.stderr);
    assert_ne!(out.status.code(), Some(101), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
