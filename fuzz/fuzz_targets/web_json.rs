//! The console's JSON request bodies: the first byte picks the route's body type.
#![no_main]
use gatehouse_web::api::{auth, guard, office, people, users, visit};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    macro_rules! parse {
        ($($t:ty),+) => {{
            let parsers: &[fn(&[u8]) -> bool] = &[$(|b| serde_json::from_slice::<$t>(b).is_ok()),+];
            let _ = parsers[usize::from(pick) % parsers.len()](body);
        }};
    }
    parse!(
        auth::Login,
        guard::LookupBody,
        guard::CheckBody,
        guard::ManualBody,
        guard::VisitorBody,
        office::LockdownBody,
        office::LiftBody,
        office::DoorControlBody,
        office::AckBody,
        people::IssueBody,
        people::StatusBody,
        users::PutUser,
        visit::Registration
    );
});
