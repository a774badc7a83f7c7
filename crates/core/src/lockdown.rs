//! Lockdown per zone: `closed`, `residents_only`, `quarantine`, `limited_exit`. A lockdown on
//! a zone covers every zone below it; where several cover a door, all of them apply, so the
//! most restrictive wins. Persisted; survives restarts; lifted explicitly. Lockdown blocks
//! entry, never egress (quarantine refuses an exit by card, the exit button still opens).

use crate::config::Door;
use crate::core::Core;
use crate::event::Kind;
use crate::io::{Effect, Output, Publish, Save};
use crate::model::{Model, OUTSIDE};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LockdownMode {
    Closed,
    ResidentsOnly,
    Quarantine,
    LimitedExit,
}

impl LockdownMode {
    pub const ALL: [LockdownMode; 4] = [
        LockdownMode::Closed,
        LockdownMode::ResidentsOnly,
        LockdownMode::Quarantine,
        LockdownMode::LimitedExit,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            LockdownMode::Closed => "closed",
            LockdownMode::ResidentsOnly => "residents_only",
            LockdownMode::Quarantine => "quarantine",
            LockdownMode::LimitedExit => "limited_exit",
        }
    }

    /// Parses a wire name; the error lists the modes there are.
    pub fn parse(text: &str) -> Result<LockdownMode, String> {
        LockdownMode::ALL.into_iter().find(|m| m.as_str() == text).ok_or_else(|| {
            format!("unknown lockdown mode '{text}': use closed, residents_only, quarantine or limited_exit")
        })
    }

    /// Whether the mode refuses every entry (bar override passes).
    pub fn blocks_entry(self) -> bool {
        matches!(self, LockdownMode::Closed | LockdownMode::Quarantine)
    }
}

/// One zone's lockdown, as persisted and published.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lockdown {
    pub zone: String,
    pub mode: LockdownMode,
    pub since: String,
    pub by: String,
    pub reason: String,
}

/// The lockdowns in force.
#[derive(Default)]
pub struct Lockdowns {
    /// At most one per zone, in the order they were set; bounded by the zones of the tree
    /// (the core refuses unknown zones).
    zones: Vec<Lockdown>,
}

impl Lockdowns {
    /// The lockdowns restored from the store.
    pub fn new(zones: Vec<Lockdown>) -> Lockdowns {
        Lockdowns { zones }
    }

    /// The lockdowns in force, in the order they were set: the table saved and published.
    pub fn active(&self) -> &[Lockdown] {
        &self.zones
    }

    /// Puts `lockdown` in force on its zone, replacing any lockdown on the same zone (in its
    /// place in the order). Returns whether the table changed.
    pub fn set(&mut self, lockdown: Lockdown) -> bool {
        match self.zones.iter_mut().find(|l| l.zone == lockdown.zone) {
            Some(existing) if *existing == lockdown => false,
            Some(existing) => {
                *existing = lockdown;
                true
            }
            None => {
                self.zones.push(lockdown);
                true
            }
        }
    }

    /// Lifts the lockdown on `zone` (lockdowns on zones above or below it stay); whether
    /// there was one.
    pub fn lift(&mut self, zone: &str) -> bool {
        let Some(pos) = self.zones.iter().position(|l| l.zone == zone) else {
            return false;
        };
        self.zones.remove(pos);
        true
    }

    /// The lockdowns that cover `zone`: on it or on a zone above it.
    pub fn covering<'a>(
        &'a self,
        model: &'a Model,
        zone: &'a str,
    ) -> impl Iterator<Item = &'a Lockdown> + 'a {
        self.zones
            .iter()
            .filter(move |l| model.zone_within(zone, &l.zone))
    }

    /// The lockdowns whose boundary `door` crosses: the door leads into the locked zone from
    /// outside it. A door between two rooms of the same locked building is not on the boundary.
    pub fn crossed_by<'a>(
        &'a self,
        model: &'a Model,
        door: &'a Door,
    ) -> impl Iterator<Item = &'a Lockdown> + 'a {
        self.zones
            .iter()
            .filter(move |l| crosses(model, door, &l.zone))
    }
}

/// Whether `door` joins `zone` (or a zone below it) to somewhere outside `zone`.
pub(crate) fn crosses(model: &Model, door: &Door, zone: &str) -> bool {
    model.zone_within(&door.inside, zone) && !model.zone_within(&door.outside, zone)
}

/// Whether `zone` names a zone of the tree (the site or a configured zone, not the street).
pub(crate) fn known_zone(model: &Model, zone: &str) -> bool {
    zone != OUTSIDE && model.zone_names.contains_key(zone)
}

pub(crate) fn unknown_zone(zone: &str) -> String {
    format!("unknown zone '{zone}': use 'site' or a zone id from the configuration's [[zones]]")
}

impl Core {
    /// Puts `zone` (and every zone below it) under `mode`, replacing any lockdown on the same
    /// zone. One `mode` event; the table is saved and published, door modes follow.
    pub(crate) fn apply_lockdown(
        &mut self,
        zone: &str,
        mode: LockdownMode,
        by: &str,
        reason: &str,
        now: Timestamp,
    ) -> Result<Vec<Output>, String> {
        if !known_zone(&self.model, zone) {
            return Err(unknown_zone(zone));
        }
        let at = self.model.stamp(now);
        let lockdown = Lockdown {
            zone: zone.to_string(),
            mode,
            since: at,
            by: by.to_string(),
            reason: reason.to_string(),
        };
        // Set again, a lockdown is still news: who set it, why and since when go with it.
        self.lockdown.set(lockdown);
        Ok(self.lockdown_changed(zone, mode.as_str(), by, reason, now))
    }

    /// Lifts the lockdown on `zone`. Lockdowns on zones above or below stay.
    pub(crate) fn lift_lockdown(
        &mut self,
        zone: &str,
        by: &str,
        now: Timestamp,
    ) -> Result<Vec<Output>, String> {
        if !known_zone(&self.model, zone) {
            return Err(unknown_zone(zone));
        }
        if !self.lockdown.lift(zone) {
            return Err(format!(
                "zone '{zone}' is not locked down: nothing to lift (a lockdown above it must be lifted on its own zone)"
            ));
        }
        Ok(self.lockdown_changed(zone, "lifted", by, "lifted", now))
    }

    fn lockdown_changed(
        &mut self,
        zone: &str,
        mode: &str,
        by: &str,
        reason: &str,
        now: Timestamp,
    ) -> Vec<Output> {
        let mut event = self.event(Kind::Mode, now);
        event.zone = Some(zone.to_string());
        event.mode = Some(mode.to_string());
        event.by = Some(by.to_string());
        // The event's `reason` field holds access reason codes; the office's words go in `detail`.
        event.detail = Some(reason.to_string());
        let table = self.lockdown.active().to_vec();
        let mut then = vec![
            Effect::Save(Save::Lockdowns(table.clone())),
            Effect::Publish(Publish::Lockdowns(table)),
        ];
        then.extend(self.refresh_door_modes(now));
        vec![Output::Record { event, then }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lockdown(zone: &str, mode: LockdownMode, since: &str) -> Lockdown {
        Lockdown {
            zone: zone.into(),
            mode,
            since: since.into(),
            by: "office-1".into(),
            reason: "test".into(),
        }
    }

    #[test]
    fn one_lockdown_per_zone_in_the_order_set() {
        let mut l = Lockdowns::default();
        assert!(l.set(lockdown("bldg-18", LockdownMode::Closed, "t1")));
        assert!(l.set(lockdown("site", LockdownMode::LimitedExit, "t2")));
        assert!(
            !l.set(lockdown("site", LockdownMode::LimitedExit, "t2")),
            "the same lockdown again changes nothing"
        );
        assert!(l.set(lockdown("bldg-18", LockdownMode::Quarantine, "t3")));
        let zones: Vec<_> = l
            .active()
            .iter()
            .map(|l| (l.zone.as_str(), l.mode))
            .collect();
        assert_eq!(
            zones,
            [
                ("bldg-18", LockdownMode::Quarantine),
                ("site", LockdownMode::LimitedExit)
            ]
        );
        assert!(!l.lift("area-a"));
        assert!(l.lift("bldg-18"));
        assert!(!l.lift("bldg-18"));
        assert_eq!(l.active().len(), 1);
    }
}
