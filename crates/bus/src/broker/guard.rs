//! The embedded broker's door keeper: rmqtt hooks that check every login (argon2 password
//! hashes from `[[broker.users]]`, the gateway's own login, anonymous readers on the demo's
//! loopback listener) and every publish and subscribe against [`super::rights`]. Refusals
//! are logged at `warn` with the client, the user and the topic (cut to 200 characters), within
//! a budget per kind so that a flood cannot fill the disk with log ([`super::log_budget`]);
//! ordinary disconnects at `debug`.

use super::log_budget::{LogBudget, Verdict};
use super::rights::Role;
use crate::topics::Topics;
use argon2::{Argon2, PasswordHash, PasswordVerifier};
use async_trait::async_trait;
use gatehouse_core::bounds::cut;
use gatehouse_core::config::Config;
use gatehouse_core::phone::mask_phones;
use rmqtt::context::ServerContext;
use rmqtt::hook::{Handler, HookResult, Parameter, ReturnType, Type};
use rmqtt::types::{AuthResult, ConnectInfo, PublishAclResult, SubscribeAclResult};
use std::collections::HashMap;
use std::sync::Arc;
use tracing::{debug, warn};

/// Who may log in, and with which rights.
pub struct Guard {
    topics: Topics,
    /// The gateway's client id: it and `{id}-…` are reserved for the gateway's login.
    gateway_id: String,
    gateway_password: String,
    anonymous: bool,
    /// User name → (argon2 PHC hash, role).
    users: HashMap<String, (String, Role)>,
}

/// What a login attempt comes to.
#[derive(Debug, PartialEq, Eq)]
pub enum Login {
    /// The gateway itself: every right.
    Gateway,
    /// A configured user or an anonymous reader, with these rights.
    Client(Role),
    /// Refused: what to tell the log.
    Refused(&'static str),
}

impl Guard {
    pub fn new(
        config: &Config,
        gateway_id: &str,
        gateway_password: &str,
        anonymous: bool,
    ) -> Guard {
        Guard {
            topics: Topics::new(&config.site.id),
            gateway_id: gateway_id.to_string(),
            gateway_password: gateway_password.to_string(),
            anonymous,
            users: super::rights::users(config)
                .into_iter()
                .map(|(u, role)| (u.name.clone(), (u.password_hash.clone(), role)))
                .collect(),
        }
    }

    fn reserved(&self, client_id: &str) -> bool {
        client_id == self.gateway_id
            || client_id
                .strip_prefix(self.gateway_id.as_str())
                .is_some_and(|rest| rest.starts_with('-'))
    }

    /// Checks one login. Argon2 is slow on purpose: call it off the async threads.
    pub fn login(&self, client_id: &str, user: Option<&str>, password: Option<&[u8]>) -> Login {
        // The gateway's connections log in as its client id, the outbox's as `{id}-outbox`.
        let gateway = user.is_some_and(|u| self.reserved(u))
            && password == Some(self.gateway_password.as_bytes());
        if gateway {
            return Login::Gateway;
        }
        if self.reserved(client_id) {
            return Login::Refused("the client id is reserved for the gateway");
        }
        let Some(user) = user else {
            return if self.anonymous {
                Login::Client(Role::Anonymous)
            } else {
                Login::Refused("no user name, and anonymous clients are not allowed")
            };
        };
        if self.reserved(user) {
            return Login::Refused("wrong password for the gateway's user name");
        }
        let Some((hash, role)) = self.users.get(user) else {
            return Login::Refused("unknown user name");
        };
        let verified = PasswordHash::new(hash).is_ok_and(|h| {
            Argon2::default()
                .verify_password(password.unwrap_or_default(), &h)
                .is_ok()
        });
        if verified {
            Login::Client(role.clone())
        } else {
            Login::Refused("wrong password")
        }
    }

    /// The role of a logged-in session (the gateway's sessions never get here: rmqtt skips
    /// the checks for a superuser).
    fn role(&self, user: Option<&str>) -> Option<&Role> {
        match user {
            None if self.anonymous => Some(&Role::Anonymous),
            None => None,
            Some(u) => self.users.get(u).map(|(_, role)| role),
        }
    }

    pub fn may_publish(&self, user: Option<&str>, topic: &str) -> bool {
        self.role(user)
            .is_some_and(|r| r.may_publish(&self.topics, topic))
    }

    pub fn may_subscribe(&self, user: Option<&str>, filter: &str) -> bool {
        self.role(user)
            .is_some_and(|r| r.may_subscribe(&self.topics, filter))
    }
}

/// An argon2id hash of `password` with a random salt, in the PHC form `password_hash`
/// takes (`gatehouse broker hash-password`).
pub fn hash_password(password: &str) -> Result<String, String> {
    use argon2::PasswordHasher;
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| format!("no randomness for the salt: {e}"))?;
    let salt = argon2::password_hash::SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Registers the guard's hooks on a broker context.
pub async fn register(scx: &ServerContext, guard: Arc<Guard>) {
    let register = scx.extends.hook_mgr().register();
    for typ in [
        Type::ClientAuthenticate,
        Type::ClientSubscribeCheckAcl,
        Type::MessagePublishCheckAcl,
        Type::ClientDisconnected,
        Type::MessageDropped,
    ] {
        register
            .add(
                typ,
                Box::new(Hooks {
                    guard: guard.clone(),
                    subscribe_refused: LogBudget::default(),
                    publish_refused: LogBudget::default(),
                    dropped: LogBudget::default(),
                    login_refused: LogBudget::default(),
                }),
            )
            .await;
    }
    register.start().await;
}

/// Longest topic or client id quoted in a log line.
const LOGGED_TEXT: usize = 200;

/// Outside text as a log line quotes it: cut to [`LOGGED_TEXT`], phone numbers masked.
fn quoted(text: &str) -> String {
    mask_phones(&cut(text, LOGGED_TEXT)).into_owned()
}

/// The broker's hooks, with a log budget per kind of refusal.
struct Hooks {
    guard: Arc<Guard>,
    subscribe_refused: LogBudget,
    publish_refused: LogBudget,
    dropped: LogBudget,
    login_refused: LogBudget,
}

/// Logs a warning within `budget`, saying how many of its kind were not logged before it.
macro_rules! warn_within {
    ($budget:expr, $($rest:tt)+) => {
        if let Verdict::Log { suppressed } = $budget.take(std::time::Instant::now()) {
            warn!(not_logged_before = suppressed, $($rest)+);
        }
    };
}

#[async_trait]
impl Handler for Hooks {
    async fn hook(&self, param: &Parameter, acc: Option<HookResult>) -> ReturnType {
        match param {
            Parameter::ClientAuthenticate(info) => (
                false,
                Some(HookResult::AuthResult(self.authenticate(info).await)),
            ),
            Parameter::ClientSubscribeCheckAcl(session, sub) => {
                let user = session.id.username.as_deref();
                let result = if self.guard.may_subscribe(user, &sub.topic_filter) {
                    SubscribeAclResult::new_success(sub.opts.qos(), None)
                } else {
                    warn_within!(self.subscribe_refused, client = %quoted(&session.id.client_id), user = %quoted(user.unwrap_or("(anonymous)")), filter = %quoted(&sub.topic_filter), "MQTT subscription refused: this login may not read those topics.");
                    SubscribeAclResult::new_failure(
                        rmqtt::codec::v5::SubscribeAckReason::NotAuthorized,
                    )
                };
                (false, Some(HookResult::SubscribeAclResult(result)))
            }
            Parameter::MessagePublishCheckAcl(session, publish) => {
                let user = session.id.username.as_deref();
                let result = if self.guard.may_publish(user, &publish.topic) {
                    PublishAclResult::allow()
                } else {
                    warn_within!(self.publish_refused, client = %quoted(&session.id.client_id), user = %quoted(user.unwrap_or("(anonymous)")), topic = %quoted(&publish.topic), "MQTT publish refused: this login may not publish there.");
                    PublishAclResult::rejected(false, None)
                };
                (false, Some(HookResult::PublishAclResult(result)))
            }
            Parameter::ClientDisconnected(session, reason) => {
                debug!(client = %session.id.client_id, reason = %reason, "MQTT client disconnected.");
                (true, acc)
            }
            // A refused publish was logged above.
            Parameter::MessageDropped(_, _, _, rmqtt::types::Reason::PublishResult(_)) => {
                (true, acc)
            }
            Parameter::MessageDropped(to, from, publish, reason) => {
                warn_within!(self.dropped, to = ?to.as_ref().map(|t| quoted(&t.client_id)), from = %quoted(&from.client_id), topic = %quoted(&publish.topic), reason = %reason, "The embedded broker dropped a message; if the reason is a full queue, raise broker.max_queued or broker.max_inflight.");
                (true, acc)
            }
            _ => (true, acc),
        }
    }
}

impl Hooks {
    async fn authenticate(&self, info: &ConnectInfo) -> AuthResult {
        let guard = self.guard.clone();
        let client_id = info.client_id().to_string();
        let user = info.username().map(|u| u.to_string());
        let password = info.password().map(|p| p.to_vec());
        let peer = info.ipaddress();
        let (client, who) = (client_id.clone(), user.clone());
        let login = tokio::task::spawn_blocking(move || {
            guard.login(&client, who.as_deref(), password.as_deref())
        })
        .await
        .unwrap_or(Login::Refused("the login check failed"));
        match login {
            Login::Gateway => AuthResult::Allow(true, None),
            Login::Client(role) => {
                debug!(client = %client_id, role = ?role, "MQTT client logged in.");
                AuthResult::Allow(false, None)
            }
            Login::Refused(why) => {
                warn_within!(self.login_refused, client = %quoted(&client_id), user = %quoted(user.as_deref().unwrap_or("(anonymous)")), peer = ?peer, reason = why, "MQTT login refused; give the device a [[broker.users]] login (see docs/mqtt.md).");
                AuthResult::NotAuthorized
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_text_in_a_log_line_is_cut_and_its_phone_numbers_masked() {
        let long = format!("gatehouse/x/readers/{}/swipe", "r".repeat(40_000));
        assert!(quoted(&long).chars().count() <= LOGGED_TEXT + 10);
        let user = quoted("13912345678");
        assert!(!user.contains("13912345678"), "{user}");
    }
    use argon2::PasswordHasher;
    use argon2::password_hash::SaltString;

    fn hash(password: &str) -> String {
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .unwrap()
            .to_string()
    }

    fn guard(anonymous: bool) -> Guard {
        let config: Config = toml::from_str(&format!(
            "[site]\nid = \"n\"\nname = \"N\"\n[[broker.users]]\nname = \"reader-1\"\npassword_hash = \"{}\"\nreader = \"r-1\"\n",
            hash("s3cret")
        ))
        .unwrap();
        Guard::new(&config, "gatehouse-n", "gw-pass", anonymous)
    }

    #[test]
    fn login_table() {
        let g = guard(true);
        for (client, user, password, expected) in [
            (
                "gatehouse-n",
                Some("gatehouse-n"),
                Some("gw-pass"),
                Login::Gateway,
            ),
            (
                "gatehouse-n-outbox",
                Some("gatehouse-n-outbox"),
                Some("gw-pass"),
                Login::Gateway,
            ),
            (
                "gatehouse-n",
                None,
                None,
                Login::Refused("the client id is reserved for the gateway"),
            ),
            (
                "gatehouse-n-x",
                Some("reader-1"),
                Some("s3cret"),
                Login::Refused("the client id is reserved for the gateway"),
            ),
            (
                "gatehouse-nx",
                Some("reader-1"),
                Some("s3cret"),
                Login::Client(Role::Reader("r-1".into())),
            ),
            (
                "any",
                Some("gatehouse-n"),
                Some("guess"),
                Login::Refused("wrong password for the gateway's user name"),
            ),
            (
                "any",
                Some("reader-1"),
                Some("wrong"),
                Login::Refused("wrong password"),
            ),
            (
                "any",
                Some("nobody"),
                Some("s3cret"),
                Login::Refused("unknown user name"),
            ),
            ("any", None, None, Login::Client(Role::Anonymous)),
        ] {
            assert_eq!(
                g.login(client, user, password.map(str::as_bytes)),
                expected,
                "{client} {user:?}"
            );
        }
        assert_eq!(
            guard(false).login("any", None, None),
            Login::Refused("no user name, and anonymous clients are not allowed")
        );
    }

    #[test]
    fn hashed_passwords_verify_and_salts_differ() {
        let a = hash_password("s3cret").unwrap();
        let b = hash_password("s3cret").unwrap();
        assert_ne!(a, b);
        let parsed = PasswordHash::new(&a).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"s3cret", &parsed)
                .is_ok()
        );
        assert!(
            Argon2::default()
                .verify_password(b"other", &parsed)
                .is_err()
        );
    }

    #[test]
    fn session_rights_follow_the_user() {
        let g = guard(false);
        assert!(g.may_publish(Some("reader-1"), "gatehouse/n/readers/r-1/swipe"));
        assert!(!g.may_publish(Some("reader-1"), "gatehouse/n/doors/g/input"));
        assert!(!g.may_publish(None, "gatehouse/n/readers/r-1/swipe"));
        assert!(!g.may_subscribe(Some("ghost"), "gatehouse/n/status"));
        assert!(guard(true).may_publish(None, "gatehouse/n/readers/r-9/swipe"));
    }
}
