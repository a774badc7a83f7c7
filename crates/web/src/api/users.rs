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
pub const MIN_PASSWORD: usize = 8;

/// The rules for a console user's name and password (the console and `gatehouse users` both
/// apply them): names of 1–32 letters, digits, `-`, `_` or `.`; passwords of 8 characters
/// or more.
pub fn check_new(name: &str, password: &str) -> Result<(), ApiError> {
    if name.is_empty()
        || name.len() > 32
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
    {
        return Err(ApiError::invalid(
            "user_name",
            "User names are 1–32 letters, digits, '-', '_' or '.' (e.g. wang or guard-2).",
        ));
    }
    if password.chars().count() < MIN_PASSWORD {
        return Err(ApiError::invalid(
            "password_short",
            format!("Passwords need at least {MIN_PASSWORD} characters."),
        )
        .with("min", MIN_PASSWORD));
    }
    Ok(())
}

pub async fn put(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Json(body): Json<PutUser>,
) -> ApiResult<Done> {
    let name = body.name.trim().to_string();
    check_new(&name, &body.password)?;
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
            e => {
                    tracing::warn!(error = %e, "Saving a console user failed.");
                ApiError::new(
                    axum::http::StatusCode::SERVICE_UNAVAILABLE,
                    "users_file",
                    "Saving the user failed: the gateway could not write its users file. Tell the administrator (the gateway's log says why).",
                )
            }
        })?;
    Ok(Json(DONE))
}
