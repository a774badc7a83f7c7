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
    /// The district console; on 127.0.0.1:9443 when the section is left out.
    #[serde(default)]
    pub web: Web,
}

/// `[web]`: the district console over HTTPS (docs/district.md#the-console).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Web {
    /// `host:port`; port 0 picks a free one.
    #[serde(default = "default_listen")]
    pub listen: String,
    /// The console's users file and self-signed certificate; relative to the config file.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// A certificate and its key (PEM), both or neither; neither makes a self-signed one.
    pub cert: Option<String>,
    pub key: Option<String>,
    /// How long a district order stays valid at the estates, in seconds (5 to 86,400).
    #[serde(default = "default_order_valid_s")]
    pub order_valid_s: u64,
}

impl Default for Web {
    fn default() -> Web {
        Web {
            listen: default_listen(),
            data_dir: default_data_dir(),
            cert: None,
            key: None,
            order_valid_s: default_order_valid_s(),
        }
    }
}

fn default_listen() -> String {
    "127.0.0.1:9443".into()
}

fn default_data_dir() -> PathBuf {
    "office-data".into()
}

fn default_order_valid_s() -> u64 {
    600
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
        if !(5..=86_400).contains(&config.web.order_valid_s) {
            return Err(invalid(format!(
                "web order_valid_s is {}; use 5 to 86400 (how long a district order may wait for an estate, in seconds)",
                config.web.order_valid_s
            )));
        }
        if config.web.cert.is_some() != config.web.key.is_some() {
            return Err(invalid(
                "web cert and key must be given together: set both, or neither for a self-signed certificate".into(),
            ));
        }
        if let Some(dir) = path.parent() {
            for file in [&mut config.issuer.key_file, &mut config.web.data_dir] {
                if file.is_relative() {
                    *file = dir.join(&*file);
                }
            }
        }
        Ok(config)
    }
}
