//! Card readers over MQTT: `readers/{reader}/swipe` → validate → the core → `readers/{reader}/result`.
//!
//! One task takes every admitted swipe in arrival order ([`run`]): it parses it, hands it to
//! the core without waiting for the decision (up to [`IN_FLIGHT`] wait together, so they
//! share group commits), and publishes each result as its decision becomes durable. No task
//! per message.
//!
//! A reader repeats a request when it misses the result; a repeated `id` within ten minutes is
//! answered again with the first answer, never decided twice (a second decision would count a
//! second entry for anti-passback and quotas). The ids remembered are bounded
//! ([`MAX_REMEMBERED`]; the oldest is forgotten first). Bad payloads are counted into the
//! source's `rejected_input` summary and answered with a result that says why, so the
//! reader's display can tell the person to swipe again.

use crate::Context;
use bytes::Bytes;
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use gatehouse_core::config::Config;
use gatehouse_core::io::{AccessPoint, AccessRequest, AccessResult, Credential, Input, Reply};
use gatehouse_core::{CardNumber, Reason};
use jiff::Timestamp;
use rumqttc::QoS;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

/// Payloads larger than this are refused (`docs/interfaces.md#mqtt`).
pub const MAX_PAYLOAD: usize = 4096;
/// How long a request id is remembered.
pub const DEDUP_WINDOW: Duration = Duration::from_secs(600);
/// Request ids remembered at most; past it the oldest is forgotten (its repeat would be
/// decided again: at the readers' admitted rates this takes minutes of continuous swipes on
/// every reader).
pub const MAX_REMEMBERED: usize = 20_000;
/// Admitted swipes waiting for the readers' task. Full policy: drop the newest, counted into
/// its reader's `rejected_input` summary (the dispatcher never waits, so a flood cannot stall
/// the MQTT event loop).
pub const QUEUED: usize = 1024;
/// Swipes handed to the core whose decisions are not back yet, at most; past it the task
/// waits for the oldest before taking the next.
pub const IN_FLIGHT: usize = 256;
/// Longest request id accepted, in characters of its JSON text.
pub const MAX_ID_TEXT: usize = 128;

/// A request id exactly as the reader sent it (a string, or a number in its own digits:
/// `123456789012345678901234567890` is echoed as that, not rounded through a float).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RequestId(Box<RawValue>);

impl PartialEq for RequestId {
    fn eq(&self, other: &Self) -> bool {
        self.0.get() == other.0.get()
    }
}

impl RequestId {
    /// The JSON text as sent (a string with its quotes).
    pub fn json(&self) -> &str {
        self.0.get()
    }
}

/// A swipe as it arrives; unknown fields are ignored.
#[derive(Deserialize)]
struct Wire {
    #[serde(default)]
    id: Option<RequestId>,
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
    pub id: Option<RequestId>,
    pub credential: Credential,
    pub pin: Option<String>,
    pub at: Option<Timestamp>,
}

/// A refused payload: why, and the request id when one could be read.
#[derive(Debug, PartialEq)]
pub struct Invalid {
    pub id: Option<RequestId>,
    pub error: String,
}

/// Parses and validates a swipe payload.
pub fn parse(payload: &[u8]) -> Result<Swipe, Invalid> {
    let invalid = |id: Option<RequestId>, error: &str| Invalid {
        id,
        error: error.to_string(),
    };
    if payload.len() > MAX_PAYLOAD {
        return Err(invalid(None, "payload larger than 4 KiB"));
    }
    if !payload.trim_ascii_start().starts_with(b"{") {
        return Err(invalid(None, "payload is not a JSON object"));
    }
    let wire = match serde_json::from_slice::<Wire>(payload) {
        Ok(w) => w,
        Err(e) if e.is_data() => {
            return Err(invalid(
                None,
                "a field has the wrong type: card, qr, pin and at are strings",
            ));
        }
        Err(_) => return Err(invalid(None, "payload is not a JSON object")),
    };
    let id = wire.id;
    if id.as_ref().is_some_and(|i| i.json().len() > MAX_ID_TEXT) {
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
    pub id: Option<RequestId>,
    pub grant: bool,
    /// A reason code of `docs/interfaces.md#events`, or `rejected_input` when the payload was refused.
    pub reason: String,
    #[serde(default)]
    pub door: String,
    /// The durable event's id (empty for a refused payload: refusals are written as one
    /// summary per reader per interval).
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
    fn decided(id: Option<RequestId>, r: AccessResult) -> ReaderResult {
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

    fn rejected(id: Option<RequestId>, door: String, error: String) -> ReaderResult {
        ReaderResult {
            id,
            grant: false,
            reason: "rejected_input".into(),
            door,
            event: String::new(),
            display: "请求无效，请重刷 / Invalid request, swipe again".into(),
            need_pin: false,
            error: Some(error),
        }
    }

    fn not_decided(id: Option<RequestId>, door: String, error: String) -> ReaderResult {
        let r = Reason::LogUnavailable;
        ReaderResult {
            id,
            grant: false,
            reason: r.as_str().into(),
            door,
            event: String::new(),
            display: r.words().0.into(),
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
    /// When each key was first seen, oldest first, for expiry and the bound.
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

    /// Whether the configuration names this reader.
    pub fn is_known(&self, reader: &str) -> bool {
        self.doors.contains_key(reader)
    }

    /// Either the answer of an earlier request with this id, or a sender to fill in for a new one.
    fn claim(
        &self,
        key: (String, String),
        now: Instant,
    ) -> Result<watch::Sender<Option<Arc<ReaderResult>>>, Answer> {
        let mut seen = self.seen.lock().expect("reader ids poisoned");
        while let Some((at, _)) = seen.order.front() {
            let expired = now.duration_since(*at) > DEDUP_WINDOW;
            if !expired && seen.order.len() < MAX_REMEMBERED {
                break;
            }
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

    #[cfg(test)]
    fn remembered(&self) -> usize {
        self.seen.lock().expect("reader ids poisoned").answers.len()
    }

    fn door(&self, reader: &str) -> String {
        self.doors.get(reader).cloned().unwrap_or_default()
    }
}

/// An admitted swipe message: the reader (a valid id), its topic, its payload, and whether
/// it came with the retain flag (see [`RETAINED`]).
pub(crate) struct Message {
    pub(crate) reader: String,
    pub(crate) topic: String,
    pub(crate) payload: Bytes,
    pub(crate) retain: bool,
}

/// Why a swipe with the retain flag is refused. Swipes are never retained (the contract): a
/// retained one is kept by the broker and delivered again on every (re)subscribe, so it is
/// not a person at the door now, and deciding it would open the door at each of the
/// gateway's restarts. The gateway clears the broker's copy (an empty retained publish).
pub const RETAINED: &str = "a retained swipe: the broker keeps it and hands it out again on every reconnect, so it is not a person at the door now; set the reader to publish swipes with retain off";

type Decision = Pin<Box<dyn Future<Output = Option<(String, Arc<ReaderResult>)>> + Send>>;

/// The readers' task: takes swipes in order, keeps up to [`IN_FLIGHT`] decisions pending,
/// publishes each result when it is ready.
pub(crate) async fn run(
    ctx: Arc<Context>,
    mut swipes: mpsc::Receiver<Message>,
    shutdown: CancellationToken,
) {
    let mut pending: FuturesUnordered<Decision> = FuturesUnordered::new();
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            Some(done) = pending.next(), if !pending.is_empty() => {
                if let Some((reader, result)) = done {
                    answer(&ctx, &reader, &result).await;
                }
            }
            message = swipes.recv(), if pending.len() < IN_FLIGHT => {
                let Some(message) = message else { break };
                if let Some(decision) = take(&ctx, message).await {
                    pending.push(decision);
                }
            }
        }
    }
}

/// Handles one swipe up to the point where it waits for the core.
async fn take(ctx: &Arc<Context>, message: Message) -> Option<Decision> {
    let Message {
        reader,
        topic,
        payload,
        retain,
    } = message;
    // Refusals are summarised per configured reader; unconfigured readers are one source
    // together, as at admission, so a flood over invented reader ids is one summary.
    let known = ctx.readers.is_known(&reader);
    let source: std::borrow::Cow<'_, str> = if known {
        topic.as_str().into()
    } else {
        ctx.topics.reader_swipe("+").into()
    };
    let ready = |reader: String, result: ReaderResult| -> Option<Decision> {
        Some(Box::pin(std::future::ready(Some((
            reader,
            Arc::new(result),
        )))))
    };
    if retain {
        // An empty retained publish removes the broker's copy (whatever it holds, well-formed
        // or not); it comes back to us as an empty swipe, which is ignored.
        if let Err(e) = ctx.client.try_clear_retained(topic.as_str()) {
            warn!(reader = %reader, error = %e, "Could not clear a retained swipe from the broker.");
        }
    }
    let swipe = match parse(&payload) {
        Ok(swipe) => swipe,
        Err(invalid) => {
            debug!(reader = %reader, error = %invalid.error, "Swipe payload refused.");
            ctx.gateway.refuse(&source, &invalid.error, Some(&payload));
            let door = ctx.readers.door(&reader);
            return ready(
                reader,
                ReaderResult::rejected(invalid.id, door, invalid.error),
            );
        }
    };
    if retain {
        debug!(reader = %reader, "Retained swipe refused.");
        ctx.gateway.refuse(&source, RETAINED, Some(&payload));
        let door = ctx.readers.door(&reader);
        return ready(
            reader,
            ReaderResult::rejected(swipe.id, door, RETAINED.into()),
        );
    }
    if !known {
        let error =
            format!("unknown reader '{reader}': add it to a door's readers in the configuration");
        ctx.gateway.refuse(&source, &error, Some(reader.as_bytes()));
        return ready(
            reader,
            ReaderResult::rejected(swipe.id, String::new(), error),
        );
    }
    let claim = match &swipe.id {
        None => None,
        Some(id) => match ctx
            .readers
            .claim((reader.clone(), id.json().to_string()), Instant::now())
        {
            Ok(tx) => Some(tx),
            Err(mut earlier) => {
                debug!(reader = %reader, "Repeated request id; answering again without deciding.");
                return Some(Box::pin(async move {
                    let answer = earlier.wait_for(Option::is_some).await.ok()?.clone()?;
                    Some((reader, answer))
                }));
            }
        },
    };
    let id = swipe.id.clone();
    let request = AccessRequest {
        point: AccessPoint::Reader(reader.clone()),
        credential: swipe.credential,
        pin: swipe.pin,
        requested_at: swipe.at,
        actor: None,
        source: "mqtt".into(),
    };
    let door = ctx.readers.door(&reader);
    let enqueued = ctx.gateway.enqueue(Input::Access(request)).await;
    Some(Box::pin(async move {
        let result = match enqueued {
            Err(e) => ReaderResult::not_decided(id, door, e.to_string()),
            Ok(replies) => match replies.await {
                Err(_) => ReaderResult::not_decided(
                    id,
                    door,
                    "the gateway is shutting down; swipe again".into(),
                ),
                Ok(replies) => match replies.into_iter().find_map(|r| match r {
                    Reply::Access(a) => Some(a),
                    _ => None,
                }) {
                    Some(a) => ReaderResult::decided(id, a),
                    None => {
                        warn!(reader = %reader, "The core gave no access result; telling the reader no.");
                        ReaderResult::rejected(id, door, "no decision was made".into())
                    }
                },
            },
        };
        let result = Arc::new(result);
        if let Some(tx) = claim {
            let _ = tx.send(Some(result.clone()));
        }
        Some((reader, result))
    }))
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
        assert_eq!(s.id.as_ref().map(RequestId::json), Some("\"r-1\""));
        assert_eq!(s.at, Some("2026-11-22T00:03:12Z".parse().unwrap()));
        assert_eq!(
            ok(r#"{"qr":"v1.abc"}"#).credential,
            Credential::Qr("v1.abc".into())
        );
        assert_eq!(ok(r#"{"id":917,"card":"A"}"#).id.unwrap().json(), "917");
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
                .unwrap()
                .json(),
            "\"r-9\""
        );
    }

    /// A numeric id comes back in its own digits, not rounded through a float.
    #[test]
    fn numeric_ids_are_echoed_as_sent() {
        let big = "123456789012345678901234567890";
        let s = ok(&format!(r#"{{"id":{big},"card":"A"}}"#));
        let result = ReaderResult::rejected(s.id, String::new(), "x".into());
        let text = serde_json::to_string(&result).unwrap();
        assert!(text.starts_with(&format!(r#"{{"id":{big},"#)), "{text}");
        let s = ok(r#"{"id":1.50,"card":"A"}"#);
        assert_eq!(s.id.unwrap().json(), "1.50");
    }

    #[tokio::test]
    async fn remembered_ids_are_bounded() {
        let readers = Readers {
            doors: HashMap::new(),
            seen: Mutex::new(Seen::default()),
        };
        let now = Instant::now();
        for i in 0..(MAX_REMEMBERED + 1000) {
            let _ = readers.claim(("r".into(), i.to_string()), now);
        }
        assert_eq!(readers.remembered(), MAX_REMEMBERED);
        // The newest are kept, the oldest forgotten.
        assert!(
            readers
                .claim(("r".into(), (MAX_REMEMBERED + 999).to_string()), now)
                .is_err()
        );
        assert!(readers.claim(("r".into(), "0".into()), now).is_ok());
    }
}
