//! Modbus controllers: one task per TCP controller and one per RS-485 bus (controllers that
//! share a serial path share its task).
//!
//! - [`link`]: one connection and one request at a time, each with a timeout.
//! - [`plan`]: the fewest reads that cover a controller's points.
//! - [`unit`]: one controller's doors, last inputs and health.
//! - [`reads`]: the card-read buffer of `reader-controller`s.
//! - [`bus`]: the loop — commands first, pulses on time, polls, supervision.
//! - [`to_core`]: the one task per link that hands its inputs to the core, in order.

pub mod bus;
pub mod link;
pub mod plan;
pub mod reads;
pub mod to_core;
pub mod unit;

use crate::profile::Profiles;
use gatehouse_core::config::{Config, Transport};
use gatehouse_runtime::Gateway;
use link::{Endpoint, Link, SerialSettings};
use std::collections::BTreeMap;
use tracing::error;
use unit::Unit;

/// Builds one [`bus::Bus`] per TCP controller and per serial path. Controllers whose profile
/// is unknown or whose address is missing are reported and left out (the configuration check
/// refuses them before the daemon gets here).
pub fn buses(config: &Config, profiles: &Profiles, gateway: &Gateway) -> Vec<bus::Bus> {
    let mut groups: BTreeMap<String, (Endpoint, Vec<Unit>)> = BTreeMap::new();
    for ctl in &config.controllers {
        let Some(profile) = profiles.get(&ctl.profile) else {
            error!(controller = %ctl.id, profile = %ctl.profile, "Unknown profile; the controller is not driven.");
            continue;
        };
        let (key, endpoint) = match ctl.transport {
            Transport::Tcp => match &ctl.address {
                Some(address) => (format!("tcp:{}", ctl.id), Endpoint::Tcp(address.clone())),
                None => {
                    error!(controller = %ctl.id, "TCP controller without an address; set `address = \"host:port\"`.");
                    continue;
                }
            },
            Transport::Rtu => match &ctl.serial {
                Some(path) => (
                    format!("rtu:{path}"),
                    Endpoint::Rtu(SerialSettings {
                        path: path.clone(),
                        baud: ctl.baud,
                        parity: ctl.parity.clone(),
                        data_bits: ctl.data_bits,
                        stop_bits: ctl.stop_bits,
                    }),
                ),
                None => {
                    error!(controller = %ctl.id, "RTU controller without a serial device; set `serial = \"/dev/ttyUSB0\"`.");
                    continue;
                }
            },
        };
        let unit = Unit::new(ctl, profile.clone(), config);
        groups
            .entry(key)
            .or_insert_with(|| (endpoint, Vec::new()))
            .1
            .push(unit);
    }
    groups
        .into_iter()
        .map(|(key, (endpoint, units))| {
            let mut doors = std::collections::HashMap::new();
            for (u, unit) in units.iter().enumerate() {
                for (d, door) in unit.doors.iter().enumerate() {
                    doors.insert(door.id.clone(), (u, d));
                }
            }
            let ids: Vec<String> = doors.keys().cloned().collect();
            bus::Bus {
                name: key,
                link: Link::new(endpoint),
                units,
                doors,
                commands: gateway.register_doors(&ids),
                gateway: gateway.clone(),
                live: gateway.live(),
                pending: std::collections::VecDeque::new(),
                to_core: None,
                dropped_inputs: 0,
            }
        })
        .collect()
}
