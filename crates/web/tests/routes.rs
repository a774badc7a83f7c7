//! Walks every route of the route table (pages and API) with every role and with no session,
//! against a console on a real core: a guard reaches no office or admin route, an auditor
//! changes nothing, and a caller who is not signed in reaches only sign-in and visitor
//! self-registration (and the assets those pages load). The list comes from the router's own
//! table, so a new route cannot be forgotten here.

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use gatehouse_web::routes::{self, Access, Verb};
use gatehouse_web::{Role, sessions};
use tower::ServiceExt;

/// A session: its cookie header and CSRF token.
struct Session {
    cookie: String,
    csrf: String,
}

async fn sign_in(router: &axum::Router, user: &str) -> Session {
    let body = serde_json::json!({"user": user, "password": support::PASSWORD}).to_string();
    let req = Request::post("/api/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap();
    let res = router.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{user} signs in");
    let mut cookie = Vec::new();
    let mut csrf = String::new();
    for value in res.headers().get_all(header::SET_COOKIE) {
        let v = value.to_str().unwrap();
        assert!(v.contains("Secure") && v.contains("SameSite=Strict"), "{v}");
        let pair = v.split(';').next().unwrap().to_string();
        if pair.starts_with(sessions::SESSION_COOKIE) {
            assert!(
                v.contains("HttpOnly"),
                "the session cookie is HttpOnly: {v}"
            );
        }
        if let Some(token) = pair.strip_prefix(&format!("{}=", sessions::CSRF_COOKIE)) {
            csrf = token.to_string();
        }
        cookie.push(pair);
    }
    Session {
        cookie: cookie.join("; "),
        csrf,
    }
}

/// A concrete path for a route pattern: parameters get harmless values.
fn concrete(path: &str) -> String {
    path.replace("{file}", "app.css")
        .replace("{ticket}", "no-such-ticket")
        .replace("{id}", "SR-0")
        .replace("{door}", "gate-north")
        .replace("{pass}", "P-NONE")
        .replace("{zone}", "bldg-18")
}

fn request(verb: Verb, path: &str, session: Option<&Session>, with_csrf: bool) -> Request<Body> {
    let mut req = match verb {
        Verb::Get => Request::get(path),
        Verb::Post => Request::post(path).header(header::CONTENT_TYPE, "application/json"),
    };
    if let Some(s) = session {
        req = req.header(header::COOKIE, &s.cookie);
        if with_csrf {
            req = req.header(sessions::CSRF_HEADER, &s.csrf);
        }
    }
    // An empty object: routes that need fields answer 400/422, which is past the access check.
    let body = if verb == Verb::Post {
        Body::from("{}")
    } else {
        Body::empty()
    };
    req.body(body).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_admits_exactly_its_roles() {
    let estate = support::estate().await;
    let router = routes::router(estate.app.clone());
    let roles = [Role::Guard, Role::Office, Role::Admin, Role::Auditor];
    let mut sessions = Vec::new();
    for role in roles {
        sessions.push((role, sign_in(&router, role.as_str()).await));
    }
    // Sign-out ends the session, so it is walked last.
    let mut table = routes::table();
    table.sort_by_key(|r| r.path == "/api/logout");
    assert!(
        table.len() >= 30,
        "the table has every route ({} found)",
        table.len()
    );

    let mut walked = 0;
    for route in &table {
        let path = concrete(route.path);
        // Not signed in.
        let res = router
            .clone()
            .oneshot(request(route.verb, &path, None, false))
            .await
            .unwrap();
        let status = res.status();
        if route.access == Access::Public {
            assert!(
                status != StatusCode::UNAUTHORIZED
                    && status != StatusCode::FORBIDDEN
                    && !status.is_redirection()
                    || route.path == "/",
                "{} {} is public but answered {status}",
                route.verb.as_str(),
                route.path
            );
        } else if route.page {
            assert_eq!(
                status,
                StatusCode::SEE_OTHER,
                "{} sends strangers to sign in",
                route.path
            );
            assert_eq!(res.headers()[header::LOCATION], "/login");
        } else {
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{} {} without a session",
                route.verb.as_str(),
                route.path
            );
        }
        walked += 1;
        // Every role.
        for (role, session) in &sessions {
            let res = router
                .clone()
                .oneshot(request(route.verb, &path, Some(session), true))
                .await
                .unwrap();
            let status = res.status();
            let admitted = route.access.admits(Some(*role));
            if admitted {
                assert!(
                    status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
                    "{} {} should admit {} but answered {status}",
                    route.verb.as_str(),
                    route.path,
                    role.as_str()
                );
            } else {
                assert_eq!(
                    status,
                    StatusCode::FORBIDDEN,
                    "{} {} must refuse {}",
                    route.verb.as_str(),
                    route.path,
                    role.as_str()
                );
            }
            if *role == Role::Guard {
                assert!(
                    !admitted
                        || matches!(
                            route.access,
                            Access::Public | Access::Signed | Access::Guard
                        ),
                    "a guard reached {} {}",
                    route.verb.as_str(),
                    route.path
                );
            }
            walked += 1;
        }
    }
    assert_eq!(walked, table.len() * 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_changes_need_the_csrf_token() {
    let estate = support::estate().await;
    let router = routes::router(estate.app.clone());
    let office = sign_in(&router, "office").await;
    let body = r#"{"zone":"bldg-18","mode":"closed","reason":"drill","confirm":true}"#;
    let req = |csrf: Option<&str>| {
        let mut r = Request::post("/api/lockdown")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::COOKIE, &office.cookie);
        if let Some(c) = csrf {
            r = r.header(sessions::CSRF_HEADER, c);
        }
        r.body(Body::from(body)).unwrap()
    };
    assert_eq!(
        router.clone().oneshot(req(None)).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        router
            .clone()
            .oneshot(req(Some("forged")))
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    let cross = Request::post("/api/login")
        .header(header::CONTENT_TYPE, "application/json")
        .header("sec-fetch-site", "cross-site")
        .body(Body::from(r#"{"user":"office","password":"x"}"#))
        .unwrap();
    assert_eq!(
        router.clone().oneshot(cross).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_wrong_passwords_lock_the_user() {
    let estate = support::estate().await;
    let router = routes::router(estate.app.clone());
    let attempt = |password: &str| {
        let body = serde_json::json!({"user": "guard", "password": password}).to_string();
        Request::post("/api/login")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .unwrap()
    };
    for _ in 0..gatehouse_web::limiter::MAX_FAILURES {
        assert_eq!(
            router
                .clone()
                .oneshot(attempt("wrong"))
                .await
                .unwrap()
                .status(),
            StatusCode::UNAUTHORIZED
        );
    }
    // Locked: even the right password is refused until the lockout ends.
    assert_eq!(
        router
            .clone()
            .oneshot(attempt(support::PASSWORD))
            .await
            .unwrap()
            .status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_known_path_asked_with_another_method_is_a_405_in_json() {
    let estate = support::estate().await;
    let router = routes::router(estate.app.clone());
    let admin = sign_in(&router, "admin").await;
    let table = routes::table();
    let mut asked = 0;
    for route in table.iter().filter(|r| r.path.starts_with("/api/")) {
        let path = concrete(route.path);
        let served: Vec<&str> = table
            .iter()
            .filter(|r| r.path == route.path)
            .map(|r| r.verb.as_str())
            .collect();
        for method in ["GET", "POST", "PUT", "DELETE", "PATCH"] {
            if served.contains(&method) {
                continue;
            }
            let req = Request::builder()
                .method(method)
                .uri(&path)
                .header(header::COOKIE, &admin.cookie)
                .header(sessions::CSRF_HEADER, &admin.csrf)
                .body(Body::empty())
                .unwrap();
            let res = router.clone().oneshot(req).await.unwrap();
            assert_eq!(
                res.status(),
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}"
            );
            assert_eq!(res.headers()[header::ALLOW], served.join(", ").as_str());
            assert_eq!(res.headers()[header::CONTENT_TYPE], "application/json");
            let body = axum::body::to_bytes(res.into_body(), 1 << 16)
                .await
                .unwrap();
            let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(json["error"], "method_not_allowed", "{method} {path}");
            asked += 1;
        }
    }
    assert!(
        asked > 100,
        "every API path with every other method ({asked})"
    );
}
