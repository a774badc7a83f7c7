//! An in-process gateway of the north estate: store, core, MQTT bus and uplink.

use crate::estate::north;
use gatehouse_core::config::Config;
use gatehouse_runtime::Gateway;
use std::path::Path;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// An in-process gateway: store, core, MQTT.
pub struct Gate {
    /// The running core's handle.
    pub gateway: Gateway,
    /// Cancelling it stops every task (as [`Gate::stop`] does).
    pub shutdown: CancellationToken,
    core: JoinHandle<()>,
    bus: JoinHandle<()>,
    uplink: Option<JoinHandle<()>>,
}

impl Gate {
    /// Opens the store in `data` (the north estate's residents are put in an empty one) and
    /// starts the core, the bus and the uplink of `config`.
    pub async fn start(config: &Config, data: &Path) -> Gate {
        // A gateway restarted in the same process (a real restart is a new process, whose
        // exit releases the store): the previous one's last clone of the store may still be
        // on a blocking thread for a moment after it stopped.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        let store = loop {
            match gatehouse_store::Store::open(data, &config.site.id) {
                Err(gatehouse_store::StoreError::Locked { .. })
                    if tokio::time::Instant::now() < deadline =>
                {
                    tokio::time::sleep(Duration::from_millis(50)).await
                }
                other => break other.unwrap(),
            }
        };
        if store.load_estate().unwrap().passes.is_empty() {
            store.put_estate(&north::residents()).unwrap();
        }
        let shutdown = CancellationToken::new();
        let (gateway, core) = gatehouse_runtime::start(config, store, shutdown.clone()).unwrap();
        let bus = gatehouse_bus::run(config, gateway.clone(), shutdown.clone()).unwrap();
        let uplink = gatehouse_bus::uplink::run(config, gateway.clone(), shutdown.clone()).unwrap();
        Gate {
            gateway,
            shutdown,
            core,
            bus,
            uplink,
        }
    }

    /// `n` access decisions at the north estate's gate through the core, a known card and
    /// an unknown one in turn; each must be decided and recorded (whatever the brokers do).
    pub async fn swipes_at_north_gate(&self, n: usize) {
        for i in 0..n {
            let card = if i % 2 == 0 { "04A1B2C3" } else { "DEADBEEF" };
            let replies = self
                .gateway
                .submit(north::swipe_at_north_gate(card))
                .await
                .expect("the estate decides whatever the district does");
            assert!(
                replies.iter().any(|r| matches!(
                    r,
                    gatehouse_core::io::Reply::Access(a) if !a.event.is_empty()
                )),
                "every swipe is decided and recorded"
            );
        }
    }

    /// Stops the gateway and waits for its tasks (10 s each at most).
    pub async fn stop(self) {
        self.shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(10), self.bus)
            .await
            .expect("bus stops")
            .unwrap();
        if let Some(uplink) = self.uplink {
            tokio::time::timeout(Duration::from_secs(10), uplink)
                .await
                .expect("uplink stops")
                .unwrap();
        }
        tokio::time::timeout(Duration::from_secs(10), self.core)
            .await
            .expect("core stops")
            .unwrap();
        drop(self.gateway);
    }
}
