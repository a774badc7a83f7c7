//! Response headers and the Origin check that every route gets, whatever it serves:
//! - `X-Frame-Options: DENY` (with the CSP's `frame-ancestors 'none'`): no page of the console
//!   can be framed by another site (click-jacking);
//! - `Cache-Control: no-store` on every `/api/` answer: people, passes and events are never
//!   kept by a browser or proxy cache;
//! - a state-changing request whose `Origin` is not the console's own host (or is `null`) is
//!   refused with reason `csrf`, signed in or not (sign-in included), before anything runs.

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// Adds the headers above to a response.
pub async fn headers(req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if api {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// Why a state-changing request's `Origin` is refused, if it is. A request without `Origin`
/// (a script, curl) is left to the other checks: browsers send it on every cross-origin POST.
/// `uri_authority` is the request URI's (HTTP/2 carries the host there rather than in `Host`).
pub fn origin_refusal(headers: &HeaderMap, uri_authority: Option<&str>) -> Option<&'static str> {
    let origin = headers.get(header::ORIGIN)?;
    let Some(origin) = origin.to_str().ok().filter(|o| *o != "null") else {
        return Some(
            "Requests from pages without an origin are refused: use the console's own pages.",
        );
    };
    let authority = origin
        .split_once("://")
        .map_or(origin, |(_, rest)| rest)
        .trim_end_matches('/');
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or(uri_authority)
        .unwrap_or_default();
    if host.is_empty() || !authority.eq_ignore_ascii_case(host) {
        return Some("Requests from other sites are refused: use the console's own pages.");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_str(host).unwrap());
        if let Some(o) = origin {
            h.insert(header::ORIGIN, HeaderValue::from_str(o).unwrap());
        }
        h
    }

    fn origin_refusal_of(h: &HeaderMap) -> Option<&'static str> {
        origin_refusal(h, None)
    }

    #[test]
    fn the_http2_authority_stands_in_for_a_missing_host() {
        let mut h = HeaderMap::new();
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://gate:8443"),
        );
        assert_eq!(origin_refusal(&h, Some("gate:8443")), None);
        assert!(origin_refusal(&h, None).is_some());
    }

    #[test]
    fn only_the_consoles_own_origin_may_change_things() {
        assert_eq!(origin_refusal_of(&with(None, "gate:8443")), None);
        assert_eq!(
            origin_refusal_of(&with(Some("https://gate:8443"), "gate:8443")),
            None
        );
        assert_eq!(
            origin_refusal_of(&with(Some("https://GATE:8443"), "gate:8443")),
            None
        );
        for bad in [
            "https://evil.example",
            "https://gate:9443",
            "null",
            "https://gate",
        ] {
            assert!(
                origin_refusal_of(&with(Some(bad), "gate:8443")).is_some(),
                "{bad}"
            );
        }
    }
}
