//! The command line: one file per area, each with its subcommands and their `run`.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

pub mod broker;
pub mod command;
pub mod config;
pub mod decide;
pub mod import;
pub mod keys;
pub mod log;
pub mod occupancy;
pub mod run;
pub mod sim;

/// Exit codes of `spec/files.md`.
pub mod exit {
    pub const OK: u8 = 0;
    pub const RUNTIME: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const CONFIG: u8 = 64;
}

#[derive(Parser, Debug)]
#[command(
    name = "gatehouse",
    version,
    about = "Access-control gateway for the gates of residential estates"
)]
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
    /// Decide one access request against the estate's store and log it (no door is driven).
    Decide(decide::DecideArgs),
    /// Run the gateway for an estate.
    Run(run::RunArgs),
    /// Run the sample estate with an embedded broker, simulated controllers and readers, and
    /// the web console.
    Demo(run::DemoArgs),
    /// Simulated devices: `gatehouse sim controller --profile P --listen ADDR`.
    Sim(sim::SimArgs),
    /// Simulate an estate's residents: swipe records plus the truth they came from.
    Simulate(occupancy::SimulateArgs),
    /// Score an occupancy report against a simulation's truth.
    Eval(occupancy::EvalArgs),
    /// Reports for the office: occupancy, the per-building household table.
    Report(occupancy::ReportArgs),
    /// Bring records from other systems in: residents, swipe records.
    Import(import::ImportArgs),
    /// The event log: verify its chain, tail it, export it (CSV, JSON lines).
    Log(log::LogArgs),
    /// Office keys: `gatehouse keys new --out office` writes a key pair for signed commands.
    Keys(keys::KeysArgs),
    /// Sign an office command, send it to the gateway over MQTT and print its result.
    Command(command::CommandArgs),
    /// Broker logins: `hash-password` for `[[broker.users]]`, `acl --format mosquitto` for
    /// an external broker with the same rights.
    Broker(broker::BrokerArgs),
    /// Generate the sample estate (for maintainers).
    #[command(hide = true)]
    Sample(config::SampleArgs),
}

/// Parses the command line, sets up logging, runs the command, and maps errors to exit codes.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    crate::logging::init(&cli.log_format);
    match cli.command {
        Command::CheckConfig(args) => config::check(args),
        Command::Decide(args) => decide::run(args),
        Command::Run(args) => run::run(args),
        Command::Demo(args) => run::demo(args),
        Command::Sim(args) => sim::run(args),
        Command::Simulate(args) => occupancy::simulate(args),
        Command::Eval(args) => occupancy::eval(args),
        Command::Report(args) => occupancy::report(args),
        Command::Import(args) => import::run(args),
        Command::Log(args) => log::run(args),
        Command::Keys(args) => keys::run(args),
        Command::Command(args) => command::run(args),
        Command::Broker(args) => broker::run(args),
        Command::Sample(args) => config::sample(args),
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
    pub fn load(
        &self,
    ) -> Result<(gatehouse_core::config::Config, std::path::PathBuf), crate::config::ConfigError>
    {
        let cfg = match &self.config {
            Some(path) => crate::config::load(path)?,
            None if std::path::Path::new("gatehouse.toml").exists() => {
                crate::config::load(std::path::Path::new("gatehouse.toml"))?
            }
            None => crate::config::parse(crate::sample::CONFIG, "built-in sample estate")?,
        };
        let dir = self
            .data_dir
            .clone()
            .unwrap_or_else(|| std::path::PathBuf::from(&cfg.site.data_dir));
        Ok((cfg, dir))
    }
}
