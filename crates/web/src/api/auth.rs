//! Signing in and out, and who the caller is.

use super::{ApiError, ApiResult, ClientIp, DONE};
use crate::app::App;
use crate::limiter::Refusal;
use crate::sessions::{Caller, SESSION_COOKIE, cleared_cookies, cookie, cookies_for};
use axum::Json;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::time::Instant;

#[derive(Deserialize)]
pub struct Login {
    pub user: String,
    pub password: String,
}

#[derive(Serialize)]
pub struct Me {
    pub user: String,
    pub role: &'static str,
    /// Echo this in `X-CSRF-Token` on every POST.
    pub csrf: String,
    /// The page this role starts on.
    pub home: &'static str,
}

fn me_of(c: &Caller) -> Me {
    let home = match c.role {
        crate::Role::Guard => "/guard",
        _ => "/office",
    };
    Me {
        user: c.user.clone(),
        role: c.role.as_str(),
        csrf: c.csrf.clone(),
        home,
    }
}

/// Checks the password (throttled per address and per name; a name is locked only from the
/// addresses that failed for it, see [`crate::limiter`]) and starts a session.
pub async fn login(
    State(app): State<App>,
    ClientIp(ip): ClientIp,
    Json(body): Json<Login>,
) -> Result<Response, ApiError> {
    let check = app.clone();
    sign_in(
        &app.sessions,
        &app.limiter,
        ip,
        body,
        move |name, password| check.users.verify(name, password),
        |role| {
            Ok(match role {
                crate::Role::Guard => "/guard",
                _ => "/office",
            })
        },
    )
    .await
}

/// The sign-in both consoles (the estate's and the district's) run: the throttles, the
/// password checked on the blocking pool (`verify`), the role admitted (`admit` gives the
/// role's home page, or the refusal), a session started with its cookies.
pub async fn sign_in(
    sessions: &crate::sessions::Sessions,
    limiter: &crate::limiter::Limiter,
    ip: std::net::IpAddr,
    body: Login,
    verify: impl FnOnce(&str, &str) -> Option<crate::Role> + Send + 'static,
    admit: impl Fn(crate::Role) -> Result<&'static str, ApiError>,
) -> Result<Response, ApiError> {
    let now = Instant::now();
    let user = body.user.trim().to_string();
    match limiter.before_sign_in(ip, &user, now) {
        Ok(()) => {}
        Err(Refusal::Address(wait) | Refusal::Locked(wait) | Refusal::Account(wait)) => {
            let minutes = wait.as_secs().div_ceil(60);
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "locked",
                format!(
                    "Too many failed sign-ins: wait {minutes} minutes, or ask an admin to reset the password."
                ),
            )
            .with("minutes", minutes));
        }
    }
    // Hashing is deliberately slow: keep it off the async workers.
    let (name, password) = (user.clone(), body.password);
    let role = tokio::task::spawn_blocking(move || verify(&name, &password))
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Sign-in failed; try again.",
            )
        })?;
    limiter.after_sign_in(ip, &user, role.is_some(), now);
    let Some(role) = role else {
        tracing::info!(user = %user, "Console sign-in refused.");
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad_password",
            "Wrong user name or password: check both and try again.",
        ));
    };
    let home = admit(role)?;
    let (id, caller) = sessions.start(&user, role, now);
    tracing::info!(user = %user, role = role.as_str(), "Console sign-in.");
    let [session, csrf] = cookies_for(&id, &caller);
    let mut response = Json(Me {
        user: caller.user.clone(),
        role: caller.role.as_str(),
        csrf: caller.csrf.clone(),
        home,
    })
    .into_response();
    let headers = response.headers_mut();
    headers.append(
        header::SET_COOKIE,
        session.parse().expect("cookie is ASCII"),
    );
    headers.append(header::SET_COOKIE, csrf.parse().expect("cookie is ASCII"));
    Ok(response)
}

pub async fn logout(State(app): State<App>, headers: HeaderMap) -> Response {
    sign_out(&app.sessions, &headers)
}

/// Ends the caller's session (if any) and clears its cookies.
pub fn sign_out(sessions: &crate::sessions::Sessions, headers: &HeaderMap) -> Response {
    if let Some(id) = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|c| cookie(c, SESSION_COOKIE))
    {
        sessions.end(id);
    }
    let mut response = Json(DONE).into_response();
    for c in cleared_cookies() {
        response
            .headers_mut()
            .append(header::SET_COOKIE, c.parse().expect("cookie is ASCII"));
    }
    response
}

pub async fn me(Extension(caller): Extension<Caller>) -> ApiResult<Me> {
    Ok(Json(me_of(&caller)))
}

/// The OpenAPI document of this API.
pub async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/yaml; charset=utf-8")],
        OPENAPI,
    )
        .into_response()
}

pub const OPENAPI: &str = include_str!("../../../../docs/openapi.yaml");
