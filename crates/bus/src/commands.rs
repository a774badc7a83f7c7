//! Office commands over MQTT: `commands` in, `commands/result` out. The envelope is
//! `{"body": "<JSON text>", "sig": "<base64>"}`; verification (signature, issuer, site,
//! validity, counters, ids) is the core's, so that replay state and the log agree. Commands
//! are handled one at a time in arrival order, because counters must rise in that order, on
//! their own queue and the core's urgent lane, so no flood of swipes delays a lockdown.
//!
//! A flood of forged envelopes is screened here before it reaches the core: the signature
//! check needs no state ([`Issuers`]), so an envelope that fails it is counted into the
//! `commands` source's `rejected_input` summary instead of becoming one `command` event and
//! one result each. The first [`FORGED_ANSWERED`] forged envelopes of each
//! [`FORGED_INTERVAL`] still go to the core and are answered one by one, so an office with a
//! wrong key hears why. A correctly signed command always reaches the core and is answered.
//!
//! An empty payload on `commands` is how a retained message is cleared: it is ignored.
//!
//! A command that carries the retain flag is refused by the core (`retained`). With MQTT 5 the
//! gateway subscribes with retain-as-published, so the flag is the publisher's; with 3.1.1 it
//! is set only on stored copies delivered at subscribe, and the gateway clears the stored copy
//! of every command it applies.

use crate::Context;
use bytes::Bytes;
use gatehouse_core::command::{CommandError, Issuers};
use gatehouse_core::io::{CommandResult, Input, Reply, SignedCommand};
use rumqttc::QoS;
use serde::Deserialize;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

/// Commands waiting for this task: as many as the connection's incoming buffer holds
/// ([`crate::client::INCOMING_CAPACITY`]), so that a burst the connection took in whole is
/// not cut here, where a real command cannot yet be told from a forged one (at most 4,096 ×
/// 4 KiB = 16 MiB). Full policy: drop the newest, counted into the `commands` source's
/// `rejected_input` summary and logged; screening (a signature check, well under a
/// millisecond) keeps the queue short under thousands of forged envelopes a second.
pub const CAPACITY: usize = crate::client::INCOMING_CAPACITY;
/// Forged envelopes answered one by one per interval; the rest are only counted.
pub const FORGED_ANSWERED: u32 = 10;
pub const FORGED_INTERVAL: std::time::Duration = std::time::Duration::from_secs(10);

/// A command message as it arrived.
pub(crate) struct Message {
    pub(crate) topic: String,
    pub(crate) payload: Bytes,
    pub(crate) retain: bool,
}

#[derive(Deserialize)]
struct Envelope {
    body: String,
    sig: String,
}

/// Turns a message into the core's input. A payload that is not an envelope still reaches
/// the core (as a body it will find malformed), so that every command is an event.
pub fn envelope(payload: &[u8], retained: bool) -> SignedCommand {
    match serde_json::from_slice::<Envelope>(payload) {
        Ok(e) => SignedCommand {
            body: e.body,
            sig: e.sig,
            retained,
        },
        Err(_) => SignedCommand {
            body: String::from_utf8_lossy(payload).into_owned(),
            sig: String::new(),
            retained,
        },
    }
}

/// How many forged envelopes were answered in the current interval.
struct ForgedBudget {
    since: Instant,
    answered: u32,
}

impl ForgedBudget {
    fn take(&mut self, now: Instant) -> bool {
        if now.duration_since(self.since) >= FORGED_INTERVAL {
            self.since = now;
            self.answered = 0;
        }
        self.answered += 1;
        self.answered <= FORGED_ANSWERED
    }
}

pub(crate) async fn run(
    ctx: Arc<Context>,
    mut commands: mpsc::Receiver<Message>,
    shutdown: CancellationToken,
) {
    let issuers = Issuers::new(&ctx.config.issuers);
    let mut forged = ForgedBudget {
        since: Instant::now(),
        answered: 0,
    };
    loop {
        let message = tokio::select! {
            () = shutdown.cancelled() => break,
            p = commands.recv() => match p { Some(p) => p, None => break },
        };
        let result = if message.payload.len() > crate::readers::MAX_PAYLOAD {
            ctx.gateway.refuse(
                &message.topic,
                "command payload larger than 4 KiB",
                Some(&message.payload),
            );
            CommandResult {
                id: String::new(),
                ok: false,
                applied_at: None,
                error: Some("malformed".into()),
                detail: Some(format!(
                    "the payload has more than {} bytes",
                    crate::readers::MAX_PAYLOAD
                )),
            }
        } else {
            let cmd = envelope(&message.payload, message.retain);
            if let Err(error) = issuers.check(&cmd)
                && !forged.take(Instant::now())
            {
                debug!(
                    error = error.as_str(),
                    "Forged or unsigned command counted, not answered."
                );
                ctx.gateway
                    .refuse(&message.topic, screened(error), Some(&message.payload));
                continue;
            }
            match ctx.gateway.submit(Input::Command(cmd)).await {
                Ok(replies) => match replies.into_iter().find_map(|r| match r {
                    Reply::Command(c) => Some(c),
                    _ => None,
                }) {
                    Some(c) => c,
                    None => {
                        warn!("The core gave no result for an office command; nothing to send.");
                        continue;
                    }
                },
                Err(e) => {
                    warn!(error = %e, "Office command not handled; the office must send it again.");
                    continue;
                }
            }
        };
        if result.ok {
            info!(command = %result.id, "Office command applied.");
            clear_retained_copy(&ctx);
        } else {
            info!(command = %result.id, error = result.error.as_deref().unwrap_or(""), "Office command refused.");
        }
        match serde_json::to_string(&result) {
            Ok(payload) => {
                if let Err(e) = ctx
                    .client
                    .publish(
                        ctx.topics.command_result(),
                        QoS::AtLeastOnce,
                        false,
                        payload,
                    )
                    .await
                {
                    warn!(error = %e, "Could not publish the command result.");
                }
            }
            Err(e) => warn!(error = %e, "Command result did not serialise."),
        }
    }
}

/// The summary's reason for a screened envelope (the spec's error codes).
fn screened(error: CommandError) -> &'static str {
    match error {
        CommandError::UnknownIssuer => {
            "unknown_issuer: command envelopes naming no configured issuer"
        }
        CommandError::Malformed => {
            "malformed: command envelopes without a body holding id and issuer"
        }
        _ => "bad_signature: command envelopes whose signature does not verify",
    }
}

/// MQTT 3.1.1 cannot tell a live publish that its sender retained from one that was not:
/// the broker clears the flag on live delivery. After applying a command the gateway therefore
/// clears whatever is retained on `commands` (an empty retained publish), so that the command
/// is not delivered again, flagged `retained`, after the next reconnect. With MQTT 5
/// (retain-as-published) a retained command is refused at once and nothing needs clearing.
fn clear_retained_copy(ctx: &Context) {
    if ctx.client.protocol() != crate::client::Protocol::V311 {
        return;
    }
    if let Err(e) = ctx.client.try_clear_retained(ctx.topics.commands()) {
        warn!(error = %e, "Could not clear a retained command.");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes() {
        let c = envelope(br#"{"body":"{\"id\":\"x\"}","sig":"AA=="}"#, true);
        assert_eq!(
            (c.body.as_str(), c.sig.as_str(), c.retained),
            ("{\"id\":\"x\"}", "AA==", true)
        );
        let raw = envelope(b"garbage", false);
        assert_eq!((raw.body.as_str(), raw.sig.as_str()), ("garbage", ""));
    }

    #[test]
    fn forged_envelopes_are_answered_a_few_per_interval() {
        let t0 = Instant::now();
        let mut b = ForgedBudget {
            since: t0,
            answered: 0,
        };
        let answered = (0..5000).filter(|_| b.take(t0)).count();
        assert_eq!(answered, FORGED_ANSWERED as usize);
        assert!(b.take(t0 + FORGED_INTERVAL));
    }
}
