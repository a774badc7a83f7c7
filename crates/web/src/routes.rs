//! The route table: every page and API route with the roles it admits. The router is built
//! from this table and the access check reads it, so a route cannot exist without a rule, and
//! the route-walking test (`tests/routes.rs`) walks exactly what is served.

use crate::app::App;
use crate::sessions::{CSRF_HEADER, Caller, SESSION_COOKIE, cookie};
use crate::users::Role;
use crate::{api, pages};
use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, get, post};
use std::time::Instant;
use tower_http::set_header::SetResponseHeaderLayer;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verb {
    Get,
    Post,
}

impl Verb {
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::Post => "POST",
        }
    }
}

/// Who may use a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone: the sign-in page, visitor self-registration, the assets they need.
    Public,
    /// Anyone signed in, whatever their role.
    Signed,
    /// The checkpoint: guards, and office staff and admins who stand in for them.
    Guard,
    /// Reading the office console: office, admin, auditor.
    Read,
    /// Changing things from the office console: office, admin.
    Office,
    /// Console users: admin only.
    Admin,
}

impl Access {
    pub fn admits(self, role: Option<Role>) -> bool {
        use Role::*;
        match (self, role) {
            (Access::Public, _) => true,
            (_, None) => false,
            (Access::Signed, Some(_)) => true,
            (Access::Guard, Some(r)) => matches!(r, Guard | Office | Admin),
            (Access::Read, Some(r)) => matches!(r, Office | Admin | Auditor),
            (Access::Office, Some(r)) => matches!(r, Office | Admin),
            (Access::Admin, Some(r)) => r == Admin,
        }
    }
}

/// One row of the table.
pub struct Route {
    pub verb: Verb,
    /// axum path syntax (`/api/passes/{pass}/status`).
    pub path: &'static str,
    pub access: Access,
    /// An HTML page: a caller who is not signed in is sent to the sign-in page rather than
    /// given a 401.
    pub page: bool,
    handler: fn() -> MethodRouter<App>,
}

macro_rules! routes {
    ($($verb:ident $path:literal $access:ident $kind:ident => $handler:path;)+) => {
        vec![$(Route {
            verb: Verb::$verb,
            path: $path,
            access: Access::$access,
            page: routes!(@page $kind),
            handler: || routes!(@method $verb)($handler),
        }),+]
    };
    (@page page) => { true };
    (@page api) => { false };
    (@method Get) => { get };
    (@method Post) => { post };
}

/// Every route the console serves.
pub fn table() -> Vec<Route> {
    routes! {
        Get "/" Public page => pages::home;
        Get "/login" Public page => pages::login;
        Get "/visit" Public page => pages::visit;
        Get "/guard" Guard page => pages::guard;
        Get "/office" Read page => pages::office;
        Get "/static/{file}" Public page => pages::asset;

        Post "/api/login" Public api => api::auth::login;
        Post "/api/logout" Signed api => api::auth::logout;
        Get "/api/me" Signed api => api::auth::me;
        Get "/api/openapi.yaml" Signed api => api::auth::openapi;
        Get "/api/words" Public api => crate::words::serve;

        Post "/api/visit" Public api => api::visit::register;
        Get "/api/visit/{ticket}" Public api => api::visit::status;

        Get "/api/site" Signed api => api::site::site;
        Get "/api/doors" Signed api => api::site::doors;
        Get "/api/live" Signed api => api::live::doors;

        Post "/api/guard/lookup" Guard api => api::guard::lookup;
        Post "/api/guard/check" Guard api => api::guard::check;
        Post "/api/guard/manual" Guard api => api::guard::manual;
        Post "/api/guard/visitors" Guard api => api::guard::register_visitor;
        Get "/api/guard/pending" Guard api => api::guard::pending;
        Post "/api/guard/pending/{id}/approve" Guard api => api::guard::approve;
        Post "/api/guard/pending/{id}/refuse" Guard api => api::guard::refuse;

        Get "/api/events" Read api => api::events::search;
        Get "/api/events.csv" Read api => api::events::export;
        Get "/api/events/live" Read api => api::live::events;
        Get "/api/alarms" Read api => api::events::alarms;
        Post "/api/alarms/ack" Office api => api::office::ack_alarm;
        Post "/api/lockdown" Office api => api::office::lockdown;
        Post "/api/lockdown/lift" Office api => api::office::lift;
        Get "/api/lockdown/preview" Office api => api::office::lockdown_preview;
        Post "/api/doors/{door}/control" Office api => api::office::door_control;

        Get "/api/people" Read api => api::people::search;
        Post "/api/passes" Office api => api::people::issue;
        Post "/api/passes/{pass}/status" Office api => api::people::set_status;
        Post "/api/import/residents" Office api => api::people::import_residents;
        Get "/api/buildings/{zone}/households" Read api => api::people::building_table;
        Get "/api/occupancy" Read api => api::occupancy::head_counts;
        Get "/api/occupancy/inside" Read api => api::occupancy::inside;

        Get "/api/users" Admin api => api::users::list;
        Post "/api/users" Admin api => api::users::put;
    }
}

/// Pages load only their own scripts and styles; QR codes are inline SVG.
pub const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

/// Builds the router: every route of [`table`] behind the access check.
pub fn router(app: App) -> Router {
    let mut router = Router::new();
    for route in table() {
        router = router.route(route.path, (route.handler)());
    }
    let router = router
        .route_layer(middleware::from_fn_with_state(app.clone(), check_access))
        .fallback(|| async {
            api::ApiError::not_found("No such page or API route: check the address.")
                .into_response()
        });
    harden(router).with_state(app)
}

/// The layers around both consoles' routers (the estate's and the district's): the security
/// headers ([`CSP`], no sniffing, no referrer, HSTS, no caching of the API) and every error
/// in the documented JSON form.
pub fn harden<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        ))
        .layer(middleware::from_fn(crate::security::headers))
        .layer(middleware::from_fn(api::errors::json_errors))
}

/// The access check in front of every route: finds the caller's session, refuses callers the
/// route does not admit, and checks the CSRF token of every state-changing request.
async fn check_access(
    State(app): State<App>,
    matched: MatchedPath,
    mut req: Request,
    next: Next,
) -> Response {
    let rules = app.access.get(matched.as_str());
    let verb = match *req.method() {
        Method::GET | Method::HEAD => Some(Verb::Get),
        Method::POST => Some(Verb::Post),
        _ => None,
    };
    let rule = rules.and_then(|rules| rules.iter().find(|(v, _, _)| Some(*v) == verb));
    let Some(&(_, access, page)) = rule else {
        // A known path asked with a method it does not serve.
        let allowed: Vec<&str> = rules
            .into_iter()
            .flatten()
            .map(|(v, _, _)| v.as_str())
            .collect();
        return drained(req, api::errors::method_not_allowed(&allowed)).await;
    };
    let caller = caller_of(&app, req.headers());
    if verb == Some(Verb::Post)
        && let Some(refusal) = csrf_refusal(
            req.headers(),
            req.uri().authority().map(|a| a.as_str()),
            access,
            caller.as_ref(),
        )
    {
        return drained(req, refusal.into_response()).await;
    }
    if !access.admits(caller.as_ref().map(|c| c.role)) {
        let refused = match (&caller, page) {
            (None, true) => Redirect::to("/login").into_response(),
            (None, false) => api::ApiError::new(
                StatusCode::UNAUTHORIZED,
                "not_signed_in",
                "You are not signed in, or your session ended: sign in again.",
            )
            .into_response(),
            (Some(c), _) => api::ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!(
                    "The role '{}' may not use this; ask an admin if you need it.",
                    c.role.as_str()
                ),
            )
            .into_response(),
        };
        return drained(req, refused).await;
    }
    if let Some(caller) = caller {
        req.extensions_mut().insert(caller);
    }
    next.run(req).await
}

/// The most of a refused request's body read before answering.
const DRAIN_LIMIT: usize = 16 * 1024 * 1024;

/// Answers a refused request once the body its client is still sending has been read (up to
/// [`DRAIN_LIMIT`]): answering first would close the connection under a client that is still
/// uploading, which then sees a broken connection instead of the refusal and its reason.
async fn drained(req: Request, refusal: Response) -> Response {
    let _ = axum::body::to_bytes(req.into_body(), DRAIN_LIMIT).await;
    refusal
}

fn caller_of(app: &App, headers: &HeaderMap) -> Option<Caller> {
    let cookies = headers.get(header::COOKIE)?.to_str().ok()?;
    let id = cookie(cookies, SESSION_COOKIE)?;
    app.sessions.get(id, Instant::now())
}

/// Cross-site requests are refused outright (browsers say so in `Sec-Fetch-Site`, and their
/// `Origin` is not ours: see [`crate::security`]); a signed-in
/// caller must also echo the session's CSRF token. Public state-changing routes take JSON only,
/// which a cross-site form cannot send without a preflight we never grant.
fn csrf_refusal(
    headers: &HeaderMap,
    authority: Option<&str>,
    access: Access,
    caller: Option<&Caller>,
) -> Option<api::ApiError> {
    let forbidden = |msg: &str| {
        Some(api::ApiError::new(
            StatusCode::FORBIDDEN,
            "csrf",
            msg.to_string(),
        ))
    };
    if headers
        .get("sec-fetch-site")
        .is_some_and(|v| v == "cross-site")
    {
        return forbidden("Requests from other sites are refused: use the console's own pages.");
    }
    if let Some(refusal) = crate::security::origin_refusal(headers, authority) {
        return forbidden(refusal);
    }
    if access == Access::Public {
        return None;
    }
    let sent = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
    match caller {
        Some(c) if sent == Some(c.csrf.as_str()) => None,
        Some(_) => forbidden(
            "The page's security token is missing or stale: reload the page and try again.",
        ),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_unique_and_api_routes_are_never_pages() {
        let table = table();
        let mut seen = std::collections::HashSet::new();
        for r in &table {
            assert!(
                seen.insert((r.verb, r.path)),
                "{} {} twice",
                r.verb.as_str(),
                r.path
            );
            assert_eq!(r.page, !r.path.starts_with("/api/"), "{}", r.path);
        }
    }

    #[test]
    fn every_api_route_is_in_the_openapi_document() {
        let doc = api::auth::OPENAPI;
        for r in table().iter().filter(|r| r.path.starts_with("/api/")) {
            let at = doc
                .find(&format!("\n  {}:\n", r.path))
                .unwrap_or_else(|| panic!("{} is not in docs/openapi.yaml", r.path));
            let block = &doc[at + 1..];
            let end = block[1..].find("\n  /").map_or(block.len(), |i| i + 1);
            let verb = format!("\n    {}:", r.verb.as_str().to_ascii_lowercase());
            assert!(
                block[..end].contains(&verb),
                "{} {} is not in docs/openapi.yaml",
                r.verb.as_str(),
                r.path
            );
        }
    }

    #[test]
    fn guards_reach_no_office_or_admin_rule() {
        for access in [Access::Read, Access::Office, Access::Admin] {
            assert!(!access.admits(Some(Role::Guard)), "{access:?}");
        }
        assert!(
            !Access::Guard.admits(Some(Role::Auditor)),
            "auditors change nothing"
        );
        assert!(!Access::Office.admits(Some(Role::Auditor)));
        assert!(Access::Public.admits(None));
        assert!(!Access::Signed.admits(None));
    }
}
