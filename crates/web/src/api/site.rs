//! The estate's layout and the doors' live state.

use super::ApiResult;
use crate::app::{App, Site};
use axum::Json;
use axum::extract::State;
use gatehouse_core::lockdown::Lockdown;
use gatehouse_runtime::{BrokerStatus, Live};
use serde::Serialize;

pub async fn site(State(app): State<App>) -> ApiResult<Site> {
    Ok(Json(app.site.clone()))
}

/// One door with its live state.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct DoorView {
    pub id: String,
    pub name: String,
    pub zone: String,
    pub kind: String,
    /// `locked`, `unlocked`.
    pub lock: String,
    /// `open`, `closed`, `unknown`.
    pub contact: String,
    /// `normal`, `locked_down`, `closed_by_schedule`, `held_open`, `fire_release`.
    pub mode: String,
    pub online: bool,
    pub since: String,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Doors {
    pub doors: Vec<DoorView>,
    pub lockdowns: Vec<Lockdown>,
    pub log_writable: bool,
    /// The gateway's MQTT broker connection (set by `GET /api/doors`; absent in the feed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broker: Option<BrokerStatus>,
}

/// The doors in configuration order with their live state, and the lockdowns in force.
pub fn doors_of(site: &Site, live: &Live) -> Doors {
    let doors = site
        .doors
        .iter()
        .map(|d| {
            let state = live.doors.get(&d.id);
            DoorView {
                id: d.id.clone(),
                name: d.name.clone(),
                zone: d.inside.clone(),
                kind: d.kind.clone(),
                lock: state.map_or("unknown".into(), |s| s.lock.to_string()),
                contact: state.map_or("unknown".into(), |s| s.contact.to_string()),
                mode: state.map_or("unknown".into(), |s| s.mode.to_string()),
                online: state.is_some_and(|s| s.online),
                since: state.map_or(String::new(), |s| s.since.clone()),
            }
        })
        .collect();
    Doors {
        doors,
        lockdowns: live.lockdowns.clone(),
        log_writable: live.log_writable,
        broker: None,
    }
}

pub async fn doors(State(app): State<App>) -> ApiResult<Doors> {
    let live = app.gateway.live().borrow().clone();
    let mut doors = doors_of(&app.site, &live);
    doors.broker = app.gateway.broker_status().borrow().as_deref().cloned();
    Ok(Json(doors))
}
