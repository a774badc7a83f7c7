//! Live occupancy for the office console: head counts per zone (no personal data), and who
//! is inside now (personal data: each view is recorded as an `admin` event before it is
//! shown). The counts come from the daemon's live tracker, which applies the occupancy
//! report's rules to every durable event (docs/occupancy.md, "Live head counts").

use super::{ApiError, ApiResult, viewed};
use crate::app::{App, OccupancyQuery};
use crate::sessions::Caller;
use axum::Json;
use axum::extract::{Extension, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct InsideQuery {
    /// A zone id: list only who is in it or in a zone within it.
    pub zone: Option<String>,
}

async fn ask(app: &App, query: OccupancyQuery) -> ApiResult<serde_json::Value> {
    let Some(occupancy) = app.options.occupancy.clone() else {
        return Err(ApiError::new(
            StatusCode::NOT_IMPLEMENTED,
            "not_available",
            "Live occupancy is not running in this gateway; use the occupancy report (gatehouse report occupancy) instead.",
        ));
    };
    occupancy(query).await.map(Json).map_err(|e| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "occupancy_unavailable",
            format!("Live occupancy could not answer ({e}); try again in a minute."),
        )
    })
}

/// `{"as_of", "site", "zones": [{"zone", "inside_now"}]}`: people inside now, per zone.
pub async fn head_counts(State(app): State<App>) -> ApiResult<serde_json::Value> {
    ask(&app, OccupancyQuery::HeadCounts).await
}

/// `{"as_of", "zone", "inside": [{"person", "household", "zone", "since", "pass"}]}`.
pub async fn inside(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<InsideQuery>,
) -> ApiResult<serde_json::Value> {
    if let Some(zone) = &query.zone
        && app.site.zone(zone).is_none()
    {
        return Err(ApiError::not_found(format!(
            "Unknown zone '{zone}': choose one from the head-count table, or leave it out for the whole estate."
        )));
    }
    let object = query.zone.clone().unwrap_or_else(|| "site".into());
    viewed(&app, caller.actor(), "view_inside_now", object).await?;
    ask(&app, OccupancyQuery::Inside { zone: query.zone }).await
}
