//! Holding a door open until a time, over virtual time: the hold ends on the first tick at or
//! after `until`, lasts until released without one, is refused with an `until` already past,
//! survives a restart (re-asserted on the first tick) and still ends on time, and never
//! locks a door a fire has freed.

// The decide and doors tests load the same fixture; each test module keeps its own copy.
#[allow(clippy::duplicate_mod)]
#[path = "../../tests/support/estate.rs"]
mod estate;

use super::Hold;
use crate::core::{Core, Restored};
use crate::event::{Event, Kind};
use crate::io::{Admin, DoorAction, Effect, Input, Output, Publish, Save};
use crate::modes::DoorMode;
use estate::{GATEWAY_SECRET, at, config};
use jiff::{SignedDuration, Timestamp};

const DOOR: &str = "door-18";

fn t(minutes: i64) -> Timestamp {
    at("2026-11-23T10:00") + SignedDuration::from_mins(minutes)
}

fn core_with(holds: Vec<Hold>) -> Core {
    let restored = Restored {
        gateway_key: Some(GATEWAY_SECRET),
        holds,
        ..Restored::default()
    };
    Core::new(&config(), estate::estate(), restored).unwrap()
}

fn control(
    core: &mut Core,
    action: DoorAction,
    until: Option<Timestamp>,
    now: Timestamp,
) -> Vec<Output> {
    core.handle(
        Input::Admin(Admin::DoorControl {
            door: DOOR.into(),
            action,
            until,
            actor: "office:li".into(),
        }),
        now,
    )
}

fn mode_events(out: &[Output]) -> Vec<&Event> {
    out.iter()
        .filter_map(|o| match o {
            Output::Record { event, .. } if event.kind == Kind::Mode => Some(event),
            _ => None,
        })
        .collect()
}

fn effects(out: &[Output]) -> Vec<&Effect> {
    out.iter()
        .flat_map(|o| match o {
            Output::Record { then, .. } => then.iter().collect::<Vec<_>>(),
            Output::Effect(e) => vec![e],
        })
        .collect()
}

fn door_actions(out: &[Output]) -> Vec<&DoorAction> {
    effects(out)
        .into_iter()
        .filter_map(|e| match e {
            Effect::Door { door, action } if door == DOOR => Some(action),
            _ => None,
        })
        .collect()
}

fn published_mode(out: &[Output]) -> Option<DoorMode> {
    effects(out).into_iter().find_map(|e| match e {
        Effect::Publish(Publish::DoorState(s)) if s.door == DOOR => Some(s.mode),
        _ => None,
    })
}

/// The last holds table the outputs ask to save.
fn saved_holds(out: &[Output]) -> Option<Vec<Hold>> {
    effects(out).into_iter().rev().find_map(|e| match e {
        Effect::Save(Save::Holds(h)) => Some(h.clone()),
        _ => None,
    })
}

fn mode_of(core: &Core) -> DoorMode {
    core.door_states()
        .into_iter()
        .find(|s| s.door == DOOR)
        .unwrap()
        .mode
}

#[test]
fn a_hold_ends_on_the_first_tick_at_or_after_until() {
    let mut core = core_with(vec![]);
    core.handle(Input::Tick, t(0));
    let out = control(&mut core, DoorAction::HoldOpen, Some(t(30)), t(0));
    assert_eq!(door_actions(&out), [&DoorAction::HoldOpen]);
    assert_eq!(published_mode(&out), Some(DoorMode::HeldOpen));
    let held = saved_holds(&out).expect("the hold is saved");
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].until, Some(t(30)));
    let events = mode_events(&out);
    assert_eq!(events[0].mode.as_deref(), Some("held_open"));
    assert!(
        events[0]
            .detail
            .as_deref()
            .unwrap()
            .contains("until 2026-11-23T10:30"),
        "{:?}",
        events[0].detail
    );

    let before = core.handle(Input::Tick, t(30) - SignedDuration::from_secs(1));
    assert!(mode_events(&before).is_empty(), "{before:?}");
    assert_eq!(mode_of(&core), DoorMode::HeldOpen);

    let out = core.handle(Input::Tick, t(30));
    let events = mode_events(&out);
    assert_eq!(events.len(), 1, "{out:?}");
    assert_eq!(events[0].mode.as_deref(), Some("normal"));
    assert!(
        events[0]
            .detail
            .as_deref()
            .unwrap()
            .starts_with("hold expired")
    );
    assert_eq!(events[0].by.as_deref(), Some("office:li"));
    assert_eq!(door_actions(&out), [&DoorAction::Lock]);
    assert_eq!(published_mode(&out), Some(DoorMode::Normal));
    assert_eq!(saved_holds(&out), Some(vec![]));
    assert_eq!(mode_of(&core), DoorMode::Normal);
    assert!(mode_events(&core.handle(Input::Tick, t(31))).is_empty());
}

#[test]
fn without_until_a_hold_lasts_until_released() {
    let mut core = core_with(vec![]);
    core.handle(Input::Tick, t(0));
    control(&mut core, DoorAction::HoldOpen, None, t(0));
    let week = 7 * 24 * 60;
    assert!(mode_events(&core.handle(Input::Tick, t(week))).is_empty());
    assert_eq!(mode_of(&core), DoorMode::HeldOpen);
    let out = control(&mut core, DoorAction::Lock, None, t(week));
    assert_eq!(
        mode_events(&out)[0].detail.as_deref(),
        Some("hold released")
    );
    assert_eq!(door_actions(&out), [&DoorAction::Lock]);
    assert_eq!(saved_holds(&out), Some(vec![]));
    assert_eq!(mode_of(&core), DoorMode::Normal);
}

#[test]
fn an_until_not_in_the_future_is_refused_and_changes_nothing() {
    let mut core = core_with(vec![]);
    core.handle(Input::Tick, t(0));
    for until in [t(-5), t(0)] {
        let out = control(&mut core, DoorAction::HoldOpen, Some(until), t(0));
        let [Output::Effect(Effect::Reply(crate::io::Reply::Admin(r)))] = out.as_slice() else {
            panic!("a refusal only: {out:?}")
        };
        assert!(!r.ok);
        assert!(
            r.error.as_deref().unwrap().contains("is not in the future"),
            "{r:?}"
        );
    }
    assert_eq!(mode_of(&core), DoorMode::Normal);
}

#[test]
fn a_later_hold_replaces_the_earlier_one() {
    let mut core = core_with(vec![]);
    core.handle(Input::Tick, t(0));
    control(&mut core, DoorAction::HoldOpen, Some(t(10)), t(0));
    let out = control(&mut core, DoorAction::HoldOpen, Some(t(60)), t(5));
    assert_eq!(saved_holds(&out).unwrap().len(), 1);
    assert!(mode_events(&core.handle(Input::Tick, t(10))).is_empty());
    assert_eq!(mode_of(&core), DoorMode::HeldOpen);
    assert_eq!(mode_events(&core.handle(Input::Tick, t(60))).len(), 1);
    assert_eq!(mode_of(&core), DoorMode::Normal);
}

#[test]
fn a_hold_survives_a_restart_and_still_ends_on_time() {
    let mut core = core_with(vec![]);
    core.handle(Input::Tick, t(0));
    let out = control(&mut core, DoorAction::HoldOpen, Some(t(30)), t(0));
    let saved = saved_holds(&out).unwrap();

    let mut again = core_with(saved.clone());
    assert_eq!(mode_of(&again), DoorMode::HeldOpen, "settled at start-up");
    let first = again.handle(Input::Tick, t(10));
    assert_eq!(door_actions(&first), [&DoorAction::HoldOpen], "re-asserted");
    assert_eq!(mode_events(&first)[0].by.as_deref(), Some("restart"));
    assert!(mode_events(&again.handle(Input::Tick, t(20))).is_empty());
    let end = again.handle(Input::Tick, t(30));
    assert_eq!(door_actions(&end), [&DoorAction::Lock]);
    assert_eq!(mode_of(&again), DoorMode::Normal);

    // Down past `until`: the first tick ends the hold and does not hold the door again.
    let mut late = core_with(saved);
    let first = late.handle(Input::Tick, t(45));
    assert_eq!(door_actions(&first), [&DoorAction::Lock]);
    assert!(
        mode_events(&first)[0]
            .detail
            .as_deref()
            .unwrap()
            .starts_with("hold expired")
    );
    assert_eq!(saved_holds(&first), Some(vec![]));
    assert_eq!(mode_of(&late), DoorMode::Normal);
}

#[test]
fn an_expiring_hold_never_locks_a_door_a_fire_has_freed() {
    let mut core = core_with(vec![]);
    core.handle(Input::Tick, t(0));
    control(&mut core, DoorAction::HoldOpen, Some(t(30)), t(0));
    core.handle(
        Input::Fire {
            zone: "bldg-18".into(),
            active: true,
            source: "panel".into(),
        },
        t(1),
    );
    let out = core.handle(Input::Tick, t(30));
    let events = mode_events(&out);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].mode.as_deref(), Some("fire_release"));
    assert!(door_actions(&out).is_empty(), "{out:?}");
    assert_eq!(mode_of(&core), DoorMode::FireRelease);
}
