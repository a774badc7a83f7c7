//! A household's verdict from its passes' nights: status, estimated residents, flags, and
//! the evidence a person can check against the swipe records, in English and Chinese.
//!
//! - Only nights the estate's data covers are judged; with fewer than 3 every household is
//!   `unknown` (15 minutes of records say nothing about who lives where).
//! - A night is present when any resident pass of the household was home that night
//!   ([`crate::model`]). `occupied`: present at least half the judged nights; `occasional`:
//!   at least one and a tenth of them; `vacant`: less; `unknown`: no pass, or no data.
//! - Confidence: the status is worked out three ways — from recorded crossings only, from
//!   the model's best estimate, and as if every gap in the records were a stay. When all
//!   three agree the records leave no doubt.
//! - Estimated residents: every pass at home on at least a tenth of the household's nights
//!   counts for the people who use it (the median, over its nights, of evening arrivals less
//!   evening departures: a card three people share comes home three times), plus registered
//!   members who hold no pass (children, elders), who are taken to live where their
//!   household does.

use crate::anomaly;
use crate::infer::{MIN_NIGHTS, Occupancy};
use crate::presence::Method;
use crate::report::{Coverage, Flag, HouseholdVerdict, Status};

/// Visitor entries in the window that make a household "many visitors": this many, or one
/// every other night.
const MANY_VISITORS: u32 = 8;

/// Status from nights present out of nights judged; shared with the simulators' truth.
pub fn status_of(nights_present: u32, nights: u32) -> Status {
    if nights > 0 && nights_present * 2 >= nights {
        Status::Occupied
    } else if nights_present >= 1 && nights_present * 10 >= nights {
        Status::Occasional
    } else {
        Status::Vacant
    }
}

pub fn household(occ: &Occupancy, h: u32, coverage: &Coverage) -> HouseholdVerdict {
    let site = &occ.site;
    let info = &site.households[h as usize];
    // Nights the data covers, less those on which every pass of the household was in
    // someone else's hands (lent): nothing in the records speaks for the household then.
    let covered: Vec<u32> = (0..occ.window.nights())
        .filter(|&n| occ.is_covered(n))
        .collect();
    let judged: Vec<u32> = covered
        .iter()
        .copied()
        .filter(|&n| {
            info.passes.is_empty()
                || !info
                    .passes
                    .iter()
                    .all(|&p| occ.passes[p as usize].night_blind(n))
        })
        .collect();
    let nights = judged.len() as u32;
    let lent_away = (covered.len() - judged.len()) as u32;
    let registered = info.members.len() as u32;
    let count = |f: &dyn Fn(&crate::infer::PassState, u32) -> bool| {
        judged
            .iter()
            .filter(|&&n| info.passes.iter().any(|&p| f(&occ.passes[p as usize], n)))
            .count() as u32
    };
    let present = count(&|s, n| s.night(n));
    let seen = count(&|s, n| s.night_seen(n));
    let possible = count(&|s, n| s.night_maybe(n));
    let judge = |k: u32| match occ.method {
        Method::EntryDays => {
            if k >= 3 {
                Status::Occupied
            } else {
                Status::Vacant
            }
        }
        _ => status_of(k, nights),
    };
    let status = if info.passes.is_empty() || !coverage.enough || nights < MIN_NIGHTS {
        Status::Unknown
    } else {
        judge(present)
    };
    let mut en = Vec::new();
    let mut zh = Vec::new();
    let mut flags = Vec::new();
    let (mut estimated, mut low, mut high) = (0u32, 0u32, 0u32);
    let mut regular = 0;
    let mut moved_out = Vec::new();
    for &p in &info.passes {
        let state = &occ.passes[p as usize];
        let mine = judged.iter().filter(|&&n| state.night(n)).count() as u32;
        if mine > 0 && mine * 10 >= present {
            regular += 1;
            let per_night = state.people_per_night(&judged);
            let q = |f: f64| per_night[((per_night.len() - 1) as f64 * f).round() as usize];
            let people = q(0.5);
            if people > 1 {
                let id = &site.passes[p as usize].id;
                en.push(format!("pass {id} used by about {people} people"));
                zh.push(format!("卡 {id} 约 {people} 人共用"));
            }
            estimated += people;
            low += q(0.25);
            high += q(0.75).max(people);
        }
        if !state.marks.is_empty()
            && present > mine
            && anomaly::looks_moved_out(&state.signs, mine, nights)
        {
            moved_out.push(site.passes[p as usize].id.clone());
        }
    }
    let status_words = match status {
        Status::Unknown if info.passes.is_empty() => {
            en.insert(0, "no passes to judge by".to_string());
            zh.insert(0, "无门禁卡，无法判断".to_string());
            None
        }
        Status::Unknown if coverage.enough => {
            en.insert(
                0,
                format!(
                    "its passes were in someone else's hands on {lent_away} of the {} nights the records cover; at least 3 others are needed",
                    covered.len()
                ),
            );
            zh.insert(
                0,
                format!(
                    "记录覆盖的 {} 晚中有 {lent_away} 晚本户的卡在他人手中，至少需要另外 3 晚",
                    covered.len()
                ),
            );
            None
        }
        Status::Unknown => {
            en.insert(
                0,
                format!(
                    "the records cover only {nights} nights of the window; at least 3 are needed"
                ),
            );
            zh.insert(0, format!("记录仅覆盖 {nights} 晚，至少需要 3 晚"));
            None
        }
        _ => Some(()),
    };
    if status_words.is_some() {
        en.insert(
            0,
            format!(
                "{regular} of {} passes at home on {present} of {nights} nights ({seen} by recorded entries and exits alone, at most {possible})",
                info.passes.len()
            ),
        );
        zh.insert(
            0,
            format!(
                "{} 张卡中 {regular} 张在 {nights} 晚中有 {present} 晚在家（仅凭进出记录 {seen} 晚，最多 {possible} 晚）",
                info.passes.len()
            ),
        );
    }
    let occupied_or_occasional = matches!(status, Status::Occupied | Status::Occasional);
    for (i, &m) in info.members.iter().enumerate() {
        let person = &site.people[m as usize];
        let held: Vec<u32> = info
            .passes
            .iter()
            .copied()
            .filter(|&p| site.passes[p as usize].holder == Some(m))
            .collect();
        if held.is_empty() {
            if occupied_or_occasional {
                estimated += 1;
                low += 1;
                high += 1;
                en.push(format!(
                    "member {} ({}) has no pass; counted as living here",
                    i + 1,
                    person.id
                ));
                zh.push(format!("成员 {}（{}）无卡，按在住计", i + 1, person.id));
            } else {
                en.push(format!("member {} ({}) has no pass", i + 1, person.id));
                zh.push(format!("成员 {}（{}）无卡", i + 1, person.id));
            }
        } else if occupied_or_occasional
            && held
                .iter()
                .all(|&p| occ.passes[p as usize].marks.is_empty())
        {
            en.push(format!("member {} ({}) never seen", i + 1, person.id));
            zh.push(format!("成员 {}（{}）从未出现", i + 1, person.id));
            if !flags.contains(&Flag::GhostMember) {
                flags.push(Flag::GhostMember);
            }
        }
    }
    for &p in &info.passes {
        let state = &occ.passes[p as usize];
        let blind = covered.iter().filter(|&&n| state.night_blind(n)).count();
        if let (Some((from, to, ..)), true) = (state.lent, blind > 0) {
            let id = &site.passes[p as usize].id;
            let day = |t: i64| {
                anomaly::local_time(t, site)
                    .get(..10)
                    .unwrap_or("")
                    .to_string()
            };
            en.push(format!(
                "pass {id} carried by someone else from {} to {} (gate entries that did not go on to the unit door): {blind} nights judged without it",
                day(from),
                day(to)
            ));
            zh.push(format!(
                "卡 {id} 于 {} 至 {} 由他人使用（进大门后未进单元门）：这 {blind} 晚不按此卡判断",
                day(from),
                day(to)
            ));
        }
    }
    if !moved_out.is_empty() {
        en.push(format!("pass {} seen by day only", moved_out.join(", ")));
        zh.push(format!("卡 {} 只在白天出现", moved_out.join("、")));
        flags.push(Flag::MovedOutStillActive);
    }
    let visitors = occ.visitor_entries[h as usize];
    if visitors > 0 {
        en.push(format!("{visitors} visitor entries"));
        zh.push(format!("访客进入 {visitors} 次"));
    }
    if visitors >= MANY_VISITORS.max(nights / 2) {
        flags.push(Flag::ManyVisitors);
    }
    if !occupied_or_occasional {
        (estimated, low, high) = (0, 0, 0);
    }
    if occupied_or_occasional {
        if estimated > registered {
            flags.push(Flag::OverOccupied);
        } else if estimated < registered {
            flags.push(Flag::FewerThanRegistered);
        }
    }
    flags.sort();
    let confidence = if status == Status::Unknown {
        0.0
    } else {
        let agree = [judge(seen), judge(possible)]
            .iter()
            .filter(|&&s| s == status)
            .count();
        let base = [0.55, 0.75, 0.95][agree];
        (base * nights as f64 / (nights as f64 + 2.0) * 100.0).round() / 100.0
    };
    HouseholdVerdict {
        household: info.id.clone(),
        building: info.building.map(|b| site.zones[b as usize].id.clone()),
        building_name: info.building.map(|b| site.zones[b as usize].name.clone()),
        registered,
        status,
        estimated_residents: estimated,
        residents_range: [low.min(estimated), high.max(estimated)],
        nights_present: present,
        nights_seen: seen,
        nights_possible: possible,
        confidence,
        flags,
        evidence: en.join("; "),
        evidence_zh: zh.join("；"),
        nights,
        visitor_entries: visitors,
    }
}
