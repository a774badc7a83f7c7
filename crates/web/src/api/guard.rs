//! The guard's checkpoint. The flow, one person at a time:
//!
//! 1. `lookup`: the pass number (typed, scanned, or swiped on a desk reader that types like a
//!    keyboard) shows who holds the pass: name, household, masked phone, pass status. Showing
//!    it is recorded (`admin` event `guard_lookup`).
//! 2. `check`: the digits the person says are submitted with the pass as a `guard` access
//!    request at the guard's door. The core decides and records the event; on a grant it
//!    releases the door once that event is durable. So the tap that submits the digits is the
//!    one tap that opens the gate, and no gate opens without its record.
//! 3. `manual`: a person without a pass let in by hand, with a note and an optional
//!    temperature (`manual_entry`).
//!
//! Visitors: the guard registers one (`register_visitor`) and gets a QR pass at once, or
//! approves or refuses a self-registration (`pending`, `approve`, `refuse`).

use super::{ApiError, ApiResult, DONE, Done, viewed};
use crate::app::App;
use crate::qr;
use crate::sessions::Caller;
use crate::visitors::State as Request;
use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use gatehouse_core::estate::{Pass, PassStatus, Person, Role as PersonRole, VisitorGrant};
use gatehouse_core::io::{
    AccessPoint, AccessRequest, Admin, Credential, HolderView, Input, ManualEntry, Reply,
};
use gatehouse_core::{Direction, Reason, phone};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
pub struct LookupBody {
    pub pass: String,
}

#[derive(Serialize)]
pub struct Lookup {
    pub found: bool,
    pub pass: String,
    /// `active`, `suspended`, `revoked`, `lost`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<PassStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holder: Option<HolderView>,
    pub visitor: bool,
    /// How many phone digits to ask for.
    pub digits: u8,
    /// How many more wrong digits the pass takes before it is suspended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tries_left: Option<u32>,
}

/// The phone as the guard's screen shows it: the first `head` digits and stars for the rest,
/// so the digits the guard asks for (the last ones) are never on the screen. Works on a full
/// number or on one already masked (`138****5678` → `138********`).
pub fn guard_mask(phone: &str, head: usize) -> String {
    phone
        .chars()
        .enumerate()
        .map(|(i, c)| if i < head { c } else { '*' })
        .collect()
}

pub async fn lookup(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Json(body): Json<LookupBody>,
) -> ApiResult<Lookup> {
    let typed = body.pass.trim().to_string();
    if typed.is_empty() {
        return Err(pass_required());
    }
    let key = typed.clone();
    let digits = app.site.phone_digits;
    let head = app.phone_head;
    let directory = app.gateway.directory();
    let found = directory
        .find_pass(&key)
        .map(|pass| (pass.clone(), directory.person(&pass.holder).cloned()));
    // A pass issued a moment ago may not be in the directory yet (it follows the log): the
    // core is asked for that one key, so a guard always finds what the office just issued.
    let found = match found {
        Some(found) => Some(found),
        None => {
            app.gateway
                .read(move |core| {
                    let model = core.model();
                    let pass = model.find_pass(&key)?.clone();
                    let holder = model.person(&pass.holder).cloned();
                    Some((pass, holder))
                })
                .await?
        }
    };
    let found = found.map(|(pass, person)| {
        let holder = person.map(|p| HolderView {
            person: p.id.clone(),
            name: p.name.clone(),
            household: p.household.clone(),
            phone_masked: guard_mask(&p.phone, head),
            pass: pass.id.clone(),
        });
        (pass, holder, digits)
    });
    let Some((pass, holder, digits)) = found else {
        return Ok(Json(Lookup {
            found: false,
            pass: typed,
            status: None,
            holder: None,
            visitor: false,
            digits: 4,
            tries_left: None,
        }));
    };
    // Tries left are the core's live state: one map look-up on its task.
    let tries = {
        let id = pass.id.clone();
        app.gateway
            .read(move |core| core.phone_tries_left(&id, jiff::Timestamp::now()))
            .await?
    };
    if holder.is_some() {
        viewed(&app, caller.actor(), "guard_lookup", pass.id.clone()).await?;
    }
    Ok(Json(Lookup {
        found: true,
        pass: pass.id.clone(),
        status: Some(pass.status),
        holder,
        visitor: pass.visitor.is_some(),
        digits,
        tries_left: Some(tries),
    }))
}

fn pass_required() -> ApiError {
    ApiError::invalid("pass_required", "Type or scan a pass number first.")
}

#[derive(Deserialize)]
pub struct CheckBody {
    pub door: String,
    #[serde(default = "inward")]
    pub direction: Direction,
    pub pass: String,
    /// The digits the person said; none when the pass is refused before any digits are asked.
    #[serde(default)]
    pub pin: Option<String>,
}

fn inward() -> Direction {
    Direction::In
}

/// The verdict the guard's screen shows full-screen.
#[derive(Serialize)]
pub struct Verdict {
    pub grant: bool,
    pub reason: Reason,
    /// The reason in plain words, Chinese and English.
    pub words_zh: &'static str,
    pub words_en: &'static str,
    pub door: String,
    /// The durable event's id (`north-estate:1042`).
    pub event: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holder: Option<HolderView>,
    /// After a phone mismatch: how many more wrong digits before the pass is suspended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tries_left: Option<u32>,
}

pub async fn check(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Json(body): Json<CheckBody>,
) -> ApiResult<Verdict> {
    known_door(&app, &body.door)?;
    let pass = body.pass.trim().to_string();
    if pass.is_empty() {
        return Err(pass_required());
    }
    let pin = body
        .pin
        .map(|p| p.chars().filter(char::is_ascii_digit).collect::<String>())
        .filter(|p| !p.is_empty());
    // Fewer digits than asked is a slip of the finger, not a wrong phone: refused before the
    // core sees it, so it never counts towards suspending the pass.
    if let Some(typed) = &pin {
        let asked = app
            .gateway
            .read(|core| core.model().policy.phone_digits)
            .await?;
        if typed.len() < usize::from(asked) {
            return Err(ApiError::invalid(
                "digits_short",
                format!(
                    "{} digits typed, {asked} asked: ask again and type all {asked}.",
                    typed.len()
                ),
            )
            .with("typed", typed.len())
            .with("n", asked));
        }
    }
    let input = Input::Access(AccessRequest {
        point: AccessPoint::Door {
            door: body.door.clone(),
            direction: body.direction,
        },
        credential: Credential::PassNumber(pass),
        pin,
        requested_at: None,
        actor: Some(caller.actor()),
        source: "web".into(),
    });
    verdict(&app, input).await
}

fn no_verdict() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "no_verdict",
        "The gateway gave no verdict: do not let the person in on this check; try again, or use manual entry with a note.",
    )
}

fn known_door(app: &App, door: &str) -> Result<(), ApiError> {
    match app.site.door(door) {
        Some(_) => Ok(()),
        None => Err(ApiError::invalid(
            "unknown_door",
            format!("Unknown door '{door}': choose the checkpoint's door again."),
        )
        .with("door", door)),
    }
}

#[derive(Deserialize)]
pub struct ManualBody {
    pub door: String,
    #[serde(default = "inward")]
    pub direction: Direction,
    pub note: String,
    #[serde(default)]
    pub temperature: Option<f32>,
}

pub async fn manual(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Json(body): Json<ManualBody>,
) -> ApiResult<Verdict> {
    known_door(&app, &body.door)?;
    let note = body.note.trim().to_string();
    if note.is_empty() {
        return Err(ApiError::invalid(
            "note_required",
            "Write a note: who the person is and why they are let in by hand.",
        ));
    }
    if let Some(t) = body.temperature
        && !(30.0..=45.0).contains(&t)
    {
        return Err(ApiError::invalid(
            "temperature_range",
            format!("{t} °C is not a body temperature: measure again (30–45 °C)."),
        )
        .with("value", f64::from(t)));
    }
    let input = Input::ManualEntry(ManualEntry {
        door: body.door.clone(),
        direction: body.direction,
        actor: caller.actor(),
        note,
        temperature: body.temperature,
    });
    verdict(&app, input).await
}

/// Submits a guard's input and waits for the core's verdict (its event is durable by then).
async fn verdict(app: &App, input: Input) -> ApiResult<Verdict> {
    let replies = app.gateway.submit(input).await?;
    let result = replies
        .into_iter()
        .find_map(|r| match r {
            Reply::Access(a) => Some(a),
            _ => None,
        })
        .ok_or_else(no_verdict)?;
    let (words_zh, words_en) = result.reason.words();
    // Only a mismatch costs a try; the count is read after the core counted this one. A full
    // count right after a mismatch means this one suspended the pass (which clears the count).
    let tries_left = match (&result.reason, &result.holder) {
        (Reason::PhoneMismatch, Some(h)) => {
            let pass = h.pass.clone();
            Some(
                app.gateway
                    .read(move |core| {
                        let left = core.phone_tries_left(&pass, jiff::Timestamp::now());
                        match left == core.model().policy.max_phone_failures {
                            true => 0,
                            false => left,
                        }
                    })
                    .await?,
            )
        }
        _ => None,
    };
    let holder = result.holder.map(|mut h| {
        h.phone_masked = guard_mask(&h.phone_masked, app.phone_head);
        h
    });
    Ok(Json(Verdict {
        grant: result.grant,
        reason: result.reason,
        words_zh,
        words_en,
        door: result.door,
        event: result.event,
        holder,
        tries_left,
    }))
}

#[derive(Deserialize)]
pub struct VisitorBody {
    pub name: String,
    pub phone: String,
    pub host_household: String,
    #[serde(default)]
    pub reason: String,
    /// How long the pass is valid, in hours (default 4, at most 72).
    #[serde(default)]
    pub hours: Option<u32>,
}

#[derive(Serialize)]
pub struct IssuedVisitor {
    pub pass: String,
    pub valid_until: String,
    /// The QR pass as an SVG image.
    pub qr_svg: String,
}

/// Registers a visitor at the gate and issues a QR pass at once.
pub async fn register_visitor(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Json(body): Json<VisitorBody>,
) -> ApiResult<IssuedVisitor> {
    let phone = phone::normalize(&body.phone).map_err(ApiError::from)?;
    let hours = body.hours.unwrap_or(4).clamp(1, 72);
    let issued = issue_visitor(
        &app,
        &caller,
        body.name.trim(),
        phone,
        body.host_household.trim(),
        body.reason.trim(),
        hours,
    )
    .await?;
    Ok(Json(issued))
}

/// Issues a visitor pass for a host household and renders its QR token.
pub(crate) async fn issue_visitor(
    app: &App,
    caller: &Caller,
    name: &str,
    phone: String,
    host: &str,
    reason: &str,
    hours: u32,
) -> Result<IssuedVisitor, ApiError> {
    if name.is_empty() {
        return Err(ApiError::invalid(
            "name_required",
            "Write the visitor's name.",
        ));
    }
    let host_known = {
        let host = host.to_string();
        app.gateway.directory().household(&host).is_some()
    };
    if !host_known {
        return Err(ApiError::invalid(
            "unknown_household",
            format!(
                "No household '{host}': ask the visitor for the building-unit-room they visit (e.g. 18-2-501)."
            ),
        )
        .with("household", host));
    }
    let suffix = crate::users::random_password()[..8].to_ascii_uppercase();
    let pass_id = format!("V-{suffix}");
    let now = jiff::Timestamp::now();
    let until = now + jiff::SignedDuration::from_hours(i64::from(hours));
    let person = Person {
        id: format!("VIS-{suffix}"),
        name: name.to_string(),
        phone,
        household: None,
        role: PersonRole::Visitor,
    };
    let pass = Pass {
        id: pass_id.clone(),
        card: None,
        holder: person.id.clone(),
        valid_from: Some(now),
        valid_until: Some(until),
        status: PassStatus::Active,
        groups: Vec::new(),
        override_modes: false,
        visitor: Some(Box::new(VisitorGrant {
            host_household: host.to_string(),
            entries_allowed: Some(2),
            entries_used: 0,
            reason: (!reason.is_empty()).then(|| reason.to_string()),
        })),
    };
    super::admin(
        app,
        Admin::IssuePass {
            pass,
            person: Some(person),
            actor: caller.actor(),
        },
    )
    .await?;
    let id = pass_id.clone();
    let token = app
        .gateway
        .read(move |core| core.visitor_token(&id))
        .await?
        .map_err(|e| {
            ApiError::refused(format!(
                "The pass was issued but its QR code could not be made: {e}."
            ))
        })?;
    // RFC 3339; the screens show it in local time.
    let valid_until = until.to_string();
    Ok(IssuedVisitor {
        pass: pass_id,
        valid_until,
        qr_svg: qr::svg(&token),
    })
}

#[derive(Serialize)]
pub struct PendingView {
    pub id: String,
    pub name: String,
    pub phone_masked: String,
    pub host_household: String,
    pub reason: String,
    pub at: String,
}

/// Self-registrations waiting for a guard (names and masked phones: recorded as viewed).
pub async fn pending(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Vec<PendingView>> {
    let list = app.visitors.pending();
    if !list.is_empty() {
        viewed(
            &app,
            caller.actor(),
            "visitor_requests",
            format!("{} pending", list.len()),
        )
        .await?;
    }
    Ok(Json(
        list.into_iter()
            .map(|r| PendingView {
                id: r.id,
                name: r.name,
                phone_masked: guard_mask(&r.phone, app.phone_head),
                host_household: r.host_household,
                reason: r.reason,
                at: r.at_text,
            })
            .collect(),
    ))
}

pub async fn approve(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<IssuedVisitor> {
    let request = app.visitors.get_pending(&id).ok_or_else(|| {
        ApiError::not_found("This request is gone or already decided: refresh the list.")
    })?;
    let issued = issue_visitor(
        &app,
        &caller,
        &request.name,
        request.phone,
        &request.host_household,
        &request.reason,
        4,
    )
    .await?;
    app.visitors.decide(
        &id,
        Request::Approved {
            pass: issued.pass.clone(),
            valid_until: issued.valid_until.clone(),
            qr_svg: issued.qr_svg.clone(),
        },
    );
    Ok(Json(issued))
}

#[derive(Deserialize, Default)]
pub struct RefuseBody {
    #[serde(default)]
    pub reason: String,
}

pub async fn refuse(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Done> {
    // The reason is optional, and so is the body.
    let reason = serde_json::from_slice::<RefuseBody>(&body)
        .map(|b| b.reason)
        .unwrap_or_default();
    if !app.visitors.decide(
        &id,
        Request::Refused {
            reason: reason.clone(),
        },
    ) {
        return Err(ApiError::not_found(
            "This request is gone or already decided: refresh the list.",
        ));
    }
    tracing::info!(request = %id, by = %caller.actor(), "Visitor request refused.");
    Ok(Json(DONE))
}
