//! Changes people make through the console or the CLI; each is an event (`admin`, `mode` or
//! `access` for a remote unlock). Signed office commands reach the same `Core` methods
//! (`apply_lockdown`, `door_control`, `set_pass_status`, `ack_fire`) from `command.rs`.

use crate::core::Core;
use crate::estate::PassStatus;
use crate::event::{Decision, Kind, Method, Reason};
use crate::io::{Admin, AdminResult, DoorAction, Effect, Output, Publish, Reply, Save};
use crate::lockdown::LockdownMode;
use jiff::Timestamp;
use std::sync::Arc;

pub(crate) fn handle(core: &mut Core, admin: Admin, now: Timestamp) -> Vec<Output> {
    let result = match admin {
        Admin::ImportEstate {
            changes,
            actor,
            action,
            object,
            detail,
        } => {
            let data = Arc::new(core.model.load_estate(changes));
            Ok(vec![core.admin_event(
                &actor,
                &action,
                &object,
                Some(&detail),
                now,
                vec![
                    Effect::Save(Save::Estate(data.clone())),
                    Effect::Publish(Publish::Estate(data)),
                ],
            )])
        }
        Admin::Viewed {
            actor,
            action,
            object,
        } => Ok(vec![core.admin_event(
            &actor,
            &action,
            &object,
            None,
            now,
            vec![],
        )]),
        Admin::SetPassStatus {
            pass,
            status,
            actor,
            note,
        } => core.set_pass_status(&pass, status, &actor, note.as_deref(), now),
        Admin::IssuePass {
            pass,
            person,
            actor,
        } => core.issue_pass(pass, person, &actor, now),
        Admin::Lockdown {
            zone,
            mode: Some(mode),
            reason,
            actor,
        } => LockdownMode::parse(&mode)
            .and_then(|mode| core.apply_lockdown(&zone, mode, &actor, &reason, now)),
        Admin::Lockdown {
            zone,
            mode: None,
            actor,
            ..
        } => core.lift_lockdown(&zone, &actor, now),
        Admin::DoorControl {
            door,
            action,
            until,
            actor,
        } => core.door_control(&door, action, until, &actor, now),
        Admin::AckFire { zone, actor } => core.ack_fire(&zone, &actor, now),
    };
    match result {
        Ok(mut out) => {
            // The person who asked hears back once the first record is durable.
            if let Some(Output::Record { then, .. }) = out.first_mut() {
                then.push(ok());
            }
            out
        }
        Err(error) => vec![Output::Effect(refuse(error))],
    }
}

/// An `admin` event stamped `stamp` (the site's time, [`crate::time::rfc3339`]): `actor` did
/// `action` to `object`, with counts or a note as `detail` (never names or phones). The one
/// place an admin record is made: the core's own admin changes, and the CLI's offline records
/// (a swipe import, a report made), come through here.
pub fn record(
    stamp: String,
    actor: &str,
    action: &str,
    object: &str,
    detail: Option<&str>,
) -> crate::Event {
    let mut event = crate::Event::new(Kind::Admin, stamp);
    event.actor = Some(actor.to_string());
    event.action = Some(action.to_string());
    event.object = Some(object.to_string());
    event.detail = detail.map(str::to_string);
    event
}

pub(crate) fn ok() -> Effect {
    Effect::Reply(Reply::Admin(AdminResult {
        ok: true,
        error: None,
    }))
}

pub(crate) fn refuse(error: String) -> Effect {
    Effect::Reply(Reply::Admin(AdminResult {
        ok: false,
        error: Some(error),
    }))
}

fn status_name(status: PassStatus) -> &'static str {
    match status {
        PassStatus::Active => "active",
        PassStatus::Suspended => "suspended",
        PassStatus::Revoked => "revoked",
        PassStatus::Lost => "lost",
    }
}

impl Core {
    fn admin_event(
        &self,
        actor: &str,
        action: &str,
        object: &str,
        detail: Option<&str>,
        now: Timestamp,
        then: Vec<Effect>,
    ) -> Output {
        let event = record(self.model.stamp(now), actor, action, object, detail);
        Output::Record { event, then }
    }

    /// Suspends, restores, revokes or marks a pass lost. Restoring also forgets the pass's
    /// phone mismatches, so the holder starts afresh.
    pub(crate) fn set_pass_status(
        &mut self,
        pass: &str,
        status: PassStatus,
        by: &str,
        note: Option<&str>,
        now: Timestamp,
    ) -> Result<Vec<Output>, String> {
        let Some(mut p) = self.model.pass(pass).cloned() else {
            return Err(format!(
                "unknown pass '{pass}': check the pass number, or issue a new pass"
            ));
        };
        p.status = status;
        let p = Arc::new(p);
        self.model.put_pass(p.clone());
        if status == PassStatus::Active {
            self.phone_failures.forget(pass);
        }
        let action = format!("pass_{}", status_name(status));
        Ok(vec![self.admin_event(
            by,
            &action,
            pass,
            note,
            now,
            vec![Effect::Save(Save::Pass(p))],
        )])
    }

    /// Issues a pass (a card, or a visitor's QR pass), registering its holder if new.
    pub(crate) fn issue_pass(
        &mut self,
        pass: crate::estate::Pass,
        person: Option<crate::estate::Person>,
        by: &str,
        now: Timestamp,
    ) -> Result<Vec<Output>, String> {
        if let Some(card) = &pass.card
            && let Some(other) = self
                .model
                .card_holder(card)
                .map(|p| &p.id)
                .filter(|id| **id != pass.id)
        {
            return Err(format!(
                "card {card} already belongs to pass '{other}': revoke that pass first or use another card"
            ));
        }
        let mut then = Vec::new();
        if let Some(person) = person {
            let person = Arc::new(person);
            self.model.put_person(person.clone());
            then.push(Effect::Save(Save::Person(person)));
        }
        if self.model.person(&pass.holder).is_none() {
            return Err(format!(
                "unknown holder '{}': register the person with the pass",
                pass.holder
            ));
        }
        let id = pass.id.clone();
        let detail = pass
            .visitor
            .as_ref()
            .map(|v| format!("visitor of {}", v.host_household));
        let pass = Arc::new(pass);
        self.model.put_pass(pass.clone());
        then.push(Effect::Save(Save::Pass(pass)));
        Ok(vec![self.admin_event(
            by,
            "issue_pass",
            &id,
            detail.as_deref(),
            now,
            then,
        )])
    }

    /// Remote unlock (an `access` event, method `remote`), hold open (until `until`, or
    /// until released; see `holds.rs`) or release of a door.
    pub(crate) fn door_control(
        &mut self,
        door: &str,
        action: DoorAction,
        until: Option<Timestamp>,
        by: &str,
        now: Timestamp,
    ) -> Result<Vec<Output>, String> {
        let Some(d) = self.model.doors.get(door).cloned() else {
            return Err(format!(
                "unknown door '{door}': use a door id from the configuration's [[doors]]"
            ));
        };
        match action {
            DoorAction::Unlock { pulse_ms } => {
                let pulse_ms = if pulse_ms == 0 { d.pulse_ms } else { pulse_ms };
                let mut event = self.event(Kind::Access, now);
                event.door = Some(door.to_string());
                event.method = Some(Method::Remote);
                event.decision = Some(Decision::Grant);
                event.reason = Some(Reason::RemoteUnlock);
                event.actor = Some(by.to_string());
                self.doors.note_release(door, now);
                let then = vec![Effect::Door {
                    door: door.to_string(),
                    action: DoorAction::Unlock { pulse_ms },
                }];
                Ok(vec![Output::Record { event, then }])
            }
            DoorAction::HoldOpen => self.hold_door(&d, until, by, now),
            DoorAction::Lock => Ok(self.release_hold(&d, by, now)),
        }
    }
}
