//! The district office (`gatehouse office`, `docs/district.md#the-office`): every estate's
//! events, as their gateways' uplinks publish them to the district broker (NATS, JetStream
//! stream `GATEHOUSE_EVENTS`), into PostgreSQL.
//!
//! - [`config`]: the office's configuration file.
//! - [`chain`]: each estate's hash chain as events arrive (no I/O): new or duplicate,
//!   broken links, gaps.
//! - [`db`]: the schema with its migrations, and the writes of a batch.
//! - [`ingest`]: the durable consumer; a batch is acknowledged only after its commit.
//! - [`replay`]: signed `replay` commands that ask an estate to fill a gap.
//! - [`state`]: each estate's latest status, lockdown table and head counts, with their age.
//! - [`orders`]: district lockdowns and lifts, one signed command per estate, re-sent until
//!   answered.
//! - [`views`]: what the console reads (estates, alarms, orders, search, head counts, audit).
//! - [`console`]: the district console over HTTPS.

pub mod chain;
pub mod config;
pub mod console;
pub mod db;
pub mod ingest;
pub mod orders;
pub mod replay;
pub mod state;
pub mod views;

use config::OfficeConfig;
use ed25519_dalek::SigningKey;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

/// How often gaps are looked at for a replay.
const REPLAYS_EVERY: Duration = Duration::from_secs(5);

/// What stops the office, and what to do.
#[derive(Debug, thiserror::Error)]
pub enum OfficeError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error(transparent)]
    Db(#[from] db::DbError),
    #[error("the district broker: {0}; check [nats] servers and that the cluster runs")]
    Nats(String),
    #[error(
        "{path}: {problem}; write the office's secret key there (gatehouse keys new --out NAME)"
    )]
    Key { path: String, problem: String },
    #[error("the district console: {0}")]
    Console(#[from] gatehouse_web::WebError),
}

/// What the caller learns once the office is up.
pub struct Ready {
    /// The console's address.
    pub console: std::net::SocketAddr,
    /// The first admin's password, on the first run of the console's data directory.
    pub initial_password: Option<String>,
}

/// Reads the issuer's secret key file.
pub fn signing_key(config: &OfficeConfig) -> Result<SigningKey, OfficeError> {
    let path = &config.issuer.key_file;
    let key_error = |problem: String| OfficeError::Key {
        path: path.display().to_string(),
        problem,
    };
    let text = std::fs::read_to_string(path).map_err(|e| key_error(e.to_string()))?;
    gatehouse_core::command::parse_secret_key(text.trim()).map_err(key_error)
}

/// Runs the office until `shutdown`: consumes the stream into PostgreSQL and asks for the
/// gaps it finds. Fails fast on a bad key, database or broker at start; afterwards a failed
/// batch is retried.
pub async fn run(
    config: OfficeConfig,
    password_cost: gatehouse_web::PasswordCost,
    shutdown: CancellationToken,
    ready: impl FnOnce(Ready),
) -> Result<(), OfficeError> {
    let key = signing_key(&config)?;
    let client = db::connect(&config.postgres.url).await?;
    let nats = async_nats::ConnectOptions::new()
        .retry_on_initial_connect()
        .connect(config.nats.servers.clone())
        .await
        .map_err(|e| OfficeError::Nats(e.to_string()))?;
    let subscriptions = state::subscribe(&nats).await?;
    let served = console::serve(
        &config.web,
        console::Parts {
            postgres: config.postgres.url.clone(),
            nats: nats.clone(),
            issuer: config.issuer.id.clone(),
            key: key.clone(),
            password_cost,
        },
        shutdown.clone(),
    )
    .await?;
    let orders = tokio::spawn(orders::run(
        config.postgres.url.clone(),
        nats.clone(),
        config.issuer.id.clone(),
        key.clone(),
        shutdown.clone(),
    ));
    ready(Ready {
        console: served.addr,
        initial_password: served.initial_password,
    });
    let js = async_nats::jetstream::new(nats.clone());
    let consumer = tokio::select! {
        () = shutdown.cancelled() => return Ok(()),
        c = ingest::consumer(&js, &config.nats) => c?,
    };
    let states = tokio::spawn(state::run(
        subscriptions,
        config.postgres.url.clone(),
        shutdown.clone(),
    ));
    let mut ingest = ingest::Ingest::new(consumer, client);
    // One thing at a time: a batch is never cut off half-way (its messages would wait for
    // their acknowledgement deadline to come again). A fetch waits at most a second.
    let mut replays_due = tokio::time::Instant::now();
    while !shutdown.is_cancelled() {
        match ingest.reconnect_if_closed(&config.postgres.url).await {
            Ok(true) => info!("Connected to PostgreSQL again."),
            Ok(false) => {}
            Err(e) => {
                warn!(error = %e, "PostgreSQL is away; trying again in a second.");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        }
        if let Err(e) = ingest.batch().await {
            warn!(error = %e, "Retrying in a second.");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        if tokio::time::Instant::now() >= replays_due {
            replays_due = tokio::time::Instant::now() + REPLAYS_EVERY;
            if let Err(e) = replay::send_due(ingest.client(), &nats, &config.issuer.id, &key).await
            {
                warn!(error = %e, "Could not send the replays that are due.");
            }
        }
    }
    let _ = states.await;
    let _ = orders.await;
    let _ = served.task.await;
    Ok(())
}
