//! Loading the estate configuration from a file: parse, validate, and say where it is wrong.

use gatehouse_core::config::Config;
use std::path::Path;

/// A configuration file that cannot be used. The message names the file, the line and the fix.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// Reads, parses and validates `path`.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError(format!("{}: cannot read the configuration file: {e}. Check the path.", path.display()))
    })?;
    parse(&text, &path.display().to_string())
}

/// Parses and validates configuration text; `name` is used in error messages.
pub fn parse(text: &str, name: &str) -> Result<Config, ConfigError> {
    toml::from_str::<Config>(text).map_err(|e| ConfigError(format!("{name}: {e}")))
}
