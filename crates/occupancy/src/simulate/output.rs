//! Swipes as CSV rows and as the access events an import would append.

use gatehouse_core::config::Config;
use gatehouse_core::estate::EstateData;
use gatehouse_core::event::{Decision, Direction, Event, Kind, Method};

use super::{Simulation, Swipe};

/// A swipe as the spec's CSV columns: at, card, door, direction, result.
pub fn csv_row(
    config: &Config,
    estate: &EstateData,
    s: &Swipe,
    tz: &jiff::tz::TimeZone,
) -> [String; 5] {
    [
        jiff::Timestamp::from_second(s.t)
            .map(|t| gatehouse_core::time::rfc3339(t, tz))
            .unwrap_or_default(),
        estate.passes[s.pass as usize]
            .card
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        config.doors[s.door as usize].id.clone(),
        if s.inward { "in" } else { "out" }.into(),
        if s.grant { "grant" } else { "deny" }.into(),
    ]
}

/// Runs `sim` and returns its swipes as the log would hold them after an import: access
/// events numbered from seq 1 (tests and benchmarks that need a log in memory).
pub fn log(sim: &mut Simulation) -> Vec<Event> {
    let tz = jiff::tz::TimeZone::get(&sim.cfg.timezone).expect("the simulator's own time zone");
    let mut swipes = Vec::new();
    sim.run(|s| swipes.push(*s));
    swipes
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut e = event(&sim.config, &sim.estate, s, &tz);
            e.seq = i as u64 + 1;
            e
        })
        .collect()
}

/// A swipe as the access event an import of it would append.
pub fn event(config: &Config, estate: &EstateData, s: &Swipe, tz: &jiff::tz::TimeZone) -> Event {
    let pass = &estate.passes[s.pass as usize];
    let mut e = Event::new(
        Kind::Access,
        jiff::Timestamp::from_second(s.t)
            .map(|t| gatehouse_core::time::rfc3339(t, tz))
            .unwrap_or_default(),
    );
    e.door = Some(config.doors[s.door as usize].id.clone());
    e.direction = Some(if s.inward {
        Direction::In
    } else {
        Direction::Out
    });
    e.pass = Some(pass.id.clone());
    e.person = Some(pass.holder.clone());
    e.method = Some(Method::Import);
    e.decision = Some(if s.grant {
        Decision::Grant
    } else {
        Decision::Deny
    });
    e
}
