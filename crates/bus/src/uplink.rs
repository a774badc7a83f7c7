//! The uplink (`[uplink]`, `docs/district.md`): a second MQTT connection, to the district's
//! broker, beside the estate's own. Readers and doors never use it, so a WAN outage costs the
//! district its view and nothing at the gate: decisions, the log, the console and local
//! lockdowns go on, and the district catches up when the link returns.
//!
//! It carries, under the same `gatehouse/{site}/` topics as the estate broker:
//! - `status` with its last will, and the retained door states, lockdown table and
//!   occupancy summary, republished after every ConnAck ([`crate::state`]);
//! - the event outbox from its own durable cursor (`uplink`), so the district resumes where
//!   its broker last acknowledged, however far behind the estate broker's consumers it is;
//! - the office's signed `commands` in, and `commands/result` out ([`crate::commands`]: the
//!   same verification, counters and replay protection as on the estate broker).
//!
//! Several URLs are the district broker's nodes: a lost or unreachable node makes both
//! connections move to the next one. The default is MQTT 3.1.1, the version NATS speaks.

use crate::client::drive::{self, Role};
use crate::client::{Endpoint, Message};
use crate::{BusError, Context, commands, outbox, readers, state, topics};
use gatehouse_core::config::Config;
use gatehouse_runtime::Gateway;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::debug;

/// The uplink's endpoints, one per URL, in order.
pub fn endpoints(config: &Config) -> Result<Vec<Endpoint>, BusError> {
    let Some(uplink) = &config.uplink else {
        return Ok(Vec::new());
    };
    if uplink.urls.is_empty() {
        return Err(BusError::Config(
            "uplink.urls is empty; list the district broker's nodes or remove [uplink]".into(),
        ));
    }
    uplink
        .urls
        .iter()
        .map(|url| Endpoint::from_config(&uplink.as_broker(url)))
        .collect()
}

/// The uplink's client id: `uplink.client_id`, or `gatehouse-{site}-uplink`.
pub fn client_id(config: &Config) -> String {
    config
        .uplink
        .as_ref()
        .and_then(|u| u.client_id.clone())
        .unwrap_or_else(|| format!("gatehouse-{}-uplink", config.site.id))
}

/// Starts the uplink when `[uplink]` is configured (None otherwise). Fails fast on a bad
/// section; after that a lost district is retried for ever, node after node.
pub fn run(
    config: &Config,
    gateway: Gateway,
    shutdown: CancellationToken,
) -> Result<Option<JoinHandle<()>>, BusError> {
    let Some(uplink) = &config.uplink else {
        return Ok(None);
    };
    let endpoints = endpoints(config)?;
    let topics = Arc::new(topics::Topics::new(&config.site.id));
    let client_id = client_id(config);
    let will = state::last_will(&topics);
    let connection = drive::Connection::new(&endpoints[0], &client_id, &will, uplink.protocol);
    let (incoming_tx, incoming_rx) = mpsc::channel(crate::client::INCOMING_CAPACITY);
    let (connected_tx, connected_rx) = tokio::sync::watch::channel(0u64);
    let ctx = Arc::new(Context {
        client: connection.client.clone(),
        gateway: gateway.clone(),
        topics: topics.clone(),
        config: Arc::new(config.clone()),
        readers: readers::Readers::new(config),
        role: Role::Uplink,
    });
    let mut tasks = vec![tokio::spawn(drive::drive(
        connection,
        drive::Driving {
            endpoints: endpoints.clone(),
            role: Role::Uplink,
            client_id: client_id.clone(),
            will,
            setting: uplink.protocol,
            gateway: gateway.clone(),
            incoming: incoming_tx,
            connected: connected_tx,
        },
        shutdown.clone(),
    ))];
    tasks.push(tokio::spawn(state::run(
        ctx.clone(),
        connected_rx,
        jiff::Timestamp::now(),
        shutdown.clone(),
    )));
    let (commands_tx, commands_rx) = mpsc::channel(commands::CAPACITY);
    tasks.push(tokio::spawn(commands::run(
        ctx.clone(),
        commands_rx,
        shutdown.clone(),
    )));
    tasks.push(tokio::spawn(dispatch(
        ctx.clone(),
        incoming_rx,
        commands_tx,
        shutdown.clone(),
    )));
    tasks.push(tokio::spawn(head(ctx.clone(), shutdown.clone())));
    tasks.push(tokio::spawn(outbox::run(
        endpoints
            .iter()
            .map(|e| e.for_connection("-outbox"))
            .collect(),
        Role::Uplink,
        format!("{client_id}-outbox"),
        topics,
        gateway,
        shutdown,
    )));
    Ok(Some(tokio::spawn(async move {
        for task in tasks {
            let _ = task.await;
        }
    })))
}

/// How often the uplink says how far the estate's log goes.
pub const HEAD_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// Publishes `{"seq": N}` on `head` every [`HEAD_EVERY`] (QoS 0, not retained): the seq of
/// the estate's last durable event. An MQTT broker's PUBACK does not say that the district's
/// stream kept the event (NATS acknowledges a QoS 1 publish whose stream has no leader at that
/// moment, during a node's failover, and drops it), and a lost *last* event leaves no gap
/// behind it for the office to see. With the head, the office sees its copy end short and
/// asks for the rest with `replay`.
async fn head(ctx: Arc<Context>, shutdown: CancellationToken) {
    let mut tick = tokio::time::interval(HEAD_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            _ = tick.tick() => {}
        }
        let seq = ctx.gateway.store().last_seq();
        let payload = serde_json::json!({ "seq": seq }).to_string();
        // A publish waits only for room in the client's queue; while the district is away the
        // reports wait there and the first ones go out, slightly old, on reconnection.
        if let Err(e) = ctx
            .client
            .publish(ctx.topics.head(), rumqttc::QoS::AtMostOnce, false, payload)
            .await
        {
            debug!(error = %e, "Could not report the log's head on the uplink.");
        }
    }
}

/// The uplink subscribes to the commands topic alone; anything else is ignored.
async fn dispatch(
    ctx: Arc<Context>,
    mut incoming: mpsc::Receiver<Message>,
    commands: mpsc::Sender<commands::Message>,
    shutdown: CancellationToken,
) {
    loop {
        let message = tokio::select! {
            () = shutdown.cancelled() => break,
            m = incoming.recv() => match m { Some(m) => m, None => break },
        };
        match ctx.topics.route(&message.topic) {
            Some(topics::Route::Command) if !message.payload.is_empty() => {
                let command = commands::Message {
                    topic: message.topic,
                    payload: message.payload,
                    retain: message.retain,
                };
                if let Err(mpsc::error::TrySendError::Full(m)) = commands.try_send(command) {
                    ctx.gateway.refuse(
                        &m.topic,
                        "the command queue is full; dropped before its signature was checked",
                        Some(&m.payload),
                    );
                }
            }
            _ => {
                debug!(topic = %message.topic, "Message on the uplink that gatehouse does not handle.")
            }
        }
    }
}
