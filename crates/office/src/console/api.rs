//! The district console's routes: its pages, and the JSON API behind them
//! (docs/district.md#the-console lists them). Errors are the estate console's JSON form
//! `{"error": code, "message": words}`.

use super::Console;
use super::access::{Officer, Reader, caller};
use crate::orders::{self, NewOrder, OrderError};
use crate::views;
use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use gatehouse_web::api::auth::{Login, sign_in, sign_out};
use gatehouse_web::api::{ApiError, ClientIp};
use serde::Deserialize;

type ApiResult<T> = Result<Json<T>, ApiError>;

/// Every route of the district console.
pub fn router(console: Console) -> Router {
    let router = Router::new()
        .route("/", get(home))
        .route("/login", get(gatehouse_web::pages::login))
        .route("/district", get(page))
        .route("/static/{file}", get(asset))
        .route("/api/login", post(login))
        .route("/api/logout", post(logout))
        .route("/api/me", get(me))
        .route("/api/words", get(gatehouse_web::words::serve))
        .route("/api/district/estates", get(estates))
        .route("/api/district/alarms", get(alarms))
        .route("/api/district/orders", get(list_orders).post(order))
        .route("/api/district/orders/{id}", get(one_order))
        .route("/api/district/search", get(search))
        .route("/api/district/headcounts", get(head_counts))
        .route("/api/district/report.html", get(report_html))
        .route("/api/district/report.xlsx", get(report_xlsx))
        .route("/api/district/audit", get(audit))
        .fallback(|| async {
            ApiError::not_found("No such page or API route: check the address.").into_response()
        });
    gatehouse_web::routes::harden(router).with_state(console)
}

fn db_error(e: impl std::fmt::Display) -> ApiError {
    tracing::warn!(error = %e, "District console: database request failed.");
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "database",
        "The office's database did not answer: try again in a moment; if it persists, check that PostgreSQL runs.",
    )
}

async fn home(State(console): State<Console>, req: Request) -> Redirect {
    match caller(&console, req.headers()) {
        Some(_) => Redirect::to("/district"),
        None => Redirect::to("/login"),
    }
}

async fn page(State(console): State<Console>, req: Request) -> Response {
    match caller(&console, req.headers()) {
        Some(_) => Html(include_str!("../../static/district.html")).into_response(),
        None => Redirect::to("/login").into_response(),
    }
}

/// The estate console's shared assets, and the district page's script.
async fn asset(Path(file): Path<String>) -> Response {
    if file == "district.js" {
        return (
            [
                (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            include_str!("../../static/district.js"),
        )
            .into_response();
    }
    if !matches!(file.as_str(), "app.css" | "common.js" | "login.js") {
        return ApiError::not_found("No such file.").into_response();
    }
    gatehouse_web::pages::asset(Path(file)).await
}

#[derive(serde::Serialize)]
struct Me {
    user: String,
    role: &'static str,
    csrf: String,
    home: &'static str,
}

/// Signs in like the estate console (same throttles and cookies); guards are refused here.
async fn login(
    State(console): State<Console>,
    ClientIp(ip): ClientIp,
    Json(body): Json<Login>,
) -> Result<Response, ApiError> {
    let check = console.clone();
    sign_in(
        &console.sessions,
        &console.limiter,
        ip,
        body,
        move |name, password| check.users.verify(name, password),
        |role| match role {
            gatehouse_web::Role::Guard => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Guards have no screen in the district console: use your estate's checkpoint screen.",
            )),
            _ => Ok("/district"),
        },
    )
    .await
}

async fn logout(State(console): State<Console>, headers: HeaderMap) -> Response {
    sign_out(&console.sessions, &headers)
}

async fn me(Reader(c): Reader) -> ApiResult<Me> {
    Ok(Json(Me {
        user: c.user.clone(),
        role: c.role.as_str(),
        csrf: c.csrf.clone(),
        home: "/district",
    }))
}

async fn estates(State(console): State<Console>, _: Reader) -> ApiResult<Vec<views::Estate>> {
    let db = console.db.get().await.map_err(db_error)?;
    Ok(Json(views::estates(&db).await.map_err(db_error)?))
}

async fn alarms(State(console): State<Console>, _: Reader) -> ApiResult<Vec<views::Alarm>> {
    let db = console.db.get().await.map_err(db_error)?;
    Ok(Json(views::alarms(&db).await.map_err(db_error)?))
}

#[derive(Deserialize)]
struct Limit {
    #[serde(default)]
    limit: Option<i64>,
}

async fn list_orders(
    State(console): State<Console>,
    _: Reader,
    Query(q): Query<Limit>,
) -> ApiResult<Vec<views::Order>> {
    let db = console.db.get().await.map_err(db_error)?;
    let limit = q.limit.unwrap_or(20).clamp(1, 200);
    Ok(Json(
        views::orders(&db, limit, None).await.map_err(db_error)?,
    ))
}

async fn one_order(
    State(console): State<Console>,
    _: Reader,
    Path(id): Path<i64>,
) -> ApiResult<views::Order> {
    let db = console.db.get().await.map_err(db_error)?;
    views::orders(&db, 1, Some(id))
        .await
        .map_err(db_error)?
        .pop()
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("No district order {id}: check the number.")))
}

/// Makes an order: checks it, signs one command per estate, writes them, sends them; the
/// re-sending and the answers are [`orders::run`]'s.
async fn order(
    State(console): State<Console>,
    Officer(c): Officer,
    Json(new): Json<NewOrder>,
) -> Result<(StatusCode, Json<views::Order>), ApiError> {
    let db = console.db.get().await.map_err(db_error)?;
    let known = views::known_sites(&db).await.map_err(db_error)?;
    let refuse = |e: OrderError| match e {
        OrderError::Db(e) => db_error(e),
        other => ApiError::invalid("bad_order", format!("{other}.")),
    };
    orders::check(&new, &known).map_err(refuse)?;
    let actor = c.actor();
    let (id, commands) = {
        let _one_at_a_time = console.ordering.lock().await;
        let made = orders::create(
            &db,
            &new,
            &actor,
            &console.issuer,
            &console.key,
            console.order_valid,
        )
        .await
        .map_err(refuse)?;
        orders::send(&db, &console.nats, &made.1)
            .await
            .map_err(refuse)?;
        made
    };
    let detail = format!(
        "{} {} at {} estate(s): {}{}",
        new.action.as_str(),
        new.zone.as_deref().unwrap_or("site"),
        commands.len(),
        new.sites.join(", "),
        if new.reason.is_empty() {
            String::new()
        } else {
            format!(" ({})", gatehouse_core::phone::mask_phones(&new.reason))
        }
    );
    views::audit(&db, &actor, "order", &detail)
        .await
        .map_err(db_error)?;
    tracing::info!(order = id, by = %actor, estates = commands.len(), "District order sent.");
    let made = views::orders(&db, 1, Some(id)).await.map_err(db_error)?;
    let order = made
        .into_iter()
        .next()
        .ok_or_else(|| db_error("the new order was not found"))?;
    Ok((StatusCode::CREATED, Json(order)))
}

#[derive(Deserialize)]
struct SearchQuery {
    q: String,
}

/// The district search; each one is audited before it is answered.
async fn search(
    State(console): State<Console>,
    Reader(c): Reader,
    Query(query): Query<SearchQuery>,
) -> ApiResult<Vec<views::Found>> {
    let q = views::check_query(&query.q).map_err(|why| ApiError::invalid("bad_query", why))?;
    let db = console.db.get().await.map_err(db_error)?;
    let masked = gatehouse_core::phone::mask_phones(q);
    views::audit(&db, &c.actor(), "search", &masked)
        .await
        .map_err(db_error)?;
    Ok(Json(views::search(&db, q).await.map_err(db_error)?))
}

async fn head_counts(State(console): State<Console>, _: Reader) -> ApiResult<views::HeadCounts> {
    let db = console.db.get().await.map_err(db_error)?;
    Ok(Json(views::head_counts(&db).await.map_err(db_error)?))
}

async fn report_html(
    State(console): State<Console>,
    Reader(c): Reader,
) -> Result<Response, ApiError> {
    let db = console.db.get().await.map_err(db_error)?;
    let counts = views::head_counts(&db).await.map_err(db_error)?;
    views::audit(&db, &c.actor(), "report", "head counts (HTML)")
        .await
        .map_err(db_error)?;
    // The report is a page of its own (printed, saved): its style sits inside it.
    Ok((
        [(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        )],
        Html(super::report::html(&counts, jiff::Timestamp::now())),
    )
        .into_response())
}

async fn report_xlsx(
    State(console): State<Console>,
    Reader(c): Reader,
) -> Result<Response, ApiError> {
    let db = console.db.get().await.map_err(db_error)?;
    let counts = views::head_counts(&db).await.map_err(db_error)?;
    views::audit(&db, &c.actor(), "report", "head counts (XLSX)")
        .await
        .map_err(db_error)?;
    let bytes = super::report::xlsx(&counts, jiff::Timestamp::now()).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("The spreadsheet could not be made ({e}); try the HTML report."),
        )
    })?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"district-headcounts.xlsx\"",
            ),
        ],
        bytes,
    )
        .into_response())
}

#[derive(serde::Serialize)]
struct AuditLine {
    at: String,
    actor: String,
    action: String,
    detail: String,
}

async fn audit(
    State(console): State<Console>,
    _: Reader,
    Query(q): Query<Limit>,
) -> ApiResult<Vec<AuditLine>> {
    let db = console.db.get().await.map_err(db_error)?;
    let limit = q.limit.unwrap_or(50).clamp(1, 500);
    Ok(Json(
        views::audit_log(&db, limit)
            .await
            .map_err(db_error)?
            .into_iter()
            .map(|(at, actor, action, detail)| AuditLine {
                at,
                actor,
                action,
                detail,
            })
            .collect(),
    ))
}
