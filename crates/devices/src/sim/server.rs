//! Simulator servers: Modbus TCP on a socket (killable and revivable, for the tests), Modbus
//! RTU on a serial device, and the simulators of a whole configuration (the demo).

use super::SimController;
use super::service::SimService;
use crate::modbus::link::{SerialSettings, serial_builder};
use crate::profile::Profiles;
use gatehouse_core::config::{Config, Transport};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info};

/// Why a simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The address is taken or not local.
    #[error(
        "controller '{controller}': cannot listen on {address}: {error}. Free the port or change the controller's address."
    )]
    Bind {
        controller: String,
        address: String,
        error: String,
    },
    /// The serial device cannot be opened.
    #[error(
        "cannot open serial device {path}: {error}. Check the path (a pseudo-terminal from socat, a USB adapter)."
    )]
    Serial { path: String, error: String },
    /// The controller's profile is unknown.
    #[error("{0}")]
    Profile(#[from] crate::ProfileError),
}

/// A simulated controller behind a Modbus TCP server.
pub struct TcpSim {
    pub controller: Arc<SimController>,
    pub address: SocketAddr,
    running: Mutex<Option<CancellationToken>>,
    shutdown: CancellationToken,
}

/// Starts a Modbus TCP simulator of `controller` on `listen` (port 0 picks a free one).
pub async fn serve_tcp(
    listen: &str,
    controller: Arc<SimController>,
    shutdown: CancellationToken,
) -> std::io::Result<Arc<TcpSim>> {
    let listener = TcpListener::bind(listen).await?;
    let address = listener.local_addr()?;
    let sim = Arc::new(TcpSim {
        controller,
        address,
        running: Mutex::new(None),
        shutdown,
    });
    sim.start(listener);
    Ok(sim)
}

impl TcpSim {
    fn start(&self, listener: TcpListener) {
        let stop = self.shutdown.child_token();
        *self.running.lock().unwrap_or_else(|e| e.into_inner()) = Some(stop.clone());
        let service = SimService::single(self.controller.clone());
        let address = self.address;
        tokio::spawn(async move {
            let server = tokio_modbus::server::tcp::Server::new(listener);
            let on_connected = |stream: tokio::net::TcpStream, _peer: SocketAddr| {
                let service = service.clone();
                async move {
                    let _ = stream.set_nodelay(true);
                    Ok(Some((service, stream)))
                }
            };
            let on_error = |e: std::io::Error| debug!(error = %e, "Simulator connection ended.");
            // Dropping `serve` (on stop) closes the listener and every connection it accepted.
            tokio::select! {
                () = stop.cancelled() => {}
                result = server.serve(&on_connected, on_error) => {
                    if let Err(e) = result { debug!(address = %address, error = %e, "Simulator stopped."); }
                }
            }
        });
    }

    /// Kills the simulator: its port closes and every connection drops, like a controller
    /// whose power was cut.
    pub fn kill(&self) {
        if let Some(stop) = self
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            stop.cancel();
        }
    }

    /// Starts it again on the same address, with the memory it had.
    pub async fn revive(&self) -> std::io::Result<()> {
        let listener = TcpListener::bind(self.address).await?;
        self.start(listener);
        Ok(())
    }
}

/// Serves controllers on an RS-485 bus (a serial device), by unit id, until `shutdown`.
pub fn serve_rtu(
    serial: &SerialSettings,
    units: HashMap<u8, Arc<SimController>>,
    shutdown: CancellationToken,
) -> Result<JoinHandle<()>, SimError> {
    let port = tokio_serial::SerialStream::open(&serial_builder(serial)).map_err(|e| {
        SimError::Serial {
            path: serial.path.clone(),
            error: e.to_string(),
        }
    })?;
    let server = tokio_modbus::server::rtu::Server::new(port);
    let service = SimService::bus(units);
    Ok(tokio::spawn(async move {
        let _ = server
            .serve_until(service, async move { shutdown.cancelled().await })
            .await;
    }))
}

/// The simulators of a configuration's controllers, by controller id.
#[derive(Default)]
pub struct SimHandles {
    pub controllers: BTreeMap<String, Arc<TcpSim>>,
    /// Reader id → (controller id, reader index), for swipes on simulated readers.
    readers: HashMap<String, (String, u16)>,
    /// Door id → (controller id, channel).
    doors: HashMap<String, (String, u16)>,
}

impl SimHandles {
    pub fn controller(&self, id: &str) -> Option<&Arc<SimController>> {
        self.controllers.get(id).map(|s| &s.controller)
    }

    /// Reads `card` on the simulated reader `reader`, as a person would present it.
    pub fn swipe(&self, reader: &str, card: u32, pin: Option<&str>) -> Result<(), String> {
        let (ctl, index) = self.readers.get(reader).ok_or_else(|| {
            format!("reader '{reader}' is not on a simulated reader-controller: swipe on one listed in a controller's readers")
        })?;
        let sim = self
            .controller(ctl)
            .ok_or_else(|| format!("controller '{ctl}' is not simulated"))?;
        sim.read_card(*index, card, pin).map_err(|e| e.to_string())
    }

    /// The simulated controller and channel of `door`.
    pub fn door(&self, door: &str) -> Option<(&Arc<SimController>, u16)> {
        let (ctl, ch) = self.doors.get(door)?;
        Some((self.controller(ctl)?, *ch))
    }

    pub fn len(&self) -> usize {
        self.controllers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.controllers.is_empty()
    }
}

/// Whether `address` (`host:port`) names this machine's loopback.
fn is_loopback(address: &str) -> bool {
    let host = address
        .rsplit_once(':')
        .map_or(address, |(h, _)| h)
        .trim_matches(['[', ']']);
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Starts a simulator for every Modbus TCP controller of `config` on a loopback address, on
/// that address, so the gateway finds them where the configuration says.
pub async fn spawn_for_config(
    config: &Config,
    profiles: &Profiles,
    shutdown: CancellationToken,
) -> Result<SimHandles, SimError> {
    let mut handles = SimHandles::default();
    for ctl in &config.controllers {
        let Some(address) = ctl
            .address
            .as_deref()
            .filter(|a| ctl.transport == Transport::Tcp && is_loopback(a))
        else {
            continue;
        };
        let profile =
            profiles
                .get(&ctl.profile)
                .cloned()
                .ok_or_else(|| crate::ProfileError::Unknown {
                    controller: ctl.id.clone(),
                    profile: ctl.profile.clone(),
                    known: profiles.names().collect::<Vec<_>>().join(", "),
                })?;
        let listen = if address.contains(':') {
            address.to_string()
        } else {
            format!("{address}:502")
        };
        let sim = serve_tcp(&listen, SimController::new(profile), shutdown.clone())
            .await
            .map_err(|e| SimError::Bind {
                controller: ctl.id.clone(),
                address: listen.clone(),
                error: e.to_string(),
            })?;
        for r in &ctl.readers {
            handles
                .readers
                .insert(r.id.clone(), (ctl.id.clone(), r.index));
        }
        for d in config
            .doors
            .iter()
            .filter(|d| d.controller.as_deref() == Some(ctl.id.as_str()))
        {
            handles
                .doors
                .insert(d.id.clone(), (ctl.id.clone(), d.channel));
        }
        info!(controller = %ctl.id, address = %sim.address, profile = %ctl.profile, "Simulated controller listening.");
        handles.controllers.insert(ctl.id.clone(), sim);
    }
    Ok(handles)
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_loopback_addresses_are_simulated() {
        for (a, want) in [
            ("127.0.0.1:1502", true),
            ("localhost:502", true),
            ("[::1]:502", true),
            ("10.0.0.5:502", false),
            ("ctl.local", false),
        ] {
            assert_eq!(super::is_loopback(a), want, "{a}");
        }
    }
}
