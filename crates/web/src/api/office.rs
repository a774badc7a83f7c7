//! The office's controls: lockdown and lift by zone, door unlock and hold open, alarm
//! acknowledgement. Each goes to the core as an `Admin` change; the core decides and records.

use super::{ApiError, ApiResult, DONE, Done, admin};
use crate::app::App;
use crate::sessions::Caller;
use axum::Json;
use axum::extract::{Extension, Path, State};
use gatehouse_core::io::{Admin, DoorAction};
use gatehouse_core::lockdown::LockdownMode;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct LockdownBody {
    pub zone: String,
    /// `closed`, `residents_only`, `quarantine`, `limited_exit`.
    pub mode: String,
    pub reason: String,
    /// The person confirmed on screen; a lockdown without it is refused.
    #[serde(default)]
    pub confirm: bool,
}

pub async fn lockdown(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Json(body): Json<LockdownBody>,
) -> ApiResult<Done> {
    let zone = known_zone(&app, &body.zone)?;
    LockdownMode::parse(&body.mode).map_err(|e| {
        ApiError::invalid("unknown_mode", format!("{e}.")).with("mode", body.mode.clone())
    })?;
    if body.reason.trim().is_empty() {
        return Err(ApiError::invalid(
            "reason_required",
            "Give a reason: residents and guards see it.",
        ));
    }
    if !body.confirm {
        return Err(ApiError::invalid(
            "confirm_required",
            format!(
                "Confirm the lockdown of {zone}: send confirm=true after showing what it closes."
            ),
        )
        .with("zone", zone.clone()));
    }
    admin(
        &app,
        Admin::Lockdown {
            zone: body.zone,
            mode: Some(body.mode),
            reason: body.reason.trim().to_string(),
            actor: caller.actor(),
        },
    )
    .await?;
    Ok(Json(DONE))
}

#[derive(Deserialize)]
pub struct LiftBody {
    pub zone: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub confirm: bool,
}

pub async fn lift(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Json(body): Json<LiftBody>,
) -> ApiResult<Done> {
    let zone = known_zone(&app, &body.zone)?;
    if !body.confirm {
        return Err(ApiError::invalid(
            "confirm_required",
            format!("Confirm lifting the lockdown of {zone}: send confirm=true."),
        )
        .with("zone", zone.clone()));
    }
    admin(
        &app,
        Admin::Lockdown {
            zone: body.zone,
            mode: None,
            reason: body.reason,
            actor: caller.actor(),
        },
    )
    .await?;
    Ok(Json(DONE))
}

fn known_zone(app: &App, zone: &str) -> Result<String, ApiError> {
    app.site
        .zone(zone)
        .map(|z| format!("{} ({})", z.name, z.id))
        .ok_or_else(|| {
            ApiError::invalid(
                "unknown_zone",
                format!("Unknown zone '{zone}': choose one from the list."),
            )
            .with("zone", zone)
        })
}

#[derive(Deserialize)]
pub struct DoorControlBody {
    /// `unlock` (one pulse), `hold_open`, `lock`.
    pub action: String,
    /// For `hold_open`: when the hold ends (RFC 3339); absent = until the door is locked again.
    #[serde(default)]
    pub until: Option<jiff::Timestamp>,
}

pub async fn door_control(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Path(door): Path<String>,
    Json(body): Json<DoorControlBody>,
) -> ApiResult<Done> {
    if app.site.door(&door).is_none() {
        return Err(ApiError::not_found(format!(
            "Unknown door '{door}': choose one from the list."
        ))
        .with("door", door.clone()));
    }
    let action = match body.action.as_str() {
        // The pulse length is the door's own; the core fills it in from the configuration.
        "unlock" => DoorAction::Unlock { pulse_ms: 0 },
        "hold_open" => DoorAction::HoldOpen,
        "lock" => DoorAction::Lock,
        other => {
            return Err(ApiError::bad_request(format!(
                "Unknown door action '{other}': use unlock, hold_open or lock."
            )));
        }
    };
    admin(
        &app,
        Admin::DoorControl {
            door,
            action,
            until: body.until,
            actor: caller.actor(),
        },
    )
    .await?;
    Ok(Json(DONE))
}

#[derive(Deserialize)]
pub struct AckBody {
    /// The alarm event's id (`north-estate:1042`).
    pub event: String,
}

/// Acknowledges an alarm. A cleared fire alarm's acknowledgement goes to the core (it frees the
/// zone's doors from fire release); any other acknowledgement is recorded as an `admin` event
/// `alarm_ack` naming the alarm event, which is what the alarm list reads.
pub async fn ack_alarm(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Json(body): Json<AckBody>,
) -> ApiResult<Done> {
    let seq = body
        .event
        .rsplit(':')
        .next()
        .and_then(|s| s.parse::<u64>().ok())
        .ok_or_else(|| ApiError::bad_request("Name the alarm by its event id (site:seq)."))?;
    let store = app.gateway.store().clone();
    let alarm = tokio::task::spawn_blocking(move || store.events(seq, 1))
        .await
        .map_err(|_| ApiError::bad_request("Reading the alarm failed; try again."))??
        .into_iter()
        .find(|e| e.seq == seq && e.kind == gatehouse_core::Kind::Alarm)
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "No alarm event {}: refresh the alarm list.",
                body.event
            ))
        })?;
    if alarm.alarm == Some(gatehouse_core::event::AlarmKind::Fire)
        && let Some(zone) = alarm.zone.clone()
    {
        admin(
            &app,
            Admin::AckFire {
                zone,
                actor: caller.actor(),
            },
        )
        .await?;
    }
    admin(
        &app,
        Admin::Viewed {
            actor: caller.actor(),
            action: "alarm_ack".into(),
            object: alarm.id.clone(),
        },
    )
    .await?;
    Ok(Json(DONE))
}

#[derive(Deserialize)]
pub struct PreviewQuery {
    pub zone: String,
}

#[derive(serde::Serialize)]
pub struct DoorRef {
    pub id: String,
    pub name: String,
}

/// What a lockdown of a zone would touch, for the confirmation: its doors and the households
/// that live in it (ids only: no names, no phones).
#[derive(serde::Serialize)]
pub struct LockdownPreview {
    pub zone: String,
    pub name: String,
    pub doors: Vec<DoorRef>,
    pub households: Vec<String>,
}

pub async fn lockdown_preview(
    State(app): State<App>,
    axum::extract::Query(query): axum::extract::Query<PreviewQuery>,
) -> ApiResult<LockdownPreview> {
    known_zone(&app, &query.zone)?;
    let zone = query.zone.clone();
    let doors = app
        .gateway
        .read({
            let zone = zone.clone();
            move |core| {
                let model = core.model();
                let within = |z: &str| z == zone || model.zone_within(z, &zone);
                model
                    .door_order
                    .iter()
                    .filter(|d| model.doors.get(*d).is_some_and(|d| within(&d.inside)))
                    .cloned()
                    .collect::<Vec<String>>()
            }
        })
        .await?;
    // The households come from the directory, on the blocking pool: a scan of every
    // household never runs on the core's task.
    let directory = app.gateway.directory();
    let households = tokio::task::spawn_blocking(move || {
        directory
            .households_within(&zone)
            .into_iter()
            .map(|h| h.id.clone())
            .collect::<Vec<String>>()
    })
    .await
    .map_err(|e| {
        ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("Listing the zone's households stopped unexpectedly: {e}."),
        )
    })?;
    let doors = doors
        .into_iter()
        .map(|id| DoorRef {
            name: app
                .site
                .door(&id)
                .map_or_else(|| id.clone(), |d| d.name.clone()),
            id,
        })
        .collect();
    let name = app
        .site
        .zone(&query.zone)
        .map_or_else(|| query.zone.clone(), |z| z.name.clone());
    Ok(Json(LockdownPreview {
        zone: query.zone,
        name,
        doors,
        households,
    }))
}
