//! The pages and their assets, built into the binary: the gateway has no internet, so there is
//! no CDN, no web font and no framework, just HTML, one stylesheet and small scripts.

use crate::sessions::Caller;
use axum::extract::{Path, Request};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

/// `(file name, content type, bytes)` of every asset under `/static/`.
pub const ASSETS: &[(&str, &str, &str)] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../static/app.css"),
    ),
    (
        "common.js",
        "text/javascript; charset=utf-8",
        include_str!("../static/common.js"),
    ),
    (
        "login.js",
        "text/javascript; charset=utf-8",
        include_str!("../static/login.js"),
    ),
    (
        "guard.js",
        "text/javascript; charset=utf-8",
        include_str!("../static/guard.js"),
    ),
    (
        "office.js",
        "text/javascript; charset=utf-8",
        include_str!("../static/office.js"),
    ),
    (
        "visit.js",
        "text/javascript; charset=utf-8",
        include_str!("../static/visit.js"),
    ),
];

/// `/`: the signed-in caller's own screen, or the sign-in page.
pub async fn home(req: Request) -> Redirect {
    match req.extensions().get::<Caller>().map(|c| c.role) {
        Some(crate::Role::Guard) => Redirect::to("/guard"),
        Some(_) => Redirect::to("/office"),
        None => Redirect::to("/login"),
    }
}

pub async fn login() -> Html<&'static str> {
    Html(include_str!("../static/login.html"))
}

pub async fn visit() -> Html<&'static str> {
    Html(include_str!("../static/visit.html"))
}

pub async fn guard() -> Html<&'static str> {
    Html(include_str!("../static/guard.html"))
}

pub async fn office() -> Html<&'static str> {
    Html(include_str!("../static/office.html"))
}

pub async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, content_type, body)) => (
            [
                (header::CONTENT_TYPE, *content_type),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            *body,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "No such file.").into_response(),
    }
}
