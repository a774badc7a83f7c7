//! Console users (admin only): list them, add one or reset a password.

use super::{ApiError, ApiResult, DONE, Done, viewed};
use crate::Role;
use crate::app::App;
use crate::sessions::Caller;
use axum::Json;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

#[derive(Serialize)]
pub struct UserView {
    pub name: String,
    pub role: Role,
    pub disabled: bool,
}

pub async fn list(State(app): State<App>) -> ApiResult<Vec<UserView>> {
    Ok(Json(
        app.users
            .list()
            .into_iter()
            .map(|(name, role, disabled)| UserView {
                name,
                role,
                disabled,
            })
            .collect(),
    ))
}

#[derive(Deserialize)]
pub struct PutUser {
    pub name: String,
    pub role: Role,
    pub password: String,
}

/// Shortest password taken: a guard types it on a tablet, but it guards the gate.
const MIN_PASSWORD: usize = 8;

pub async fn put(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Json(body): Json<PutUser>,
) -> ApiResult<Done> {
    let name = body.name.trim().to_string();
    if name.is_empty()
        || name.len() > 32
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
    {
        return Err(ApiError::bad_request(
            "User names are 1–32 letters, digits, '-', '_' or '.' (e.g. wang or guard-2).",
        ));
    }
    if body.password.chars().count() < MIN_PASSWORD {
        return Err(ApiError::bad_request(format!(
            "Passwords need at least {MIN_PASSWORD} characters."
        )));
    }
    // The change is recorded like any other admin action (no password in the event).
    viewed(
        &app,
        caller.actor(),
        "console_user_put",
        format!("{name} ({})", body.role.as_str()),
    )
    .await?;
    let users = app.clone();
    tokio::task::spawn_blocking(move || users.users.put(&name, body.role, &body.password))
        .await
        .map_err(|_| ApiError::bad_request("Saving the user failed; try again."))?
        .map_err(|e| match e {
            crate::WebError::LastAdmin(_) => {
                ApiError::new(StatusCode::CONFLICT, "last_admin", e.to_string())
            }
            e => ApiError::bad_request(format!("{e}")),
        })?;
    Ok(Json(DONE))
}
