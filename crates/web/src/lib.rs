//! gatehouse's web console over HTTPS: the guard's checkpoint screen, visitor
//! self-registration, and the office console, each with the JSON API behind it.
//!
//! - [`serve`]: the one entry point the daemon calls.
//! - [`tls`]: the certificate (configured, or self-signed on first run).
//! - [`users`], [`sessions`], [`limiter`]: who may sign in, their sessions, throttles.
//! - [`routes`]: the route table with the roles each route admits; the access check.
//! - [`app`]: the state handlers share and the hooks the daemon passes in.
//! - [`api`]: the JSON API, one module per screen.
//! - [`pages`]: the pages and their assets, built into the binary (no CDN: no internet).
//! - [`visitors`]: self-registrations waiting for a guard.
//! - [`qr`]: visitor passes as QR codes (SVG).
//! - [`words`]: the one translation table for codes (kinds, reasons, alarms, roles, modes).
//! - [`ops`]: the separate plain-HTTP metrics listener (`/metrics`, `/healthz`, `/readyz`).

pub mod api;
pub mod app;
pub mod limiter;
pub mod ops;
pub mod pages;
pub mod qr;
pub mod routes;
pub mod security;
pub mod sessions;
pub mod tls;
pub mod users;
pub mod visitors;
pub mod words;

pub use app::{
    App, BuildingTable, ImportReport, ImportResidents, OccupancyNow, OccupancyQuery, RowError,
    WebOptions,
};
pub use users::{PasswordCost, Role};

use gatehouse_core::config::Config;
use gatehouse_runtime::Gateway;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Why the console could not start.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// The listen address is not `host:port`.
    #[error(
        "web listen address '{0}' is not host:port (e.g. 127.0.0.1:8443): fix --web-listen or web.listen"
    )]
    BadListen(String),
    /// The port is taken or may not be bound.
    #[error(
        "cannot listen on {addr} for the console: {error}; choose another with --web-listen or web.listen"
    )]
    Listen { addr: String, error: std::io::Error },
    /// The certificate or key could not be made or loaded.
    #[error("console certificate: {0}")]
    Certificate(String),
    /// The console's user file could not be read or written.
    #[error(
        "console users file {0}: {1}; check the data directory's permissions, or move the file away to start afresh"
    )]
    Users(PathBuf, String),
    /// The operating system gave no randomness.
    #[error("no randomness for password hashing: {0}")]
    Random(String),
    /// The change would leave the console without an enabled admin.
    #[error(
        "'{0}' is the last admin: make another user admin first, then change or remove this one"
    )]
    LastAdmin(String),
    /// No console user has this name.
    #[error("no console user is named '{0}': check the name in the user list")]
    NoSuchUser(String),
}

/// A running console.
pub struct Served {
    /// The address actually bound (the port is real even when 0 was asked for).
    pub addr: SocketAddr,
    /// Ends once the shutdown token fires and open connections have closed.
    pub task: JoinHandle<()>,
    /// The first admin's password, made on the first run of this data directory; print it
    /// once. `None` on later runs, and when `GATEHOUSE_ADMIN_PASSWORD` chose it.
    pub initial_password: Option<String>,
}

/// How long open connections (live feeds) get to finish when the daemon stops.
const GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// Starts the console on `listen` with default options. See [`serve_with`].
pub async fn serve(
    config: &Config,
    data_dir: &Path,
    listen: &str,
    gateway: Gateway,
    shutdown: CancellationToken,
) -> Result<Served, WebError> {
    serve_with(
        config,
        data_dir,
        listen,
        gateway,
        shutdown,
        WebOptions::default(),
    )
    .await
}

/// Starts the console on `listen` (`127.0.0.1:8443`; port 0 picks a free port): loads or makes
/// the certificate and the user table, binds the port (a taken port is an error naming
/// `--web-listen` / `web.listen`), and serves until `shutdown` fires.
pub async fn serve_with(
    config: &Config,
    data_dir: &Path,
    listen: &str,
    gateway: Gateway,
    shutdown: CancellationToken,
    options: WebOptions,
) -> Result<Served, WebError> {
    tls::install_crypto_provider();
    let addr: SocketAddr = tokio::net::lookup_host(listen)
        .await
        .ok()
        .and_then(|mut addrs| addrs.next())
        .ok_or_else(|| WebError::BadListen(listen.to_string()))?;
    let listener = std::net::TcpListener::bind(addr).map_err(|error| WebError::Listen {
        addr: listen.to_string(),
        error,
    })?;
    let bound = listener.local_addr().map_err(|error| WebError::Listen {
        addr: listen.to_string(),
        error,
    })?;
    std::fs::create_dir_all(data_dir)
        .map_err(|e| WebError::Users(data_dir.to_path_buf(), e.to_string()))?;
    let (cert, key) = tls::paths(config, data_dir)?;
    let tls = tls::load(&cert, &key).await?;
    let (users, initial_password) = users::Users::open(data_dir, options.password_cost)?;
    let app = App::new(config, gateway, users, options, shutdown.clone());
    let router = routes::router(app);
    let handle = axum_server::Handle::new();
    let server = axum_server::from_tcp_rustls(listener, tls)
        .map_err(|error| WebError::Listen {
            addr: listen.to_string(),
            error,
        })?
        .handle(handle.clone());
    let stopper = handle.clone();
    let watcher = shutdown.clone();
    tokio::spawn(async move {
        watcher.cancelled().await;
        stopper.graceful_shutdown(Some(GRACE));
    });
    let task = tokio::spawn(async move {
        let service = router.into_make_service_with_connect_info::<SocketAddr>();
        if let Err(e) = server.serve(service).await {
            tracing::error!(error = %e, "Console server stopped with an error.");
        }
        tracing::info!("Console stopped.");
    });
    tracing::info!(addr = %bound, "Console listening.");
    Ok(Served {
        addr: bound,
        task,
        initial_password,
    })
}
