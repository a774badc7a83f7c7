//! People and passes: search, issue, suspend/restore/revoke/mark lost; the residents import;
//! the per-building household table (楼组表). Phones leave only masked, and every view of
//! personal data is recorded as an `admin` event before it is shown.

use super::{ApiError, ApiResult, DONE, Done, admin, viewed};
use crate::app::{App, ImportReport};
use crate::sessions::Caller;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use gatehouse_core::estate::{Pass, PassStatus, Person, Role as PersonRole};
use gatehouse_core::io::Admin;
use gatehouse_core::{CardNumber, phone, time};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
pub struct SearchQuery {
    /// A name, person id, household, pass number, card number or phone number.
    pub q: String,
}

#[derive(Serialize, Clone)]
pub struct PassView {
    pub id: String,
    pub card: Option<String>,
    pub status: PassStatus,
    pub valid_until: Option<String>,
    pub visitor: bool,
}

#[derive(Serialize, Clone)]
pub struct PersonView {
    pub id: String,
    pub name: String,
    pub phone_masked: String,
    pub household: Option<String>,
    pub role: PersonRole,
    pub passes: Vec<PassView>,
}

/// Most people a search returns.
const MAX_FOUND: usize = 100;

pub async fn search(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<SearchQuery>,
) -> ApiResult<Vec<PersonView>> {
    let q = query.q.trim().to_string();
    if q.chars().count() < 2 {
        return Err(ApiError::invalid(
            "query_short",
            "Type at least two characters of a name, household, pass or phone number.",
        )
        .with("min", 2));
    }
    viewed(&app, caller.actor(), "people_search", q.clone()).await?;
    // Searched on the blocking pool in the directory's latest version: never on the core's
    // task, so a search cannot hold up a swipe.
    let directory = app.gateway.directory();
    let found = tokio::task::spawn_blocking(move || {
        directory
            .search(&q, MAX_FOUND)
            .into_iter()
            .map(|f| PersonView {
                id: f.person.id.clone(),
                name: f.person.name.clone(),
                phone_masked: phone::mask(&f.person.phone),
                household: f.person.household.clone(),
                role: f.person.role,
                passes: f.passes.into_iter().map(pass_view).collect(),
            })
            .collect::<Vec<_>>()
    })
    .await
    .map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("The search stopped unexpectedly: {e}."),
        )
    })?;
    Ok(Json(found))
}

fn pass_view(p: &Pass) -> PassView {
    PassView {
        id: p.id.clone(),
        card: p.card.as_ref().map(ToString::to_string),
        status: p.status,
        valid_until: p.valid_until.map(|t| t.to_string()),
        visitor: p.visitor.is_some(),
    }
}

#[derive(Deserialize)]
pub struct NewPerson {
    pub name: String,
    pub phone: String,
    pub household: Option<String>,
    #[serde(default)]
    pub role: PersonRole,
}

#[derive(Deserialize)]
pub struct IssueBody {
    /// The pass number; made up (`P-…`) when empty.
    #[serde(default)]
    pub pass: Option<String>,
    /// Card number (hex).
    #[serde(default)]
    pub card: Option<String>,
    /// An existing person's id…
    #[serde(default)]
    pub person: Option<String>,
    /// …or a new person.
    #[serde(default)]
    pub new_person: Option<NewPerson>,
    /// A day (`2027-03-31`: the end of that day in the site's zone) or an instant.
    #[serde(default)]
    pub valid_until: Option<String>,
    #[serde(default)]
    pub override_modes: bool,
}

#[derive(Serialize)]
pub struct Issued {
    pub pass: String,
    pub person: String,
}

pub async fn issue(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Json(body): Json<IssueBody>,
) -> ApiResult<Issued> {
    let suffix = crate::users::random_password()[..8].to_ascii_uppercase();
    let pass_id = body
        .pass
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| format!("P-{suffix}"));
    let card =
        match body
            .card
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            None => None,
            Some(text) => Some(CardNumber::parse(text).map_err(|e| {
                ApiError::invalid("card_not_hex", format!("{e}.")).with("card", text)
            })?),
        };
    let valid_until = time::valid_until(body.valid_until.as_deref().unwrap_or(""), &app.site.tz)
        .map_err(|e| {
            ApiError::invalid("not_a_date", format!("valid_until {e}."))
                .with("value", body.valid_until.as_deref().unwrap_or(""))
        })?;
    let (holder, person) = match (body.person, body.new_person) {
        (Some(id), None) => {
            if app.gateway.directory().person(&id).is_none() {
                return Err(ApiError::invalid(
                    "unknown_person",
                    format!("No person '{id}': search for them first, or register a new person."),
                )
                .with("person", id.clone()));
            }
            (id, None)
        }
        (None, Some(new)) => {
            let phone = phone::normalize(&new.phone).map_err(ApiError::from)?;
            if new.name.trim().is_empty() {
                return Err(ApiError::invalid(
                    "name_required",
                    "Write the new person's name.",
                ));
            }
            let id = format!("R-{suffix}");
            (
                id.clone(),
                Some(Person {
                    id,
                    name: new.name.trim().to_string(),
                    phone,
                    household: new.household,
                    role: new.role,
                }),
            )
        }
        _ => {
            return Err(ApiError::invalid(
                "person_or_new",
                "Give either an existing person's id or a new person, not both.",
            ));
        }
    };
    let pass = Pass {
        id: pass_id.clone(),
        card,
        holder: holder.clone(),
        valid_from: None,
        valid_until,
        status: PassStatus::Active,
        groups: Vec::new(),
        override_modes: body.override_modes,
        visitor: None,
    };
    admin(
        &app,
        Admin::IssuePass {
            pass,
            person,
            actor: caller.actor(),
        },
    )
    .await?;
    Ok(Json(Issued {
        pass: pass_id,
        person: holder,
    }))
}

#[derive(Deserialize)]
pub struct StatusBody {
    /// `active` (restore), `suspended`, `revoked`, `lost`.
    pub status: PassStatus,
    #[serde(default)]
    pub note: Option<String>,
}

pub async fn set_status(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Path(pass): Path<String>,
    Json(body): Json<StatusBody>,
) -> ApiResult<Done> {
    admin(
        &app,
        Admin::SetPassStatus {
            pass,
            status: body.status,
            actor: caller.actor(),
            note: body.note,
        },
    )
    .await?;
    Ok(Json(DONE))
}

#[derive(Deserialize)]
pub struct ImportQuery {
    /// The file's name (`residents.xlsx`): its extension says CSV or XLSX.
    pub file: String,
}

/// Takes a residents file (CSV or XLSX) and hands it to the daemon's import, which writes all
/// or nothing and lists every bad row.
pub async fn import_residents(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<ImportQuery>,
    body: Bytes,
) -> ApiResult<ImportReport> {
    let Some(import) = app.options.import_residents.clone() else {
        return Err(ApiError::new(
            StatusCode::NOT_IMPLEMENTED,
            "no_import",
            "This gateway's console cannot import files: use `gatehouse import residents FILE` on the gateway.",
        ));
    };
    if body.is_empty() {
        return Err(ApiError::invalid(
            "file_empty",
            "The file is empty: choose the residents file again.",
        ));
    }
    let report = import(query.file, body.to_vec(), caller.actor())
        .await
        .map_err(|e| {
            ApiError::new(
                StatusCode::CONFLICT,
                "import_failed",
                format!("Import failed: {e}"),
            )
            .with("detail", e)
        })?;
    Ok(Json(report))
}

#[derive(Serialize)]
pub struct HouseholdRow {
    pub household: String,
    pub zone: String,
    pub tenure: String,
    pub members: Vec<MemberRow>,
}

#[derive(Serialize)]
pub struct MemberRow {
    pub name: String,
    pub phone_masked: String,
    pub role: PersonRole,
    pub passes: usize,
}

#[derive(Serialize)]
pub struct BuildingTable {
    pub zone: String,
    pub name: String,
    pub households: Vec<HouseholdRow>,
    /// The occupancy report's table for the building (observed occupancy), when the daemon
    /// provides it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report_html: Option<String>,
}

/// Every household of a building (or any zone) with its members and masked phones.
pub async fn building_table(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Path(zone): Path<String>,
) -> ApiResult<BuildingTable> {
    let Some(info) = app.site.zone(&zone).cloned() else {
        return Err(ApiError::not_found(format!(
            "Unknown zone '{zone}': choose a building from the list."
        ))
        .with("zone", zone.clone()));
    };
    viewed(&app, caller.actor(), "building_table", zone.clone()).await?;
    let z = zone.clone();
    let directory = app.gateway.directory();
    let households = tokio::task::spawn_blocking(move || {
        directory
            .households_within(&z)
            .into_iter()
            .map(|h| HouseholdRow {
                household: h.id.clone(),
                zone: h.zone.clone(),
                tenure: crate::app::wire_name(&h.tenure),
                members: directory
                    .members(&h.id)
                    .into_iter()
                    .map(|p| MemberRow {
                        name: p.name.clone(),
                        phone_masked: phone::mask(&p.phone),
                        role: p.role,
                        passes: directory.passes_of(&p.id).len(),
                    })
                    .collect(),
            })
            .collect::<Vec<_>>()
    })
    .await
    .map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("The table stopped unexpectedly: {e}."),
        )
    })?;
    let report_html = match app.options.building_table.clone() {
        Some(render) => render(zone.clone()).await.ok(),
        None => None,
    };
    Ok(Json(BuildingTable {
        zone,
        name: info.name,
        households,
        report_html,
    }))
}
