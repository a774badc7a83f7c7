//! Checks that everything a configuration refers to exists and that its values can work:
//! zones form a tree, doors name real zones, controllers and schedules, reader ids are unique,
//! keys decode, controllers' profiles exist and fit, the external broker's URL and TLS files
//! work, the web's certificate files can be read, policy numbers stay within the calendar,
//! and the core accepts the estate. Every problem carries the line to fix and what to do.

use super::lines::Lines;
use super::lines::Step::{self, Index as I, Key as K};
use base64::Engine;
use gatehouse_core::config::{BrokerMode, Config, Policy, Transport, ZoneKind};
use gatehouse_core::model::{OUTSIDE, SITE};
use gatehouse_devices::{ProfileError, Profiles};
use std::collections::{HashMap, HashSet};

mod broker_users;

/// One thing wrong with the configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    /// What is wrong and what to do, without the file and line.
    pub message: String,
}

/// Every problem of `cfg`, in file order; `profiles` are the vendor profiles as loaded (or why
/// they could not be).
pub fn check(
    cfg: &Config,
    lines: &Lines,
    profiles: Result<&Profiles, &ProfileError>,
) -> Vec<Problem> {
    let mut c = Checker {
        cfg,
        lines,
        problems: Vec::new(),
    };
    c.site();
    c.broker();
    c.broker_users();
    c.unique_ids();
    c.zones();
    c.controllers();
    c.doors();
    c.schedules();
    c.access_groups();
    c.fire_inputs();
    c.issuers();
    c.policy();
    c.broker_endpoint();
    c.log_check();
    c.uplink();
    c.web_tls();
    c.profiles(profiles);
    if c.problems.is_empty() {
        c.core();
    }
    c.problems.sort_by_key(|p| p.line);
    c.problems
}

/// Reader-controller readers and door readers, fire inputs and so on are checked against the
/// sets of ids defined in the file; the checker holds the file and collects what it finds.
struct Checker<'c, 'l, 'a> {
    cfg: &'c Config,
    lines: &'l Lines<'a>,
    problems: Vec<Problem>,
}

impl Checker<'_, '_, '_> {
    fn report(&mut self, path: &[Step], message: String) {
        let line = self.lines.line(path);
        self.problems.push(Problem { line, message });
    }

    fn zone_exists(&self, id: &str) -> bool {
        id == SITE || id == OUTSIDE || self.cfg.zones.iter().any(|z| z.id == id)
    }

    fn site(&mut self) {
        let site = &self.cfg.site;
        let id_ok = (1..=32).contains(&site.id.len())
            && site
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !id_ok {
            self.report(
                &[K("site"), K("id")],
                format!(
                    "site id '{}' must be 1 to 32 characters of a-z, 0-9 and '-' (it starts every MQTT topic and event id); write it like \"north-estate\".",
                    site.id
                ),
            );
        }
        if let Err(e) = jiff::tz::TimeZone::get(&site.timezone) {
            self.report(
                &[K("site"), K("timezone")],
                format!(
                    "site timezone '{}' is not a known time zone ({e}); use an IANA name like \"Asia/Shanghai\".",
                    site.timezone
                ),
            );
        }
    }

    fn broker(&mut self) {
        let broker = &self.cfg.broker;
        if broker.mode == gatehouse_core::config::BrokerMode::External && broker.url.is_none() {
            self.report(
                &[K("broker"), K("mode")],
                "broker mode is \"external\" but broker url is missing; add url = \"mqtts://broker.example:8883\" or use mode = \"embedded\".".into(),
            );
        }
        let listeners = [
            ("broker", &broker.listen),
            ("web", &self.cfg.web.listen),
            ("metrics", &self.cfg.metrics.listen),
        ];
        for (table, listen) in listeners {
            if listen.parse::<std::net::SocketAddr>().is_err() {
                self.report(
                    &[K(table), K("listen")],
                    format!("{table} listen '{listen}' is not an IP address and port; write it like \"127.0.0.1:8443\"."),
                );
            }
        }
        let share = self.cfg.metrics.ready_controllers;
        if !(0.0..=1.0).contains(&share) {
            self.report(
                &[K("metrics"), K("ready_controllers")],
                format!("metrics ready_controllers is {share}; use a share from 0 to 1 (0.5: half the controllers must be online for /readyz)."),
            );
        }
        let digits = self.cfg.policy.phone_digits;
        if !(1..=11).contains(&digits) {
            self.report(
                &[K("policy"), K("phone_digits")],
                format!("policy phone_digits is {digits}; use 1 to 11 (4 is usual: the last four digits of the phone)."),
            );
        }
    }

    /// Ids must be unique within each kind of entry; zones, doors, controllers, schedules,
    /// groups, fire inputs and issuers each have their own name space.
    fn unique_ids(&mut self) {
        let cfg = self.cfg;
        let tables: [(&str, &str, Vec<&str>); 7] = [
            (
                "zones",
                "zone",
                cfg.zones.iter().map(|z| z.id.as_str()).collect(),
            ),
            (
                "controllers",
                "controller",
                cfg.controllers.iter().map(|c| c.id.as_str()).collect(),
            ),
            (
                "doors",
                "door",
                cfg.doors.iter().map(|d| d.id.as_str()).collect(),
            ),
            (
                "schedules",
                "schedule",
                cfg.schedules.iter().map(|s| s.id.as_str()).collect(),
            ),
            (
                "access_groups",
                "access group",
                cfg.access_groups.iter().map(|g| g.id.as_str()).collect(),
            ),
            (
                "fire_inputs",
                "fire input",
                cfg.fire_inputs.iter().map(|f| f.id.as_str()).collect(),
            ),
            (
                "issuers",
                "issuer",
                cfg.issuers.iter().map(|i| i.id.as_str()).collect(),
            ),
        ];
        for (table, what, ids) in tables {
            let mut first: HashMap<&str, usize> = HashMap::new();
            for (i, id) in ids.into_iter().enumerate() {
                let path = [K(table), I(i), K("id")];
                if id.trim().is_empty() {
                    self.report(
                        &path,
                        format!("a {what} has an empty id; give it one, e.g. id = \"{what}-1\"."),
                    );
                } else if let Some(&j) = first.get(id) {
                    let first_line = self.lines.line(&[K(table), I(j), K("id")]);
                    self.report(
                        &path,
                        format!("{what} id '{id}' is defined twice (first on line {first_line}); give each {what} its own id."),
                    );
                } else {
                    first.insert(id, i);
                }
            }
        }
    }

    fn zones(&mut self) {
        let cfg = self.cfg;
        let ids: HashSet<&str> = cfg.zones.iter().map(|z| z.id.as_str()).collect();
        for (i, z) in cfg.zones.iter().enumerate() {
            if z.id == SITE || z.id == OUTSIDE {
                let meaning = if z.id == SITE {
                    "the whole estate"
                } else {
                    "the street"
                };
                self.report(
                    &[K("zones"), I(i), K("id")],
                    format!("zone id '{}' is reserved for {meaning} and is never defined; choose another id.", z.id),
                );
                continue;
            }
            let parent = [K("zones"), I(i), K("parent")];
            if z.parent == OUTSIDE {
                self.report(
                    &parent,
                    format!("zone '{}' has parent 'outside', the street; use parent = \"site\" or another zone.", z.id),
                );
            } else if z.parent != SITE && !ids.contains(z.parent.as_str()) {
                self.report(
                    &parent,
                    format!(
                        "zone '{}' names parent '{}', which is not defined; add [[zones]] id = \"{}\" or use parent = \"site\".",
                        z.id, z.parent, z.parent
                    ),
                );
            }
        }
        self.zone_cycles();
        self.zone_numbers();
    }

    /// Zones whose parents lead back to themselves never reach `site`.
    fn zone_cycles(&mut self) {
        let parent: HashMap<&str, &str> = self
            .cfg
            .zones
            .iter()
            .map(|z| (z.id.as_str(), z.parent.as_str()))
            .collect();
        let mut reported: HashSet<&str> = HashSet::new();
        for (i, z) in self.cfg.zones.iter().enumerate() {
            let mut path = vec![z.id.as_str()];
            let mut cur = z.parent.as_str();
            while let Some(&next) = parent.get(cur) {
                if cur == z.id {
                    break;
                }
                if path.contains(&cur) || path.len() > parent.len() {
                    // A cycle above this zone, not through it: reported at its own zones.
                    path.clear();
                    break;
                }
                path.push(cur);
                cur = next;
            }
            if cur != z.id || path.is_empty() || path.iter().any(|p| reported.contains(p)) {
                continue;
            }
            reported.extend(path.iter().copied());
            path.push(z.id.as_str());
            self.report(
                &[K("zones"), I(i), K("parent")],
                format!(
                    "zones form a loop ({}), so they never reach the site; make one of them a child of \"site\" or of an area.",
                    path.join(" → ")
                ),
            );
        }
    }

    /// Buildings and units that carry the numbers of household ids (`18-2-501`) have unique
    /// ones: building numbers in the estate, unit numbers within their building. The number is
    /// optional (the import can read it from the zone's id or name).
    fn zone_numbers(&mut self) {
        let cfg = self.cfg;
        let kind: HashMap<&str, Option<ZoneKind>> =
            cfg.zones.iter().map(|z| (z.id.as_str(), z.kind)).collect();
        let mut seen: HashMap<(&str, &str), &str> = HashMap::new();
        for (i, z) in cfg.zones.iter().enumerate() {
            let Some(k @ (ZoneKind::Building | ZoneKind::Unit)) = z.kind else {
                continue;
            };
            let what = if k == ZoneKind::Building {
                "building"
            } else {
                "unit"
            };
            // Without a number the residents import reads it from the id or name (`18号楼`).
            let Some(number) = z.number.as_deref() else {
                continue;
            };
            if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
                self.report(
                    &[K("zones"), I(i), K("number")],
                    format!("{what} zone '{}' has number '{number}'; use digits only, as in household ids like 18-2-501.", z.id),
                );
                continue;
            }
            let scope = if k == ZoneKind::Building {
                ""
            } else {
                if kind.get(z.parent.as_str()) != Some(&Some(ZoneKind::Building)) {
                    self.report(
                        &[K("zones"), I(i), K("parent")],
                        format!(
                            "unit zone '{}' has parent '{}', which is not a building zone; units belong to a zone with kind = \"building\".",
                            z.id, z.parent
                        ),
                    );
                }
                z.parent.as_str()
            };
            let key = (scope, number.trim_start_matches('0'));
            if let Some(other) = seen.get(&key) {
                let place = if k == ZoneKind::Building {
                    "the estate".to_string()
                } else {
                    format!("building '{scope}'")
                };
                self.report(
                    &[K("zones"), I(i), K("number")],
                    format!(
                        "{what} zone '{}' has number {number}, like zone '{other}'; numbers are unique within {place}, so household ids can be matched.",
                        z.id
                    ),
                );
            } else {
                seen.insert(key, z.id.as_str());
            }
        }
    }

    fn controllers(&mut self) {
        let cfg = self.cfg;
        let mut reader_first: HashMap<&str, usize> = HashMap::new();
        for (i, c) in cfg.controllers.iter().enumerate() {
            let at = |key| [K("controllers"), I(i), K(key)];
            if c.profile.is_empty()
                || !c
                    .profile
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                self.report(
                    &at("profile"),
                    format!(
                        "controller '{}' has profile '{}'; name a file of config/profiles/ without .toml, e.g. \"relay-io\".",
                        c.id, c.profile
                    ),
                );
            }
            match c.transport {
                Transport::Tcp => match c.address.as_deref() {
                    None => self.report(
                        &at("transport"),
                        format!("controller '{}' uses transport \"tcp\" but has no address; add address = \"192.168.1.20:502\".", c.id),
                    ),
                    Some(address) if !tcp_address_ok(address) => self.report(
                        &at("address"),
                        format!("controller '{}' has address '{address}'; write host:port, e.g. \"192.168.1.20:502\".", c.id),
                    ),
                    Some(_) => {}
                },
                Transport::Rtu => {
                    if c.serial.is_none() {
                        self.report(
                            &at("transport"),
                            format!("controller '{}' uses transport \"rtu\" but has no serial device; add serial = \"/dev/ttyUSB0\".", c.id),
                        );
                    }
                    if !["N", "E", "O"].contains(&c.parity.as_str()) {
                        self.report(
                            &at("parity"),
                            format!("controller '{}' has parity '{}'; use \"N\", \"E\" or \"O\".", c.id, c.parity),
                        );
                    }
                    if !(5..=8).contains(&c.data_bits) || !(1..=2).contains(&c.stop_bits) {
                        self.report(
                            &at("data_bits"),
                            format!("controller '{}' has {} data bits and {} stop bits; use 5 to 8 data bits and 1 or 2 stop bits.", c.id, c.data_bits, c.stop_bits),
                        );
                    }
                }
            }
            if !(1..=247).contains(&c.unit) {
                self.report(
                    &at("unit"),
                    format!(
                        "controller '{}' has unit {}; Modbus unit ids are 1 to 247.",
                        c.id, c.unit
                    ),
                );
            }
            if c.poll_ms == 0 || c.timeout_ms == 0 {
                self.report(
                    &at("id"),
                    format!("controller '{}' has poll_ms or timeout_ms 0; use positive milliseconds (defaults 100 and 500).", c.id),
                );
            }
            let mut indexes = HashSet::new();
            for (r, reader) in c.readers.iter().enumerate() {
                let path = [K("controllers"), I(i), K("readers"), I(r), K("id")];
                if !indexes.insert(reader.index) {
                    self.report(
                        &path,
                        format!("controller '{}' lists reader index {} twice; each index is one reader port.", c.id, reader.index),
                    );
                }
                if let Some(&first) = reader_first.get(reader.id.as_str()) {
                    let other = &cfg.controllers[first].id;
                    self.report(
                        &path,
                        format!("reader '{}' is listed on controller '{}' and on controller '{other}'; a reader is wired to one controller.", reader.id, c.id),
                    );
                } else {
                    reader_first.insert(reader.id.as_str(), i);
                }
                let door = cfg
                    .doors
                    .iter()
                    .find(|d| d.readers.iter().any(|dr| dr.id == reader.id));
                match door {
                    None => self.report(
                        &path,
                        format!(
                            "reader '{}' of controller '{}' is on no door; add {{ id = \"{}\", direction = \"in\" }} to the readers of its door.",
                            reader.id, c.id, reader.id
                        ),
                    ),
                    Some(d) if d.controller.as_deref() != Some(c.id.as_str()) => self.report(
                        &path,
                        format!(
                            "reader '{}' is wired to controller '{}' but its door '{}' is on controller '{}'; put the door on controller '{}' or list the reader on the door's controller.",
                            reader.id, c.id, d.id, d.controller.as_deref().unwrap_or("(none)"), c.id
                        ),
                    ),
                    Some(_) => {}
                }
            }
        }
    }

    fn doors(&mut self) {
        let cfg = self.cfg;
        let mut channels: HashMap<(&str, u16), &str> = HashMap::new();
        let mut readers: HashMap<&str, &str> = HashMap::new();
        for (i, d) in cfg.doors.iter().enumerate() {
            let at = |key| [K("doors"), I(i), K(key)];
            for (side, zone) in [("outside", &d.outside), ("inside", &d.inside)] {
                if !self.zone_exists(zone) {
                    self.report(
                        &at(side),
                        format!(
                            "door '{}' names {side} zone '{zone}', which is not defined; add [[zones]] id = \"{zone}\" or fix the door.",
                            d.id
                        ),
                    );
                }
            }
            if d.inside == OUTSIDE || d.inside == d.outside {
                self.report(
                    &at("inside"),
                    format!(
                        "door '{}' leads from '{}' to '{}'; inside must be a zone of the estate other than the outside zone.",
                        d.id, d.outside, d.inside
                    ),
                );
            }
            if let Some(ctl) = d.controller.as_deref() {
                if ctl != "mqtt" && !cfg.controllers.iter().any(|c| c.id == ctl) {
                    self.report(
                        &at("controller"),
                        format!(
                            "door '{}' names controller '{ctl}', which is not defined; add [[controllers]] id = \"{ctl}\", use controller = \"mqtt\" for a door driven over MQTT, or fix the door.",
                            d.id
                        ),
                    );
                } else if ctl != "mqtt"
                    && let Some(other) = channels.insert((ctl, d.channel), d.id.as_str())
                {
                    self.report(
                        &at("channel"),
                        format!(
                            "door '{}' uses channel {} of controller '{ctl}', as door '{other}' does; give each door its own channel.",
                            d.id, d.channel
                        ),
                    );
                }
            }
            if let Some(s) = d.schedule.as_deref()
                && !cfg.schedules.iter().any(|x| x.id == s)
            {
                self.report(
                    &at("schedule"),
                    format!(
                        "door '{}' names schedule '{s}', which is not defined; add [[schedules]] id = \"{s}\" or remove the door's schedule.",
                        d.id
                    ),
                );
            }
            if !(100..=60_000).contains(&d.pulse_ms) {
                self.report(
                    &at("pulse_ms"),
                    format!(
                        "door '{}' has pulse_ms {}; use 100 to 60000 (3000 is usual).",
                        d.id, d.pulse_ms
                    ),
                );
            }
            for (r, reader) in d.readers.iter().enumerate() {
                if let Some(other) = readers.insert(reader.id.as_str(), d.id.as_str()) {
                    self.report(
                        &[K("doors"), I(i), K("readers"), I(r), K("id")],
                        format!(
                            "reader '{}' is on door '{}' and on door '{other}'; a reader belongs to one door, give it another id.",
                            reader.id, d.id
                        ),
                    );
                }
            }
        }
    }

    fn schedules(&mut self) {
        for (i, s) in self.cfg.schedules.iter().enumerate() {
            if s.windows.is_empty() {
                self.report(
                    &[K("schedules"), I(i), K("windows")],
                    format!("schedule '{}' has no windows, so it is never open; add windows = [\"mon-sun 06:00-22:00\"].", s.id),
                );
            }
            for (w, text) in s.windows.iter().enumerate() {
                if let Err(e) = super::check_window(text) {
                    self.report(
                        &[K("schedules"), I(i), K("windows"), I(w)],
                        format!("schedule '{}': {e}.", s.id),
                    );
                }
            }
            for (h, day) in s.holidays.iter().enumerate() {
                if day.parse::<jiff::civil::Date>().is_err() {
                    self.report(
                        &[K("schedules"), I(i), K("holidays"), I(h)],
                        format!("schedule '{}' has holiday '{day}', which is not a date; write YYYY-MM-DD, e.g. \"2027-02-16\".", s.id),
                    );
                }
            }
        }
    }

    fn access_groups(&mut self) {
        let cfg = self.cfg;
        for (i, g) in cfg.access_groups.iter().enumerate() {
            for (d, door) in g.doors.iter().enumerate() {
                if door != "*" && !cfg.doors.iter().any(|x| &x.id == door) {
                    self.report(
                        &[K("access_groups"), I(i), K("doors"), I(d)],
                        format!(
                            "access group '{}' names door '{door}', which is not defined; add [[doors]] id = \"{door}\", use \"*\" for every door, or fix the list.",
                            g.id
                        ),
                    );
                }
            }
            if let Some(s) = g.schedule.as_deref()
                && !cfg.schedules.iter().any(|x| x.id == s)
            {
                self.report(
                    &[K("access_groups"), I(i), K("schedule")],
                    format!(
                        "access group '{}' names schedule '{s}', which is not defined; add [[schedules]] id = \"{s}\" or remove the group's schedule.",
                        g.id
                    ),
                );
            }
        }
    }

    fn fire_inputs(&mut self) {
        let cfg = self.cfg;
        for (i, f) in cfg.fire_inputs.iter().enumerate() {
            let at = |key| [K("fire_inputs"), I(i), K(key)];
            if !cfg.controllers.iter().any(|c| c.id == f.controller) {
                self.report(
                    &at("controller"),
                    format!(
                        "fire input '{}' names controller '{}', which is not defined; add [[controllers]] id = \"{}\" or fix the fire input.",
                        f.id, f.controller, f.controller
                    ),
                );
            }
            if f.zone == OUTSIDE || !self.zone_exists(&f.zone) {
                self.report(
                    &at("zone"),
                    format!(
                        "fire input '{}' names zone '{}', which is not a zone of the estate; add [[zones]] id = \"{}\" or fix the fire input.",
                        f.id, f.zone, f.zone
                    ),
                );
            }
            match f.table.as_str() {
                "coil" | "discrete" if f.bit != 0 => self.report(
                    &at("bit"),
                    format!("fire input '{}' reads a single bit ({}) so bit must be 0; remove bit.", f.id, f.table),
                ),
                "input" | "holding" if f.bit > 15 => self.report(
                    &at("bit"),
                    format!("fire input '{}' has bit {}; a register has bits 0 to 15.", f.id, f.bit),
                ),
                "coil" | "discrete" | "input" | "holding" => {}
                other => self.report(
                    &at("table"),
                    format!("fire input '{}' has table '{other}'; use \"coil\", \"discrete\", \"input\" or \"holding\".", f.id),
                ),
            }
        }
    }

    fn issuers(&mut self) {
        for (i, issuer) in self.cfg.issuers.iter().enumerate() {
            let bytes = base64::engine::general_purpose::STANDARD.decode(issuer.public_key.trim());
            let ok = match bytes.as_deref().map(<[u8; 32]>::try_from) {
                Ok(Ok(key)) => ed25519_dalek::VerifyingKey::from_bytes(&key).is_ok(),
                _ => false,
            };
            if !ok {
                self.report(
                    &[K("issuers"), I(i), K("public_key")],
                    format!(
                        "issuer '{}' has a public_key that is not the base64 of a 32-byte Ed25519 public key; paste the key the office gave you (44 characters ending in '=').",
                        issuer.id
                    ),
                );
            }
        }
    }
}

/// `host:port` or `host` (port 502); the host is not resolved here.
impl Checker<'_, '_, '_> {
    /// Durations must stay within the calendar: the core subtracts them from now.
    fn policy(&mut self) {
        let p = &self.cfg.policy;
        for (key, value, max, unit) in [
            (
                "apb_timeout_h",
                p.apb_timeout_h,
                Policy::MAX_HOURS,
                "hours (366 days)",
            ),
            (
                "exit_quota_period_h",
                p.exit_quota_period_h,
                Policy::MAX_HOURS,
                "hours (366 days)",
            ),
            (
                "phone_failure_window_min",
                p.phone_failure_window_min,
                Policy::MAX_WINDOW_MIN,
                "minutes (a week)",
            ),
            (
                "max_swipe_age_s",
                p.max_swipe_age_s,
                Policy::MAX_SWIPE_AGE_S,
                "seconds (a day)",
            ),
        ] {
            if value > max {
                self.report(
                    &[K("policy"), K(key)],
                    format!("policy {key} is {value}; the most it can be is {max} {unit}: write a smaller number."),
                );
            }
        }
    }

    /// An external broker: the MQTT adapter's own reading of `[broker]` (scheme, host:port,
    /// CA, client certificate and key, each file read and parsed) must succeed.
    fn broker_endpoint(&mut self) {
        let broker = &self.cfg.broker;
        if broker.mode != BrokerMode::External || broker.url.is_none() {
            return;
        }
        if let Err(e) = gatehouse_bus::client::Endpoint::from_config(broker) {
            let key = match &e {
                gatehouse_bus::BusError::Tls { path, .. }
                    if broker.cert.as_deref() == Some(path.as_str()) =>
                {
                    "cert"
                }
                gatehouse_bus::BusError::Tls { path, .. }
                    if broker.key.as_deref() == Some(path.as_str()) =>
                {
                    "key"
                }
                gatehouse_bus::BusError::Tls { .. } => "ca",
                _ => "url",
            };
            self.report(
                &[K("broker"), K(key)],
                format!("broker {key}: {e}; fix it so the gateway can reach the broker."),
            );
        }
    }

    /// `[log]`: the check's hours and seconds stay within what a timer can wait.
    fn log_check(&mut self) {
        let log = &self.cfg.log;
        if log.verify_every_h > Policy::MAX_HOURS {
            self.report(
                &[K("log"), K("verify_every_h")],
                format!("log verify_every_h is {}; the most it can be is {} hours (366 days), or 0 for never: write a smaller number.", log.verify_every_h, Policy::MAX_HOURS),
            );
        }
        let most = gatehouse_core::config::LogCheck::MAX_AFTER_S;
        if log.verify_after_s > most {
            self.report(
                &[K("log"), K("verify_after_s")],
                format!("log verify_after_s is {}; the most it can be is {most} seconds (a day): write a smaller number.", log.verify_after_s),
            );
        }
    }

    /// `[uplink]`: at least one node, each URL read as the MQTT client will read it (scheme,
    /// host:port, TLS files), and ids that stay one topic level on a NATS district broker
    /// (which maps `/` to `.`, so a `.` would split a level).
    fn uplink(&mut self) {
        let Some(uplink) = &self.cfg.uplink else {
            return;
        };
        if uplink.urls.is_empty() {
            self.report(
                &[K("uplink"), K("urls")],
                "uplink urls is empty; list the district broker's nodes, like urls = [\"mqtts://district-1:8883\", \"mqtts://district-2:8883\"], or remove [uplink].".into(),
            );
        }
        for (i, url) in uplink.urls.iter().enumerate() {
            if let Err(e) = gatehouse_bus::client::Endpoint::from_config(&uplink.as_broker(url)) {
                let e = e
                    .to_string()
                    .replace("broker.url", "uplink url")
                    .replace("broker.", "uplink.")
                    .replace("[broker]", "[uplink]");
                self.report(
                    &[K("uplink"), K("urls"), I(i)],
                    format!(
                        "uplink url {}: {e}; fix it so the gateway can reach the district broker.",
                        i + 1
                    ),
                );
            }
        }
        for (i, door) in self.cfg.doors.iter().enumerate() {
            if door.id.contains(['.', '*', '>', ' ']) {
                self.report(
                    &[K("doors"), I(i), K("id")],
                    format!("door id '{}' contains '.', '*', '>' or a space, which the district broker (NATS) reads as topic syntax; with [uplink] use a-z, 0-9, '-' and '_'.", door.id),
                );
            }
        }
    }

    /// The console's own certificate, when given, comes as a readable pair of files.
    fn web_tls(&mut self) {
        let web = &self.cfg.web;
        match (&web.cert, &web.key) {
            (None, None) => {}
            (Some(_), None) | (None, Some(_)) => self.report(
                &[K("web"), K(if web.cert.is_some() { "cert" } else { "key" })],
                "web cert and web key go together: set both, or neither for a self-signed certificate.".into(),
            ),
            (Some(cert), Some(key)) => {
                for (name, path) in [("cert", cert), ("key", key)] {
                    if let Err(e) = std::fs::File::open(path) {
                        self.report(
                            &[K("web"), K(name)],
                            format!("web {name} '{path}' cannot be read ({e}); check the path and that the gateway's user may read it."),
                        );
                    }
                }
            }
        }
    }

    /// Every controller's profile exists (built in or in `profiles/`), and the controllers'
    /// doors and readers fit it (the Modbus adapter's own check).
    fn profiles(&mut self, profiles: Result<&Profiles, &ProfileError>) {
        let profiles = match profiles {
            Ok(p) => p,
            Err(e) => {
                let line = self.lines.line(&[K("controllers")]);
                self.problems.push(Problem {
                    line,
                    message: format!("the controllers' profiles cannot be loaded: {e}"),
                });
                return;
            }
        };
        let mut unknown = false;
        for (i, ctl) in self.cfg.controllers.iter().enumerate() {
            if profiles.get(&ctl.profile).is_none() {
                unknown = true;
                let known = profiles.names().collect::<Vec<_>>().join(", ");
                self.report(
                    &[K("controllers"), I(i), K("profile")],
                    format!("controller '{}' uses profile '{}', which is not known (known: {known}); use one of them or add {}.toml to the profiles folder beside this file.", ctl.id, ctl.profile, ctl.profile),
                );
            }
        }
        if !unknown && let Err(e) = profiles.check(self.cfg) {
            let line = self.lines.line(&[K("controllers")]);
            self.problems.push(Problem {
                line,
                message: e.to_string(),
            });
        }
    }

    /// The core builds its model from the file: whatever it refuses is refused here too.
    fn core(&mut self) {
        let empty = gatehouse_core::estate::EstateData::default();
        if let Err(e) =
            gatehouse_core::Core::new(self.cfg, empty, gatehouse_core::Restored::default())
        {
            self.problems.push(Problem {
                line: 1,
                message: format!("{e}; fix the file where it says."),
            });
        }
    }
}

fn tcp_address_ok(address: &str) -> bool {
    match address.rsplit_once(':') {
        Some((host, port)) => !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0),
        None => !address.is_empty() && !address.contains(char::is_whitespace),
    }
}
