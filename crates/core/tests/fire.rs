//! Fire inputs and the zones they release: one input raises one alarm for one zone, and once
//! every input has cleared and every alarm it raised is acknowledged, no door stays released.

use gatehouse_core::Core;
use gatehouse_core::event::{AlarmKind, Kind};
use gatehouse_core::io::{Admin, DoorSignal, Input, Output};
use gatehouse_core::modes::DoorMode;
use gatehouse_testkit::estate::decisions::{self as estate, at};
use proptest::prelude::*;
use std::collections::BTreeSet;

/// The test estate with a fire input on `ctl-2`, the controller of `door-18` (inside
/// `bldg-18`) and `door-18-2` (inside `unit-18-2`): the same point is the controller profile's
/// fire point, so each of its doors also reports it, as on the sample estate's `ctl-c-01`.
fn core() -> Core {
    let text = format!(
        "{}\n[[fire_inputs]]\nid = \"fire-18\"\ncontroller = \"ctl-2\"\ntable = \"input\"\naddress = 16\nzone = \"bldg-18\"\n",
        estate::CONFIG
    );
    estate::core_with(toml::from_str(&text).expect("the test estate with a fire input parses"))
}

/// Every door of the test estate, in configuration order.
fn doors() -> Vec<String> {
    estate::config().doors.into_iter().map(|d| d.id).collect()
}
const ZONES: &[&str] = &["site", "area-a", "bldg-18", "unit-18-2", "area-b", "bldg-3"];
/// The zone each controller's fire input protects, as the office knows it.
const INPUT_ZONES: &[&str] = &["area-a", "bldg-18", "area-b"];

fn door_fire(door: &str, active: bool) -> Input {
    Input::DoorSignal(DoorSignal {
        door: door.into(),
        fire: Some(active),
        ..DoorSignal::default()
    })
}

fn configured_input(active: bool) -> Input {
    Input::Fire {
        zone: "bldg-18".into(),
        active,
        source: "modbus:ctl-2:fire-18".into(),
    }
}

fn ack(zone: &str) -> Input {
    Input::Admin(Admin::AckFire {
        zone: zone.into(),
        actor: "office:li".into(),
    })
}

/// Zones of the fire alarms (raised, not cleared) among `out`.
fn raised(out: &[Output]) -> Vec<String> {
    out.iter()
        .filter_map(|o| match o {
            Output::Record { event, .. }
                if event.kind == Kind::Alarm
                    && event.alarm == Some(AlarmKind::Fire)
                    && event.cleared != Some(true) =>
            {
                event.zone.clone()
            }
            _ => None,
        })
        .collect()
}

fn released(core: &Core) -> Vec<String> {
    core.door_states()
        .into_iter()
        .filter(|s| s.mode == DoorMode::FireRelease)
        .map(|s| s.door)
        .collect()
}

#[test]
fn one_controller_fire_input_raises_one_alarm_and_one_acknowledgement_ends_it() {
    let mut core = core();
    let now = at("2026-11-23T15:00");
    // One poll sees the input: both doors of the controller and the configured point report it.
    let mut zones = Vec::new();
    for input in [
        door_fire("door-18", true),
        door_fire("door-18-2", true),
        configured_input(true),
    ] {
        zones.extend(raised(&core.handle(input, now)));
    }
    assert_eq!(zones, ["bldg-18"], "one input, one alarm, for its zone");
    assert_eq!(released(&core), ["door-18", "door-18-2"]);
    for input in [
        door_fire("door-18", false),
        door_fire("door-18-2", false),
        configured_input(false),
    ] {
        core.handle(input, now);
    }
    assert_eq!(
        released(&core),
        ["door-18", "door-18-2"],
        "until acknowledged"
    );
    core.handle(ack("bldg-18"), now);
    assert!(released(&core).is_empty(), "{:?}", released(&core));
}

#[test]
fn a_zone_reported_by_two_inputs_clears_when_both_have() {
    let mut core = core();
    let now = at("2026-11-23T15:00");
    core.handle(configured_input(true), now);
    core.handle(door_fire("door-18", true), now);
    core.handle(configured_input(false), now);
    core.handle(ack("bldg-18"), now);
    assert_eq!(
        released(&core),
        ["door-18", "door-18-2"],
        "the controller still reports fire: the alarm cannot be acknowledged yet"
    );
    core.handle(door_fire("door-18", false), now);
    core.handle(ack("bldg-18"), now);
    assert!(released(&core).is_empty());
}

#[derive(Clone, Debug)]
enum Op {
    Door { door: usize, active: bool },
    Configured(bool),
    Ack(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..doors().len(), any::<bool>()).prop_map(|(door, active)| Op::Door { door, active }),
        2 => any::<bool>().prop_map(Op::Configured),
        2 => (0..ZONES.len()).prop_map(Op::Ack),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever order inputs come and go and the office acknowledges in: every alarm is for
    /// the zone of the input that raised it, and once every input has cleared and every
    /// alarm raised is acknowledged, no door remains in fire release.
    #[test]
    fn cleared_and_acknowledged_fires_leave_no_door_released(ops in prop::collection::vec(op(), 1..40)) {
        let mut core = core();
        let doors = doors();
        let mut t = at("2026-11-23T15:00");
        let mut alarms: BTreeSet<String> = BTreeSet::new();
        let step = |core: &mut Core, input: Input, t: &mut jiff::Timestamp| {
            *t += jiff::SignedDuration::from_secs(1);
            raised(&core.handle(input, *t))
        };
        for op in &ops {
            let input = match op {
                Op::Door { door, active } => door_fire(&doors[*door], *active),
                Op::Configured(active) => configured_input(*active),
                Op::Ack(zone) => ack(ZONES[*zone]),
            };
            alarms.extend(step(&mut core, input, &mut t));
        }
        for door in &doors {
            alarms.extend(step(&mut core, door_fire(door, false), &mut t));
        }
        alarms.extend(step(&mut core, configured_input(false), &mut t));
        for zone in &alarms {
            prop_assert!(INPUT_ZONES.contains(&zone.as_str()), "alarm for {zone}, no input's zone");
            step(&mut core, ack(zone), &mut t);
        }
        prop_assert!(released(&core).is_empty(), "still released: {:?}", released(&core));
    }
}
