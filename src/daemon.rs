//! The daemon: opens the store, starts the core's task and every adapter, and stops them all
//! when the shutdown future resolves (Ctrl-C in the binary, a token in tests).

use crate::config::ValidConfig;
use gatehouse_core::config::{BrokerMode, Config};
use gatehouse_runtime::Gateway;
use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

/// How long running tasks get to finish after shutdown before the daemon stops waiting.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// What to run besides the configuration.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub data_dir: PathBuf,
    /// Overrides `broker.listen` of the embedded broker (`--mqtt-listen`).
    pub mqtt_listen: Option<String>,
    /// Overrides `web.listen` (`--web-listen`).
    pub web_listen: Option<String>,
    /// Overrides `metrics.listen` (`--metrics-listen`).
    pub metrics_listen: Option<String>,
    /// Run simulators for every Modbus TCP controller on a loopback address (the demo).
    pub simulate: bool,
    /// How often live occupancy publishes its MQTT summary (tests shorten it).
    pub occupancy: crate::occupancy::Timing,
}

/// Why the daemon could not start or run.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("{0}")]
    Store(#[from] gatehouse_store::StoreError),
    #[error("{0}")]
    Runtime(#[from] gatehouse_runtime::RuntimeError),
    #[error("{0}")]
    Adapter(String),
}

/// Where things ended up listening, printed by the binary.
#[derive(Clone, Default)]
pub struct Running {
    pub mqtt: Option<String>,
    pub console: Option<String>,
    /// The metrics listener's base URL, or why it is not listening.
    pub metrics: Option<Result<String, String>>,
    /// The first admin's password, when this start created it (shown once).
    pub initial_admin_password: Option<String>,
    /// The MQTT broker connection once start-up waited for it (at most [`BROKER_WAIT`]).
    pub broker: Option<gatehouse_runtime::BrokerStatus>,
    pub controllers: usize,
    pub simulated_controllers: usize,
    /// The demo's simulated controllers, for its traffic of simulated swipes.
    pub simulators: Option<std::sync::Arc<gatehouse_devices::sim::SimHandles>>,
}

/// Runs the gateway until `shutdown` resolves. `started` is called once everything listens.
pub async fn run(
    config: ValidConfig,
    options: Options,
    shutdown: impl Future<Output = ()>,
    started: impl FnOnce(&Running),
) -> Result<(), DaemonError> {
    // rustls panics on first use without a provider; ring is the one we build with.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let token = CancellationToken::new();
    let profiles = config.profiles().clone();
    let config = config.into_config();
    let store = gatehouse_store::Store::open_lean(&options.data_dir, &config.site.id)?;
    let backups = config
        .backup
        .as_ref()
        .map(|plan| crate::backups::spawn(plan, store.clone(), &options.data_dir, token.clone()));
    let (gateway, core_task) = gatehouse_runtime::start(&config, store, token.clone())?;
    let mut tasks: Vec<JoinHandle<()>> = vec![core_task];
    tasks.extend(backups);
    let running = start_adapters(&config, profiles, &options, &gateway, &token, &mut tasks).await;
    let running = match running {
        Ok(running) => running,
        Err(e) => {
            token.cancel();
            wait_all(tasks).await;
            return Err(e);
        }
    };
    started(&running);
    info!(site = %config.site.id, "Gateway running.");
    shutdown.await;
    info!("Shutting down.");
    token.cancel();
    wait_all(tasks).await;
    Ok(())
}

/// How long start-up waits for the first word on the broker connection before saying ready.
pub const BROKER_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// The broker connection once it connected or failed (or after [`BROKER_WAIT`]).
async fn broker_settled(gateway: &Gateway) -> Option<gatehouse_runtime::BrokerStatus> {
    let mut status = gateway.broker_status();
    let settled = status.wait_for(|s| {
        s.as_ref()
            .is_some_and(|s| s.connected || s.problem.as_deref() != Some("connecting"))
    });
    let _ = tokio::time::timeout(BROKER_WAIT, settled).await;
    status.borrow().as_deref().cloned()
}

async fn start_adapters(
    config: &Config,
    profiles: gatehouse_devices::Profiles,
    options: &Options,
    gateway: &Gateway,
    token: &CancellationToken,
    tasks: &mut Vec<JoinHandle<()>>,
) -> Result<Running, DaemonError> {
    let mut config = config.clone();
    let mut running = Running {
        controllers: config.controllers.len(),
        ..Running::default()
    };

    // Modbus: the profiles validation loaded and checked the controllers against.
    if options.simulate {
        let sims = gatehouse_devices::sim::spawn_for_config(&config, &profiles, token.clone())
            .await
            .map_err(|e| {
                DaemonError::Adapter(format!("starting the simulated controllers: {e}"))
            })?;
        running.simulated_controllers = sims.len();
        running.simulators = Some(std::sync::Arc::new(sims));
    }
    tasks.push(gatehouse_devices::run(
        &config,
        profiles,
        gateway.clone(),
        token.clone(),
    ));

    // MQTT: the embedded broker unless an external one is configured.
    if config.broker.mode == BrokerMode::Embedded {
        let listen = options
            .mqtt_listen
            .clone()
            .unwrap_or_else(|| config.broker.listen.clone());
        let listen = concrete_port(&listen);
        let broker = gatehouse_bus::broker::start_embedded(&config, &listen)
            .await
            .map_err(|e| DaemonError::Adapter(e.to_string()))?;
        config.broker.listen = broker.addr.to_string();
        // The gateway logs in to its own broker with the login made at this start.
        let (user, password) = broker.gateway_login.clone();
        config.broker.username = Some(user);
        config.broker.password = Some(password);
        running.mqtt = Some(config.broker.listen.clone());
    }
    tasks.push(
        gatehouse_bus::run(&config, gateway.clone(), token.clone())
            .map_err(|e| DaemonError::Adapter(e.to_string()))?,
    );
    running.broker = broker_settled(gateway).await;
    // The district: a second connection that never stands between a reader and its gate.
    if let Some(uplink) = gatehouse_bus::uplink::run(&config, gateway.clone(), token.clone())
        .map_err(|e| DaemonError::Adapter(e.to_string()))?
    {
        tasks.push(uplink);
    }

    // Live occupancy: head counts for the MQTT summary and the console.
    let (occupancy_task, occupancy) =
        crate::occupancy::start(&config, gateway.clone(), options.occupancy, token.clone());
    tasks.push(occupancy_task);

    // The console.
    let listen = options
        .web_listen
        .clone()
        .unwrap_or_else(|| config.web.listen.clone());
    let web_options = gatehouse_web::WebOptions {
        import_residents: Some(import_hook(&config, &options.data_dir, gateway.clone())),
        occupancy: Some(occupancy),
        ..gatehouse_web::WebOptions::default()
    };
    let served = gatehouse_web::serve_with(
        &config,
        &options.data_dir,
        &listen,
        gateway.clone(),
        token.clone(),
        web_options,
    )
    .await
    .map_err(|e| DaemonError::Adapter(e.to_string()))?;
    running.console = Some(format!("https://{}/", served.addr));
    running.initial_admin_password = served.initial_password;
    tasks.push(served.task);

    // Metrics and health, on their own listener.
    if config.metrics.enabled {
        let listen = options
            .metrics_listen
            .clone()
            .unwrap_or_else(|| config.metrics.listen.clone());
        let ops = gatehouse_web::ops::Ops {
            gateway: gateway.clone(),
            ready_controllers: config.metrics.ready_controllers,
        };
        // Monitoring is not worth a shut gate: a taken port is reported, not fatal.
        running.metrics = Some(
            match gatehouse_web::ops::serve(&listen, ops, token.clone()).await {
                Ok(served) => {
                    tasks.push(served.task);
                    Ok(format!("http://{}/", served.addr))
                }
                Err(e) => {
                    warn!(error = %e, "Metrics are not served; the gateway runs without them.");
                    Err(e.to_string())
                }
            },
        );
    }
    Ok(running)
}

/// The console's residents upload: the same all-or-nothing check as `gatehouse import
/// residents` (off the core's task), then the changes go to the running core as one input: it
/// records the import, saves the data, and the new passes work at once.
fn import_hook(
    config: &Config,
    data_dir: &std::path::Path,
    gateway: Gateway,
) -> gatehouse_web::ImportResidents {
    let config = std::sync::Arc::new(config.clone());
    let uploads = data_dir.join("uploads");
    std::sync::Arc::new(move |name: String, bytes: Vec<u8>, actor: String| {
        let (config, uploads, gateway) = (config.clone(), uploads.clone(), gateway.clone());
        Box::pin(async move {
            // Keep only the file name's last part: the upload names the format, not a path.
            let file_name = std::path::Path::new(&name)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .ok_or_else(|| {
                    "The upload has no file name; choose a .csv or .xlsx file.".to_string()
                })?;
            let uploads_text = uploads.join(&file_name).display().to_string();
            let uploads_dir = format!("{}{}", uploads.display(), std::path::MAIN_SEPARATOR);
            let store = gateway.store().clone();
            let importing = config.clone();
            let checked = tokio::task::spawn_blocking(move || {
                // The upload holds residents' phone numbers: it lives only while it is
                // checked, readable by the gateway's user alone, and is deleted whatever the
                // outcome.
                let upload = crate::import::upload::Upload::write(&uploads, &file_name, &bytes)?;
                let existing = store.load_estate().map_err(|e| e.to_string())?;
                let mut checked = crate::import::residents::check(
                    upload.path(),
                    &importing,
                    &existing,
                    &mut |_, _| {},
                );
                drop(upload);
                if let Ok(c) = &mut checked {
                    c.file_name = file_name.clone();
                }
                Ok::<_, String>((checked, file_name, actor))
            })
            .await
            .map_err(|_| {
                "The import stopped unexpectedly: check that the file opens in a spreadsheet, then try again.".to_string()
            })??;
            let (checked, file_name, actor) = checked;
            match checked {
                Ok(checked) => {
                    // The core records the import, then saves the data and updates the people
                    // directory: the new passes work at once.
                    let c = checked.plan.counts.clone();
                    let replies = gateway
                        .submit(checked.into_input(&actor))
                        .await
                        .map_err(|e| e.to_string())?;
                    if let Some(gatehouse_core::io::Reply::Admin(a)) = replies.first()
                        && !a.ok
                    {
                        return Err(format!(
                            "The import was refused: {}",
                            a.error.as_deref().unwrap_or("no reason given")
                        ));
                    }
                    Ok(gatehouse_web::ImportReport {
                        ok: true,
                        households: c.households_added + c.households_updated,
                        people: c.people_added + c.people_updated,
                        passes: c.passes_added + c.passes_updated,
                        rows: c.rows,
                        added: c.people_added,
                        updated: c.people_updated,
                        unchanged: c.people_unchanged,
                        refused: 0,
                        errors: Vec::new(),
                    })
                }
                // One entry per distinct problem, at its first row, as the CLI prints them.
                Err(crate::import::residents::ImportError::BadRows { errors, .. }) => {
                    Ok(gatehouse_web::ImportReport {
                        ok: false,
                        refused: errors.len(),
                        errors: crate::import::residents::problems_by_first_row(&errors)
                            .into_iter()
                            .map(|(row, reason)| gatehouse_web::RowError { row, reason })
                            .collect(),
                        ..gatehouse_web::ImportReport::default()
                    })
                }
                // The console never shows where the gateway keeps files: the upload's own
                // name stands for its path.
                Err(e) => Err(e
                    .to_string()
                    .replace(&uploads_text, &file_name)
                    .replace(&uploads_dir, "")),
            }
        })
    })
}

/// The embedded broker reports its bound port only in its log, so port 0 is resolved here to a
/// port that is free now.
fn concrete_port(listen: &str) -> String {
    match listen.parse::<std::net::SocketAddr>() {
        Ok(addr) if addr.port() == 0 => std::net::TcpListener::bind(addr)
            .and_then(|l| l.local_addr())
            .map(|a| a.to_string())
            .unwrap_or_else(|_| listen.to_string()),
        _ => listen.to_string(),
    }
}

async fn wait_all(tasks: Vec<JoinHandle<()>>) {
    let all = futures::future::join_all(tasks);
    if tokio::time::timeout(SHUTDOWN_GRACE, all).await.is_err() {
        warn!(
            grace_s = SHUTDOWN_GRACE.as_secs(),
            "Some tasks did not stop in time; exiting anyway."
        );
    }
}
