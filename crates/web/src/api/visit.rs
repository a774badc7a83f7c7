//! Public visitor self-registration: rate-limited per address, answers with a ticket and
//! nothing else; the ticket shows only the state of its own request and, once a guard has
//! approved it, the visitor's QR pass. No personal data is ever sent back.

use super::{ApiError, ApiResult, ClientIp, now_text};
use crate::app::App;
use crate::visitors::{Full, State as RequestState};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use gatehouse_core::phone;
use serde::{Deserialize, Serialize};
use std::time::Instant;

#[derive(Deserialize)]
pub struct Registration {
    pub name: String,
    pub phone: String,
    pub host_household: String,
    #[serde(default)]
    pub reason: String,
}

#[derive(Serialize)]
pub struct Ticket {
    pub ticket: String,
}

/// The longest name or reason taken: a form, not a file upload.
const MAX_TEXT: usize = 100;

pub async fn register(
    State(app): State<App>,
    ClientIp(ip): ClientIp,
    Json(body): Json<Registration>,
) -> ApiResult<Ticket> {
    if !app.limiter.registration(ip, Instant::now()) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many",
            "Too many registrations from this device: please ask the guard at the gate.",
        ));
    }
    let name = body.name.trim();
    let reason = body.reason.trim();
    if name.is_empty() || name.chars().count() > MAX_TEXT || reason.chars().count() > MAX_TEXT {
        return Err(ApiError::invalid(
            "name_required",
            "Write your name (and a short reason, up to 100 characters).",
        )
        .with("max", MAX_TEXT));
    }
    let phone = phone::normalize(&body.phone).map_err(ApiError::from)?;
    let host = body.host_household.trim().to_string();
    // The household must exist, but whether it does is not personal data about anyone.
    let known = {
        let host = host.clone();
        app.gateway.directory().household(&host).is_some()
    };
    if !known {
        return Err(ApiError::invalid(
            "unknown_household",
            "That household number is not known: write building-unit-room as your host gave it (e.g. 18-2-501).",
        )
        .with("household", host.clone()));
    }
    let ticket = app
        .visitors
        .file(
            name.to_string(),
            phone,
            host,
            reason.to_string(),
            now_text(&app.site),
            Instant::now(),
        )
        .map_err(|Full| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "queue_full",
                "Too many visitors are waiting: please ask the guard at the gate.",
            )
        })?;
    Ok(Json(Ticket { ticket }))
}

pub async fn status(State(app): State<App>, Path(ticket): Path<String>) -> ApiResult<RequestState> {
    app.visitors.by_ticket(&ticket).map(Json).ok_or_else(|| {
        ApiError::not_found(
            "No such registration (they are kept a few hours): register again, or ask the guard.",
        )
    })
}
