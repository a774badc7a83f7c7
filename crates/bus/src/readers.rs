//! Card readers over MQTT: `readers/{reader}/swipe` → validate → the core → `readers/{reader}/result`.
//!
//! A reader repeats a request when it misses the result; a repeated `id` within ten minutes is
//! answered again with the first answer, never decided twice (a second decision would count a
//! second entry for anti-passback and quotas). Bad payloads become `rejected_input` events and
//! a result that says why, so the reader's display can tell the person to swipe again.

use crate::Context;
use crate::client::Message;
use gatehouse_core::config::Config;
use gatehouse_core::io::{AccessPoint, AccessRequest, AccessResult, Credential, Input, Reply};
use gatehouse_core::{CardNumber, Kind, Reason};
use jiff::Timestamp;
use rumqttc::QoS;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast::error::TryRecvError;
use tokio::sync::watch;
use tokio::time::Instant;
use tracing::{debug, warn};

/// Payloads larger than this are refused (`spec/mqtt.md`).
pub const MAX_PAYLOAD: usize = 4096;
/// How long a request id is remembered.
pub const DEDUP_WINDOW: Duration = Duration::from_secs(600);

/// A swipe as it arrives; unknown fields are ignored.
#[derive(Deserialize)]
struct Wire {
    #[serde(default)]
    id: Option<serde_json::Value>,
    #[serde(default)]
    card: Option<String>,
    #[serde(default)]
    qr: Option<String>,
    #[serde(default)]
    pin: Option<String>,
    #[serde(default)]
    at: Option<String>,
}

/// A validated swipe.
#[derive(Debug, PartialEq)]
pub struct Swipe {
    pub id: Option<String>,
    pub credential: Credential,
    pub pin: Option<String>,
    pub at: Option<Timestamp>,
}

/// A refused payload: why, and the request id when one could be read.
#[derive(Debug, PartialEq)]
pub struct Invalid {
    pub id: Option<String>,
    pub error: String,
}

/// Parses and validates a swipe payload.
pub fn parse(payload: &[u8]) -> Result<Swipe, Invalid> {
    let invalid = |id: Option<String>, error: &str| Invalid {
        id,
        error: error.to_string(),
    };
    if payload.len() > MAX_PAYLOAD {
        return Err(invalid(None, "payload larger than 4 KiB"));
    }
    let value: serde_json::Value = match serde_json::from_slice(payload) {
        Ok(v @ serde_json::Value::Object(_)) => v,
        _ => return Err(invalid(None, "payload is not a JSON object")),
    };
    let Ok(wire) = serde_json::from_value::<Wire>(value) else {
        return Err(invalid(
            None,
            "a field has the wrong type: card, qr, pin and at are strings",
        ));
    };
    let id = wire.id.as_ref().map(|v| match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    });
    if id.as_ref().is_some_and(|i| i.len() > 128) {
        return Err(invalid(None, "id longer than 128 characters"));
    }
    let credential = match (wire.card, wire.qr) {
        (Some(card), None) => match CardNumber::parse(&card) {
            Ok(card) => Credential::Card(card),
            Err(e) => return Err(invalid(id, &e.to_string())),
        },
        (None, Some(qr)) => {
            if qr.is_empty() || qr.len() > 2048 {
                return Err(invalid(id, "qr must be a token of 1 to 2048 characters"));
            }
            Credential::Qr(qr)
        }
        (Some(_), Some(_)) => return Err(invalid(id, "send either card or qr, not both")),
        (None, None) => return Err(invalid(id, "card or qr is required")),
    };
    if let Some(pin) = &wire.pin
        && (!(4..=15).contains(&pin.len()) || !pin.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(invalid(id, "pin must be 4 to 15 digits"));
    }
    let at = match wire.at {
        Some(text) => match text.parse::<Timestamp>() {
            Ok(t) => Some(t),
            Err(_) => return Err(invalid(id, "at must be an RFC 3339 time with an offset")),
        },
        None => None,
    };
    Ok(Swipe {
        id,
        credential,
        pin: wire.pin,
        at,
    })
}

/// The result sent to a reader.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReaderResult {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub grant: bool,
    /// A reason code of `spec/events.md`, or `rejected_input` when the payload was refused.
    pub reason: String,
    #[serde(default)]
    pub door: String,
    /// The durable event's id.
    #[serde(default)]
    pub event: String,
    #[serde(default)]
    pub display: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub need_pin: bool,
    /// Extension: why a payload was refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl ReaderResult {
    fn decided(id: Option<String>, r: AccessResult) -> ReaderResult {
        ReaderResult {
            id,
            grant: r.grant,
            reason: r.reason.as_str().to_string(),
            door: r.door,
            event: r.event,
            display: r.display,
            need_pin: r.need_pin,
            error: None,
        }
    }

    fn rejected(id: Option<String>, door: String, event: String, error: String) -> ReaderResult {
        ReaderResult {
            id,
            grant: false,
            reason: "rejected_input".into(),
            door,
            event,
            display: "请求无效，请重刷 / Invalid request, swipe again".into(),
            need_pin: false,
            error: Some(error),
        }
    }
}

type Answer = watch::Receiver<Option<Arc<ReaderResult>>>;

/// Configured readers and the request ids seen lately.
pub struct Readers {
    /// reader id → its door, for readers configured on a door.
    doors: HashMap<String, String>,
    seen: Mutex<Seen>,
}

#[derive(Default)]
struct Seen {
    answers: HashMap<(String, String), Answer>,
    /// When each key was first seen, oldest first, for expiry.
    order: VecDeque<(Instant, (String, String))>,
}

impl Readers {
    pub fn new(config: &Config) -> Readers {
        let doors = config
            .doors
            .iter()
            .flat_map(|d| d.readers.iter().map(move |r| (r.id.clone(), d.id.clone())))
            .collect();
        Readers {
            doors,
            seen: Mutex::new(Seen::default()),
        }
    }

    /// Either the answer of an earlier request with this id, or a sender to fill in for a new one.
    fn claim(
        &self,
        key: (String, String),
    ) -> Result<watch::Sender<Option<Arc<ReaderResult>>>, Answer> {
        let mut seen = self.seen.lock().expect("reader ids poisoned");
        let now = Instant::now();
        while seen
            .order
            .front()
            .is_some_and(|(at, _)| now.duration_since(*at) > DEDUP_WINDOW)
        {
            let (_, old) = seen.order.pop_front().expect("checked");
            seen.answers.remove(&old);
        }
        if let Some(answer) = seen.answers.get(&key) {
            return Err(answer.clone());
        }
        let (tx, rx) = watch::channel(None);
        seen.answers.insert(key.clone(), rx);
        seen.order.push_back((now, key));
        Ok(tx)
    }

    /// Ids of the readers configured on doors.
    pub fn known(&self) -> HashSet<&str> {
        self.doors.keys().map(String::as_str).collect()
    }
}

/// Handles one swipe message end to end.
pub(crate) async fn handle(ctx: &Context, reader: String, publish: Message) {
    let result = match parse(&publish.payload) {
        Err(invalid) => Arc::new(reject(ctx, &reader, &publish.topic, invalid).await),
        Ok(swipe) => match swipe.id.clone() {
            None => Arc::new(decide(ctx, &reader, swipe).await),
            Some(id) => match ctx.readers.claim((reader.clone(), id)) {
                Ok(tx) => {
                    let result = Arc::new(decide(ctx, &reader, swipe).await);
                    let _ = tx.send(Some(result.clone()));
                    result
                }
                Err(mut earlier) => {
                    debug!(reader = %reader, "Repeated request id; answering again without deciding.");
                    match earlier.wait_for(Option::is_some).await {
                        Ok(answer) => answer.clone().expect("waited for Some"),
                        Err(_) => return,
                    }
                }
            },
        },
    };
    answer(ctx, &reader, &result).await;
}

async fn decide(ctx: &Context, reader: &str, swipe: Swipe) -> ReaderResult {
    if !ctx.readers.doors.contains_key(reader) {
        let error =
            format!("unknown reader '{reader}': add it to a door's readers in the configuration");
        return reject(
            ctx,
            reader,
            &ctx.topics.reader_swipe(reader),
            Invalid {
                id: swipe.id,
                error,
            },
        )
        .await;
    }
    let request = AccessRequest {
        point: AccessPoint::Reader(reader.to_string()),
        credential: swipe.credential,
        pin: swipe.pin,
        requested_at: swipe.at,
        actor: None,
        source: "mqtt".into(),
    };
    match ctx.gateway.submit(Input::Access(request)).await {
        Ok(replies) => {
            let access = replies.into_iter().find_map(|r| match r {
                Reply::Access(a) => Some(a),
                _ => None,
            });
            match access {
                Some(a) => ReaderResult::decided(swipe.id, a),
                None => {
                    warn!(reader = %reader, "The core gave no access result; telling the reader no.");
                    let door = ctx.readers.doors.get(reader).cloned().unwrap_or_default();
                    ReaderResult::rejected(
                        swipe.id,
                        door,
                        String::new(),
                        "no decision was made".into(),
                    )
                }
            }
        }
        Err(e) => {
            warn!(reader = %reader, error = %e, "Swipe not decided.");
            let door = ctx.readers.doors.get(reader).cloned().unwrap_or_default();
            let r = Reason::LogUnavailable;
            ReaderResult {
                id: swipe.id,
                grant: false,
                reason: r.as_str().into(),
                door,
                event: String::new(),
                display: r.words().0.into(),
                need_pin: false,
                error: Some(e.to_string()),
            }
        }
    }
}

/// Records a refused payload as `rejected_input` and builds the result that says why.
async fn reject(ctx: &Context, reader: &str, topic: &str, invalid: Invalid) -> ReaderResult {
    debug!(reader = %reader, error = %invalid.error, "Swipe payload refused.");
    // The event's id is not in any reply; it is picked off the live feed, where it appears
    // before `submit` returns.
    let mut feed = ctx.gateway.events();
    let input = Input::Rejected {
        source: topic.to_string(),
        error: invalid.error.clone(),
    };
    let mut event = String::new();
    if ctx.gateway.submit(input).await.is_ok() {
        loop {
            match feed.try_recv() {
                Ok(e)
                    if e.kind == Kind::RejectedInput
                        && e.source.as_deref() == Some(topic)
                        && e.error.as_deref() == Some(invalid.error.as_str()) =>
                {
                    event = e.id.clone();
                }
                Ok(_) | Err(TryRecvError::Lagged(_)) => {}
                Err(_) => break,
            }
        }
    }
    let door = ctx.readers.doors.get(reader).cloned().unwrap_or_default();
    ReaderResult::rejected(invalid.id, door, event, invalid.error)
}

async fn answer(ctx: &Context, reader: &str, result: &ReaderResult) {
    let payload = match serde_json::to_string(result) {
        Ok(p) => p,
        Err(e) => return warn!(error = %e, "Reader result did not serialise."),
    };
    if let Err(e) = ctx
        .client
        .publish(
            ctx.topics.reader_result(reader),
            QoS::AtLeastOnce,
            false,
            payload,
        )
        .await
    {
        warn!(reader = %reader, error = %e, "Could not publish the reader's result.");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(json: &str) -> Swipe {
        parse(json.as_bytes()).unwrap()
    }
    fn err(json: &[u8]) -> String {
        parse(json).unwrap_err().error
    }

    #[test]
    fn valid_swipes() {
        let s = ok(
            r#"{"id":"r-1","card":"04a1b2c3","pin":"5678","at":"2026-11-22T08:03:12+08:00","extra":1}"#,
        );
        assert_eq!(s.credential, Credential::Card("04A1B2C3".parse().unwrap()));
        assert_eq!(s.pin.as_deref(), Some("5678"));
        assert_eq!(s.id.as_deref(), Some("r-1"));
        assert_eq!(s.at, Some("2026-11-22T00:03:12Z".parse().unwrap()));
        assert_eq!(
            ok(r#"{"qr":"v1.abc"}"#).credential,
            Credential::Qr("v1.abc".into())
        );
        assert_eq!(ok(r#"{"id":917,"card":"A"}"#).id.as_deref(), Some("917"));
    }

    #[test]
    fn invalid_swipes_say_why() {
        assert!(err(b"not json").contains("JSON"));
        assert!(err(b"[1,2]").contains("JSON"));
        assert!(err(br#"{"card":12}"#).contains("wrong type"));
        assert!(err(br#"{}"#).contains("card or qr"));
        assert!(err(br#"{"card":"XYZ"}"#).contains("hex"));
        assert!(err(br#"{"card":""}"#).contains("no card number"));
        assert!(err(format!(r#"{{"card":"{}"}}"#, "A".repeat(33)).as_bytes()).contains("hex"));
        assert!(err(br#"{"card":"A","qr":"b"}"#).contains("either"));
        assert!(err(br#"{"card":"A","pin":"123"}"#).contains("pin"));
        assert!(err(br#"{"card":"A","pin":"12a4"}"#).contains("pin"));
        assert!(err(br#"{"card":"A","at":"yesterday"}"#).contains("RFC 3339"));
        let big = format!(r#"{{"card":"A","pad":"{}"}}"#, "x".repeat(5000));
        assert!(err(big.as_bytes()).contains("4 KiB"));
        // The id is kept where it could be read, so the reader can match the answer.
        assert_eq!(
            parse(br#"{"id":"r-9","card":"XYZ"}"#)
                .unwrap_err()
                .id
                .as_deref(),
            Some("r-9")
        );
    }
}
