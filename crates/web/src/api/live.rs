//! Live updates by server-sent events. `/api/live` carries door states and lockdowns (from the
//! gateway's `live()` watch), the number of visitors waiting, and passes read at a door's reader
//! that wait for the phone digits (for guard screens);
//! `/api/events/live` carries every durable event as it is written (office console). A slow
//! browser never slows the gateway: the watch keeps only the latest state, and the event
//! broadcast drops for laggards, who are told to re-read.

use crate::api::site::doors_of;
use crate::app::App;
use axum::extract::State;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::Stream;
use gatehouse_core::{Event, Kind, Reason};
use std::convert::Infallible;
use tokio::sync::broadcast::error::RecvError;

fn feed(stream: impl Stream<Item = Result<SseEvent, Infallible>> + Send + 'static) -> Response {
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// A card read at a reader that needs the phone digits: the guard screen at that door picks
/// the pass up (a desk reader bound to the screen by being a reader of the guard's door).
#[derive(serde::Serialize)]
struct Swipe<'a> {
    door: &'a str,
    reader: &'a str,
    pass: &'a str,
}

fn swipe_of(e: &Event) -> Option<SseEvent> {
    if e.kind != Kind::Access || e.reason != Some(Reason::PhoneRequired) {
        return None;
    }
    let swipe = Swipe {
        door: e.door.as_deref()?,
        reader: e.reader.as_deref()?,
        pass: e.pass.as_deref()?,
    };
    SseEvent::default().event("swipe").json_data(swipe).ok()
}

/// `doors` events (the whole door table, small), `pending` events (a count), and `swipe`
/// events (a pass read at a door's reader that waits for the phone digits: no name, no phone).
pub async fn doors(State(app): State<App>) -> Response {
    let mut live = app.gateway.live();
    let mut pending = app.visitors.changes();
    let events = app.gateway.events();
    live.mark_changed();
    pending.mark_changed();
    let stream = futures::stream::unfold(
        (app, live, pending, events),
        |(app, mut live, mut pending, mut events)| async move {
            let event = loop {
                tokio::select! {
                    _ = app.shutdown.cancelled() => return None,
                    changed = live.changed() => {
                        changed.ok()?;
                        let now = live.borrow_and_update().clone();
                        break SseEvent::default().event("doors").json_data(doors_of(&app.site, &now)).ok()?;
                    }
                    changed = pending.changed() => {
                        changed.ok()?;
                        pending.borrow_and_update();
                        break SseEvent::default().event("pending").data(app.visitors.pending_count().to_string());
                    }
                    next = events.recv() => match next {
                        Ok(e) => if let Some(swipe) = swipe_of(&e) { break swipe },
                        Err(RecvError::Lagged(_)) => {}
                        Err(RecvError::Closed) => return None,
                    }
                }
            };
            Some((Ok(event), (app, live, pending, events)))
        },
    );
    feed(stream)
}

/// `event` events: each durable event as JSON; `lagged` when some were skipped (re-read them
/// with `/api/events`).
pub async fn events(State(app): State<App>) -> Response {
    let events = app.gateway.events();
    let stream = futures::stream::unfold((app, events), |(app, mut events)| async move {
        let event = tokio::select! {
            _ = app.shutdown.cancelled() => return None,
            next = events.recv() => match next {
                Ok(e) => SseEvent::default().event("event").json_data(&*e).ok()?,
                Err(RecvError::Lagged(n)) => SseEvent::default().event("lagged").data(n.to_string()),
                Err(RecvError::Closed) => return None,
            }
        };
        Some((Ok(event), (app, events)))
    });
    feed(stream)
}
