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

#[derive(Default)]
pub struct Lockdowns {
    /// At most one per zone, in the order they were set.
    pub zones: Vec<Lockdown>,
}

impl Lockdowns {
    pub fn new(zones: Vec<Lockdown>) -> Lockdowns {
        Lockdowns { zones }
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
        match self.lockdown.zones.iter_mut().find(|l| l.zone == zone) {
            Some(existing) => *existing = lockdown,
            None => self.lockdown.zones.push(lockdown),
        }
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
        let Some(pos) = self.lockdown.zones.iter().position(|l| l.zone == zone) else {
            return Err(format!(
                "zone '{zone}' is not locked down: nothing to lift (a lockdown above it must be lifted on its own zone)"
            ));
        };
        self.lockdown.zones.remove(pos);
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
        let table = self.lockdown.zones.clone();
        let mut then = vec![
            Effect::Save(Save::Lockdowns(table.clone())),
            Effect::Publish(Publish::Lockdowns(table)),
        ];
        then.extend(self.refresh_door_modes(now));
        vec![Output::Record { event, then }]
    }
}
