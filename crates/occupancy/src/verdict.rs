//! A household's verdict from its passes' nights: status, estimated residents, flags, and a
//! line of evidence a person can check against the swipe records.
//!
//! - A night is present when any resident pass of the household was inside at 03:00.
//! - `occupied`: present at least half the nights; `occasional`: at least 2 nights and a
//!   tenth of them; `vacant`: less; `unknown`: the household holds no pass.
//! - Estimated residents: each pass present on at least 30 % of the household's nights counts
//!   for the people who use it — the median, over its nights, of evening entries less
//!   evening exits (at least one). A card shared by three people comes home three times.

use crate::anomaly;
use crate::infer::Occupancy;
use crate::report::{Flag, HouseholdVerdict, Status};

/// Visitor entries in the window that make a household "many visitors": this many, or one
/// every other night.
const MANY_VISITORS: u32 = 8;

/// Status from nights present out of nights judged; shared with the simulator's truth.
pub fn status_of(nights_present: u32, nights: u32) -> Status {
    if nights > 0 && nights_present * 2 >= nights {
        Status::Occupied
    } else if nights_present >= 2 && nights_present * 10 >= nights {
        Status::Occasional
    } else {
        Status::Vacant
    }
}

pub fn household(occ: &Occupancy, h: u32) -> HouseholdVerdict {
    let site = &occ.site;
    let info = &site.households[h as usize];
    let nights = occ.window.nights();
    let registered = info.members.len() as u32;
    let mut present_nights = 0;
    for n in 0..nights {
        if info.passes.iter().any(|&p| occ.passes[p as usize].night(n)) {
            present_nights += 1;
        }
    }
    let mut evidence = Vec::new();
    let mut flags = Vec::new();
    let mut estimated = 0u32;
    let mut regular = 0;
    let mut shared = Vec::new();
    let mut moved_out = Vec::new();
    for &p in &info.passes {
        let state = &occ.passes[p as usize];
        let mine = state.nights_present();
        if mine > 0 && mine * 10 >= present_nights * 3 {
            regular += 1;
            let mut per_night: Vec<u8> = (0..nights)
                .filter(|&n| state.night(n))
                .map(|n| {
                    let n = n as usize;
                    state.evening_in[n]
                        .saturating_sub(state.evening_out[n])
                        .max(1)
                })
                .collect();
            per_night.sort_unstable();
            let people = per_night[per_night.len() / 2] as u32;
            if people > 1 {
                shared.push(format!(
                    "pass {} used by about {people} people",
                    site.passes[p as usize].id
                ));
            }
            estimated += people;
        }
        if state.prev.is_some() && anomaly::looks_moved_out(&state.signs, mine, nights) {
            moved_out.push(site.passes[p as usize].id.clone());
        }
    }
    let status = if info.passes.is_empty() {
        Status::Unknown
    } else {
        status_of(present_nights, nights)
    };
    if status == Status::Vacant {
        estimated = 0;
    }
    match status {
        Status::Unknown => evidence.push("no passes to judge by".to_string()),
        _ => evidence.push(format!(
            "{regular} of {} passes present on {present_nights} of {nights} nights",
            info.passes.len()
        )),
    }
    evidence.extend(shared);
    for (i, &m) in info.members.iter().enumerate() {
        let person = &site.people[m as usize];
        let held: Vec<u32> = info
            .passes
            .iter()
            .copied()
            .filter(|&p| site.passes[p as usize].holder == Some(m))
            .collect();
        if held.is_empty() {
            evidence.push(format!("member {} ({}) has no pass", i + 1, person.id));
        } else if status != Status::Vacant
            && held.iter().all(|&p| occ.passes[p as usize].prev.is_none())
        {
            evidence.push(format!("member {} ({}) never seen", i + 1, person.id));
            if !flags.contains(&Flag::GhostMember) {
                flags.push(Flag::GhostMember);
            }
        }
    }
    if !moved_out.is_empty() {
        evidence.push(format!("pass {} seen by day only", moved_out.join(", ")));
        flags.push(Flag::MovedOutStillActive);
    }
    let visitors = occ.visitor_entries[h as usize];
    if visitors > 0 {
        evidence.push(format!("{visitors} visitor entries"));
    }
    if visitors >= MANY_VISITORS.max(nights / 2) {
        flags.push(Flag::ManyVisitors);
    }
    if matches!(status, Status::Occupied | Status::Occasional) {
        if estimated > registered {
            flags.push(Flag::OverOccupied);
        } else if estimated < registered {
            flags.push(Flag::FewerThanRegistered);
        }
    }
    flags.sort();
    HouseholdVerdict {
        household: info.id.clone(),
        building: info.building.map(|b| site.zones[b as usize].id.clone()),
        registered,
        status,
        estimated_residents: estimated,
        nights_present: present_nights,
        confidence: confidence(status, present_nights, nights),
        flags,
        evidence: evidence.join("; "),
        nights,
        visitor_entries: visitors,
    }
}

/// How sure the status is: how far the share of nights lies from the nearest threshold,
/// discounted when the window has few nights.
fn confidence(status: Status, present: u32, nights: u32) -> f64 {
    if status == Status::Unknown || nights == 0 {
        return 0.0;
    }
    let f = present as f64 / nights as f64;
    let margin = match status {
        Status::Occupied => f - 0.5,
        Status::Occasional => (0.5 - f).min(f - 0.1),
        _ => 0.1 - f,
    }
    .max(0.0);
    let amount = nights as f64 / (nights as f64 + 3.0);
    ((0.5 + margin.min(0.5)) * amount * 100.0).round() / 100.0
}
