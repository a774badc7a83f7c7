//! Loading the estate configuration from a file: parse, validate, and say where it is wrong.
//!
//! Every error names the file, the line and what to do; all problems are reported at once,
//! so a person fixes the file in one pass. Parsing stops at the first syntax or unknown-key
//! error (the file cannot be read further); reference checks then report every problem.
//!
//! This is the one owner of the configuration's rules: what the core, the Modbus profiles,
//! the MQTT endpoint and the web's TLS files would refuse at start-up is refused here, and
//! only a [`ValidConfig`] starts anything.

mod lines;
mod validate;

use gatehouse_core::config::Config;
use gatehouse_devices::Profiles;
use std::path::Path;

pub use validate::Problem;

/// A configuration file that cannot be used. The message names the file, the line and the fix,
/// one problem per line.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// A configuration that passed every rule: the only kind `run`, `demo` and `decide` accept.
/// Whatever would stop the daemon at start-up (an unknown profile, a broker URL with a wrong
/// scheme, an unreadable TLS file, hours that overflow the calendar, a model the core refuses)
/// was refused here first, with its line. Reads as the [`Config`] it wraps.
#[derive(Clone, Debug)]
pub struct ValidConfig {
    config: Config,
    /// The controllers' vendor profiles, loaded and checked against the controllers.
    profiles: Profiles,
}

impl ValidConfig {
    /// The Modbus profiles the controllers were checked against.
    pub fn profiles(&self) -> &Profiles {
        &self.profiles
    }

    /// The configuration itself, for code that keeps it.
    pub fn into_config(self) -> Config {
        self.config
    }
}

impl std::ops::Deref for ValidConfig {
    type Target = Config;
    fn deref(&self) -> &Config {
        &self.config
    }
}

/// Reads, parses and validates `path`, with the shipped profiles plus any in a `profiles/`
/// folder beside it.
pub fn load(path: &Path) -> Result<ValidConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError(format!(
            "{}: cannot read the configuration file: {e}. Check the path, or run `gatehouse print-config > gatehouse.toml` for a starting point.",
            path.display()
        ))
    })?;
    let profiles_dir = path
        .parent()
        .map(|d| d.join("profiles"))
        .filter(|d| d.is_dir());
    validate(&text, &path.display().to_string(), profiles_dir.as_deref())
}

/// Parses and validates configuration text with the shipped profiles; `name` is used in
/// error messages.
pub fn parse(text: &str, name: &str) -> Result<ValidConfig, ConfigError> {
    validate(text, name, None)
}

/// Parses `text` and checks every rule at once; `profiles_dir` adds or overrides vendor
/// profiles. Every problem is reported with its line, in file order.
pub fn validate(
    text: &str,
    name: &str,
    profiles_dir: Option<&Path>,
) -> Result<ValidConfig, ConfigError> {
    let lines = lines::Lines::new(text);
    let cfg = toml::from_str::<Config>(text).map_err(|e| {
        let line = e.span().map_or(1, |s| lines.line_of(s.start));
        let what = e.message().trim_end_matches('\n').trim_end_matches('.');
        ConfigError(format!(
            "{name}:{line}: {what}; fix this line (docs/configuration.md lists every key)."
        ))
    })?;
    let profiles = Profiles::load(profiles_dir);
    let problems = validate::check(&cfg, &lines, profiles.as_ref());
    match profiles {
        Ok(profiles) if problems.is_empty() => Ok(ValidConfig {
            config: cfg,
            profiles,
        }),
        _ => Err(report(name, &problems)),
    }
}

fn report(name: &str, problems: &[Problem]) -> ConfigError {
    let mut out: Vec<String> = problems
        .iter()
        .map(|p| format!("{name}:{}: {}", p.line, p.message))
        .collect();
    out.push(format!(
        "{name}: {} problem{} found; fix {} and check again with `gatehouse check-config {name}`.",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" },
        if problems.len() == 1 { "it" } else { "them" },
    ));
    ConfigError(out.join("\n"))
}

/// Checks the syntax of one schedule window (`"mon-fri 07:00-19:00"`) with the core's own
/// parser, so that the file is refused for exactly what the decisions could not use.
pub fn check_window(window: &str) -> Result<(), String> {
    gatehouse_core::schedule::parse_window(window).map(|_| ())
}

#[cfg(test)]
mod tests;
