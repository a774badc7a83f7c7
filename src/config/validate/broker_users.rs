//! The `[broker]` section's logins and limits: every user names a reader, an MQTT door or an
//! issuer that exists, carries an argon2 hash, and does not take the gateway's client id;
//! anonymous logins only on a loopback listener; limits that can work.

use super::Checker;
use super::Step::{Index as I, Key as K};
use gatehouse_core::config::BrokerMode;
use std::collections::HashSet;

/// The contract's largest payload: the broker must let it through so that an oversize one
/// still reaches the gateway and is answered.
const CONTRACT_PAYLOAD: u32 = 4096;

impl Checker<'_, '_, '_> {
    pub(super) fn broker_users(&mut self) {
        let cfg = self.cfg;
        let broker = &cfg.broker;
        let gateway_id = broker
            .client_id
            .clone()
            .unwrap_or_else(|| format!("gatehouse-{}", cfg.site.id));
        if broker.mode == BrokerMode::Embedded
            && broker.allow_anonymous
            && broker
                .listen
                .parse::<std::net::SocketAddr>()
                .is_ok_and(|a| !a.ip().is_loopback())
        {
            self.report(
                &[K("broker"), K("allow_anonymous")],
                format!("broker listen '{}' can be reached from other machines, so anonymous logins must be off; set allow_anonymous = false and give each reader, door controller and issuer a [[broker.users]] login, or listen on 127.0.0.1.", broker.listen),
            );
        }
        if broker.max_payload < CONTRACT_PAYLOAD {
            self.report(
                &[K("broker"), K("max_payload")],
                format!("broker max_payload is {} bytes; use at least {CONTRACT_PAYLOAD} (the default, 65536, leaves room for events and Home Assistant documents).", broker.max_payload),
            );
        }
        for (key, value) in [
            ("max_connections", broker.max_connections),
            ("max_inflight", usize::from(broker.max_inflight)),
            ("max_queued", broker.max_queued),
        ] {
            if value == 0 {
                self.report(
                    &[K("broker"), K(key)],
                    format!("broker {key} is 0; use at least 1 (or leave it out for the default)."),
                );
            }
        }
        let readers: HashSet<&str> = cfg
            .doors
            .iter()
            .flat_map(|d| d.readers.iter().map(|r| r.id.as_str()))
            .chain(
                cfg.controllers
                    .iter()
                    .flat_map(|c| c.readers.iter().map(|r| r.id.as_str())),
            )
            .collect();
        let mut names = HashSet::new();
        for (i, user) in broker.users.iter().enumerate() {
            let at = |key| [K("broker"), K("users"), I(i), K(key)];
            if !names.insert(user.name.as_str()) {
                self.report(
                    &at("name"),
                    format!(
                        "broker user '{}' is listed twice; give each device its own login.",
                        user.name
                    ),
                );
            }
            if user.name.is_empty()
                || user.name == gateway_id
                || user.name.starts_with(&format!("{gateway_id}-"))
            {
                self.report(
                    &at("name"),
                    format!("broker user name '{}' is empty or the gateway's own ('{gateway_id}'); choose another name.", user.name),
                );
            }
            if argon2::PasswordHash::new(&user.password_hash).is_err() {
                self.report(
                    &at("password_hash"),
                    format!("broker user '{}': password_hash is not an argon2 hash; make one with `gatehouse broker hash-password`.", user.name),
                );
            }
            let roles = [&user.reader, &user.door, &user.issuer]
                .iter()
                .filter(|r| r.is_some())
                .count();
            if roles > 1 {
                self.report(
                    &at("name"),
                    format!("broker user '{}' names more than one of reader, door and issuer; give each device its own login.", user.name),
                );
            }
            if let Some(r) = &user.reader
                && !readers.contains(r.as_str())
            {
                self.report(
                    &at("reader"),
                    format!("broker user '{}': there is no reader '{r}'; use the id of a reader listed under a door or controller.", user.name),
                );
            }
            if let Some(d) = &user.door
                && !cfg
                    .doors
                    .iter()
                    .any(|door| &door.id == d && door.controller.as_deref() == Some("mqtt"))
            {
                self.report(
                    &at("door"),
                    format!("broker user '{}': there is no door '{d}' with controller = \"mqtt\"; only doors driven over MQTT take inputs from it.", user.name),
                );
            }
            if let Some(issuer) = &user.issuer
                && !cfg.issuers.iter().any(|x| &x.id == issuer)
            {
                self.report(
                    &at("issuer"),
                    format!("broker user '{}': there is no issuer '{issuer}'; add it under [[issuers]] or fix the id.", user.name),
                );
            }
        }
    }
}
