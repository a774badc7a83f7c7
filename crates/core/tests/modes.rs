//! Lockdown, fire release, schedule transitions and the office's door control, through
//! `Core::handle` as the runtime drives it.

use gatehouse_core::event::{AlarmKind, Kind, Reason};
use gatehouse_core::io::{
    Admin, AdminResult, DoorAction, Effect, Input, Output, Publish, Reply, Save,
};
use gatehouse_core::modes::DoorMode;
use gatehouse_core::{Core, Restored};
use gatehouse_testkit::estate::decisions::{self as estate, at, swipe};
use jiff::{SignedDuration, Timestamp};

fn admin(core: &mut Core, admin: Admin, now: Timestamp) -> Vec<Output> {
    core.handle(Input::Admin(admin), now)
}

fn lockdown(zone: &str, mode: Option<&str>) -> Admin {
    Admin::Lockdown {
        zone: zone.into(),
        mode: mode.map(str::to_string),
        reason: "closed-loop management".into(),
        actor: "office:li".into(),
    }
}

fn effects(out: &[Output]) -> Vec<&Effect> {
    out.iter()
        .flat_map(|o| match o {
            Output::Record { then, .. } => then.iter().collect(),
            Output::Effect(e) => vec![e],
        })
        .collect()
}

fn events(out: &[Output]) -> Vec<&gatehouse_core::Event> {
    out.iter()
        .filter_map(|o| {
            if let Output::Record { event, .. } = o {
                Some(event)
            } else {
                None
            }
        })
        .collect()
}

fn mode_of(core: &Core, door: &str) -> DoorMode {
    core.door_states()
        .into_iter()
        .find(|s| s.door == door)
        .unwrap()
        .mode
}

fn door_actions<'a>(out: &'a [Output], door: &str) -> Vec<&'a DoorAction> {
    effects(out)
        .into_iter()
        .filter_map(|e| match e {
            Effect::Door { door: d, action } if d == door => Some(action),
            _ => None,
        })
        .collect()
}

fn reason(out: &[Output]) -> Option<Reason> {
    events(out)
        .iter()
        .find(|e| e.kind == Kind::Access)
        .and_then(|e| e.reason)
}

#[test]
fn a_lockdown_is_recorded_saved_published_and_lifted() {
    let mut core = estate::core();
    let now = at("2026-11-23T14:00");
    let out = admin(&mut core, lockdown("bldg-18", Some("quarantine")), now);
    let ev = events(&out);
    assert_eq!(ev.len(), 1);
    assert_eq!(
        (
            ev[0].kind,
            ev[0].zone.as_deref(),
            ev[0].mode.as_deref(),
            ev[0].by.as_deref()
        ),
        (
            Kind::Mode,
            Some("bldg-18"),
            Some("quarantine"),
            Some("office:li")
        )
    );
    assert_eq!(ev[0].detail.as_deref(), Some("closed-loop management"));
    let fx = effects(&out);
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Save(Save::Lockdowns(t)) if t.len() == 1))
    );
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Publish(Publish::Lockdowns(t)) if t[0].zone == "bldg-18"))
    );
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Reply(Reply::Admin(AdminResult { ok: true, .. }))))
    );
    assert_eq!(mode_of(&core, "door-18"), DoorMode::LockedDown);
    assert_eq!(
        mode_of(&core, "door-18-2"),
        DoorMode::Normal,
        "the unit door is inside the building"
    );
    assert_eq!(mode_of(&core, "gate-north"), DoorMode::Normal);

    // Survives a restart.
    let restored = Restored {
        lockdowns: core.lockdowns().to_vec(),
        ..Restored::default()
    };
    let mut again = Core::new(&estate::config(), estate::estate(), restored).unwrap();
    assert_eq!(
        reason(&again.handle(swipe("r-18-in", "A1", None), now)),
        Some(Reason::ZoneLockedDown)
    );
    again.handle(Input::Tick, now);
    assert_eq!(mode_of(&again, "door-18"), DoorMode::LockedDown);

    let out = admin(&mut core, lockdown("bldg-18", None), now);
    assert_eq!(events(&out)[0].mode.as_deref(), Some("lifted"));
    assert_eq!(mode_of(&core, "door-18"), DoorMode::Normal);
    assert_eq!(
        reason(&core.handle(swipe("r-18-in", "A1", None), now)),
        Some(Reason::Granted)
    );
}

#[test]
fn bad_lockdown_requests_say_what_is_wrong() {
    let mut core = estate::core();
    let now = at("2026-11-23T14:00");
    for (req, words) in [
        (
            lockdown("bldg-99", Some("closed")),
            "unknown zone 'bldg-99'",
        ),
        (
            lockdown("bldg-18", Some("sealed")),
            "unknown lockdown mode 'sealed'",
        ),
        (lockdown("bldg-18", None), "not locked down"),
        (
            Admin::AckFire {
                zone: "area-a".into(),
                actor: "office:li".into(),
            },
            "no fire alarm",
        ),
        (
            Admin::DoorControl {
                door: "gate-x".into(),
                action: DoorAction::HoldOpen,
                until: None,
                actor: "office:li".into(),
            },
            "unknown door 'gate-x'",
        ),
    ] {
        let out = admin(&mut core, req, now);
        let [
            Output::Effect(Effect::Reply(Reply::Admin(AdminResult {
                ok: false,
                error: Some(e),
            }))),
        ] = out.as_slice()
        else {
            panic!("{out:?}")
        };
        assert!(e.contains(words), "{e}");
    }
}

#[test]
fn fire_releases_until_cleared_and_acknowledged() {
    let mut core = estate::core();
    let now = at("2026-11-23T15:00");
    admin(&mut core, lockdown("bldg-18", Some("closed")), now);
    let out = core.handle(
        Input::Fire {
            zone: "area-a".into(),
            active: true,
            source: "fire-panel-a".into(),
        },
        now,
    );
    assert_eq!(events(&out)[0].alarm, Some(AlarmKind::Fire));
    for door in ["gate-north", "gate-south", "door-18", "door-18-2"] {
        assert_eq!(door_actions(&out, door), [&DoorAction::HoldOpen], "{door}");
        assert_eq!(mode_of(&core, door), DoorMode::FireRelease, "{door}");
    }
    assert!(door_actions(&out, "gate-b").is_empty());
    // Polled again: no news.
    assert!(
        core.handle(
            Input::Fire {
                zone: "area-a".into(),
                active: true,
                source: "fire-panel-a".into()
            },
            now
        )
        .is_empty()
    );
    // Lockdown and anti-passback are overridden.
    assert_eq!(
        reason(&core.handle(swipe("r-18-in", "A1", None), now)),
        Some(Reason::FireRelease)
    );

    let out = core.handle(
        Input::Fire {
            zone: "area-a".into(),
            active: false,
            source: "fire-panel-a".into(),
        },
        now,
    );
    assert_eq!(events(&out)[0].cleared, Some(true));
    assert_eq!(
        mode_of(&core, "door-18"),
        DoorMode::FireRelease,
        "stays released until acknowledged"
    );

    // A restart before the acknowledgement keeps the doors free.
    let saved = effects(&out)
        .into_iter()
        .find_map(|e| {
            if let Effect::Save(Save::FireZones(z)) = e {
                Some(z.clone())
            } else {
                None
            }
        })
        .unwrap();
    let mut again = Core::new(
        &estate::config(),
        estate::estate(),
        Restored {
            fire_zones: saved,
            ..Restored::default()
        },
    )
    .unwrap();
    let out = again.handle(Input::Tick, now);
    assert_eq!(door_actions(&out, "door-18"), [&DoorAction::HoldOpen]);

    let out = admin(
        &mut core,
        Admin::AckFire {
            zone: "area-a".into(),
            actor: "office:li".into(),
        },
        now + SignedDuration::from_mins(5),
    );
    assert_eq!(door_actions(&out, "door-18"), [&DoorAction::Lock]);
    assert_eq!(
        mode_of(&core, "door-18"),
        DoorMode::LockedDown,
        "back to its lockdown"
    );
    assert_eq!(mode_of(&core, "door-18-2"), DoorMode::Normal);
}

#[test]
fn acknowledging_an_active_fire_is_refused() {
    let mut core = estate::core();
    let now = at("2026-11-23T15:00");
    core.handle(
        Input::Fire {
            zone: "site".into(),
            active: true,
            source: "panel".into(),
        },
        now,
    );
    let out = admin(
        &mut core,
        Admin::AckFire {
            zone: "site".into(),
            actor: "office:li".into(),
        },
        now,
    );
    assert!(
        matches!(&out[..], [Output::Effect(Effect::Reply(Reply::Admin(AdminResult { ok: false, error: Some(e) })))] if e.contains("still active"))
    );
    let out = core.handle(
        Input::Fire {
            zone: "nowhere".into(),
            active: true,
            source: "panel".into(),
        },
        now,
    );
    assert_eq!(events(&out)[0].kind, Kind::RejectedInput);
}

#[test]
fn the_night_schedule_closes_and_reopens_the_south_gate() {
    let mut core = estate::core();
    core.handle(Input::Tick, at("2026-11-23T21:59"));
    assert_eq!(mode_of(&core, "gate-south"), DoorMode::Normal);
    let out = core.handle(Input::Tick, at("2026-11-23T22:00"));
    let ev = events(&out);
    assert_eq!(ev.len(), 1, "{out:#?}");
    assert_eq!(
        (ev[0].kind, ev[0].door.as_deref(), ev[0].mode.as_deref()),
        (Kind::Mode, Some("gate-south"), Some("closed_by_schedule"))
    );
    assert!(effects(&out).iter().any(
        |e| matches!(e, Effect::Publish(Publish::DoorState(s)) if s.mode == DoorMode::ClosedBySchedule)
    ));
    assert!(
        core.handle(Input::Tick, at("2026-11-23T22:00:01"))
            .is_empty()
    );
    let out = core.handle(Input::Tick, at("2026-11-24T06:00"));
    assert_eq!(events(&out)[0].mode.as_deref(), Some("normal"));
}

#[test]
fn the_office_holds_a_door_open_and_releases_it() {
    let mut core = estate::core();
    let now = at("2026-11-23T10:00");
    let out = admin(
        &mut core,
        Admin::DoorControl {
            door: "gate-b".into(),
            action: DoorAction::HoldOpen,
            until: None,
            actor: "office:li".into(),
        },
        now,
    );
    assert_eq!(door_actions(&out, "gate-b"), [&DoorAction::HoldOpen]);
    assert_eq!(mode_of(&core, "gate-b"), DoorMode::HeldOpen);
    let out = admin(
        &mut core,
        Admin::DoorControl {
            door: "gate-b".into(),
            action: DoorAction::Lock,
            until: None,
            actor: "office:li".into(),
        },
        now,
    );
    assert_eq!(door_actions(&out, "gate-b"), [&DoorAction::Lock]);
    assert_eq!(mode_of(&core, "gate-b"), DoorMode::Normal);
}

#[test]
fn issuing_and_revoking_passes_are_admin_events() {
    let mut core = estate::core();
    let now = at("2026-11-23T10:00");
    let pass = estate::pass("P-NEW", "AB12", "R-2");
    let out = admin(
        &mut core,
        Admin::IssuePass {
            pass,
            person: None,
            actor: "office:li".into(),
        },
        now,
    );
    let ev = events(&out);
    assert_eq!(
        (ev[0].kind, ev[0].action.as_deref(), ev[0].object.as_deref()),
        (Kind::Admin, Some("issue_pass"), Some("P-NEW"))
    );
    assert_eq!(
        reason(&core.handle(swipe("r-3-in", "AB12", None), now)),
        Some(Reason::Granted)
    );
    let out = admin(
        &mut core,
        Admin::SetPassStatus {
            pass: "P-NEW".into(),
            status: gatehouse_core::estate::PassStatus::Revoked,
            actor: "office:li".into(),
            note: None,
        },
        now,
    );
    assert_eq!(events(&out)[0].action.as_deref(), Some("pass_revoked"));
    assert_eq!(
        reason(&core.handle(swipe("r-3-in", "AB12", None), now)),
        Some(Reason::PassRevoked)
    );
    // A card already in use cannot be issued twice.
    let dup = estate::pass("P-DUP", "A1", "R-2");
    let out = admin(
        &mut core,
        Admin::IssuePass {
            pass: dup,
            person: None,
            actor: "office:li".into(),
        },
        now,
    );
    assert!(matches!(
        &out[..],
        [Output::Effect(Effect::Reply(Reply::Admin(AdminResult {
            ok: false,
            ..
        })))]
    ));
}

#[test]
fn look_backs_as_long_as_a_u32_holds_decide_without_panicking() {
    let mut config = estate::config();
    config.policy.apb_timeout_h = u32::MAX;
    config.policy.exit_quota_period_h = u32::MAX;
    let mut core = estate::core_with(config);
    let now = at("2026-11-23T15:00");
    admin(&mut core, lockdown("area-a", Some("limited_exit")), now);
    // The quota period reaches back past the first instant there is: everything counts.
    let first = reason(&core.handle(swipe("r-north-out", "A1", Some("5678")), now));
    let second = reason(&core.handle(
        swipe("r-north-out", "A1", Some("5678")),
        now + SignedDuration::from_mins(1),
    ));
    assert!(first.is_some() && second.is_some());
    assert_eq!(second, Some(Reason::ExitQuotaExceeded), "{first:?}");
}
