// The shared test estate; each test module that uses it loads its own copy.
#[allow(clippy::duplicate_mod)]
#[path = "../../tests/support/estate.rs"]
mod estate;

use super::*;
use crate::io::Input;

#[test]
fn a_failed_unlock_is_a_door_event_naming_its_grant() {
    let mut core = estate::core();
    let now: Timestamp = "2026-11-23T02:00:00Z".parse().unwrap();
    let door = core.model.door_order[0].clone();
    let out = core.handle(
        Input::UnlockFailed(UnlockFailure {
            door: door.clone(),
            request: Some("north-estate:1042".into()),
            error: "no answer within 500 ms".into(),
        }),
        now,
    );
    let [Output::Record { event, then }] = out.as_slice() else {
        panic!("one record expected: {out:?}");
    };
    assert!(then.is_empty());
    assert_eq!(event.kind, Kind::Door);
    assert_eq!(event.door.as_deref(), Some(door.as_str()));
    assert_eq!(event.state.as_deref(), Some(UNLOCK_FAILED));
    assert_eq!(event.request.as_deref(), Some("north-estate:1042"));
    assert_eq!(event.detail.as_deref(), Some("no answer within 500 ms"));
    let unknown = core.handle(
        Input::UnlockFailed(UnlockFailure {
            door: "no-such-door".into(),
            request: None,
            error: "x".into(),
        }),
        now,
    );
    assert!(
        unknown.is_empty(),
        "a door the estate does not have is ignored"
    );
}
