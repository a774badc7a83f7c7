//! The replay matrix and every refusal of `docs/interfaces.md#mqtt`, as a table over virtual time.

use super::*;
use crate::config::Config;
use crate::core::Restored;
use crate::estate::{EstateData, Pass, Person};
use crate::io::Input;
use crate::modes::DoorMode;

const SITE: &str = "north-estate";
const T0: &str = "2026-11-22T13:58:00Z";

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn config() -> Config {
    let public = BASE64.encode(key(1).verifying_key().to_bytes());
    toml::from_str(&format!(
        r#"
        [site]
        id = "{SITE}"
        name = "North"
        [[zones]]
        id = "bldg-38"
        name = "Building 38"
        parent = "site"
        [[doors]]
        id = "gate-north"
        name = "North gate"
        kind = "pedestrian"
        outside = "outside"
        inside = "site"
        [[issuers]]
        id = "office-1"
        public_key = "{public}"
        "#
    ))
    .unwrap()
}

fn estate() -> EstateData {
    EstateData {
        households: vec![],
        people: vec![Person {
            id: "R-1".into(),
            name: "Wang".into(),
            phone: "13800005678".into(),
            household: None,
            role: Default::default(),
        }],
        passes: vec![Pass {
            id: "P-1".into(),
            card: Some("04A1B2C3".parse().unwrap()),
            holder: "R-1".into(),
            valid_from: None,
            valid_until: None,
            status: Default::default(),
            groups: vec![],
            override_modes: false,
            visitor: None,
        }],
    }
}

fn core_with(restored: Restored) -> Core {
    Core::new(&config(), estate(), restored).unwrap()
}

fn t(offset_s: i64) -> Timestamp {
    T0.parse::<Timestamp>().unwrap() + SignedDuration::from_secs(offset_s)
}

/// A body issued at `t(0)`, valid five minutes, with `extra` fields.
fn body(id: &str, counter: u64, extra: serde_json::Value) -> serde_json::Value {
    let mut b = serde_json::json!({
        "id": id, "issuer": "office-1", "counter": counter,
        "issued_at": "2026-11-22T21:58:00+08:00", "expires_at": "2026-11-22T22:03:00+08:00",
        "site": SITE, "action": "lockdown", "zone": "bldg-38", "mode": "quarantine",
        "reason": "closed-loop management",
    });
    for (k, v) in extra.as_object().unwrap() {
        b[k] = v.clone();
    }
    b
}

fn signed(body: &serde_json::Value, with: &SigningKey) -> SignedCommand {
    let text = body.to_string();
    SignedCommand {
        sig: sign(&text, with),
        body: text,
        retained: false,
    }
}

/// Handles a command; returns its result and the `command` event.
fn run(core: &mut Core, cmd: SignedCommand, now: Timestamp) -> (CommandResult, Event) {
    let outputs = core.handle(Input::Command(cmd), now);
    let Some(Output::Record { event, then }) = outputs.into_iter().next() else {
        panic!("no record")
    };
    assert_eq!(event.kind, Kind::Command);
    let [Effect::Reply(Reply::Command(result))] = then.as_slice() else {
        panic!("no reply: {then:?}")
    };
    (result.clone(), event)
}

fn error_of(core: &mut Core, cmd: SignedCommand, now: Timestamp) -> Option<String> {
    run(core, cmd, now).0.error
}

#[test]
fn a_valid_command_is_applied_and_recorded_with_its_counter() {
    let mut core = core_with(Restored::default());
    let cmd = signed(&body("c-1", 42, serde_json::json!({})), &key(1));
    let outputs = core.handle(Input::Command(cmd), t(1));
    let Output::Record { event, then } = &outputs[0] else {
        panic!()
    };
    assert_eq!(event.ok, Some(true));
    assert_eq!(event.counter, Some(42));
    assert_eq!(event.issuer.as_deref(), Some("office-1"));
    assert_eq!(event.command.as_deref(), Some("c-1"));
    assert_eq!(event.action.as_deref(), Some("lockdown"));
    let [Effect::Reply(Reply::Command(result))] = then.as_slice() else {
        panic!()
    };
    assert!(
        result.ok && result.error.is_none() && result.applied_at.is_some(),
        "{result:?}"
    );
    // The lockdown itself follows as its own `mode` event.
    assert!(
        outputs
            .iter()
            .any(|o| matches!(o, Output::Record { event, .. } if event.kind == Kind::Mode))
    );
    assert_eq!(core.lockdowns().len(), 1);
    assert_eq!(core.lockdowns()[0].by, "office-1");
}

#[test]
fn replay_matrix() {
    let valid = body("c-1", 42, serde_json::json!({}));
    let captured = signed(&valid, &key(1));
    let mut core = core_with(Restored::default());
    let (first, accepted) = run(&mut core, captured.clone(), t(0));
    assert!(first.ok);

    // Replayed at once, and a minute later (still inside its validity window).
    assert_eq!(
        error_of(&mut core, captured.clone(), t(1)).as_deref(),
        Some("counter_replayed")
    );
    assert_eq!(
        error_of(&mut core, captured.clone(), t(61)).as_deref(),
        Some("counter_replayed")
    );

    // After a restart: counters come back from the store, seen ids from recent events.
    let mut restarted = core_with(Restored {
        command_counters: vec![("office-1".into(), 42)],
        recent_events: vec![accepted.clone()],
        ..Restored::default()
    });
    assert_eq!(
        error_of(&mut restarted, captured.clone(), t(90)).as_deref(),
        Some("counter_replayed")
    );
    // Even if only the log survived (no counter table), the replayed event restores it.
    let mut from_log = core_with(Restored {
        recent_events: vec![accepted],
        ..Restored::default()
    });
    assert_eq!(
        error_of(&mut from_log, captured.clone(), t(90)).as_deref(),
        Some("counter_replayed")
    );
    // A fresh counter with an id already used.
    let same_id = signed(&body("c-1", 43, serde_json::json!({})), &key(1));
    assert_eq!(
        error_of(&mut restarted, same_id, t(90)).as_deref(),
        Some("duplicate_id")
    );

    // One byte of the body changed (the counter, to get past the replay checks).
    let mut tampered = captured.clone();
    tampered.body = tampered.body.replace("\"counter\":42", "\"counter\":52");
    assert_ne!(tampered.body, captured.body);
    assert_eq!(
        error_of(&mut core, tampered, t(2)).as_deref(),
        Some("bad_signature")
    );

    let fresh = |id: &str, counter: u64, extra: serde_json::Value| {
        signed(&body(id, counter, extra), &key(1))
    };
    let mut retained = fresh("c-2", 100, serde_json::json!({}));
    retained.retained = true;
    let cases: Vec<(&str, SignedCommand, Timestamp)> = vec![
        ("retained", retained, t(2)),
        ("expired", fresh("c-3", 101, serde_json::json!({})), t(301)),
        (
            "not_yet_valid",
            fresh(
                "c-4",
                102,
                serde_json::json!({"issued_at": "2026-11-22T22:00:00+08:00"}),
            ),
            t(2),
        ),
        (
            "wrong_site",
            fresh("c-5", 103, serde_json::json!({"site": "south-estate"})),
            t(2),
        ),
        (
            "unknown_issuer",
            fresh("c-6", 104, serde_json::json!({"issuer": "office-9"})),
            t(2),
        ),
        (
            "bad_signature",
            signed(&body("c-7", 105, serde_json::json!({})), &key(2)),
            t(2),
        ),
    ];
    for (want, cmd, now) in cases {
        assert_eq!(
            error_of(&mut core, cmd, now).as_deref(),
            Some(want),
            "case {want}"
        );
    }
    // None of the refusals moved the counter: the next valid command still goes through.
    let next = fresh("c-8", 43, serde_json::json!({"action": "lift"}));
    let (result, _) = run(&mut core, next, t(3));
    assert!(result.ok, "{result:?}");
}

#[test]
fn issued_at_within_the_allowed_skew_is_accepted() {
    let mut core = core_with(Restored::default());
    let cmd = signed(
        &body(
            "c-1",
            1,
            serde_json::json!({"issued_at": "2026-11-22T21:58:59+08:00"}),
        ),
        &key(1),
    );
    assert_eq!(error_of(&mut core, cmd, t(0)), None);
}

#[test]
fn refusals_of_the_action() {
    let mut core = core_with(Restored::default());
    let cases: Vec<(&str, serde_json::Value)> = vec![
        (
            "unknown_action",
            serde_json::json!({"action": "open_sesame"}),
        ),
        ("unknown_zone", serde_json::json!({"zone": "bldg-99"})),
        ("unknown_zone", serde_json::json!({"zone": "outside"})),
        (
            "unknown_door",
            serde_json::json!({"action": "unlock", "door": "gate-9"}),
        ),
        (
            "unknown_pass",
            serde_json::json!({"action": "suspend_pass", "pass": "P-9"}),
        ),
        ("malformed", serde_json::json!({"action": "unlock"})),
        ("malformed", serde_json::json!({"mode": "party"})),
        ("malformed", serde_json::json!({"counter": "forty"})),
        ("not_applied", serde_json::json!({"action": "lift"})),
    ];
    for (i, (want, extra)) in cases.into_iter().enumerate() {
        let cmd = signed(
            &body(&format!("a-{i}"), 10 + i as u64, extra.clone()),
            &key(1),
        );
        let (result, event) = run(&mut core, cmd, t(1));
        assert_eq!(result.error.as_deref(), Some(want), "case {extra}");
        assert_eq!(event.ok, Some(false));
        assert_eq!(event.error.as_deref(), Some(want));
        assert_eq!(
            event.counter, None,
            "a refused command does not consume its counter"
        );
    }
}

#[test]
fn malformed_envelopes_are_refused_not_crashed_on() {
    let mut core = core_with(Restored::default());
    for body in [
        "not json",
        "[]",
        "{\"id\":\"x\"}",
        "{\"issuer\":\"office-1\"}",
        "",
    ] {
        let cmd = SignedCommand {
            body: body.into(),
            sig: "AAAA".into(),
            retained: false,
        };
        assert_eq!(
            error_of(&mut core, cmd, t(0)).as_deref(),
            Some("malformed"),
            "{body:?}"
        );
    }
    let cmd = SignedCommand {
        sig: "not base64!".into(),
        ..signed(&body("c-1", 1, serde_json::json!({})), &key(1))
    };
    assert_eq!(
        error_of(&mut core, cmd, t(0)).as_deref(),
        Some("bad_signature")
    );
}

#[test]
fn pass_and_door_actions_reach_the_core() {
    let mut core = core_with(Restored::default());
    let suspend = signed(
        &body(
            "p-1",
            1,
            serde_json::json!({"action": "suspend_pass", "pass": "P-1"}),
        ),
        &key(1),
    );
    assert_eq!(error_of(&mut core, suspend, t(0)), None);
    assert_eq!(
        core.model().pass("P-1").unwrap().status,
        PassStatus::Suspended
    );
    let restore = signed(
        &body(
            "p-2",
            2,
            serde_json::json!({"action": "restore_pass", "pass": "P-1"}),
        ),
        &key(1),
    );
    assert_eq!(error_of(&mut core, restore, t(0)), None);
    assert_eq!(core.model().pass("P-1").unwrap().status, PassStatus::Active);

    let unlock = signed(
        &body(
            "d-1",
            3,
            serde_json::json!({"action": "unlock", "door": "gate-north"}),
        ),
        &key(1),
    );
    let outputs = core.handle(Input::Command(unlock), t(0));
    let actuated = outputs.iter().any(|o| match o {
        Output::Record { then, .. } => then
            .iter()
            .any(|e| matches!(e, Effect::Door { door, .. } if door == "gate-north")),
        _ => false,
    });
    assert!(actuated, "{outputs:?}");
}

#[test]
fn replay_is_recorded_then_rewinds_the_uplink() {
    let mut with_uplink = config();
    with_uplink.uplink = Some(toml::from_str("urls = [\"mqtt://district:1883\"]").unwrap());
    let mut core = Core::new(&with_uplink, estate(), Restored::default()).unwrap();
    let cmd = signed(
        &body(
            "r-1",
            1,
            serde_json::json!({"action": "replay", "from_seq": 3}),
        ),
        &key(1),
    );
    let outputs = core.handle(Input::Command(cmd), t(0));
    let [Output::Record { event, then }] = outputs.as_slice() else {
        panic!("one record, the command's: {outputs:?}")
    };
    assert_eq!(event.kind, Kind::Command);
    assert_eq!(event.ok, Some(true));
    assert_eq!(event.action.as_deref(), Some("replay"));
    assert_eq!(event.counter, Some(1));
    // Write-ahead: the rewind is an effect of the durable `command` event, before its reply.
    let [
        Effect::Publish(Publish::Replay { from_seq: 3 }),
        Effect::Reply(Reply::Command(result)),
    ] = then.as_slice()
    else {
        panic!("{then:?}")
    };
    assert!(result.ok && result.error.is_none(), "{result:?}");
    assert!(
        result.detail.as_deref().unwrap().contains("from seq 3"),
        "{result:?}"
    );

    // Without `[uplink]` it is applied all the same, and the result says there is nothing
    // to rewind.
    let mut core = core_with(Restored::default());
    let cmd = signed(
        &body(
            "r-2",
            2,
            serde_json::json!({"action": "replay", "from_seq": 1}),
        ),
        &key(1),
    );
    let outputs = core.handle(Input::Command(cmd), t(0));
    let [Output::Record { event, then }] = outputs.as_slice() else {
        panic!("{outputs:?}")
    };
    assert_eq!(event.ok, Some(true));
    let Some(Effect::Reply(Reply::Command(result))) = then.last() else {
        panic!("{then:?}")
    };
    assert!(result.ok, "{result:?}");
    assert!(
        result.detail.as_deref().unwrap().contains("no [uplink]"),
        "{result:?}"
    );
}

#[test]
fn replay_needs_a_from_seq_of_at_least_one() {
    let mut core = core_with(Restored::default());
    let cases = [
        (serde_json::json!({"action": "replay"}), "needs `from_seq`"),
        (
            serde_json::json!({"action": "replay", "from_seq": 0}),
            "starts at 1",
        ),
        (
            serde_json::json!({"action": "replay", "from_seq": -3}),
            "expected u64",
        ),
        (
            serde_json::json!({"action": "replay", "from_seq": "3"}),
            "expected u64",
        ),
    ];
    for (i, (extra, says)) in cases.into_iter().enumerate() {
        let cmd = signed(
            &body(&format!("m-{i}"), 10 + i as u64, extra.clone()),
            &key(1),
        );
        let (result, event) = run(&mut core, cmd, t(1));
        assert_eq!(result.error.as_deref(), Some("malformed"), "case {extra}");
        let detail = result.detail.unwrap_or_default();
        assert!(detail.contains(says), "case {extra}: {detail}");
        assert_eq!(event.ok, Some(false));
        assert_eq!(event.action.as_deref(), Some("replay"));
        assert_eq!(event.counter, None);
    }
}

#[test]
fn public_keys_are_checked() {
    assert!(parse_public_key(&BASE64.encode(key(1).verifying_key().to_bytes())).is_ok());
    assert!(parse_public_key("AAAA").unwrap_err().contains("32"));
    assert!(parse_public_key("%%").unwrap_err().contains("base64"));
}

#[test]
fn hold_open_honours_until() {
    let mut core = core_with(Restored::default());
    core.handle(Input::Tick, t(0));
    let door_mode = |core: &Core| {
        core.door_states()
            .into_iter()
            .find(|s| s.door == "gate-north")
            .unwrap()
            .mode
    };
    // `until` in the past: refused, with the reason in the event.
    let past = signed(
        &body(
            "h-1",
            1,
            serde_json::json!({"action": "hold_open", "door": "gate-north", "until": "2026-11-22T21:00:00+08:00"}),
        ),
        &key(1),
    );
    let (result, event) = run(&mut core, past, t(0));
    assert_eq!(result.error.as_deref(), Some("not_applied"));
    assert!(
        event
            .detail
            .as_deref()
            .unwrap()
            .contains("not in the future"),
        "{event:?}"
    );
    // `until` that is not RFC 3339: malformed.
    let garbled = signed(
        &body(
            "h-2",
            2,
            serde_json::json!({"action": "hold_open", "door": "gate-north", "until": "tonight"}),
        ),
        &key(1),
    );
    assert_eq!(
        error_of(&mut core, garbled, t(0)).as_deref(),
        Some("malformed")
    );
    assert_eq!(door_mode(&core), DoorMode::Normal);

    // Ten minutes from T0 (21:58 +08:00): held, then released by the tick at 22:08.
    let hold = signed(
        &body(
            "h-3",
            3,
            serde_json::json!({"action": "hold_open", "door": "gate-north", "until": "2026-11-22T22:08:00+08:00"}),
        ),
        &key(1),
    );
    assert_eq!(error_of(&mut core, hold, t(0)), None);
    assert_eq!(door_mode(&core), DoorMode::HeldOpen);
    core.handle(Input::Tick, t(599));
    assert_eq!(door_mode(&core), DoorMode::HeldOpen);
    let out = core.handle(Input::Tick, t(600));
    let expired = out.iter().any(|o| {
        matches!(o, Output::Record { event, then } if event.kind == Kind::Mode
            && event.detail.as_deref().is_some_and(|d| d.starts_with("hold expired"))
            && then.iter().any(|e| matches!(e, Effect::Door { action: DoorAction::Lock, .. })))
    });
    assert!(expired, "{out:?}");
    assert_eq!(door_mode(&core), DoorMode::Normal);
}
