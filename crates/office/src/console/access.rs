//! Who is calling, and the role each handler asks for: a handler that takes [`Reader`] admits
//! office, admin and auditor; one that takes [`Officer`] admits office and admin, and checks
//! the request's origin and CSRF token (every state-changing route takes one). A handler
//! cannot forget its check: without the extractor it has no caller.

use super::Console;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use gatehouse_web::api::ApiError;
use gatehouse_web::sessions::{CSRF_HEADER, Caller, SESSION_COOKIE, cookie};
use gatehouse_web::users::Role;
use std::time::Instant;

/// The caller of a live session, if any.
pub fn caller(console: &Console, headers: &HeaderMap) -> Option<Caller> {
    let cookies = headers.get(header::COOKIE)?.to_str().ok()?;
    let id = cookie(cookies, SESSION_COOKIE)?;
    console.sessions.get(id, Instant::now())
}

fn not_signed_in() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "not_signed_in",
        "You are not signed in, or your session ended: sign in again.",
    )
}

fn forbidden(c: &Caller) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "forbidden",
        format!(
            "The role '{}' may not use this in the district console; ask an admin if you need it.",
            c.role.as_str()
        ),
    )
}

/// Reads the district console: office, admin, auditor.
pub struct Reader(pub Caller);

impl FromRequestParts<Console> for Reader {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, console: &Console) -> Result<Self, ApiError> {
        let c = caller(console, &parts.headers).ok_or_else(not_signed_in)?;
        match c.role {
            Role::Office | Role::Admin | Role::Auditor => Ok(Reader(c)),
            Role::Guard => Err(forbidden(&c)),
        }
    }
}

/// Orders from the district console: office, admin; origin and CSRF token checked.
pub struct Officer(pub Caller);

impl FromRequestParts<Console> for Officer {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, console: &Console) -> Result<Self, ApiError> {
        let refused = |msg: &str| ApiError::new(StatusCode::FORBIDDEN, "csrf", msg.to_string());
        if parts
            .headers
            .get("sec-fetch-site")
            .is_some_and(|v| v == "cross-site")
        {
            return Err(refused(
                "Requests from other sites are refused: use the console's own pages.",
            ));
        }
        if let Some(why) = gatehouse_web::security::origin_refusal(
            &parts.headers,
            parts.uri.authority().map(|a| a.as_str()),
        ) {
            return Err(refused(why));
        }
        let c = caller(console, &parts.headers).ok_or_else(not_signed_in)?;
        if !matches!(c.role, Role::Office | Role::Admin) {
            return Err(forbidden(&c));
        }
        let token = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
        if token != Some(c.csrf.as_str()) {
            return Err(refused(
                "The request lacks this session's CSRF token (X-CSRF-Token): reload the page and try again.",
            ));
        }
        Ok(Officer(c))
    }
}
