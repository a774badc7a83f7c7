//! Whatever would stop `gatehouse run` at start-up is refused by `gatehouse check-config`
//! first, with exit 64 and the line to fix; and `run` refuses the same file with exit 64
//! before it opens (or creates) any store.

mod support;

use support::cli::gatehouse;

fn shipped() -> String {
    std::fs::read_to_string(support::cli::shipped("estate.toml")).unwrap()
}

/// One configuration `run` could not start on: how it differs from the sample, the line
/// the message must name (the first line containing `line_of`) and words it must contain.
struct Bad {
    what: &'static str,
    from: &'static str,
    to: String,
    line_of: &'static str,
    says: &'static str,
}

#[test]
fn every_configuration_run_would_reject_is_rejected_by_check_config_with_64() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-ca.pem");
    let unreadable = dir.path().join("no-such-cert.pem");
    let table = [
        Bad {
            what: "bad broker scheme",
            from: "mode = \"embedded\"\nlisten = \"127.0.0.1:18830\"",
            to: "mode = \"external\"\nurl = \"http://broker.example:1883\"".into(),
            line_of: "http://broker",
            says: "mqtt:// or mqtts://",
        },
        Bad {
            what: "unreadable broker CA",
            from: "mode = \"embedded\"\nlisten = \"127.0.0.1:18830\"",
            to: format!(
                "mode = \"external\"\nurl = \"mqtts://broker.example:8883\"\nca = \"{}\"",
                missing.display()
            ),
            line_of: "no-such-ca.pem",
            says: "no-such-ca.pem",
        },
        Bad {
            what: "unreadable web certificate",
            from: "listen = \"127.0.0.1:8443\"",
            to: format!(
                "listen = \"127.0.0.1:8443\"\ncert = \"{}\"\nkey = \"{}\"",
                unreadable.display(),
                unreadable.display()
            ),
            line_of: "cert = ",
            says: "cannot be read",
        },
        Bad {
            what: "unknown profile",
            from: "profile = \"timed-relay\"",
            to: "profile = \"timed-rely\"".into(),
            line_of: "timed-rely",
            says: "profile 'timed-rely', which is not known",
        },
        Bad {
            what: "overflowing anti-passback hours",
            from: "apb_timeout_h = 24",
            to: "apb_timeout_h = 4294967295".into(),
            line_of: "apb_timeout_h",
            says: "the most it can be is 8784",
        },
        Bad {
            what: "overflowing quota period",
            from: "exit_quota_period_h = 48",
            to: "exit_quota_period_h = 4000000000".into(),
            line_of: "exit_quota_period_h",
            says: "exit_quota_period_h is 4000000000",
        },
        Bad {
            what: "a readiness share above one",
            from: "[policy]",
            to: "[metrics]\nready_controllers = 2.5\n\n[policy]".into(),
            line_of: "ready_controllers",
            says: "use a share from 0 to 1",
        },
        Bad {
            what: "a metrics listener that is not an address",
            from: "[policy]",
            to: "[metrics]\nlisten = \"localhost\"\n\n[policy]".into(),
            line_of: "listen = \"localhost\"",
            says: "metrics listen 'localhost' is not an IP address and port",
        },
        Bad {
            what: "log checks further apart than a year",
            from: "[policy]",
            to: "[log]\nverify_every_h = 100000\n\n[policy]".into(),
            line_of: "verify_every_h",
            says: "log verify_every_h is 100000",
        },
        Bad {
            what: "an uplink with no node",
            from: "[policy]",
            to: "[uplink]\nurls = []\n\n[policy]".into(),
            line_of: "urls = []",
            says: "uplink urls is empty",
        },
        Bad {
            what: "an uplink URL with a wrong scheme",
            from: "[policy]",
            to: "[uplink]\nurls = [\"mqtt://district-1:1883\", \"nats://district-2:4222\"]\n\n[policy]".into(),
            line_of: "urls = [",
            says: "uplink url 2: broker configuration: uplink url 'nats://district-2:4222' must start with mqtt:// or mqtts://",
        },
        Bad {
            what: "an unreadable uplink CA",
            from: "[policy]",
            to: format!(
                "[uplink]\nurls = [\"mqtts://district-1:8883\"]\nca = \"{}\"\n\n[policy]",
                missing.display()
            ),
            line_of: "urls = [",
            says: "no-such-ca.pem",
        },
        Bad {
            what: "a swipe age beyond a day",
            from: "max_swipe_age_s = 10",
            to: "max_swipe_age_s = 4294967295".into(),
            line_of: "max_swipe_age_s",
            says: "max_swipe_age_s",
        },
    ];
    for bad in table {
        let text = shipped();
        assert!(text.contains(bad.from), "{}: the sample changed", bad.what);
        let text = text.replacen(bad.from, &bad.to, 1);
        let file = dir.path().join("estate.toml");
        std::fs::write(&file, &text).unwrap();
        let line = text.lines().position(|l| l.contains(bad.line_of)).unwrap() + 1;
        let name = file.display().to_string();

        let out = gatehouse(&["check-config", &name]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(64), "{}: {err}", bad.what);
        let at = format!("{name}:{line}: ");
        assert!(
            err.lines()
                .any(|l| l.starts_with(&at) && l.contains(bad.says)),
            "{}: expected a line starting {at} saying {:?} in\n{err}",
            bad.what,
            bad.says
        );

        let data = dir.path().join("data");
        let out = gatehouse(&[
            "run",
            "--config",
            &name,
            "--data-dir",
            data.to_str().unwrap(),
        ]);
        assert_eq!(
            out.status.code(),
            Some(64),
            "{}: run: {}",
            bad.what,
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!data.exists(), "{}: run opened a store", bad.what);
    }
}

#[test]
fn every_problem_is_reported_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("estate.toml");
    let text = shipped()
        .replacen("apb_timeout_h = 24", "apb_timeout_h = 4294967295", 1)
        .replacen("profile = \"timed-relay\"", "profile = \"timed-rely\"", 1);
    std::fs::write(&file, &text).unwrap();
    let out = gatehouse(&["check-config", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(64));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("apb_timeout_h") && err.contains("timed-rely"),
        "{err}"
    );
    assert!(err.contains("2 problems found"), "{err}");
}
