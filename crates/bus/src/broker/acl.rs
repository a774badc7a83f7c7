//! Files for an external broker with the same rights as the embedded one: Mosquitto's ACL
//! file and password file (`gatehouse broker acl --format mosquitto`).
//!
//! Mosquitto cannot tie a client id to a login, so the files come with
//! `use_username_as_clientid true` (see [`MOSQUITTO_CONF`]): every client's id is its user
//! name, and nobody but the gateway can take the gateway's id. The gateway therefore logs its
//! second connection (the event outbox) in as `{user}-outbox`, with the same password.
//!
//! Mosquitto 2.0 verifies PBKDF2-SHA512 password hashes (`$7$`), not argon2: the password file
//! is made from the clear passwords the installer hands to the devices, never from the
//! argon2 hashes in the configuration.

use super::rights::{Role, users};
use crate::topics::Topics;
use base64::Engine;
use gatehouse_core::config::Config;
use std::collections::BTreeMap;
use std::fmt::Write;

/// Lines to add to the Mosquitto listener that uses the files.
pub const MOSQUITTO_CONF: &str = "allow_anonymous false\nuse_username_as_clientid true\n";

/// Mosquitto 2.0's defaults for `$7$` hashes.
const PBKDF2_ROUNDS: u32 = 101;
const SALT_LEN: usize = 12;

/// The gateway's user name on an external broker: `broker.username`, else its client id.
pub fn gateway_user(config: &Config) -> String {
    config
        .broker
        .username
        .clone()
        .unwrap_or_else(|| super::gateway_client_id(config))
}

/// The ACL file: the gateway (both of its connections) may read and write everything under
/// `gatehouse/{site}/` and `homeassistant/`; every configured user gets its role's rights.
pub fn mosquitto_acl(config: &Config) -> String {
    let topics = Topics::new(&config.site.id);
    let gateway = gateway_user(config);
    let mut out = String::from(
        "# Written by `gatehouse broker acl --format mosquitto` from the estate configuration.\n# Use with: allow_anonymous false, use_username_as_clientid true.\n",
    );
    for user in [gateway.clone(), format!("{gateway}-outbox")] {
        let _ = write!(
            out,
            "\nuser {user}\ntopic readwrite gatehouse/{}/#\ntopic readwrite homeassistant/#\n",
            config.site.id
        );
    }
    for (user, role) in users(config) {
        let _ = write!(out, "\n# {}\nuser {}\n", describe(&role), user.name);
        for topic in role.writes(&topics) {
            let _ = writeln!(out, "topic write {topic}");
        }
        for topic in role.reads(&topics) {
            let _ = writeln!(out, "topic read {topic}");
        }
    }
    out
}

fn describe(role: &Role) -> String {
    match role {
        Role::Reader(r) => format!("card reader {r}"),
        Role::Door(d) => format!("controller of door {d}"),
        Role::Issuer(i) => format!("office issuer {i}"),
        Role::Observer => "observer".into(),
        Role::Anonymous => "anonymous".into(),
    }
}

/// Why the password file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum AclError {
    /// A configured user has no clear password in the passwords file.
    #[error(
        "no password for {0} in the passwords file; add a line '{0}:PASSWORD' (the password the device logs in with)"
    )]
    MissingPassword(String),
    /// The gateway's own password is needed for its two logins.
    #[error(
        "broker.password is not set: the gateway logs in to an external broker with broker.username (default: its client id) and broker.password; set it"
    )]
    NoGatewayPassword,
    #[error("no randomness for the password salts: {0}")]
    Random(String),
}

/// Reads `user:password` lines (blank lines and `#` comments skipped).
pub fn parse_passwords(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once(':'))
        .map(|(u, p)| (u.trim().to_string(), p.to_string()))
        .collect()
}

/// The password file: the gateway's two logins with `broker.password`, every configured user
/// with its clear password from `passwords`.
pub fn mosquitto_passwd(
    config: &Config,
    passwords: &BTreeMap<String, String>,
) -> Result<String, AclError> {
    let gateway = gateway_user(config);
    let gateway_password = config
        .broker
        .password
        .as_deref()
        .ok_or(AclError::NoGatewayPassword)?;
    let mut out = String::new();
    for user in [gateway.clone(), format!("{gateway}-outbox")] {
        out.push_str(&passwd_line(&user, gateway_password, salt()?));
    }
    for (user, _) in users(config) {
        let password = passwords
            .get(&user.name)
            .ok_or_else(|| AclError::MissingPassword(user.name.clone()))?;
        out.push_str(&passwd_line(&user.name, password, salt()?));
    }
    Ok(out)
}

fn salt() -> Result<[u8; SALT_LEN], AclError> {
    let mut salt = [0u8; SALT_LEN];
    getrandom::fill(&mut salt).map_err(|e| AclError::Random(e.to_string()))?;
    Ok(salt)
}

/// One `user:$7$101$salt$hash` line, as `mosquitto_passwd` writes it.
pub fn passwd_line(user: &str, password: &str, salt: [u8; SALT_LEN]) -> String {
    let mut hash = [0u8; 64];
    pbkdf2::pbkdf2_hmac::<sha2::Sha512>(password.as_bytes(), &salt, PBKDF2_ROUNDS, &mut hash);
    let b64 = base64::engine::general_purpose::STANDARD;
    format!(
        "{user}:$7${PBKDF2_ROUNDS}${}${}\n",
        b64.encode(salt),
        b64.encode(hash)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        toml::from_str(
            r#"
            [site]
            id = "n"
            name = "N"
            [broker]
            password = "gw"
            [[broker.users]]
            name = "reader-1"
            password_hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA"
            reader = "r-1"
            "#,
        )
        .unwrap()
    }

    #[test]
    fn the_acl_gives_each_user_its_roles_topics() {
        let acl = mosquitto_acl(&config());
        assert!(acl.contains("user gatehouse-n\ntopic readwrite gatehouse/n/#"));
        assert!(acl.contains("user gatehouse-n-outbox\n"));
        assert!(acl.contains(
            "user reader-1\ntopic write gatehouse/n/readers/r-1/swipe\ntopic read gatehouse/n/readers/r-1/result\ntopic read gatehouse/n/status\n"
        ));
    }

    #[test]
    fn password_lines_have_mosquittos_form_and_every_user_needs_one() {
        let line = passwd_line("u", "p", [1; SALT_LEN]);
        let parts: Vec<&str> = line.trim_end().split('$').collect();
        assert_eq!(&parts[..3], &["u:", "7", "101"]);
        assert_eq!(parts[3], "AQEBAQEBAQEBAQEB");
        assert_eq!(parts[4].len(), 88);
        let err = mosquitto_passwd(&config(), &BTreeMap::new()).unwrap_err();
        assert!(err.to_string().contains("reader-1:PASSWORD"), "{err}");
        let file = mosquitto_passwd(&config(), &parse_passwords("# x\nreader-1:s3cret\n")).unwrap();
        assert_eq!(file.lines().count(), 3);
    }
}
