//! The metrics listener: plain HTTP, on its own address (loopback by default, `[metrics]`),
//! apart from the console. Thin: the facts and their judgement are the runtime's
//! ([`gatehouse_runtime::health`], [`gatehouse_runtime::metrics`]).
//!
//! - `GET /metrics`: Prometheus (OpenMetrics) text.
//! - `GET /healthz`: `200 ok` while the core task answers; 503 when it does not.
//! - `GET /readyz`: 200 when the log is writable, the broker connected and enough
//!   controllers online; otherwise 503. Both bodies are JSON naming each check, and for a
//!   failing one what is wrong and what to do.

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use gatehouse_runtime::Gateway;
use gatehouse_runtime::health::{self, Check};
use std::net::SocketAddr;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Why the metrics listener could not start.
#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    #[error(
        "metrics listen address '{0}' is not address:port (e.g. 127.0.0.1:9464): fix [metrics] listen or --metrics-listen"
    )]
    BadListen(String),
    #[error(
        "cannot listen on {addr} for metrics: {error}; choose another with [metrics] listen or --metrics-listen, or set [metrics] enabled = false"
    )]
    Listen { addr: String, error: std::io::Error },
}

/// What the handlers share.
#[derive(Clone)]
pub struct Ops {
    pub gateway: Gateway,
    /// The share of controllers that must be online for `/readyz`.
    pub ready_controllers: f64,
}

/// The routes, for the listener and for tests.
pub fn router(ops: Ops) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(ops)
}

/// A running metrics listener.
pub struct OpsServed {
    /// The address actually bound.
    pub addr: SocketAddr,
    /// Ends once the shutdown token fires.
    pub task: JoinHandle<()>,
}

/// Binds `listen` and serves [`router`] until `shutdown` fires.
pub async fn serve(
    listen: &str,
    ops: Ops,
    shutdown: CancellationToken,
) -> Result<OpsServed, OpsError> {
    let addr: SocketAddr = listen
        .parse()
        .map_err(|_| OpsError::BadListen(listen.to_string()))?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|error| OpsError::Listen {
            addr: listen.to_string(),
            error,
        })?;
    let bound = listener.local_addr().map_err(|error| OpsError::Listen {
        addr: listen.to_string(),
        error,
    })?;
    let app = router(ops);
    let task = tokio::spawn(async move {
        let stopped = axum::serve(listener, app).with_graceful_shutdown(shutdown.cancelled_owned());
        if let Err(e) = stopped.await {
            tracing::error!(error = %e, "Metrics listener stopped with an error.");
        }
    });
    tracing::info!(addr = %bound, "Metrics listening.");
    Ok(OpsServed { addr: bound, task })
}

async fn metrics(State(ops): State<Ops>) -> Response {
    let facts = health::gather(&ops.gateway).await;
    let checks = health::readiness(&facts, ops.ready_controllers);
    let text = gatehouse_runtime::metrics::render(ops.gateway.instruments(), &facts, &checks);
    (
        [(
            header::CONTENT_TYPE,
            gatehouse_runtime::metrics::CONTENT_TYPE,
        )],
        text,
    )
        .into_response()
}

async fn healthz(State(ops): State<Ops>) -> Response {
    if health::core_answers(&ops.gateway).await {
        (StatusCode::OK, "ok\n").into_response()
    } else {
        let problem = format!(
            "not ok: the core task did not answer within {} s; restart the gateway (systemctl restart gatehouse) and keep its log for a report\n",
            health::CORE_TIMEOUT.as_secs()
        );
        (StatusCode::SERVICE_UNAVAILABLE, problem).into_response()
    }
}

/// The body of `/readyz`.
#[derive(serde::Serialize)]
struct Readiness {
    ready: bool,
    checks: Vec<Check>,
}

async fn readyz(State(ops): State<Ops>) -> Response {
    let facts = health::gather(&ops.gateway).await;
    let checks = health::readiness(&facts, ops.ready_controllers);
    let ready = health::ready(&checks);
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(Readiness { ready, checks })).into_response()
}
