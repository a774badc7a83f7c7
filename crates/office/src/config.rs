//! The office's configuration file (`docs/district.md#the-office`): TOML, unknown keys are
//! errors.

use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfficeConfig {
    pub nats: Nats,
    pub postgres: Postgres,
    /// The key the office signs commands with (`replay`); its public half is an
    /// `[[issuers]]` entry in every estate's configuration.
    pub issuer: Issuer,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Nats {
    /// The district broker's nodes, `nats://host:port`.
    pub servers: Vec<String>,
    /// The JetStream stream holding every estate's events (created when missing).
    #[serde(default = "default_stream")]
    pub stream: String,
    /// The office's durable consumer on it.
    #[serde(default = "default_consumer")]
    pub consumer: String,
    /// Stream replicas when the office creates it (3 on a three-node cluster).
    #[serde(default = "default_replicas")]
    pub replicas: usize,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Postgres {
    /// A libpq-style connection string: `host=/var/run/postgresql dbname=district`.
    pub url: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Issuer {
    /// The issuer id the estates know this key by.
    pub id: String,
    /// The file holding the base64 Ed25519 secret key (`gatehouse keys new`); relative to
    /// the configuration file.
    pub key_file: PathBuf,
}

fn default_stream() -> String {
    "GATEHOUSE_EVENTS".into()
}

fn default_consumer() -> String {
    "office".into()
}

fn default_replicas() -> usize {
    3
}

/// What is wrong with a configuration, and what to do.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot be read ({source}); check the path")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

impl OfficeConfig {
    /// Reads and checks `path`; the key file is taken relative to it.
    pub fn load(path: &Path) -> Result<OfficeConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.into(),
            source,
        })?;
        let invalid = |message: String| ConfigError::Invalid {
            path: path.into(),
            message,
        };
        let mut config: OfficeConfig = toml::from_str(&text).map_err(|e| invalid(e.to_string()))?;
        if config.nats.servers.is_empty() {
            return Err(invalid(
                "nats servers is empty; list the district broker's nodes, like servers = [\"nats://district-1:4222\"]".into(),
            ));
        }
        if !(1..=5).contains(&config.nats.replicas) {
            return Err(invalid(format!(
                "nats replicas is {}; use 1 to 5 (3 on a three-node cluster)",
                config.nats.replicas
            )));
        }
        if config.issuer.key_file.is_relative()
            && let Some(dir) = path.parent()
        {
            config.issuer.key_file = dir.join(&config.issuer.key_file);
        }
        Ok(config)
    }
}
