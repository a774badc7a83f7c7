//! The real daemon (`gatehouse run`'s start-up) in process, on a configuration of the test's,
//! until the test stops it.

use gatehouse::config::ValidConfig;
use gatehouse::daemon::{self, DaemonError, Options};
use std::path::Path;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A running daemon and where it listens.
pub struct Daemon {
    stop: CancellationToken,
    task: JoinHandle<Result<(), DaemonError>>,
    /// Its embedded broker, `host:port`, if it runs one.
    pub mqtt: Option<String>,
    /// The metrics listener's base URL, or why it is not listening; none without `[metrics]`.
    pub metrics: Option<Result<String, String>>,
}

impl Daemon {
    /// Starts the daemon on `config` with `data` as data directory; returns once everything
    /// listens.
    pub async fn start(config: ValidConfig, data: &Path) -> Daemon {
        let options = Options {
            data_dir: data.to_path_buf(),
            ..Options::default()
        };
        Daemon::start_with(config, options).await
    }

    /// [`Daemon::start`] with the command line's `options`.
    pub async fn start_with(config: ValidConfig, options: Options) -> Daemon {
        let stop = CancellationToken::new();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let token = stop.clone();
        let task = tokio::spawn(async move {
            daemon::run(config, options, token.cancelled_owned(), move |running| {
                let _ = tx.send((running.mqtt.clone(), running.metrics.clone()));
            })
            .await
        });
        let (mqtt, metrics) = rx.await.expect("the daemon started");
        Daemon {
            stop,
            task,
            mqtt,
            metrics,
        }
    }

    /// The embedded broker's port on loopback.
    pub fn broker_port(&self) -> u16 {
        let mqtt = self.mqtt.as_deref().expect("an embedded broker");
        let addr: std::net::SocketAddr = mqtt.parse().expect("the broker's address");
        assert!(addr.ip().is_loopback(), "the broker listens on {addr}");
        addr.port()
    }

    /// Stops the daemon and waits until it has; it must stop cleanly.
    pub async fn stop(self) {
        self.stop.cancel();
        self.task.await.unwrap().unwrap();
    }
}
