//! From a decision to outputs: the `access` event, and only inside its record the door
//! actuation and the reply (write-ahead); then the state the decision changes (presence,
//! quotas, visitor entries, phone mismatches) and any alarm beside it.

use super::{Denial, Permit, Request, Verdict};
use crate::core::Core;
use crate::estate::{Pass, PassStatus};
use crate::event::{AlarmKind, Decision, Direction, Event, Kind, Method, Reason};
use crate::io::{
    AccessPoint, AccessRequest, AccessResult, DoorAction, Effect, HolderView, ManualEntry, Output,
    Reply, Save,
};
use jiff::{SignedDuration, Timestamp};

impl Core {
    pub(crate) fn on_access(&mut self, req: AccessRequest, now: Timestamp) -> Vec<Output> {
        let AccessRequest {
            point,
            credential,
            pin,
            requested_at,
            actor,
            source,
        } = req;
        let (door_id, direction, reader) = match point {
            AccessPoint::Reader(reader) => match self.model.readers.get(&reader) {
                Some((door, direction)) => (door.as_str(), *direction, Some(reader)),
                None => return self.rejected(
                    &source,
                    format!(
                        "unknown reader '{reader}': add it to a door's readers in the configuration"
                    ),
                    now,
                ),
            },
            AccessPoint::Door { door, direction } => match self.model.doors.get_key_value(&door) {
                Some((id, _)) => (id.as_str(), direction, None),
                None => {
                    return self.rejected(
                        &source,
                        format!("unknown door '{door}': use a door id from the configuration"),
                        now,
                    );
                }
            },
        };
        let Some(door) = self.model.doors.get(door_id) else {
            return self.rejected(
                &source,
                format!("unknown door '{door_id}': use a door id from the configuration"),
                now,
            );
        };
        let request = Request {
            door,
            direction,
            credential: &credential,
            pin: pin.as_deref(),
            requested_at,
        };
        let verdict = self.decide(&request, now);
        let pulse_ms = door.pulse_ms;
        let mut event = self.access_event(&verdict, door_id, direction, now);
        // Only a person at a screen (guard, office) sees who holds the pass; readers do not.
        let for_screen = reader.is_none() || actor.is_some();
        event.reader = reader;
        event.actor = actor;
        let reply = self.access_reply(&verdict, door_id, direction, for_screen);
        let phone_matched = matches!(
            &verdict.outcome,
            Ok(Permit {
                phone_matched: true,
                ..
            }) | Err(Denial {
                phone_matched: true,
                ..
            })
        );
        let outcome = verdict.outcome;
        // The borrows of the decision end here; what it changes is read back from the event.
        let door_id = event.door.as_deref().unwrap_or_default();
        let mut then = Vec::with_capacity(3);
        match &outcome {
            Ok(permit) => {
                // Under fire release the door is already held open.
                if permit.reason != Reason::FireRelease {
                    then.push(Effect::Door {
                        door: door_id.to_string(),
                        action: DoorAction::Unlock { pulse_ms },
                    });
                    self.doors.note_release(door_id, now);
                }
                self.note_passage(&event, phone_matched, &mut then, now);
            }
            Err(Denial {
                reason: Reason::PhoneMismatch,
                ..
            }) => {
                if let Some(alarm) = self.note_phone_mismatch(&event, &mut then, now) {
                    then.push(Effect::Reply(reply));
                    return vec![Output::Record { event, then }, alarm];
                }
            }
            Err(_) => {}
        }
        then.push(Effect::Reply(reply));
        let alarm = match &outcome {
            Ok(Permit {
                alarm: Some(kind), ..
            })
            | Err(Denial {
                alarm: Some(kind), ..
            }) => Some(*kind),
            _ => None,
        };
        let alarm = alarm.map(|kind| self.alarm_beside(&event, kind, now));
        let mut out = Vec::with_capacity(1 + alarm.is_some() as usize);
        out.push(Output::Record { event, then });
        out.extend(alarm);
        out
    }

    /// A guard lets someone through by hand, with a note. Entries are still refused while the
    /// log cannot be written (no entry without a record).
    pub(crate) fn on_manual_entry(&mut self, entry: ManualEntry, now: Timestamp) -> Vec<Output> {
        let Some(door) = self.model.doors.get(&entry.door) else {
            return self.rejected(
                &format!("manual:{}", entry.actor),
                format!(
                    "unknown door '{}': use a door id from the configuration",
                    entry.door
                ),
                now,
            );
        };
        let pulse_ms = door.pulse_ms;
        let grant = entry.direction == Direction::Out || self.log_writable;
        let reason = if grant {
            Reason::ManualEntry
        } else {
            Reason::LogUnavailable
        };
        let mut event = self.event(Kind::Access, now);
        event.door = Some(entry.door.clone());
        event.direction = Some(entry.direction);
        event.method = Some(Method::Manual);
        event.decision = Some(if grant {
            Decision::Grant
        } else {
            Decision::Deny
        });
        event.reason = Some(reason);
        event.actor = Some(entry.actor);
        event.detail = Some(entry.note);
        event.temperature = entry.temperature;
        let mut then = Vec::with_capacity(2);
        if grant {
            then.push(Effect::Door {
                door: entry.door.clone(),
                action: DoorAction::Unlock { pulse_ms },
            });
            self.doors.note_release(&entry.door, now);
        }
        then.push(Effect::Reply(Reply::Access(AccessResult {
            grant,
            reason,
            door: entry.door,
            display: reason.words().0.to_string(),
            need_pin: false,
            event: String::new(),
            holder: None,
        })));
        vec![Output::Record { event, then }]
    }

    /// The log writer went down or came back: one alarm when it goes down, cleared when back.
    pub(crate) fn on_log_writable(&mut self, ok: bool, now: Timestamp) -> Vec<Output> {
        if self.log_writable == ok {
            return Vec::new();
        }
        self.log_writable = ok;
        let mut event = self.event(Kind::Alarm, now);
        event.alarm = Some(AlarmKind::LogUnavailable);
        if ok {
            event.cleared = Some(true);
            event.detail = Some("the log is writable again; entries resume".into());
        } else {
            event.detail = Some(
                "the log cannot be written: entries are refused, exits stay free; check the disk"
                    .into(),
            );
        }
        vec![Output::Record {
            event,
            then: vec![],
        }]
    }

    /// Time passed: re-assert restored fire releases and holds once, end holds whose time
    /// came, publish schedule transitions, forget stale presence, quotas and phone mismatches.
    pub(crate) fn on_tick(&mut self, now: Timestamp) -> Vec<Output> {
        let mut out = Vec::new();
        let first = !self.started;
        if first {
            self.started = true;
            out.extend(self.release_doors("restart", now, true));
        }
        out.extend(self.expire_holds(now));
        if first {
            out.extend(self.reassert_holds(now));
        }
        out.extend(self.schedule_transitions(now));
        self.presence
            .prune(now, crate::presence::timeout(&self.model));
        self.quotas.prune(now, crate::quota::period(&self.model));
        self.phone_failures.prune(now, self.phone_failure_window());
        out
    }

    fn phone_failure_window(&self) -> SignedDuration {
        SignedDuration::from_mins(self.model.policy.phone_failure_window_min as i64)
    }

    fn rejected(&self, source: &str, error: String, now: Timestamp) -> Vec<Output> {
        let mut event = self.event(Kind::RejectedInput, now);
        event.source = Some(source.to_string());
        event.error = Some(error);
        vec![Output::Record {
            event,
            then: vec![],
        }]
    }

    fn access_event(
        &self,
        verdict: &Verdict<'_>,
        door: &str,
        direction: Direction,
        now: Timestamp,
    ) -> Event {
        let (decision, reason) = match &verdict.outcome {
            Ok(p) => (Decision::Grant, p.reason),
            Err(d) => (Decision::Deny, d.reason),
        };
        let mut event = self.event(Kind::Access, now);
        event.door = Some(door.to_string());
        event.direction = Some(direction);
        event.pass = verdict.who.pass.map(|p| p.id.clone());
        event.card = verdict.who.unknown_card.map(str::to_string);
        event.person = verdict.who.person.map(|p| p.id.clone());
        event.household = verdict.who.household.map(str::to_string);
        event.method = Some(verdict.method);
        event.decision = Some(decision);
        event.reason = Some(reason);
        event
    }

    fn access_reply(
        &self,
        verdict: &Verdict<'_>,
        door: &str,
        direction: Direction,
        for_screen: bool,
    ) -> Reply {
        let (grant, reason, need_pin) = match &verdict.outcome {
            Ok(p) => (true, p.reason, false),
            Err(d) => (false, d.reason, d.need_pin),
        };
        let display = match (grant, reason, direction, verdict.who.household) {
            (true, Reason::Granted | Reason::GrantedOverride, Direction::In, Some(h)) => {
                if verdict.who.pass.is_some_and(|p| p.visitor.is_some()) {
                    format!("欢迎来访 {h}")
                } else {
                    format!("欢迎回家 {h}")
                }
            }
            (true, Reason::Granted | Reason::GrantedOverride, Direction::Out, _) => {
                "一路平安".to_string()
            }
            _ => reason.words().0.to_string(),
        };
        let holder = match (verdict.who.pass, verdict.who.person) {
            (Some(pass), Some(person)) if for_screen => Some(HolderView {
                person: person.id.clone(),
                name: person.name.clone(),
                household: verdict.who.household.map(str::to_string),
                phone_masked: crate::phone::mask(&person.phone),
                pass: pass.id.clone(),
            }),
            _ => None,
        };
        Reply::Access(AccessResult {
            grant,
            reason,
            door: door.to_string(),
            display,
            need_pin,
            event: String::new(),
            holder,
        })
    }

    /// A granted passage (its `access` event) moves the pass, counts a household's exit and
    /// a visitor's entry.
    fn note_passage(
        &mut self,
        access: &Event,
        phone_matched: bool,
        then: &mut Vec<Effect>,
        now: Timestamp,
    ) {
        let (Some(pass_id), Some(door), Some(direction)) = (
            access.pass.as_deref(),
            access.door.as_deref(),
            access.direction,
        ) else {
            return;
        };
        if phone_matched {
            self.phone_failures.forget(pass_id);
        }
        let mut into_estate = false;
        if let Some(d) = self.model.doors.get(door) {
            let zone = match direction {
                Direction::In => &d.inside,
                Direction::Out => &d.outside,
            };
            into_estate = direction == Direction::In && d.outside == crate::model::OUTSIDE;
            self.presence.record(pass_id, zone, now);
        }
        match direction {
            Direction::Out => {
                // The holder's own household (a visitor's host does not count).
                let holder_household = access
                    .person
                    .as_deref()
                    .and_then(|p| self.model.person(p))
                    .and_then(|p| p.household.as_deref());
                if let Some(h) = holder_household {
                    self.quotas.record(h, door, now);
                }
            }
            // A visitor's entries count at the estate's street doors.
            Direction::In if into_estate => {
                if let Some(pass) = self.model.pass(pass_id).filter(|p| p.visitor.is_some()) {
                    let mut pass: Pass = pass.clone();
                    if let Some(v) = pass.visitor.as_mut() {
                        v.entries_used += 1;
                    }
                    let pass = std::sync::Arc::new(pass);
                    self.model.put_pass(pass.clone());
                    then.push(Effect::Save(Save::Pass(pass)));
                }
            }
            Direction::In => {}
        }
    }

    /// Counts a phone mismatch (its `access` event); at the limit, suspends the pass and
    /// returns the alarm record.
    fn note_phone_mismatch(
        &mut self,
        access: &Event,
        then: &mut Vec<Effect>,
        now: Timestamp,
    ) -> Option<Output> {
        let pass_id = access.pass.as_deref()?;
        let window = self.phone_failure_window();
        let count = self.phone_failures.mismatch(pass_id, now, window);
        if count < self.model.policy.max_phone_failures {
            return None;
        }
        let mut pass = self.model.pass(pass_id)?.clone();
        pass.status = PassStatus::Suspended;
        let pass = std::sync::Arc::new(pass);
        self.model.put_pass(pass.clone());
        self.phone_failures.forget(pass_id);
        then.push(Effect::Save(Save::Pass(pass.clone())));
        let mut alarm = self.event(Kind::Alarm, now);
        alarm.alarm = Some(AlarmKind::PhoneFailures);
        alarm.door = access.door.clone();
        alarm.pass = Some(pass.id.clone());
        alarm.person = Some(pass.holder.clone());
        alarm.household = access.household.clone();
        alarm.detail = Some(format!(
            "{count} phone mismatches in a row: pass suspended (possibly lent); the office can restore it"
        ));
        Some(Output::Record {
            event: alarm,
            then: vec![],
        })
    }

    /// An alarm record about an access event (same door, pass, person).
    fn alarm_beside(&self, access: &Event, kind: AlarmKind, now: Timestamp) -> Output {
        let mut alarm = self.event(Kind::Alarm, now);
        alarm.alarm = Some(kind);
        alarm.door = access.door.clone();
        alarm.direction = access.direction;
        alarm.pass = access.pass.clone();
        alarm.person = access.person.clone();
        alarm.household = access.household.clone();
        Output::Record {
            event: alarm,
            then: vec![],
        }
    }
}
