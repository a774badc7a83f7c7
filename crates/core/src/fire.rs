//! Fire release: a fire input frees every door leading into its zone (and the zones below)
//! until the input clears AND the office acknowledges. A zone remembers which inputs hold it
//! active (one physical input may be reported twice: as a configured `fire_inputs` point and
//! as its controller's fire point), so it clears when the last of them clears, and one input
//! raises one alarm for one zone. Nothing overrides it: not lockdown, not
//! schedules, not anti-passback. Persisted, so a restart during a fire keeps the doors free.

use crate::core::Core;
use crate::event::{AlarmKind, Kind, Reason};
use crate::io::{DoorAction, Effect, Output, Publish, Save};
use crate::lockdown::{known_zone, unknown_zone};
use crate::model::Model;
use crate::modes::DoorMode;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// A zone with an active, or cleared but unacknowledged, fire alarm.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FireZone {
    pub zone: String,
    pub active: bool,
    pub since: String,
    /// The inputs now reporting fire for the zone (bounded by the configured inputs: sources
    /// are controller, door and input ids from the configuration).
    #[serde(default)]
    pub sources: Vec<String>,
}

/// The zones with a fire alarm.
#[derive(Default)]
pub struct Fire {
    /// At most one per zone, in the order their alarms were raised; bounded by the zones
    /// of the tree (the core refuses fire inputs of unknown zones).
    zones: Vec<FireZone>,
}

/// What a fire input's report changed (see [`Fire::report`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FireChange {
    /// Nothing: a fire already known from this input, or a clear where nothing burns.
    Unchanged,
    /// Only which inputs report the fire (the table is saved, no alarm).
    Sources,
    /// The zone's alarm is raised: a new fire, or one that cleared and came back before the
    /// office acknowledged it.
    Raised,
    /// The last input reporting the fire cleared: the alarm clears, the doors stay released
    /// until the office acknowledges.
    Cleared,
}

/// Why a zone's fire alarm cannot be acknowledged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AckRefused {
    /// The zone has no fire alarm.
    NoAlarm,
    /// The zone's fire input is still active.
    StillActive,
}

impl Fire {
    /// The zones restored from the store.
    pub fn new(zones: Vec<FireZone>) -> Fire {
        Fire { zones }
    }

    /// The zones with an active, or cleared but unacknowledged, fire alarm: the table to save.
    pub fn zones(&self) -> &[FireZone] {
        &self.zones
    }

    /// Whether a fire alarm (active, or cleared but not yet acknowledged) on `zone` or a zone
    /// above it frees the doors into `zone`.
    pub fn covers(&self, model: &Model, zone: &str) -> bool {
        self.zones.iter().any(|f| model.zone_within(zone, &f.zone))
    }

    /// Input `source` reports fire in `zone` (`active`) or no more; `since` stamps a new
    /// alarm. Returns what changed.
    pub fn report(&mut self, zone: &str, active: bool, source: &str, since: &str) -> FireChange {
        let existing = self.zones.iter_mut().find(|f| f.zone == zone);
        if active {
            match existing {
                // Inputs are polled: a fire already known is not news.
                Some(f) if f.active => {
                    if f.sources.iter().any(|s| s == source) {
                        return FireChange::Unchanged;
                    }
                    f.sources.push(source.to_string());
                    FireChange::Sources
                }
                Some(f) => {
                    f.active = true;
                    f.sources = vec![source.to_string()];
                    FireChange::Raised
                }
                None => {
                    self.zones.push(FireZone {
                        zone: zone.to_string(),
                        active: true,
                        since: since.to_string(),
                        sources: vec![source.to_string()],
                    });
                    FireChange::Raised
                }
            }
        } else {
            let Some(f) = existing.filter(|f| f.active) else {
                return FireChange::Unchanged;
            };
            f.sources.retain(|s| s != source);
            // A zone saved before sources were kept has none: any clear clears it.
            if !f.sources.is_empty() {
                return FireChange::Sources;
            }
            f.active = false;
            FireChange::Cleared
        }
    }

    /// The office acknowledges the cleared fire alarm of `zone`: it is forgotten.
    pub fn acknowledge(&mut self, zone: &str) -> Result<(), AckRefused> {
        let Some(i) = self.zones.iter().position(|f| f.zone == zone) else {
            return Err(AckRefused::NoAlarm);
        };
        if self.zones[i].active {
            return Err(AckRefused::StillActive);
        }
        self.zones.remove(i);
        Ok(())
    }
}

impl Core {
    pub(crate) fn on_fire(
        &mut self,
        zone: &str,
        active: bool,
        source: &str,
        now: Timestamp,
    ) -> Vec<Output> {
        if !known_zone(&self.model, zone) {
            let mut event = self.event(Kind::RejectedInput, now);
            event.source = Some(source.to_string());
            event.error = Some(format!("fire input: {}", unknown_zone(zone)));
            return vec![Output::Record {
                event,
                then: vec![],
            }];
        }
        let mut alarm = self.event(Kind::Alarm, now);
        alarm.alarm = Some(AlarmKind::Fire);
        alarm.zone = Some(zone.to_string());
        alarm.source = Some(source.to_string());
        match self.fire.report(zone, active, source, &alarm.at) {
            FireChange::Unchanged => vec![],
            FireChange::Sources => vec![Output::Effect(self.save_fire())],
            FireChange::Raised => {
                alarm.detail = Some("fire alarm: doors released".into());
                let mut out = vec![Output::Record {
                    event: alarm,
                    then: vec![self.save_fire()],
                }];
                out.extend(self.release_doors(source, now, false));
                out
            }
            FireChange::Cleared => {
                alarm.cleared = Some(true);
                alarm.detail = Some(
                    "fire input cleared; doors stay released until the office acknowledges".into(),
                );
                vec![Output::Record {
                    event: alarm,
                    then: vec![self.save_fire()],
                }]
            }
        }
    }

    /// The office acknowledges a cleared fire alarm: the zone's doors go back to their mode.
    pub(crate) fn ack_fire(
        &mut self,
        zone: &str,
        by: &str,
        now: Timestamp,
    ) -> Result<Vec<Output>, String> {
        if !known_zone(&self.model, zone) {
            return Err(unknown_zone(zone));
        }
        let was_released: Vec<String> = self.released_doors();
        match self.fire.acknowledge(zone) {
            Ok(()) => {}
            Err(AckRefused::NoAlarm) => {
                return Err(format!("no fire alarm in zone '{zone}' to acknowledge"));
            }
            Err(AckRefused::StillActive) => {
                return Err(format!(
                    "the fire input of zone '{zone}' is still active: acknowledge once it has cleared"
                ));
            }
        }
        let mut event = self.event(Kind::Mode, now);
        event.zone = Some(zone.to_string());
        event.mode = Some("fire_acknowledged".into());
        event.by = Some(by.to_string());
        event.detail = Some("fire alarm acknowledged; doors return to their modes".into());
        let mut out = vec![Output::Record {
            event,
            then: vec![self.save_fire()],
        }];
        let since = self.model.stamp(now);
        for id in was_released {
            let Some(door) = self.model.doors.get(&id) else {
                continue;
            };
            let mode = self.door_mode(door, now);
            if mode == DoorMode::FireRelease {
                continue;
            }
            let action = self.resting_action(door, now);
            let mut event = self.event(Kind::Mode, now);
            event.door = Some(id.clone());
            event.mode = Some(mode.to_string());
            event.by = Some(by.to_string());
            event.detail = Some("fire release ended".into());
            let mut then = vec![Effect::Door {
                door: id.clone(),
                action,
            }];
            if let Some(state) = self.doors.set_mode(&id, mode, &since) {
                then.push(Effect::Publish(Publish::DoorState(state)));
            }
            out.push(Output::Record { event, then });
        }
        Ok(out)
    }

    /// Doors now in fire release, in configuration order.
    fn released_doors(&self) -> Vec<String> {
        self.model
            .door_order
            .iter()
            .filter(|id| {
                self.model
                    .doors
                    .get(*id)
                    .is_some_and(|d| self.fire_released(d))
            })
            .cloned()
            .collect()
    }

    /// Holds open every fire-released door not already shown as released (with `restart`,
    /// every fire-released door: after a restart the hardware must hear it again): one `mode`
    /// event each, the actuation inside it.
    pub(crate) fn release_doors(&mut self, by: &str, now: Timestamp, restart: bool) -> Vec<Output> {
        let since = self.model.stamp(now);
        let mut out = Vec::new();
        for id in self.released_doors() {
            let Some(door) = self.model.doors.get(&id) else {
                continue;
            };
            // Fire release: nothing outranks it.
            let mode = self.door_mode(door, now);
            let changed = self.doors.set_mode(&id, mode, &since);
            if changed.is_none() && !restart {
                continue;
            }
            self.doors.note_release(&id, now);
            let mut event = self.event(Kind::Mode, now);
            event.door = Some(id.clone());
            event.mode = Some(mode.to_string());
            event.by = Some(by.to_string());
            event.reason = Some(Reason::FireRelease);
            let mut then = vec![Effect::Door {
                door: id,
                action: DoorAction::HoldOpen,
            }];
            then.extend(changed.map(|state| Effect::Publish(Publish::DoorState(state))));
            out.push(Output::Record { event, then });
        }
        out
    }

    fn save_fire(&self) -> Effect {
        Effect::Save(Save::FireZones(self.fire.zones().to_vec()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zone_clears_with_its_last_input_and_ends_when_acknowledged() {
        let mut f = Fire::default();
        assert_eq!(f.report("z", false, "a", "t0"), FireChange::Unchanged);
        assert_eq!(f.acknowledge("z"), Err(AckRefused::NoAlarm));
        assert_eq!(f.report("z", true, "a", "t1"), FireChange::Raised);
        assert_eq!(f.report("z", true, "a", "t2"), FireChange::Unchanged);
        assert_eq!(f.report("z", true, "b", "t2"), FireChange::Sources);
        assert_eq!(f.acknowledge("z"), Err(AckRefused::StillActive));
        assert_eq!(f.report("z", false, "a", "t3"), FireChange::Sources);
        assert_eq!(f.report("z", false, "b", "t3"), FireChange::Cleared);
        assert_eq!(f.report("z", false, "b", "t3"), FireChange::Unchanged);
        assert_eq!(f.zones().len(), 1, "kept until acknowledged");
        assert_eq!(f.zones()[0].since, "t1");
        assert_eq!(f.report("z", true, "c", "t4"), FireChange::Raised, "back");
        assert_eq!(f.zones()[0].sources, ["c"]);
        assert_eq!(f.report("z", false, "c", "t5"), FireChange::Cleared);
        assert_eq!(f.acknowledge("z"), Ok(()));
        assert!(f.zones().is_empty());
    }
}
