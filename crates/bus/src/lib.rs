//! MQTT for gatehouse (`docs/interfaces.md#mqtt`): the embedded broker, the gateway's client, and what
//! travels over it.
//!
//! - [`broker`]: the embedded rmqtt broker (the default; loopback unless configured), its logins
//!   and per-client rights.
//! - [`client`]: connection options (TLS, client certificates), the event loop with our own
//!   backoff, and the signal that a (re)connection happened.
//! - [`state`]: retained state — status with last will, door states, lockdown — republished
//!   and resubscribed after every ConnAck.
//! - [`admission`]: per-source rates at the boundary; beyond them messages are only counted.
//! - [`readers`]: swipe requests → core → results, one task in order; request ids de-duplicated.
//! - [`doors`]: doors driven over MQTT (`controller = "mqtt"`): set commands and inputs.
//! - [`outbox`]: events published at QoS 1 from a durable cursor in the store.
//! - [`commands`]: signed office commands in, results out (verification is the core's).
//! - [`office`]: the office's side: key files, counters, signing, sending one command.
//! - [`home_assistant`]: discovery of doors as `lock` and `binary_sensor` entities.
//! - [`topics`]: the topic names under `gatehouse/{site}/`.
//! - [`uplink`]: the second connection, to the district broker (`[uplink]`).
//!
//! Entry points for the daemon: [`broker::start_embedded`], [`run`] and [`uplink::run`].

pub mod admission;
pub mod broker;
pub mod client;
pub mod commands;
pub mod doors;
pub mod home_assistant;
pub mod office;
pub mod outbox;
pub mod readers;
pub mod state;
pub mod topics;
pub mod uplink;

use client::Message;
use gatehouse_core::config::Config;
use gatehouse_runtime::Gateway;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

/// Errors of the MQTT layer.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// The embedded broker's port is taken by another program.
    #[error(
        "the embedded MQTT broker cannot listen on {listen}: {source}; stop the program using that port (another gatehouse or a Mosquitto service) or choose another address with --mqtt-listen or the broker.listen key"
    )]
    ListenTaken {
        listen: String,
        #[source]
        source: std::io::Error,
    },
    /// An address, URL or file name in the `[broker]` section is not usable.
    #[error("broker configuration: {0}")]
    Config(String),
    /// A TLS file (CA, certificate, key) could not be read or parsed.
    #[error(
        "broker TLS file {path}: {problem}; check the path in the [broker] section and that it is PEM"
    )]
    Tls { path: String, problem: String },
    /// The embedded broker did not start.
    #[error("the embedded MQTT broker did not start: {0}; see the log lines before this one")]
    Broker(String),
}

/// Starts the gateway's MQTT client and everything that rides on it: retained state, readers,
/// MQTT doors, the event outbox, office commands and Home Assistant discovery. Connects to the
/// embedded broker (`broker.mode = "embedded"`, at `broker.listen`, which the daemon started
/// with [`broker::start_embedded`]) or to an external one (`broker.url`). Fails fast on a bad
/// `[broker]` section; after that, a lost broker is retried for ever with backoff and never
/// stops local decisions. The handle finishes once `shutdown` fires and every task has ended.
pub fn run(
    config: &Config,
    gateway: Gateway,
    shutdown: CancellationToken,
) -> Result<JoinHandle<()>, BusError> {
    let endpoint = client::Endpoint::from_config(&config.broker)?;
    let topics = Arc::new(topics::Topics::new(&config.site.id));
    let client_id = broker::gateway_client_id(config);
    let started_at = jiff::Timestamp::now();

    let will = state::last_will(&topics);
    let connection =
        client::drive::Connection::new(&endpoint, &client_id, &will, config.broker.protocol);
    let client = connection.client.clone();
    let (incoming_tx, incoming_rx) = mpsc::channel(client::INCOMING_CAPACITY);
    let (connected_tx, connected_rx) = tokio::sync::watch::channel(0u64);
    let mut tasks = Vec::new();
    tasks.push(tokio::spawn(client::drive::drive(
        connection,
        client::drive::Driving {
            endpoints: vec![endpoint.clone()],
            role: client::drive::Role::Estate,
            client_id: client_id.clone(),
            will,
            setting: config.broker.protocol,
            gateway: gateway.clone(),
            incoming: incoming_tx,
            connected: connected_tx,
        },
        shutdown.clone(),
    )));

    let ctx = Arc::new(Context {
        client,
        gateway: gateway.clone(),
        topics: topics.clone(),
        config: Arc::new(config.clone()),
        readers: readers::Readers::new(config),
        role: client::drive::Role::Estate,
    });
    tasks.push(tokio::spawn(state::run(
        ctx.clone(),
        connected_rx,
        started_at,
        shutdown.clone(),
    )));
    let (commands_tx, commands_rx) = mpsc::channel(commands::CAPACITY);
    tasks.push(tokio::spawn(commands::run(
        ctx.clone(),
        commands_rx,
        shutdown.clone(),
    )));
    let (swipes_tx, swipes_rx) = mpsc::channel(readers::QUEUED);
    tasks.push(tokio::spawn(readers::run(
        ctx.clone(),
        swipes_rx,
        shutdown.clone(),
    )));
    tasks.push(tokio::spawn(dispatch(
        ctx.clone(),
        incoming_rx,
        Queues {
            swipes: swipes_tx,
            commands: commands_tx,
        },
        shutdown.clone(),
    )));
    tasks.push(tokio::spawn(doors::run(ctx.clone(), shutdown.clone())));
    // The outbox speaks 3.1.1 on every broker: it only publishes, and its packet ids map to
    // events one to one.
    tasks.push(tokio::spawn(outbox::run(
        vec![endpoint.for_connection("-outbox")],
        client::drive::Role::Estate,
        format!("{client_id}-outbox"),
        topics,
        gateway,
        shutdown.clone(),
    )));
    Ok(tokio::spawn(async move {
        for task in tasks {
            let _ = task.await;
        }
    }))
}

/// What the message handlers share.
pub(crate) struct Context {
    pub(crate) client: client::Client,
    pub(crate) gateway: Gateway,
    pub(crate) topics: Arc<topics::Topics>,
    pub(crate) config: Arc<Config>,
    pub(crate) readers: readers::Readers,
    /// Which broker this context's client is on: the uplink subscribes to commands alone and
    /// announces nothing to Home Assistant.
    pub(crate) role: client::drive::Role,
}

/// Where the dispatcher hands admitted messages.
struct Queues {
    swipes: mpsc::Sender<readers::Message>,
    commands: mpsc::Sender<commands::Message>,
}

/// Home Assistant's `online` is answered at most this often (it announces every entity).
const HA_ANNOUNCE_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// Routes incoming messages by topic, admitting each source at its rate (see [`admission`]).
/// Nothing here waits: swipes go to the readers' task, commands to theirs (each with its own
/// bounded queue), door inputs straight to the core's urgent lane, refusals into the
/// summaries. A flood costs a route and a bucket lookup per message.
async fn dispatch(
    ctx: Arc<Context>,
    mut incoming: mpsc::Receiver<Message>,
    queues: Queues,
    shutdown: CancellationToken,
) {
    let mut admission = admission::Admission::default();
    let unknown_readers = ctx.topics.reader_swipe("+");
    let mut announced: Option<tokio::time::Instant> = None;
    loop {
        let publish = tokio::select! {
            () = shutdown.cancelled() => break,
            p = incoming.recv() => match p { Some(p) => p, None => break },
        };
        let now = tokio::time::Instant::now();
        let (topic, payload, retain) = (publish.topic, publish.payload, publish.retain);
        if payload.is_empty() {
            // How a retained message is cleared (the gateway clears retained swipes, and
            // commands over 3.1.1): on the topics the gateway reads it is never a message.
            debug!(
                retain,
                "Empty message (a cleared retained message); ignored."
            );
            continue;
        }
        match ctx.topics.route(&topic) {
            Some(topics::Route::Swipe(reader)) => {
                let (source, rate) = if ctx.readers.is_known(&reader) {
                    (topic.as_str(), admission::READER)
                } else {
                    (unknown_readers.as_str(), admission::UNKNOWN_READERS)
                };
                if !admission.admit(source, rate, now) {
                    ctx.gateway.refuse(
                        source,
                        "more swipes a second than a reader sends; dropped unread",
                        Some(&payload),
                    );
                    continue;
                }
                let message = readers::Message {
                    reader,
                    topic,
                    payload,
                    retain,
                };
                if let Err(mpsc::error::TrySendError::Full(m)) = queues.swipes.try_send(message) {
                    ctx.gateway.refuse(
                        &m.topic,
                        "the gateway's swipe queue is full; dropped unread",
                        Some(&m.payload),
                    );
                }
            }
            Some(topics::Route::DoorInput(door)) => {
                if admission.admit(&topic, admission::DOOR, now) {
                    doors::input(&ctx, &door, &topic, &payload, retain);
                } else {
                    ctx.gateway.refuse(
                        &topic,
                        "more door inputs a second than a controller sends; dropped unread",
                        Some(&payload),
                    );
                }
            }
            Some(topics::Route::Command) => {
                let message = commands::Message {
                    topic,
                    payload,
                    retain,
                };
                if let Err(mpsc::error::TrySendError::Full(m)) = queues.commands.try_send(message) {
                    warn!(
                        "Office commands arrive faster than they can be checked; command dropped and counted."
                    );
                    ctx.gateway.refuse(
                        &m.topic,
                        "the command queue is full; dropped before its signature was checked",
                        Some(&m.payload),
                    );
                }
            }
            Some(topics::Route::InvalidId(source)) => {
                ctx.gateway
                    .refuse(&source, topics::INVALID_ID, Some(topic.as_bytes()));
            }
            Some(topics::Route::HomeAssistantStatus) => {
                let due = announced.is_none_or(|at| now.duration_since(at) >= HA_ANNOUNCE_EVERY);
                if payload.as_ref() == b"online" && due {
                    announced = Some(now);
                    let ctx = ctx.clone();
                    tokio::spawn(async move { home_assistant::announce(&ctx).await });
                }
            }
            None => debug!(topic = %topic, "Message on a topic gatehouse does not handle."),
        }
    }
}
