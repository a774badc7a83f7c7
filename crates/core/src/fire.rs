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
use crate::modes::FIRE_RELEASE;
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

#[derive(Default)]
pub struct Fire {
    pub zones: Vec<FireZone>,
}

impl Fire {
    pub fn new(zones: Vec<FireZone>) -> Fire {
        Fire { zones }
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
        let existing = self.fire.zones.iter().position(|f| f.zone == zone);
        let mut alarm = self.event(Kind::Alarm, now);
        alarm.alarm = Some(AlarmKind::Fire);
        alarm.zone = Some(zone.to_string());
        alarm.source = Some(source.to_string());
        if active {
            match existing {
                // Inputs are polled: a fire already known is not news.
                Some(i) if self.fire.zones[i].active => {
                    let sources = &mut self.fire.zones[i].sources;
                    if !sources.iter().any(|s| s == source) {
                        sources.push(source.to_string());
                        return vec![Output::Effect(self.save_fire())];
                    }
                    return vec![];
                }
                Some(i) => {
                    self.fire.zones[i].active = true;
                    self.fire.zones[i].sources = vec![source.to_string()];
                }
                None => self.fire.zones.push(FireZone {
                    zone: zone.to_string(),
                    active: true,
                    since: alarm.at.clone(),
                    sources: vec![source.to_string()],
                }),
            }
            alarm.detail = Some("fire alarm: doors released".into());
            let mut out = vec![Output::Record {
                event: alarm,
                then: vec![self.save_fire()],
            }];
            out.extend(self.release_doors(source, now, false));
            out
        } else {
            let Some(i) = existing.filter(|&i| self.fire.zones[i].active) else {
                return vec![];
            };
            let f = &mut self.fire.zones[i];
            f.sources.retain(|s| s != source);
            // A zone saved before sources were kept has none: any clear clears it.
            if !f.sources.is_empty() {
                return vec![Output::Effect(self.save_fire())];
            }
            f.active = false;
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
        let Some(i) = self.fire.zones.iter().position(|f| f.zone == zone) else {
            return Err(format!("no fire alarm in zone '{zone}' to acknowledge"));
        };
        if self.fire.zones[i].active {
            return Err(format!(
                "the fire input of zone '{zone}' is still active: acknowledge once it has cleared"
            ));
        }
        let was_released: Vec<String> = self.released_doors();
        self.fire.zones.remove(i);
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
            if mode == FIRE_RELEASE {
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
            let changed = self.doors.set_mode(&id, FIRE_RELEASE, &since);
            if changed.is_none() && !restart {
                continue;
            }
            self.doors.note_release(&id, now);
            let mut event = self.event(Kind::Mode, now);
            event.door = Some(id.clone());
            event.mode = Some(FIRE_RELEASE.into());
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
        Effect::Save(Save::FireZones(self.fire.zones.clone()))
    }
}
