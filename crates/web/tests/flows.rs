//! The guard's and the office's flows through the API on a real core and store: the verdicts
//! and their durable events, visitor passes with QR codes, self-registration, lockdown, and
//! the rule that every view of personal data is recorded and no phone reaches the log.

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use gatehouse_core::{Event, Kind};
use gatehouse_web::{routes, sessions};
use serde_json::{Value, json};
use tower::ServiceExt;

struct Client {
    router: axum::Router,
    cookie: String,
    csrf: String,
}

impl Client {
    async fn sign_in(router: &axum::Router, user: &str) -> Client {
        let body = json!({"user": user, "password": support::PASSWORD}).to_string();
        let req = Request::post("/api/login")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .unwrap();
        let res = router.clone().oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let cookie: Vec<String> = res
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
            .collect();
        let me: Value = serde_json::from_slice(
            &axum::body::to_bytes(res.into_body(), 1 << 20)
                .await
                .unwrap(),
        )
        .unwrap();
        Client {
            router: router.clone(),
            cookie: cookie.join("; "),
            csrf: me["csrf"].as_str().unwrap().to_string(),
        }
    }

    async fn send(&self, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::COOKIE, &self.cookie)
            .header(sessions::CSRF_HEADER, &self.csrf)
            .header(header::CONTENT_TYPE, "application/json")
            .body(body.map_or(Body::empty(), |b| Body::from(b.to_string())))
            .unwrap();
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 22)
            .await
            .unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let (status, value) = self.send("POST", path, Some(body)).await;
        assert_eq!(status, StatusCode::OK, "POST {path}: {value}");
        value
    }

    /// A CSV export as text.
    async fn csv(&self, path: &str) -> String {
        let req = Request::get(path)
            .header(header::COOKIE, &self.cookie)
            .body(Body::empty())
            .unwrap();
        let res = self.router.clone().oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "GET {path}");
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 22)
            .await
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    async fn get(&self, path: &str) -> Value {
        let (status, value) = self.send("GET", path, None).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {value}");
        value
    }
}

fn all_events(estate: &support::Estate) -> Vec<Event> {
    estate.gateway.store().events(1, 100_000).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guard_checks_passes_and_every_verdict_is_a_durable_guard_event() {
    let estate = support::estate().await;
    let router = routes::router(estate.app.clone());
    let guard = Client::sign_in(&router, "guard").await;

    let found = guard
        .post("/api/guard/lookup", json!({"pass": "p-000123"}))
        .await;
    assert_eq!(found["found"], true);
    assert_eq!(found["holder"]["name"], "王卫平");
    assert_eq!(
        found["holder"]["phone_masked"], "138********",
        "the digits the guard asks for are never shown"
    );
    assert_eq!(found["digits"], 4);
    assert_eq!(found["tries_left"], 5);

    let check = |pin: &str| json!({"door": "gate-north", "direction": "in", "pass": "P-000123", "pin": pin});
    let granted = guard.post("/api/guard/check", check("5678")).await;
    assert_eq!(granted["grant"], true, "{granted}");
    assert_eq!(granted["words_zh"], "放行");
    // Fewer digits than asked: refused before the core, not a mismatch, not an event.
    let (status, short) = guard
        .send("POST", "/api/guard/check", Some(check("567")))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(short["error"], "digits_short");
    assert_eq!(short["params"], json!({"typed": 3, "n": 4}));
    let mismatch = guard.post("/api/guard/check", check("1111")).await;
    assert_eq!(mismatch["grant"], false);
    assert_eq!(mismatch["reason"], "phone_mismatch");
    assert_eq!(mismatch["words_zh"], "手机号不符");
    assert_eq!(
        mismatch["tries_left"], 4,
        "five mismatches suspend; the short entry did not count"
    );
    assert_eq!(mismatch["holder"]["phone_masked"], "138********");
    let (status, hot) = guard
        .send(
            "POST",
            "/api/guard/manual",
            Some(json!({"door": "gate-north", "note": "courier", "temperature": 46.5})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(hot["error"], "temperature_range");
    let revoked = guard
        .post(
            "/api/guard/check",
            json!({"door": "gate-north", "pass": "P-000124"}),
        )
        .await;
    assert_eq!(revoked["reason"], "pass_revoked");
    let unknown = guard
        .post("/api/guard/lookup", json!({"pass": "P-999999"}))
        .await;
    assert_eq!(unknown["found"], false);

    let events = all_events(&estate);
    let access: Vec<&Event> = events.iter().filter(|e| e.kind == Kind::Access).collect();
    assert_eq!(access.len(), 3, "one access event per check");
    for e in &access {
        assert_eq!(e.actor.as_deref(), Some("guard:guard"));
        assert_eq!(e.method, Some(gatehouse_core::Method::Guard));
        assert_eq!(e.door.as_deref(), Some("gate-north"));
    }
    assert_eq!(
        granted["event"],
        access[0].id.as_str(),
        "the verdict names its durable event"
    );
    let lookups = events
        .iter()
        .filter(|e| e.kind == Kind::Admin && e.action.as_deref() == Some("guard_lookup"))
        .count();
    assert_eq!(
        lookups, 1,
        "showing the holder is recorded; an unknown pass shows nobody"
    );

    let (status, refused) = guard
        .send(
            "POST",
            "/api/guard/check",
            Some(json!({"door": "no-such-door", "pass": "P-000123"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        refused["message"].as_str().unwrap().contains("choose"),
        "{refused}"
    );

    let manual = guard
        .post(
            "/api/guard/manual",
            json!({"door": "gate-north", "note": "快递员，无证", "temperature": 36.6}),
        )
        .await;
    assert_eq!(manual["reason"], "manual_entry");
    let (status, _) = guard
        .send(
            "POST",
            "/api/guard/manual",
            Some(json!({"door": "gate-north", "note": " "})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a manual entry needs a note"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn visitors_get_qr_passes_from_the_guard_or_after_self_registration() {
    let estate = support::estate().await;
    let router = routes::router(estate.app.clone());
    let guard = Client::sign_in(&router, "guard").await;

    let issued = guard
        .post("/api/guard/visitors", json!({"name": "赵访客", "phone": "137 0000 1111", "host_household": "18-2-501", "reason": "探亲"}))
        .await;
    assert!(issued["pass"].as_str().unwrap().starts_with("V-"));
    assert!(issued["qr_svg"].as_str().unwrap().contains("<svg"));
    let (status, bad) = guard
        .send(
            "POST",
            "/api/guard/visitors",
            Some(json!({"name": "x", "phone": "12345", "host_household": "18-2-501"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");

    // Self-registration: public, answers a ticket and nothing else.
    let public = |body: Value| {
        Request::post("/api/visit")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    let res = router
        .clone()
        .oneshot(public(json!({"name": "钱自助", "phone": "13600002222", "host_household": "18-2-501", "reason": "送货"})))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let ticket: Value = serde_json::from_slice(
        &axum::body::to_bytes(res.into_body(), 1 << 20)
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        ticket.as_object().unwrap().len(),
        1,
        "only a ticket comes back: {ticket}"
    );
    let ticket = ticket["ticket"].as_str().unwrap().to_string();
    let status_of = || async {
        let res = router
            .clone()
            .oneshot(
                Request::get(format!("/api/visit/{ticket}"))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        let v: Value = serde_json::from_slice(
            &axum::body::to_bytes(res.into_body(), 1 << 22)
                .await
                .unwrap(),
        )
        .unwrap();
        v
    };
    assert_eq!(status_of().await["status"], "pending");
    let unknown_host = router
        .clone()
        .oneshot(public(
            json!({"name": "孙", "phone": "13600003333", "host_household": "99-9-999"}),
        ))
        .await
        .unwrap();
    assert_eq!(unknown_host.status(), StatusCode::BAD_REQUEST);

    let pending = guard.get("/api/guard/pending").await;
    let pending = pending.as_array().unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0]["phone_masked"], "136********");
    let id = pending[0]["id"].as_str().unwrap();
    let approved = guard
        .post(&format!("/api/guard/pending/{id}/approve"), json!({}))
        .await;
    let seen = status_of().await;
    assert_eq!(seen["status"], "approved");
    assert_eq!(seen["pass"], approved["pass"]);
    assert!(seen["qr_svg"].as_str().unwrap().contains("<svg"));
    assert!(
        !seen.to_string().contains("13600002222") && !seen.to_string().contains("钱自助"),
        "nothing personal: {seen}"
    );
    let (status, _) = guard
        .send(
            "POST",
            &format!("/api/guard/pending/{id}/refuse"),
            Some(json!({})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a decided request stays decided"
    );

    let log = serde_json::to_string(&all_events(&estate)).unwrap();
    for phone in ["13700001111", "13600002222", "13812345678"] {
        assert!(!log.contains(phone), "phone {phone} reached the log");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_office_locks_down_a_building_and_lifts_it_and_searches_and_exports_events() {
    let estate = support::estate().await;
    let router = routes::router(estate.app.clone());
    let office = Client::sign_in(&router, "office").await;
    let mut live = estate.gateway.live();

    let (status, _) = office
        .send(
            "POST",
            "/api/lockdown",
            Some(json!({"zone": "bldg-18", "mode": "closed", "reason": "夜间封楼"})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a lockdown needs its confirmation"
    );
    office
        .post(
            "/api/lockdown",
            json!({"zone": "bldg-18", "mode": "closed", "reason": "夜间封楼", "confirm": true}),
        )
        .await;
    let doors = office.get("/api/doors").await;
    let mode_of = |doors: &Value, id: &str| {
        doors["doors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["id"] == id)
            .unwrap()["mode"]
            .clone()
    };
    assert_eq!(mode_of(&doors, "door-18"), "locked_down");
    assert_eq!(
        mode_of(&doors, "gate-north"),
        "normal",
        "a building's lockdown leaves the area's gate alone"
    );
    assert_eq!(doors["lockdowns"][0]["zone"], "bldg-18");
    assert!(live.has_changed().unwrap(), "the live feed saw the change");
    live.mark_unchanged();
    office
        .post(
            "/api/lockdown/lift",
            json!({"zone": "bldg-18", "confirm": true}),
        )
        .await;
    assert_eq!(
        mode_of(&office.get("/api/doors").await, "door-18"),
        "normal"
    );

    let found = office.get("/api/events?kind=mode").await;
    let modes: Vec<&str> = found["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["mode"].as_str())
        .collect();
    assert_eq!(modes, ["lifted", "closed"], "newest first");
    let (status, _) = office.send("GET", "/api/events?from=yesterday", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let csv = office.csv("/api/events.csv?kind=mode").await;
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("\u{feff}seq,id,at,kind"),
        "a BOM first, for Excel"
    );
    assert!(lines[0].ends_with(",说明"));
    assert!(
        lines[2].ends_with("门模式 · 已解封"),
        "each row in the office's words: {}",
        lines[2]
    );
    assert_eq!(
        lines.len(),
        3,
        "header and two mode events, oldest first: {csv}"
    );
    assert!(lines[1].contains("closed") && lines[2].contains("lifted"));
    let exports = all_events(&estate)
        .iter()
        .filter(|e| e.action.as_deref() == Some("export_events"))
        .count();
    assert_eq!(exports, 1, "the export is recorded");

    let people = office.get("/api/people?q=18-2-501").await;
    assert_eq!(people.as_array().unwrap().len(), 2);
    assert!(!people.to_string().contains("13812345678"));
    office
        .post(
            "/api/passes/P-000123/status",
            json!({"status": "suspended", "note": "lost wallet"}),
        )
        .await;
    let guard = Client::sign_in(&router, "guard").await;
    let refused = guard
        .post(
            "/api/guard/check",
            json!({"door": "gate-north", "pass": "P-000123", "pin": "5678"}),
        )
        .await;
    assert_eq!(refused["reason"], "pass_suspended");
    let table = office.get("/api/buildings/bldg-18/households").await;
    assert_eq!(table["households"][0]["household"], "18-2-501");
    assert_eq!(
        table["households"][0]["members"][0]["phone_masked"],
        "138****5678"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_read_at_the_guards_door_reaches_the_guard_screen_without_personal_data() {
    use futures::StreamExt;
    use gatehouse_core::io::{AccessPoint, AccessRequest, Credential, Input, Reply};
    let estate = support::estate().await;
    let router = routes::router(estate.app.clone());
    let guard = Client::sign_in(&router, "guard").await;
    let req = Request::get("/api/live")
        .header(header::COOKIE, &guard.cookie)
        .body(Body::empty())
        .unwrap();
    let res = router.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let mut body = res.into_body().into_data_stream();

    // The desk reader is a reader of the guard's door; the door wants the phone digits.
    let replies = estate
        .gateway
        .submit(Input::Access(AccessRequest {
            point: AccessPoint::Reader("r-north-in".into()),
            credential: Credential::Card("04A1B2C3".parse().unwrap()),
            pin: None,
            requested_at: None,
            actor: None,
            source: "test".into(),
        }))
        .await
        .unwrap();
    assert!(
        matches!(&replies[..], [Reply::Access(r)] if r.need_pin),
        "{replies:?}"
    );

    let mut text = String::new();
    let swipe = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while let Some(chunk) = body.next().await {
            text.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
            if let Some(at) = text.find("event: swipe\ndata: ")
                && let Some(end) = text[at..].find("\n\n")
            {
                return text[at + "event: swipe\ndata: ".len()..at + end].to_string();
            }
        }
        panic!("the live feed ended without a swipe: {text}");
    })
    .await
    .expect("the swipe reaches the guard screen");
    let swipe: Value = serde_json::from_str(&swipe).unwrap();
    assert_eq!(
        swipe,
        json!({"door": "gate-north", "reader": "r-north-in", "pass": "P-000123"})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_office_holds_a_door_open_until_a_time() {
    let estate = support::estate().await;
    let router = routes::router(estate.app.clone());
    let office = Client::sign_in(&router, "office").await;
    let mode_of = |doors: &Value| {
        doors["doors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["id"] == "door-18")
            .unwrap()["mode"]
            .clone()
    };

    let past = "2020-01-01T00:00:00Z";
    let (status, refused) = office
        .send(
            "POST",
            "/api/doors/door-18/control",
            Some(json!({"action": "hold_open", "until": past})),
        )
        .await;
    assert_ne!(status, StatusCode::OK);
    assert!(
        refused.to_string().contains("not in the future"),
        "{refused}"
    );
    assert_eq!(mode_of(&office.get("/api/doors").await), "normal");

    let until = (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1)).to_string();
    office
        .post(
            "/api/doors/door-18/control",
            json!({"action": "hold_open", "until": until}),
        )
        .await;
    assert_eq!(mode_of(&office.get("/api/doors").await), "held_open");
    let held = all_events(&estate)
        .into_iter()
        .rfind(|e| e.kind == Kind::Mode && e.door.as_deref() == Some("door-18"))
        .unwrap();
    assert!(
        held.detail
            .as_deref()
            .unwrap()
            .contains("held open by the office until"),
        "{held:?}"
    );
    office
        .post("/api/doors/door-18/control", json!({"action": "lock"}))
        .await;
    assert_eq!(mode_of(&office.get("/api/doors").await), "normal");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn head_counts_are_open_to_readers_and_each_view_of_who_is_inside_is_logged() {
    use gatehouse_web::{OccupancyNow, OccupancyQuery, WebOptions};
    // The daemon's live tracker stands behind this hook; here a scripted one that says what
    // it was asked.
    let hook: OccupancyNow = std::sync::Arc::new(|query| {
        Box::pin(async move {
            Ok(match query {
                OccupancyQuery::HeadCounts => {
                    json!({"as_of": null, "site": 1, "zones": [{"zone": "bldg-18", "inside_now": 1}]})
                }
                OccupancyQuery::Inside { zone } => json!({"zone": zone, "inside": [
                    {"person": "R-1", "household": "18-2-501", "zone": "bldg-18", "since": "2026-11-22T19:00:00.000+08:00", "pass": "P-000123"}
                ]}),
            })
        })
    });
    let estate = support::estate_with(WebOptions {
        occupancy: Some(hook),
        ..WebOptions::default()
    })
    .await;
    let router = routes::router(estate.app.clone());
    let auditor = Client::sign_in(&router, "auditor").await;
    let logged = |estate: &support::Estate| {
        all_events(estate)
            .into_iter()
            .filter(|e| e.kind == Kind::Admin && e.action.as_deref() == Some("view_inside_now"))
            .collect::<Vec<_>>()
    };

    let counts = auditor.get("/api/occupancy").await;
    assert_eq!(counts["site"], 1, "{counts}");
    assert!(
        logged(&estate).is_empty(),
        "counts are no personal data and are not logged"
    );

    let inside = auditor.get("/api/occupancy/inside?zone=bldg-18").await;
    assert_eq!(
        inside["zone"], "bldg-18",
        "the zone reaches the tracker: {inside}"
    );
    assert_eq!(inside["inside"][0]["pass"], "P-000123");
    let views = logged(&estate);
    assert_eq!(views.len(), 1, "one admin event per view");
    assert_eq!(views[0].actor.as_deref(), Some("auditor:auditor"));
    assert_eq!(views[0].object.as_deref(), Some("bldg-18"));

    let (status, refused) = auditor
        .send("GET", "/api/occupancy/inside?zone=bldg-99", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{refused}");
    assert!(refused["message"].as_str().unwrap().contains("bldg-99"));
    assert_eq!(
        logged(&estate).len(),
        1,
        "nothing was shown, nothing logged"
    );

    // Without the daemon's tracker the routes say so and what to use instead.
    let bare = support::estate().await;
    let office = Client::sign_in(&routes::router(bare.app.clone()), "office").await;
    let (status, missing) = office.send("GET", "/api/occupancy", None).await;
    assert_eq!(status, StatusCode::NOT_IMPLEMENTED);
    assert!(
        missing["message"]
            .as_str()
            .unwrap()
            .contains("report occupancy"),
        "{missing}"
    );
}

/// Every path by which a phone number typed at the console reached the log, MQTT or an export:
/// a people search by phone (the view's `object`), an event search (`q=`), a guard's note.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phone_numbers_typed_at_the_console_are_masked_in_events_and_exports() {
    let estate = support::estate().await;
    let router = routes::router(estate.app.clone());
    let office = Client::sign_in(&router, "office").await;
    let guard = Client::sign_in(&router, "guard").await;
    for q in [
        "13912345678",
        "139-0000-1213",
        "+86 139 0000 1214",
        "１３９８７６５４３２１",
    ] {
        let q: String = q.bytes().map(|b| format!("%{b:02X}")).collect();
        office.get(&format!("/api/people?q={q}")).await;
        office.get(&format!("/api/events?q={q}")).await;
    }
    guard
        .post(
            "/api/guard/manual",
            json!({"door": "gate-north", "note": "delivery, called 13987654321 and 139 0000 1215"}),
        )
        .await;
    let csv = office.csv("/api/events.csv").await;
    let log = serde_json::to_string(&all_events(&estate)).unwrap();
    for leak in [
        "13912345678",
        "0000-1213",
        "0000 1214",
        "１３９８７６５４３２１",
        "13987654321",
        "0000 1215",
    ] {
        assert!(!log.contains(leak), "{leak} in the log: {log}");
        assert!(!csv.contains(leak), "{leak} in the CSV export: {csv}");
    }
    for masked in [
        "139****5678",
        "139****1213",
        "139****1214",
        "139****4321",
        "139****1215",
    ] {
        assert!(log.contains(masked), "{masked} not in the log: {log}");
    }
    assert!(
        csv.contains("139****4321"),
        "the note is exported masked: {csv}"
    );
}

fn from(addr: [u8; 4], mut req: Request<Body>) -> Request<Body> {
    let addr = std::net::SocketAddr::from((addr, 40000));
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(addr));
    req
}

async fn sign_in_from(router: &axum::Router, addr: [u8; 4], password: &str) -> StatusCode {
    let body = json!({"user": "admin", "password": password}).to_string();
    let req = Request::post("/api/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap();
    router
        .clone()
        .oneshot(from(addr, req))
        .await
        .unwrap()
        .status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_passwords_from_one_address_do_not_lock_the_admin_out_of_another() {
    let estate = support::estate().await;
    let router = routes::router(estate.app.clone());
    let attacker = [203, 0, 113, 9];
    for _ in 0..gatehouse_web::limiter::MAX_FAILURES {
        assert_eq!(
            sign_in_from(&router, attacker, "wrong-password").await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        sign_in_from(&router, attacker, support::PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS,
        "the failing address is locked for this name"
    );
    assert_eq!(
        sign_in_from(&router, [192, 168, 1, 20], support::PASSWORD).await,
        StatusCode::OK,
        "the admin at the office desk signs in"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_admin_cannot_demote_itself() {
    let estate = support::estate().await;
    let router = routes::router(estate.app.clone());
    let admin = Client::sign_in(&router, "admin").await;
    let (status, body) = admin
        .send(
            "POST",
            "/api/users",
            Some(json!({"name": "admin", "role": "guard", "password": "long-enough-1"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"], "last_admin", "{body}");
    assert_eq!(
        estate.app.users.verify("admin", support::PASSWORD),
        Some(gatehouse_web::Role::Admin)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_cannot_be_framed_api_answers_are_not_cached_and_other_origins_change_nothing() {
    let estate = support::estate().await;
    let router = routes::router(estate.app.clone());
    let office = Client::sign_in(&router, "office").await;
    for path in ["/login", "/api/doors"] {
        let req = Request::get(path)
            .header(header::COOKIE, &office.cookie)
            .body(Body::empty())
            .unwrap();
        let res = router.clone().oneshot(req).await.unwrap();
        assert_eq!(res.headers()[header::X_FRAME_OPTIONS], "DENY", "{path}");
        if path.starts_with("/api/") {
            assert_eq!(res.headers()[header::CACHE_CONTROL], "no-store", "{path}");
        }
    }
    let lockdown = |origin: &str| {
        Request::post("/api/lockdown")
            .header(header::HOST, "gate.example:8443")
            .header(header::ORIGIN, origin)
            .header(header::COOKIE, &office.cookie)
            .header(sessions::CSRF_HEADER, &office.csrf)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                json!({"zone": "bldg-18", "mode": "closed", "reason": "test", "confirm": true})
                    .to_string(),
            ))
            .unwrap()
    };
    let res = router
        .clone()
        .oneshot(lockdown("https://evil.example"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(
        estate
            .app
            .gateway
            .read(|core| core.lockdowns().is_empty())
            .await
            .unwrap(),
        "nothing changed"
    );
    let res = router
        .clone()
        .oneshot(lockdown("https://gate.example:8443"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "the console's own origin");
}
