//! Who is inside which zone, for anti-passback and the live head count. Each pass is in the
//! zone its last granted passage led into; rebuilt from the log at start-up; forgotten after
//! `apb_timeout` (a person who left by a door without a reader is not kept inside forever).

use crate::core::Core;
use crate::event::{Decision, Direction, Event, Kind, Reason};
use crate::model::{Model, OUTSIDE, SITE};
use foldhash::HashMap;
use jiff::{SignedDuration, Timestamp};
use std::collections::BTreeMap;

/// Where each pass is.
#[derive(Default)]
pub struct Presence {
    /// pass id → (zone it is in, since when). `outside` means it left the estate. Bounded by
    /// the passes that passed within `apb_timeout` (pruned on every tick).
    by_pass: HashMap<String, (String, Timestamp)>,
}

/// How long presence is remembered.
pub(crate) fn timeout(model: &Model) -> SignedDuration {
    crate::time::hours(model.policy.apb_timeout_h)
}

impl Presence {
    /// The zone `pass` is in at `now`, unless unknown or forgotten.
    pub fn zone_of(&self, pass: &str, now: Timestamp, timeout: SignedDuration) -> Option<&str> {
        self.by_pass
            .get(pass)
            .filter(|(_, since)| now.duration_since(*since) < timeout)
            .map(|(zone, _)| zone.as_str())
    }

    /// Notes that `pass` passed into `zone` at `at` (an older record never overwrites a newer).
    pub fn record(&mut self, pass: &str, zone: &str, at: Timestamp) {
        match self.by_pass.get_mut(pass) {
            Some(entry) if entry.1 > at => {}
            Some(entry) => {
                if entry.0 != zone {
                    entry.0 = zone.to_string();
                }
                entry.1 = at;
            }
            None => {
                self.by_pass
                    .insert(pass.to_string(), (zone.to_string(), at));
            }
        }
    }

    /// Applies a past access event: a granted passage with a pass moves it.
    pub fn replay(&mut self, event: &Event, model: &Model) {
        if let Some((pass, zone, at)) = passage(event, model) {
            self.record(pass, zone, at);
        }
    }

    /// The zone of every pass remembered, one item per pass, in no particular order.
    pub fn zones(&self) -> impl Iterator<Item = &str> {
        self.by_pass.values().map(|(zone, _)| zone.as_str())
    }

    /// Forgets presence older than `timeout`.
    pub fn prune(&mut self, now: Timestamp, timeout: SignedDuration) {
        self.by_pass
            .retain(|_, (_, since)| now.duration_since(*since) < timeout);
    }
}

/// The pass, the zone it passed into and when, for a granted access event that moved someone.
pub(crate) fn passage<'a>(
    event: &'a Event,
    model: &'a Model,
) -> Option<(&'a str, &'a str, Timestamp)> {
    if event.kind != Kind::Access || event.decision != Some(Decision::Grant) {
        return None;
    }
    if !matches!(
        event.reason,
        Some(Reason::Granted | Reason::GrantedOverride | Reason::FireRelease) | None
    ) {
        return None;
    }
    let pass = event.pass.as_deref()?;
    let door = model.doors.get(event.door.as_deref()?)?;
    let zone = match event.direction? {
        Direction::In => door.inside.as_str(),
        Direction::Out => door.outside.as_str(),
    };
    Some((pass, zone, event.timestamp()?))
}

impl Core {
    /// Live head count per zone: passes inside it or any zone below it (every zone of the
    /// tree is listed, empty ones with 0).
    pub fn inside_counts(&self) -> BTreeMap<String, u32> {
        let mut counts: BTreeMap<String, u32> = self
            .model
            .zone_names
            .keys()
            .filter(|z| z.as_str() != OUTSIDE)
            .map(|z| (z.clone(), 0))
            .collect();
        counts.entry(SITE.to_string()).or_insert(0);
        // Forgotten presence is pruned on every tick, so what is left counts.
        for zone in self.presence.zones() {
            if zone == OUTSIDE {
                continue;
            }
            for z in self.model.ancestors(zone) {
                *counts.entry(z.to_string()).or_insert(0) += 1;
            }
        }
        counts
    }
}
