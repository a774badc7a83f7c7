//! Office commands over MQTT: `commands` in, `commands/result` out. The envelope is
//! `{"body": "<JSON text>", "sig": "<base64>"}`; verification (signature, issuer, site,
//! validity, counters, ids) is the core's, so that replay state and the log agree. Commands
//! are handled one at a time in arrival order, because counters must rise in that order.
//!
//! A command that carries the retain flag is refused by the core (`retained`). With MQTT 5 the
//! gateway subscribes with retain-as-published, so the flag is the publisher's; with 3.1.1 it
//! is set only on stored copies delivered at subscribe, and the gateway clears the stored copy
//! of every command it applies.

use crate::Context;
use crate::client::Message;
use gatehouse_core::io::{CommandResult, Input, Reply, SignedCommand};
use rumqttc::QoS;
use serde::Deserialize;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

/// Commands waiting for the core.
pub const CAPACITY: usize = 256;

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

pub(crate) async fn run(
    ctx: Arc<Context>,
    mut commands: mpsc::Receiver<Message>,
    shutdown: CancellationToken,
) {
    loop {
        let publish = tokio::select! {
            () = shutdown.cancelled() => break,
            p = commands.recv() => match p { Some(p) => p, None => break },
        };
        let result = if publish.payload.len() > crate::readers::MAX_PAYLOAD {
            let error = "command payload larger than 4 KiB".to_string();
            let _ = ctx
                .gateway
                .submit(Input::Rejected {
                    source: publish.topic.clone(),
                    error,
                })
                .await;
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
            let cmd = envelope(&publish.payload, publish.retain);
            match ctx.gateway.submit(Input::Command(cmd)).await {
                Ok(replies) => match replies.into_iter().find_map(|r| match r {
                    Reply::Command(c) => Some(c),
                    _ => None,
                }) {
                    Some(c) => c,
                    None => continue,
                },
                Err(e) => {
                    warn!(error = %e, "Office command not handled.");
                    continue;
                }
            }
        };
        if result.ok {
            info!(command = %result.id, "Office command applied.");
            clear_retained_copy(&ctx).await;
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

/// MQTT 3.1.1 cannot tell a live publish that its sender retained from one that was not:
/// the broker clears the flag on live delivery. After applying a command the gateway therefore
/// clears whatever is retained on `commands` (an empty retained publish), so that the command
/// is not delivered again, flagged `retained`, after the next reconnect. With MQTT 5
/// (retain-as-published) a retained command is refused at once and nothing needs clearing.
async fn clear_retained_copy(ctx: &Context) {
    if ctx.client.protocol() != crate::client::Protocol::V311 {
        return;
    }
    if let Err(e) = ctx
        .client
        .publish(ctx.topics.commands(), QoS::AtLeastOnce, true, Vec::new())
        .await
    {
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
}
