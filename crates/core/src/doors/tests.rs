//! Door supervision, as a story per rule: forced, held open and cleared, exit buttons,
//! tamper, controller health. Time is an argument, so the timers are exact.

#[path = "../../tests/support/estate.rs"]
mod estate;

use super::{ContactChange, DoorContact, DoorLock, DoorState, Doors};
use crate::event::{AlarmKind, Event, Kind, Reason};
use crate::io::{
    Contact, DeviceHealth, DeviceState, DoorAction, DoorSignal, Effect, Input, Output, Publish,
};
use crate::modes::DoorMode;
use estate::{at, core, swipe};
use jiff::SignedDuration;

const T0: &str = "2026-11-23T10:00";

fn events(outputs: &[Output]) -> Vec<Event> {
    outputs
        .iter()
        .filter_map(|o| {
            if let Output::Record { event, .. } = o {
                Some(event.clone())
            } else {
                None
            }
        })
        .collect()
}

/// `door:state` and `alarm:kind[:cleared]` labels of what happened, in order.
fn labels(outputs: &[Output]) -> Vec<String> {
    events(outputs)
        .iter()
        .map(|e| match e.kind {
            Kind::Door => format!("door:{}", e.state.clone().unwrap_or_default()),
            Kind::Alarm => format!(
                "alarm:{}{}",
                e.alarm.map(|a| a.as_str()).unwrap_or_default(),
                if e.cleared == Some(true) {
                    ":cleared"
                } else {
                    ""
                }
            ),
            Kind::Device => format!("device:{}", e.state.clone().unwrap_or_default()),
            Kind::Egress => format!(
                "egress:{}",
                e.reason.map(|r| r.as_str()).unwrap_or_default()
            ),
            other => other.as_str().to_string(),
        })
        .collect()
}

fn contact(door: &str, open: bool) -> Input {
    let contact = Some(if open { Contact::Open } else { Contact::Closed });
    Input::DoorSignal(DoorSignal {
        door: door.into(),
        contact,
        ..DoorSignal::default()
    })
}

fn after(s: i64) -> jiff::Timestamp {
    at(T0) + SignedDuration::from_millis(s)
}

#[test]
fn opening_without_a_release_is_forced() {
    let mut c = core();
    assert!(
        labels(&c.handle(contact("door-18", false), after(0))).is_empty(),
        "first report is state only"
    );
    let out = c.handle(contact("door-18", true), after(1000));
    assert_eq!(labels(&out), ["door:forced", "alarm:door_forced"]);
}

#[test]
fn opening_after_a_grant_or_exit_button_is_not_forced() {
    let mut c = core();
    c.handle(contact("door-18", false), after(0));
    let grant = c.handle(swipe("r-18-in", "A1", None), after(1000));
    assert!(
        events(&grant)
            .iter()
            .any(|e| e.reason == Some(Reason::Granted)),
        "{:?}",
        labels(&grant)
    );
    // Pulse 3000 ms + 2 s grace: 4.9 s after the grant is still a legitimate opening.
    assert_eq!(
        labels(&c.handle(contact("door-18", true), after(5900))),
        ["door:opened"]
    );
    c.handle(contact("door-18", false), after(7000));
    // Long after the grant, the same opening is forced.
    assert_eq!(
        labels(&c.handle(contact("door-18", true), after(20_000))),
        ["door:forced", "alarm:door_forced"]
    );
    c.handle(contact("door-18", false), after(21_000));
    let rex = Input::DoorSignal(DoorSignal {
        door: "door-18".into(),
        rex: true,
        contact: Some(Contact::Open),
        ..DoorSignal::default()
    });
    assert_eq!(
        labels(&c.handle(rex, after(40_000))),
        ["egress:rex", "door:opened"]
    );
}

#[test]
fn a_released_lock_explains_the_opening() {
    let mut c = core();
    c.handle(contact("door-18", false), after(0));
    let released = Input::DoorSignal(DoorSignal {
        door: "door-18".into(),
        lock_released: Some(true),
        ..DoorSignal::default()
    });
    assert_eq!(labels(&c.handle(released, after(100))), ["door:unlocked"]);
    assert_eq!(
        labels(&c.handle(contact("door-18", true), after(60_000))),
        ["door:opened"]
    );
}

#[test]
fn held_open_past_the_limit_alarms_once_and_clears_on_closing() {
    let mut c = core();
    c.handle(contact("door-18", false), after(0));
    c.handle(swipe("r-18-in", "A1", None), after(500));
    c.handle(contact("door-18", true), after(1000));
    // held_open_after_s defaults to 30.
    assert!(labels(&c.handle(Input::Tick, after(30_900))).is_empty());
    assert_eq!(
        labels(&c.handle(Input::Tick, after(31_000))),
        ["door:held_open", "alarm:door_held_open"]
    );
    assert!(
        labels(&c.handle(Input::Tick, after(32_000))).is_empty(),
        "raised once"
    );
    assert_eq!(
        labels(&c.handle(contact("door-18", false), after(40_000))),
        [
            "door:closed",
            "door:held_open_cleared",
            "alarm:door_held_open:cleared"
        ]
    );
}

#[test]
fn tamper_raises_and_clears() {
    let mut c = core();
    let tamper = |on| {
        Input::DoorSignal(DoorSignal {
            door: "gate-b".into(),
            tamper: Some(on),
            ..DoorSignal::default()
        })
    };
    assert_eq!(labels(&c.handle(tamper(true), after(0))), ["alarm:tamper"]);
    assert!(labels(&c.handle(tamper(true), after(100))).is_empty());
    assert_eq!(
        labels(&c.handle(tamper(false), after(200))),
        ["alarm:tamper:cleared"]
    );
}

#[test]
fn controller_health_marks_its_doors_and_counts_lost_reads() {
    let mut c = core();
    let health = |state, lost| {
        Input::Device(DeviceHealth {
            device: "ctl-2".into(),
            state,
            doors: vec!["door-18".into(), "door-18-2".into()],
            detail: None,
            lost_reads: lost,
        })
    };
    assert!(
        labels(&c.handle(health(DeviceState::Online, None), after(0))).is_empty(),
        "online at start is not news"
    );
    let out = c.handle(health(DeviceState::Offline, None), after(100));
    assert_eq!(labels(&out), ["device:offline"]);
    let published: Vec<_> = out
        .iter()
        .flat_map(|o| {
            if let Output::Record { then, .. } = o {
                then.clone()
            } else {
                vec![]
            }
        })
        .filter_map(|e| {
            if let Effect::Publish(Publish::DoorState(s)) = e {
                Some((s.door, s.online))
            } else {
                None
            }
        })
        .collect();
    assert_eq!(
        published,
        [
            ("door-18".to_string(), false),
            ("door-18-2".to_string(), false)
        ]
    );
    assert!(!c.doors.is_online("door-18"));
    assert!(labels(&c.handle(health(DeviceState::Offline, None), after(200))).is_empty());
    assert_eq!(
        labels(&c.handle(health(DeviceState::Online, Some(3)), after(300))),
        ["device:online", "alarm:reads_lost"]
    );
    assert!(c.doors.is_online("door-18"));
    let lost = events(&c.handle(health(DeviceState::Online, Some(20)), after(400)));
    assert_eq!(lost.len(), 1);
    assert_eq!(lost[0].alarm, Some(AlarmKind::ReadsLost));
    assert!(lost[0].detail.as_deref().unwrap_or_default().contains("20"));
}

#[test]
fn doors_held_open_by_mode_are_neither_forced_nor_held_open() {
    let mut c = core();
    c.handle(contact("door-18", false), after(0));
    c.doors.set_mode("door-18", DoorMode::HeldOpen, "");
    assert_eq!(
        labels(&c.handle(contact("door-18", true), after(60_000))),
        ["door:opened"]
    );
    assert!(labels(&c.handle(Input::Tick, after(600_000))).is_empty());
}

#[test]
fn the_published_state_keeps_its_words_on_the_wire() {
    let c = core();
    let state = c.door_states().into_iter().next().expect("a door");
    assert_eq!(
        serde_json::to_string(&state).unwrap(),
        r#"{"lock":"locked","contact":"unknown","mode":"normal","online":true,"since":""}"#
    );
    let state = DoorState {
        lock: DoorLock::Unlocked,
        contact: DoorContact::Open,
        mode: DoorMode::ClosedBySchedule,
        online: false,
        since: "2026-11-23T10:00:00.000+08:00".into(),
        ..state
    };
    assert_eq!(
        serde_json::to_string(&state).unwrap(),
        r#"{"lock":"unlocked","contact":"open","mode":"closed_by_schedule","online":false,"since":"2026-11-23T10:00:00.000+08:00"}"#
    );
    // Every word: serde's, `as_str` and `Display` agree, and the word reads back.
    fn same<T>(all: &[T], as_str: fn(&T) -> &'static str)
    where
        T: serde::Serialize
            + serde::de::DeserializeOwned
            + std::fmt::Display
            + PartialEq
            + std::fmt::Debug,
    {
        for v in all {
            let word = as_str(v);
            assert_eq!(serde_json::to_string(v).unwrap(), format!("\"{word}\""));
            assert_eq!(v.to_string(), word);
            assert_eq!(
                &serde_json::from_str::<T>(&format!("\"{word}\"")).unwrap(),
                v
            );
        }
    }
    same(&DoorLock::ALL, |v| v.as_str());
    same(&DoorContact::ALL, |v| v.as_str());
    same(&DoorMode::ALL, |v| v.as_str());
    let words: Vec<&str> = DoorMode::ALL.iter().map(|m| m.as_str()).collect();
    assert_eq!(
        words,
        [
            "normal",
            "locked_down",
            "closed_by_schedule",
            "held_open",
            "fire_release"
        ]
    );
    assert_eq!(
        DoorContact::ALL.map(|c| c.as_str()),
        ["open", "closed", "unknown"]
    );
    assert_eq!(DoorLock::ALL.map(|l| l.as_str()), ["locked", "unlocked"]);
}

#[test]
fn only_held_open_and_fire_release_keep_a_door_released() {
    for mode in DoorMode::ALL {
        let released = matches!(mode, DoorMode::HeldOpen | DoorMode::FireRelease);
        assert_eq!(mode.keeps_released(), released, "{mode}");
        assert_eq!(
            mode.actuation(),
            if released {
                DoorAction::HoldOpen
            } else {
                DoorAction::Lock
            },
            "{mode}"
        );
    }
}

#[test]
fn the_door_table_reports_what_changed_and_knows_only_configured_doors() {
    let c = core();
    let mut doors = Doors::new(c.model());
    let t = at(T0);
    assert_eq!(doors.set_mode("door-18", DoorMode::Normal, "s"), None);
    let held = doors.set_mode("door-18", DoorMode::HeldOpen, "s1").unwrap();
    assert_eq!((held.mode, held.since.as_str()), (DoorMode::HeldOpen, "s1"));
    assert_eq!(doors.set_online("door-18", true, "s2"), None);
    assert!(!doors.set_online("door-18", false, "s2").unwrap().online);
    assert!(!doors.is_online("door-18"));
    assert!(
        doors.report_lock("door-18", false, t, "s3").is_none(),
        "shown locked already"
    );
    assert_eq!(
        doors.report_lock("door-18", true, t, "s3").map(|s| s.lock),
        Some(DoorLock::Unlocked)
    );
    assert!(matches!(
        doors.report_contact("door-18", Contact::Closed, 3000, t, "s4"),
        Some(ContactChange::First(_))
    ));
    assert_eq!(
        doors.report_contact("door-18", Contact::Closed, 3000, t, "s4"),
        None
    );
    assert!(doors.report_tamper("door-18", true));
    assert!(!doors.report_tamper("door-18", true));
    assert_eq!(doors.active_alarms(), 1);
    assert_eq!(doors.report_device("ctl-2", false), None);
    assert_eq!(doors.report_device("ctl-2", true), Some(false));
    assert_eq!(doors.device_online("ctl-2"), Some(true));
    // A door the configuration does not have is never added.
    doors.note_release("no-such-door", t);
    assert!(!doors.report_tamper("no-such-door", true));
    assert_eq!(doors.report_lock("no-such-door", true, t, "s"), None);
    assert_eq!(
        doors.set_mode("no-such-door", DoorMode::HeldOpen, "s"),
        None
    );
    assert!(doors.state("no-such-door").is_none());
    assert_eq!(doors.active_alarms(), 1);
}

#[test]
fn device_health_is_remembered_for_a_bounded_number_of_devices() {
    let c = core();
    let mut doors = Doors::new(c.model());
    assert_eq!(doors.report_device("ctl-1", true), None);
    assert_eq!(doors.report_device("ctl-1", false), Some(true));
    assert_eq!(doors.device_online("ctl-1"), Some(false));
    for i in 0..super::MAX_DEVICES + 10 {
        doors.report_device(&format!("flood-{i}"), true);
    }
    // Past the bound a new device is not remembered; known ones still are.
    assert_eq!(
        doors.device_online(&format!("flood-{}", super::MAX_DEVICES + 5)),
        None
    );
    assert_eq!(doors.report_device("ctl-1", true), Some(false));
}
