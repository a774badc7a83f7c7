//! The JSON API behind every screen, one module per screen or concept. Errors are JSON
//! `{"error": code, "message": words}` whose words say what went wrong and what to do next.
//!
//! - [`auth`]: sign in and out, who am I, the OpenAPI document.
//! - [`site`]: the estate's zones and doors with their live state.
//! - [`live`]: server-sent events (door states, lockdowns, pending visitors; events).
//! - [`guard`]: the checkpoint: look up, check, manual entry, visitors.
//! - [`visit`]: public self-registration.
//! - [`office`]: lockdown, door control, alarm acknowledgement.
//! - [`events`]: event search, export, alarms.
//! - [`people`]: people and passes, residents import, building household tables.
//! - [`occupancy`]: live head counts per zone and who is inside now.
//! - [`users`]: console users.
//! - [`errors`]: every other error (axum's rejections, wrong methods) in the same JSON form.

pub mod auth;
pub mod errors;
pub mod events;
pub mod guard;
pub mod live;
pub mod occupancy;
pub mod office;
pub mod people;
pub mod site;
pub mod users;
pub mod visit;

use crate::app::App;
use axum::Json;
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use gatehouse_core::io::{Admin, Input, Reply};
use gatehouse_runtime::RuntimeError;
use serde::Serialize;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// An error as the API answers it.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// The values the screens put into their own words for `code` (`{"household": "18-2-501"}`).
    pub params: serde_json::Map<String, serde_json::Value>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    params: &'a serde_json::Map<String, serde_json::Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            params: serde_json::Map::new(),
        }
    }
    /// A 400 with its own code, for the screens to word.
    pub fn invalid(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }
    /// Adds a parameter the screens' words for this code use.
    pub fn with(mut self, key: &str, value: impl Into<serde_json::Value>) -> ApiError {
        self.params.insert(key.to_string(), value.into());
        self
    }
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }
    /// The core refused a change (its words say why and what to do).
    pub fn refused(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, "refused", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(ErrorBody {
            error: self.code,
            message: &self.message,
            params: &self.params,
        });
        (self.status, body).into_response()
    }
}

impl From<gatehouse_core::phone::PhoneError> for ApiError {
    fn from(e: gatehouse_core::phone::PhoneError) -> ApiError {
        use gatehouse_core::phone::PhoneError;
        let (code, typed) = match &e {
            PhoneError::NotDigits(t) => ("phone_not_digits", t.clone()),
            PhoneError::NotMobile(t) => ("phone_not_mobile", t.clone()),
        };
        ApiError::invalid(code, format!("{e}.")).with("phone", typed)
    }
}

impl From<RuntimeError> for ApiError {
    fn from(e: RuntimeError) -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "gateway_unavailable",
            format!("The gateway could not take this: {e}."),
        )
    }
}

impl From<gatehouse_store::StoreError> for ApiError {
    fn from(e: gatehouse_store::StoreError) -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "store_unavailable",
            format!(
                "The event store could not be read ({e}); try again, and tell the administrator if it persists."
            ),
        )
    }
}

pub type ApiResult<T> = Result<Json<T>, ApiError>;

/// `{"ok": true}`.
#[derive(Serialize)]
pub struct Done {
    pub ok: bool,
}

pub const DONE: Done = Done { ok: true };

/// The caller's IP address; 0.0.0.0 when served without a socket (in-process tests).
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<axum::extract::ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        Ok(ClientIp(ip))
    }
}

/// Submits an admin change and turns the core's refusal into an error the person can act on.
pub async fn admin(app: &App, change: Admin) -> Result<(), ApiError> {
    let replies = app.gateway.submit(Input::Admin(change)).await?;
    for reply in replies {
        if let Reply::Admin(result) = reply {
            return match result.ok {
                true => Ok(()),
                false => Err(ApiError::refused(result.error.unwrap_or_else(|| {
                    "The gateway refused the change; check the values and try again.".into()
                }))),
            };
        }
    }
    Err(ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "no_answer",
        "The gateway did not answer this change; it may not support it yet. Try again later or tell the administrator.",
    ))
}

/// Records that `actor` viewed or exported personal data (an `admin` event) before showing it.
pub async fn viewed(
    app: &App,
    actor: String,
    action: &str,
    object: impl Into<String>,
) -> Result<(), ApiError> {
    admin(
        app,
        Admin::Viewed {
            actor,
            action: action.to_string(),
            object: object.into(),
        },
    )
    .await
}

/// Now, in the site's zone (`2026-11-22T08:03:12.418+08:00`, whatever the host's zone is),
/// for things the web keeps.
pub fn now_text(site: &crate::app::Site) -> String {
    gatehouse_core::time::rfc3339(jiff::Timestamp::now(), &site.tz)
}
