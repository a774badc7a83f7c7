//! The command line: one file per area, each with its subcommands and their `run`.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

pub mod config;

/// Exit codes of `spec/files.md`.
pub mod exit {
    pub const OK: u8 = 0;
    pub const RUNTIME: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const CONFIG: u8 = 64;
}

#[derive(Parser, Debug)]
#[command(name = "gatehouse", version, about = "Access-control gateway for the gates of residential estates")]
pub struct Cli {
    /// Log format on stderr.
    #[arg(long, global = true, default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Validate a configuration file without starting anything.
    CheckConfig(config::CheckConfigArgs),
    /// Print the built-in sample configuration.
    PrintConfig,
}

/// Parses the command line, sets up logging, runs the command, and maps errors to exit codes.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { exit::USAGE } else { exit::OK };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    crate::logging::init(&cli.log_format);
    match cli.command {
        Command::CheckConfig(args) => config::check(args),
        Command::PrintConfig => {
            print!("{}", crate::sample::CONFIG);
            ExitCode::SUCCESS
        }
    }
}

/// Where a command finds the estate: `--config FILE` (or `GATEHOUSE_CONFIG`), else
/// `./gatehouse.toml` if present, else the built-in sample estate; `--data-dir` overrides
/// the configuration's `site.data_dir`.
#[derive(clap::Args, Debug, Clone)]
pub struct EstateArgs {
    /// The estate configuration file.
    #[arg(long, env = "GATEHOUSE_CONFIG")]
    pub config: Option<std::path::PathBuf>,
    /// The data directory (overrides `site.data_dir`).
    #[arg(long)]
    pub data_dir: Option<std::path::PathBuf>,
}

impl EstateArgs {
    /// Loads and validates the configuration; returns it with the data directory to use.
    pub fn load(&self) -> Result<(gatehouse_core::config::Config, std::path::PathBuf), crate::config::ConfigError> {
        let cfg = match &self.config {
            Some(path) => crate::config::load(path)?,
            None if std::path::Path::new("gatehouse.toml").exists() => {
                crate::config::load(std::path::Path::new("gatehouse.toml"))?
            }
            None => crate::config::parse(crate::sample::CONFIG, "built-in sample estate")?,
        };
        let dir = self.data_dir.clone().unwrap_or_else(|| std::path::PathBuf::from(&cfg.site.data_dir));
        Ok((cfg, dir))
    }
}
