//! Event search, export (CSV) and the alarm list, read from the store. Searches that follow a
//! person (by person, pass or household) and every export are recorded as `admin` events.

use super::{ApiError, ApiResult, viewed};
use crate::app::App;
use crate::sessions::Caller;
use axum::Json;
use axum::extract::{Extension, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use gatehouse_core::{Event, Kind};
use gatehouse_store::StoreReader;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

#[derive(Deserialize, Default, Clone)]
pub struct Filter {
    /// An event kind (`access`, `alarm`, …).
    pub kind: Option<String>,
    pub door: Option<String>,
    pub person: Option<String>,
    pub pass: Option<String>,
    pub household: Option<String>,
    /// `grant` or `deny`.
    pub decision: Option<String>,
    /// Text found anywhere in the event (actor, detail, reason, ids).
    pub q: Option<String>,
    /// Only events at or after this instant (RFC 3339) or day (`2026-11-22`, from its start
    /// in the site's zone).
    pub from: Option<String>,
    /// Only events before this instant or day.
    pub to: Option<String>,
    /// Only events with a smaller seq (paging back).
    pub before: Option<u64>,
    pub limit: Option<usize>,
}

/// How far back one search reads at most; past it the answer says it stopped.
const MAX_SCAN: u64 = 200_000;
const PAGE: u64 = 1024;

#[derive(Serialize)]
pub struct Found {
    /// Newest first.
    pub events: Vec<Event>,
    /// The search stopped before reaching the first event: page back with `before`.
    pub more: bool,
}

/// An instant, or the start of a day in the site's zone.
fn instant(text: &str, tz: &jiff::tz::TimeZone) -> Result<jiff::Timestamp, ApiError> {
    let t = text.trim();
    t.parse::<jiff::Timestamp>()
        .ok()
        .or_else(|| {
            t.parse::<jiff::civil::Date>()
                .ok()
                .and_then(|d| gatehouse_core::time::start_of_day(d, tz))
        })
        .ok_or_else(|| {
            ApiError::invalid(
                "not_a_time",
                format!("'{text}' is not a time: write 2026-11-22 or 2026-11-22T08:00:00+08:00."),
            )
            .with("value", text)
        })
}

struct Matcher {
    f: Filter,
    from: Option<jiff::Timestamp>,
    to: Option<jiff::Timestamp>,
}

impl Matcher {
    fn new(f: Filter, tz: &jiff::tz::TimeZone) -> Result<Matcher, ApiError> {
        let from = f
            .from
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(|t| instant(t, tz))
            .transpose()?;
        let to =
            f.to.as_deref()
                .filter(|s| !s.is_empty())
                .map(|t| instant(t, tz))
                .transpose()?;
        Ok(Matcher { f, from, to })
    }

    fn matches(&self, e: &Event) -> bool {
        fn eq(want: &Option<String>, have: Option<&str>) -> bool {
            match want.as_deref().filter(|w| !w.is_empty()) {
                None => true,
                Some(w) => have == Some(w),
            }
        }
        let f = &self.f;
        eq(&f.kind, Some(e.kind.as_str()))
            && eq(&f.door, e.door.as_deref())
            && eq(&f.person, e.person.as_deref())
            && eq(&f.pass, e.pass.as_deref())
            && eq(&f.household, e.household.as_deref())
            && eq(
                &f.decision,
                e.decision.map(|d| {
                    if d == gatehouse_core::Decision::Grant {
                        "grant"
                    } else {
                        "deny"
                    }
                }),
            )
            && self.in_window(e)
            && f.q
                .as_deref()
                .filter(|q| !q.is_empty())
                .is_none_or(|q| serde_json::to_string(e).is_ok_and(|j| j.contains(q)))
    }

    fn in_window(&self, e: &Event) -> bool {
        let Some(at) = e.timestamp() else { return true };
        self.from.is_none_or(|f| at >= f) && self.to.is_none_or(|t| at < t)
    }

    /// Older events cannot match any more (the log is in time order).
    fn past_window(&self, e: &Event) -> bool {
        matches!((self.from, e.timestamp()), (Some(f), Some(at)) if at < f)
    }

    fn follows_a_person(&self) -> bool {
        [&self.f.person, &self.f.pass, &self.f.household, &self.f.q]
            .iter()
            .any(|v| v.as_deref().is_some_and(|s| !s.is_empty()))
    }
}

/// Reads back from the newest event (or `before`) until `limit` match.
fn search_store(
    store: &StoreReader,
    m: &Matcher,
    limit: usize,
) -> Result<Found, gatehouse_store::StoreError> {
    let mut end = m.f.before.unwrap_or(u64::MAX).min(store.last_seq() + 1);
    let mut scanned = 0;
    let mut events = Vec::new();
    while end > 1 && scanned < MAX_SCAN {
        let start = end.saturating_sub(PAGE).max(1);
        let page = store.events(start, (end - start) as usize)?;
        scanned += end - start;
        for e in page.into_iter().rev() {
            if m.past_window(&e) {
                return Ok(Found {
                    events,
                    more: false,
                });
            }
            if m.matches(&e) {
                events.push(e);
                if events.len() >= limit {
                    return Ok(Found { events, more: true });
                }
            }
        }
        end = start;
    }
    Ok(Found {
        events,
        more: end > 1,
    })
}

async fn run(
    app: &App,
    filter: Filter,
    default_limit: usize,
    max: usize,
) -> Result<(Matcher, Found), ApiError> {
    let limit = filter.limit.unwrap_or(default_limit).clamp(1, max);
    let m = Matcher::new(filter, &app.site.tz)?;
    let store = app.gateway.store().clone();
    let (m, found) = tokio::task::spawn_blocking(move || {
        let found = search_store(&store, &m, limit);
        (m, found)
    })
    .await
    .map_err(|_| ApiError::bad_request("The search failed; narrow it and try again."))?;
    Ok((m, found?))
}

pub async fn search(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Query(filter): Query<Filter>,
) -> ApiResult<Found> {
    let (m, found) = run(&app, filter, 100, 1000).await?;
    if m.follows_a_person() {
        viewed(&app, caller.actor(), "events_search", describe(&m.f)).await?;
    }
    Ok(Json(found))
}

fn describe(f: &Filter) -> String {
    let parts: Vec<String> = [
        ("person", &f.person),
        ("pass", &f.pass),
        ("household", &f.household),
        ("door", &f.door),
        ("q", &f.q),
    ]
    .into_iter()
    .filter_map(|(k, v)| {
        v.as_deref()
            .filter(|s| !s.is_empty())
            .map(|v| format!("{k}={v}"))
    })
    .collect();
    if parts.is_empty() {
        "all events".into()
    } else {
        parts.join(" ")
    }
}

/// The event in the office's words (the translation table's Chinese): `通行 · 手机号不符`.
fn summary(e: &Event) -> String {
    use crate::words::zh;
    let mut parts = vec![zh("kind", e.kind.as_str())];
    if let Some(d) = e.decision {
        parts.push(zh(
            "decision",
            if d == gatehouse_core::Decision::Grant {
                "grant"
            } else {
                "deny"
            },
        ));
    }
    if let Some(r) = e.reason {
        parts.push(zh("reason", r.as_str()));
    }
    if let Some(a) = e.alarm {
        parts.push(zh("alarm", a.as_str()));
    }
    if let Some(a) = &e.action {
        parts.push(zh("action", a));
    }
    if let Some(s) = &e.state {
        parts.push(zh("state", s));
    }
    // A mode event's mode is a lockdown's (closed, quarantine …) or a door's (lifted …).
    if let Some(m) = &e.mode {
        let words =
            crate::words::lookup("lockdown", m).or_else(|| crate::words::lookup("state", m));
        parts.push(words.map_or_else(|| m.clone(), |(zh, _)| zh.to_string()));
    }
    parts.join(" · ")
}

/// The matching events as CSV, oldest first (up to 100,000): the columns of `gatehouse log
/// export --format csv` (one exporter, phones masked), then `说明`, the event in the office's
/// words. Recorded as an export.
pub async fn export(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Query(filter): Query<Filter>,
) -> Result<Response, ApiError> {
    let (m, found) = run(&app, filter, 100_000, 100_000).await?;
    viewed(&app, caller.actor(), "export_events", describe(&m.f)).await?;
    // A byte-order mark first, so that Excel on Chinese Windows reads the file as UTF-8.
    let mut out = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    let fail = |e: csv::Error| {
        ApiError::bad_request(format!(
            "Writing the CSV failed ({e}); try a smaller range."
        ))
    };
    let mut columns = gatehouse_core::export::COLUMNS.to_vec();
    columns.push("说明");
    out.write_record(&columns).map_err(fail)?;
    for e in found.events.iter().rev() {
        let mut row = gatehouse_core::export::csv_row(e);
        row.push(summary(e));
        out.write_record(&row).map_err(fail)?;
    }
    let bytes = out
        .into_inner()
        .map_err(|e| ApiError::bad_request(format!("Writing the CSV failed ({e}).")))?;
    let name = format!("attachment; filename=\"events-{}.csv\"", app.site.id);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, name),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Serialize)]
pub struct AlarmView {
    #[serde(flatten)]
    pub event: Event,
    /// A later event of the same alarm says it cleared.
    pub is_cleared: bool,
    pub acknowledged: bool,
}

/// Recent alarms (newest first) with whether each has cleared and been acknowledged.
pub async fn alarms(State(app): State<App>) -> ApiResult<Vec<AlarmView>> {
    let store = app.gateway.store().clone();
    let recent = tokio::task::spawn_blocking(move || {
        let last = store.last_seq();
        store.events(last.saturating_sub(20_000).max(1), 20_000)
    })
    .await
    .map_err(|_| ApiError::bad_request("Reading alarms failed; try again."))??;
    let acked: HashSet<&str> = recent
        .iter()
        .filter(|e| e.kind == Kind::Admin && e.action.as_deref() == Some("alarm_ack"))
        .filter_map(|e| e.object.as_deref())
        .collect();
    let mut out = Vec::new();
    for (i, e) in recent.iter().enumerate().rev() {
        if e.kind != Kind::Alarm || e.cleared == Some(true) {
            continue;
        }
        let is_cleared = recent[i + 1..].iter().any(|later| {
            later.kind == Kind::Alarm
                && later.cleared == Some(true)
                && later.alarm == e.alarm
                && later.door == e.door
                && later.zone == e.zone
        });
        out.push(AlarmView {
            acknowledged: acked.contains(e.id.as_str()),
            event: e.clone(),
            is_cleared,
        });
        if out.len() >= 200 {
            break;
        }
    }
    Ok(Json(out))
}
