//! Who may publish what (sans-IO): each broker login's role, derived from the estate
//! configuration, and the topic patterns that role may write and read. The embedded broker
//! checks every publish and subscribe against them; `gatehouse broker acl` writes the same
//! patterns for an external broker, so both enforce one rule.
//!
//! A subscription is allowed only when every topic its filter can match is readable: a reader
//! subscribing to `readers/+/result` would read every other reader's answers, so only its
//! own `readers/{id}/result` is allowed.

use crate::topics::{HA_STATUS, Topics};
use gatehouse_core::config::{BrokerUser, Config};

/// What a login is, in the estate's words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    /// A card reader: its own swipes out, its own results in.
    Reader(String),
    /// The controller of a door driven over MQTT: its inputs out, its set commands in.
    Door(String),
    /// An office issuer: signed commands out, their results in.
    Issuer(String),
    /// Reads the public state topics only (dashboards, Home Assistant).
    Observer,
    /// No user name, on the demo's loopback listener: the rights of any card reader.
    Anonymous,
}

impl Role {
    /// A configured user's role.
    pub fn of(user: &BrokerUser) -> Role {
        if let Some(r) = &user.reader {
            Role::Reader(r.clone())
        } else if let Some(d) = &user.door {
            Role::Door(d.clone())
        } else if let Some(i) = &user.issuer {
            Role::Issuer(i.clone())
        } else {
            Role::Observer
        }
    }

    /// Topic filters this role may publish to.
    pub fn writes(&self, topics: &Topics) -> Vec<String> {
        match self {
            Role::Reader(r) => vec![topics.reader_swipe(r)],
            Role::Door(d) => vec![topics.door_input(d)],
            Role::Issuer(_) => vec![topics.commands()],
            Role::Observer => vec![HA_STATUS.to_string()],
            Role::Anonymous => vec![topics.reader_swipe("+")],
        }
    }

    /// Topic filters this role may read: its own replies and the public state.
    pub fn reads(&self, topics: &Topics) -> Vec<String> {
        let mut filters = match self {
            Role::Reader(r) => vec![topics.reader_result(r)],
            Role::Door(d) => vec![topics.door_set(d)],
            Role::Issuer(_) => vec![topics.command_result()],
            Role::Observer => Vec::new(),
            Role::Anonymous => vec![topics.reader_result("+")],
        };
        filters.extend(public(topics));
        filters
    }

    /// May this role publish on `topic` (a topic name, no wildcards)?
    pub fn may_publish(&self, topics: &Topics, topic: &str) -> bool {
        !has_wildcard(topic)
            && self
                .writes(topics)
                .iter()
                .any(|pattern| covers(pattern, topic))
    }

    /// May this role subscribe to `filter`: is every topic it matches readable?
    pub fn may_subscribe(&self, topics: &Topics, filter: &str) -> bool {
        self.reads(topics)
            .iter()
            .any(|pattern| covers(pattern, filter))
    }
}

/// What everyone who logged in may read.
pub fn public(topics: &Topics) -> Vec<String> {
    vec![
        topics.status(),
        topics.door_state("+"),
        topics.lockdown(),
        topics.occupancy(),
        topics.event("#"),
        "homeassistant/#".to_string(),
    ]
}

/// The configured users with their roles; a user whose reader, door or issuer is not in the
/// configuration gets no role (configuration validation refuses such a file).
pub fn users(config: &Config) -> Vec<(&BrokerUser, Role)> {
    config
        .broker
        .users
        .iter()
        .map(|u| (u, Role::of(u)))
        .collect()
}

fn has_wildcard(topic: &str) -> bool {
    topic.contains(['+', '#'])
}

/// Does `pattern` match everything `filter` can match? Level by level: `#` in the pattern
/// covers the rest; `+` covers one level that is not `#`; a name covers only itself.
pub fn covers(pattern: &str, filter: &str) -> bool {
    let mut p = pattern.split('/');
    let mut f = filter.split('/');
    loop {
        match (p.next(), f.next()) {
            (Some("#"), _) => return true,
            (Some("+"), Some(level)) if level != "#" => {}
            (Some(a), Some(b)) if a == b && a != "+" && a != "#" => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t() -> Topics {
        Topics::new("n")
    }

    #[test]
    fn pattern_cover_table() {
        for (pattern, filter, expected) in [
            ("a/b", "a/b", true),
            ("a/b", "a/c", false),
            ("a/+", "a/b", true),
            ("a/+", "a/+", true),
            ("a/+", "a/#", false),
            ("a/b", "a/+", false),
            ("a/#", "a/b/c", true),
            // `a/#` matches its parent level too (MQTT 3.1.1 §4.7.1.2).
            ("a/#", "a", true),
            ("a/b", "a/b/c", false),
            ("a/b/c", "a/b", false),
        ] {
            assert_eq!(covers(pattern, filter), expected, "{pattern} ⊇ {filter}");
        }
    }

    #[test]
    fn a_reader_publishes_only_its_own_swipes_and_reads_only_its_own_results() {
        let r = Role::Reader("r-1".into());
        assert!(r.may_publish(&t(), "gatehouse/n/readers/r-1/swipe"));
        assert!(!r.may_publish(&t(), "gatehouse/n/readers/r-2/swipe"));
        assert!(!r.may_publish(&t(), "gatehouse/n/doors/g/input"));
        assert!(!r.may_publish(&t(), "gatehouse/n/readers/r-1/result"));
        assert!(!r.may_publish(&t(), "gatehouse/n/commands"));
        assert!(r.may_subscribe(&t(), "gatehouse/n/readers/r-1/result"));
        assert!(!r.may_subscribe(&t(), "gatehouse/n/readers/+/result"));
        assert!(!r.may_subscribe(&t(), "gatehouse/n/#"));
        assert!(r.may_subscribe(&t(), "gatehouse/n/doors/+/state"));
        assert!(r.may_subscribe(&t(), "gatehouse/n/events/#"));
        assert!(!r.may_subscribe(&t(), "gatehouse/n/commands"));
    }

    #[test]
    fn door_issuer_observer_and_anonymous_rights() {
        let d = Role::Door("g".into());
        assert!(d.may_publish(&t(), "gatehouse/n/doors/g/input"));
        assert!(!d.may_publish(&t(), "gatehouse/n/doors/h/input"));
        assert!(!d.may_publish(&t(), "gatehouse/n/doors/g/set"));
        assert!(d.may_subscribe(&t(), "gatehouse/n/doors/g/set"));
        assert!(!d.may_subscribe(&t(), "gatehouse/n/doors/+/set"));
        let i = Role::Issuer("office-1".into());
        assert!(i.may_publish(&t(), "gatehouse/n/commands"));
        assert!(i.may_subscribe(&t(), "gatehouse/n/commands/result"));
        assert!(!i.may_subscribe(&t(), "gatehouse/n/commands"));
        let o = Role::Observer;
        assert!(!o.may_publish(&t(), "gatehouse/n/commands"));
        assert!(o.may_publish(&t(), "homeassistant/status"));
        assert!(o.may_subscribe(&t(), "gatehouse/n/status"));
        let a = Role::Anonymous;
        assert!(a.may_publish(&t(), "gatehouse/n/readers/any/swipe"));
        assert!(!a.may_publish(&t(), "gatehouse/n/readers/+/swipe"));
        assert!(!a.may_publish(&t(), "gatehouse/n/doors/g/input"));
        assert!(!a.may_publish(&t(), "gatehouse/n/commands"));
        assert!(a.may_subscribe(&t(), "gatehouse/n/readers/+/result"));
    }
}
