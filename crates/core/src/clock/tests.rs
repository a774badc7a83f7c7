// The shared test estate; each test module that uses it loads its own copy.
#[allow(clippy::duplicate_mod)]
#[path = "../../tests/support/estate.rs"]
mod estate;

use super::*;
use std::time::{Duration, Instant};

#[test]
fn a_wall_clock_that_keeps_pace_raises_nothing() {
    let mut watch = ClockWatch::default();
    let t0: Timestamp = "2026-11-23T02:00:00Z".parse().unwrap();
    let m0 = Instant::now();
    assert_eq!(
        watch.read(t0, m0),
        None,
        "the first reading is the baseline"
    );
    let t1 = t0 + SignedDuration::from_secs(90);
    assert_eq!(
        watch.read(t1, m0 + Duration::from_secs(60)),
        None,
        "30 s drift"
    );
}

#[test]
fn a_jump_either_way_is_measured_against_the_monotonic_clock() {
    let mut watch = ClockWatch::default();
    let t0: Timestamp = "2026-11-23T02:00:00Z".parse().unwrap();
    let m0 = Instant::now();
    watch.read(t0, m0);
    let back = t0 - SignedDuration::from_hours(1) + SignedDuration::from_secs(1);
    assert_eq!(
        watch.read(back, m0 + Duration::from_secs(1)),
        Some(-SignedDuration::from_hours(1))
    );
    let ahead = back + SignedDuration::from_secs(62);
    assert_eq!(
        watch.read(ahead, m0 + Duration::from_secs(2)),
        Some(SignedDuration::from_secs(61))
    );
}

#[test]
fn the_alarm_says_which_way_and_how_far() {
    let mut core = estate::core();
    let now: Timestamp = "2026-11-23T02:00:00Z".parse().unwrap();
    let out = core.handle(
        crate::io::Input::ClockJumped {
            by: -SignedDuration::from_hours(1),
        },
        now,
    );
    let [Output::Record { event, .. }] = out.as_slice() else {
        panic!("one record expected: {out:?}");
    };
    assert_eq!(event.alarm, Some(AlarmKind::Clock));
    assert!(event.detail.as_deref().unwrap().contains("back by 3600 s"));
}
