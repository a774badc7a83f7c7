//! Every error the API answers is JSON `{"error": code, "message": words, "params": {...}}`,
//! including the ones our handlers never see: axum's rejections of a body that is not JSON or
//! does not fit (400, 415, 422), of a query that does not parse (400), of a body that is too
//! large (413), and a known path asked with a method it does not serve (405).
//!
//! [`json_errors`] is a layer around the whole router: an error response that is not JSON
//! already is rewritten into the documented form, with a code chosen by its status and the
//! rejection's own text as `detail` (axum's texts name fields and positions, never a path on
//! the server).

use super::ApiError;
use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The longest rejection text kept as `detail`; axum's are one line.
const MAX_DETAIL: usize = 2048;

/// The code and the words for an error status whose body is not ours.
fn code_for(status: StatusCode) -> (&'static str, &'static str) {
    match status {
        StatusCode::BAD_REQUEST => (
            "bad_request",
            "The request could not be read: check the JSON body or the query against docs/openapi.yaml.",
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_media_type",
            "Send the body as JSON with `Content-Type: application/json`.",
        ),
        StatusCode::UNPROCESSABLE_ENTITY => (
            "invalid_body",
            "The JSON body is missing a field or has a value of the wrong type: see docs/openapi.yaml.",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            "too_large",
            "The body is larger than this route takes: send a smaller one.",
        ),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "This address does not take that method: see the Allow header.",
        ),
        StatusCode::NOT_FOUND => ("not_found", "No such page or API route: check the address."),
        s if s.is_server_error() => (
            "internal",
            "The console failed on this request; try again, and tell the administrator if it persists.",
        ),
        _ => (
            "error",
            "The request was refused: check it against docs/openapi.yaml.",
        ),
    }
}

/// Rewrites error responses that are not JSON into the documented form.
pub async fn json_errors(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let detail = to_bytes(body, MAX_DETAIL * 4)
        .await
        .map(|b| {
            let text = String::from_utf8_lossy(&b).trim().to_string();
            text.chars().take(MAX_DETAIL).collect::<String>()
        })
        .unwrap_or_default();
    let (code, words) = code_for(status);
    let mut error = ApiError::new(status, code, words);
    if !detail.is_empty() {
        error = error.with("detail", detail);
    }
    let fresh = error.into_response();
    // Keep what the original said besides its body (Allow on a 405, Retry-After, ...).
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let (_, body) = fresh.into_parts();
    Response::from_parts(parts, Body::new(body))
}

/// A known path asked with a method it does not serve.
pub fn method_not_allowed(allowed: &[&str]) -> Response {
    let allow = allowed.join(", ");
    let mut response = ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("This address takes {allow} only."),
    )
    .with("allow", allow.clone())
    .into_response();
    if let Ok(value) = HeaderValue::from_str(&allow) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::routing::post;
    use tower::ServiceExt;

    async fn body_json(response: Response) -> serde_json::Value {
        let bytes = to_bytes(response.into_body(), 1 << 16).await.unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[derive(serde::Deserialize)]
    struct Wanted {
        #[allow(dead_code)]
        pass: String,
    }

    fn app() -> Router {
        Router::new()
            .route(
                "/x",
                post(|axum::Json(_): axum::Json<Wanted>| async { "ok" }),
            )
            .layer(axum::middleware::from_fn(json_errors))
    }

    #[tokio::test]
    async fn rejections_become_documented_json() {
        for (content_type, body, status, code) in [
            (None, "{}", 415, "unsupported_media_type"),
            (Some("application/json"), "{", 400, "bad_request"),
            (
                Some("application/json"),
                "{\"pass\": 3}",
                422,
                "invalid_body",
            ),
        ] {
            let mut req = Request::post("/x");
            if let Some(t) = content_type {
                req = req.header(header::CONTENT_TYPE, t);
            }
            let response = app()
                .oneshot(req.body(Body::from(body)).unwrap())
                .await
                .unwrap();
            assert_eq!(response.status().as_u16(), status, "{body}");
            assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
            let json = body_json(response).await;
            assert_eq!(json["error"], code, "{json}");
            assert!(json["message"].as_str().unwrap().len() > 10);
        }
    }

    #[tokio::test]
    async fn json_errors_pass_through_untouched() {
        let response = Router::new()
            .route(
                "/y",
                post(|| async { ApiError::invalid("digits_short", "short").with("n", 4) }),
            )
            .layer(axum::middleware::from_fn(json_errors))
            .oneshot(Request::post("/y").body(Body::empty()).unwrap())
            .await
            .unwrap();
        let json = body_json(response).await;
        assert_eq!(json["error"], "digits_short");
        assert_eq!(json["params"]["n"], 4);
    }
}
