//! The district console over HTTPS (docs/district.md#the-console): the estates with their
//! online state, lockdowns, alarms and head counts; district orders (lockdown, lift) with each
//! estate's answer; the district search (audited); head-count reports in HTML and XLSX.
//!
//! It shares the estate console's sign-in: the same users file format and roles
//! (`gatehouse users … --data-dir` on the office's `[web] data_dir`), sessions, throttles,
//! CSRF token, security headers, error form and TLS certificate handling
//! ([`gatehouse_web`]). Roles: `office` and `admin` read and order; `auditor` reads;
//! `guard` has nothing here.
//!
//! - [`access`]: who the caller is, and the role each handler asks for.
//! - [`api`]: the JSON API and the pages.
//! - [`report`]: the head-count report as HTML and XLSX.

pub mod access;
pub mod api;
pub mod report;

use crate::db;
use ed25519_dalek::SigningKey;
use gatehouse_web::WebError;
use gatehouse_web::limiter::Limiter;
use gatehouse_web::sessions::Sessions;
use gatehouse_web::users::{PasswordCost, Users};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How long open connections get to finish when the office stops.
const GRACE: Duration = Duration::from_secs(2);

/// What every handler shares.
pub struct Inner {
    pub users: Users,
    pub sessions: Sessions,
    pub limiter: Limiter,
    pub db: db::Reconnecting,
    pub nats: async_nats::Client,
    pub issuer: String,
    pub key: SigningKey,
    /// How long an order stays valid at the estates.
    pub order_valid: Duration,
    /// One order at a time: each estate sees the issuer's counters in the order they are sent.
    pub ordering: tokio::sync::Mutex<()>,
}

#[derive(Clone)]
pub struct Console(pub Arc<Inner>);

impl std::ops::Deref for Console {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl Console {
    /// The console's state: its users file (made, with a first admin, on the first run of
    /// `web.data_dir`; the password comes back once), sessions and throttles.
    pub fn new(
        web: &crate::config::Web,
        parts: Parts,
    ) -> Result<(Console, Option<String>), WebError> {
        std::fs::create_dir_all(&web.data_dir)
            .map_err(|e| WebError::Users(web.data_dir.clone(), e.to_string()))?;
        let (users, initial_password) = Users::open(&web.data_dir, parts.password_cost)?;
        let console = Console(Arc::new(Inner {
            users,
            sessions: Sessions::default(),
            limiter: Limiter::default(),
            db: db::Reconnecting::new(&parts.postgres),
            nats: parts.nats,
            issuer: parts.issuer,
            key: parts.key,
            order_valid: Duration::from_secs(web.order_valid_s),
            ordering: tokio::sync::Mutex::new(()),
        }));
        Ok((console, initial_password))
    }
}

/// A running console.
pub struct Served {
    pub addr: SocketAddr,
    pub task: JoinHandle<()>,
    /// The first admin's password on the first run of the data directory; print it once.
    pub initial_password: Option<String>,
}

/// What the console needs besides its `[web]` section.
pub struct Parts {
    pub postgres: String,
    pub nats: async_nats::Client,
    pub issuer: String,
    pub key: SigningKey,
    pub password_cost: PasswordCost,
}

/// Binds, loads or makes the certificate and the users file, and serves until `shutdown`.
pub async fn serve(
    web: &crate::config::Web,
    parts: Parts,
    shutdown: CancellationToken,
) -> Result<Served, WebError> {
    gatehouse_web::tls::install_crypto_provider();
    let addr: SocketAddr = tokio::net::lookup_host(&web.listen)
        .await
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| WebError::BadListen(web.listen.clone()))?;
    let listener = std::net::TcpListener::bind(addr).map_err(|error| WebError::Listen {
        addr: web.listen.clone(),
        error,
    })?;
    let bound = listener.local_addr().map_err(|error| WebError::Listen {
        addr: web.listen.clone(),
        error,
    })?;
    std::fs::create_dir_all(&web.data_dir)
        .map_err(|e| WebError::Users(web.data_dir.clone(), e.to_string()))?;
    let (cert, key) =
        gatehouse_web::tls::files(web.cert.as_deref(), web.key.as_deref(), &web.data_dir)?;
    let tls = gatehouse_web::tls::load(&cert, &key).await?;
    let (console, initial_password) = Console::new(web, parts)?;
    let router = api::router(console);
    let handle = axum_server::Handle::new();
    let server = axum_server::from_tcp_rustls(listener, tls)
        .map_err(|error| WebError::Listen {
            addr: web.listen.clone(),
            error,
        })?
        .handle(handle.clone());
    let stopper = handle.clone();
    tokio::spawn(async move {
        shutdown.cancelled().await;
        stopper.graceful_shutdown(Some(GRACE));
    });
    let task = tokio::spawn(async move {
        let service = router.into_make_service_with_connect_info::<SocketAddr>();
        if let Err(e) = server.serve(service).await {
            tracing::error!(error = %e, "District console stopped with an error.");
        }
    });
    tracing::info!(addr = %bound, "District console listening.");
    Ok(Served {
        addr: bound,
        task,
        initial_password,
    })
}
