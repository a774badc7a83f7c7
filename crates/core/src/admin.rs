//! Changes people make to estate data through the console or the CLI; each is an `admin`
//! event.

use crate::core::Core;
use crate::event::Kind;
use crate::io::{Admin, AdminResult, Effect, Output, Reply, Save};
use jiff::Timestamp;

pub(crate) fn handle(core: &mut Core, admin: Admin, now: Timestamp) -> Vec<Output> {
    match admin {
        Admin::EstateChanged { data, actor, action, object } => {
            core.model.load_estate(data);
            let mut event = core.event(Kind::Admin, now);
            event.actor = Some(actor);
            event.action = Some(action);
            event.object = Some(object);
            vec![Output::Record { event, then: vec![ok()] }]
        }
        Admin::Viewed { actor, action, object } => {
            let mut event = core.event(Kind::Admin, now);
            event.actor = Some(actor);
            event.action = Some(action);
            event.object = Some(object);
            vec![Output::Record { event, then: vec![ok()] }]
        }
        Admin::SetPassStatus { pass, status, actor, note } => {
            let Some(mut p) = core.model.passes.get(&pass).cloned() else {
                return vec![Output::Effect(refuse(format!(
                    "No pass '{pass}': check the pass number, or issue a new pass."
                )))];
            };
            p.status = status;
            core.model.put_pass(p.clone());
            let mut event = core.event(Kind::Admin, now);
            event.actor = Some(actor);
            event.action = Some(format!("pass_{}", serde_json::to_value(status).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()));
            event.object = Some(pass);
            event.detail = note;
            vec![Output::Record { event, then: vec![Effect::Save(Save::Pass(p)), ok()] }]
        }
        other => vec![Output::Effect(refuse(format!("Not supported yet: {other:?}")))],
    }
}

pub(crate) fn ok() -> Effect {
    Effect::Reply(Reply::Admin(AdminResult { ok: true, error: None }))
}

pub(crate) fn refuse(error: String) -> Effect {
    Effect::Reply(Reply::Admin(AdminResult { ok: false, error: Some(error) }))
}
