//! Loading the estate configuration from a file: parse, validate, and say where it is wrong.
//!
//! Every error names the file, the line and what to do; all problems are reported at once,
//! so a person fixes the file in one pass. Parsing stops at the first syntax or unknown-key
//! error (the file cannot be read further); reference checks then report every problem.

mod lines;
mod validate;

use gatehouse_core::config::Config;
use std::path::Path;

pub use validate::Problem;

/// A configuration file that cannot be used. The message names the file, the line and the fix,
/// one problem per line.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// Reads, parses and validates `path`.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError(format!(
            "{}: cannot read the configuration file: {e}. Check the path, or run `gatehouse print-config > gatehouse.toml` for a starting point.",
            path.display()
        ))
    })?;
    parse(&text, &path.display().to_string())
}

/// Parses and validates configuration text; `name` is used in error messages.
pub fn parse(text: &str, name: &str) -> Result<Config, ConfigError> {
    let lines = lines::Lines::new(text);
    let cfg = toml::from_str::<Config>(text).map_err(|e| {
        let line = e.span().map_or(1, |s| lines.line_of(s.start));
        let what = e.message().trim_end_matches('\n').trim_end_matches('.');
        ConfigError(format!(
            "{name}:{line}: {what}; fix this line (docs/configuration.md lists every key)."
        ))
    })?;
    let problems = validate::check(&cfg, &lines);
    if problems.is_empty() {
        return Ok(cfg);
    }
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
    Err(ConfigError(out.join("\n")))
}

/// Checks the syntax of one schedule window (`"mon-fri 07:00-19:00"`) with the core's own
/// parser, so that the file is refused for exactly what the decisions could not use.
pub fn check_window(window: &str) -> Result<(), String> {
    gatehouse_core::schedule::parse_window(window).map(|_| ())
}

#[cfg(test)]
mod tests;
