//! The command line: one file per area, each with its subcommands and their `run`.

use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub mod backup;
pub mod broker;
pub mod command;
pub mod config;
pub mod decide;
pub mod import;
pub mod keys;
pub mod log;
pub mod occupancy;
pub mod office;
pub mod run;
pub mod sim;
pub mod users;

/// Exit codes of `docs/interfaces.md#files-and-commands`.
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
    /// Write a consistent copy of the store to a new file (on a stopped gateway; a running
    /// one backs up on its `[backup]` schedule).
    Backup(backup::BackupArgs),
    /// Put a backup file in place of the store (the gateway must be stopped).
    Restore(backup::RestoreArgs),
    /// Office keys: `gatehouse keys new --out office` writes a key pair for signed commands.
    Keys(keys::KeysArgs),
    /// Sign an office command, send it to the gateway over MQTT and print its result.
    Command(command::CommandArgs),
    /// The district office: every estate's events from the district broker into
    /// PostgreSQL (docs/district.md).
    Office(office::OfficeArgs),
    /// Console users: `gatehouse users list|add|reset-password` (the way back from a lost
    /// admin password).
    Users(users::UsersArgs),
    /// Broker logins: `hash-password` for `[[broker.users]]`, `acl --format mosquitto` for
    /// an external broker with the same rights.
    Broker(broker::BrokerArgs),
    /// Generate the sample estate (for maintainers).
    #[command(hide = true)]
    Sample(config::SampleArgs),
}

/// The async runtime a long-running command needs (`worker_threads`: None for one per core);
/// when it cannot be made, the message is printed and the exit code returned.
pub(crate) fn runtime(worker_threads: Option<usize>) -> Result<tokio::runtime::Runtime, ExitCode> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = worker_threads {
        builder.worker_threads(n);
    }
    builder.enable_all().build().map_err(|e| {
        eprintln!("Cannot start the async runtime: {e}.");
        ExitCode::from(exit::RUNTIME)
    })
}

/// Parses the command line, sets up logging, runs the command, and maps errors to exit codes.
pub fn main() -> ExitCode {
    quiet_on_closed_pipe();
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
        Command::Backup(args) => backup::backup(args),
        Command::Restore(args) => backup::restore(args),
        Command::Users(args) => users::run(args),
        Command::Office(args) => office::run(args),
        Command::Command(args) => command::run(args),
        Command::Broker(args) => broker::run(args),
        Command::Sample(args) => config::sample(args),
        Command::PrintConfig => {
            print!("{}", crate::sample::CONFIG);
            ExitCode::SUCCESS
        }
    }
}

/// A reader that stops reading (`gatehouse log export | head`) closes the pipe: Rust ignores
/// SIGPIPE, so the next `print!` fails and panics. That is the reader's choice, not an error:
/// the command ends at once, quietly, with exit code 0. A damaged workbook's panic inside the
/// spreadsheet library is caught by the reader and reported as an error. Every other panic
/// keeps the default report.
fn quiet_on_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if is_closed_pipe(message) {
            std::process::exit(i32::from(exit::OK));
        }
        // The spreadsheet library's panic on a damaged file becomes the reader's error
        // message; its own text is no use to the person importing.
        if crate::import::table::in_sheet_reader() {
            return;
        }
        default(info);
    }));
}

/// Ends the command quietly (exit code 0) when `e` says the reader closed the pipe: see
/// [`quiet_on_closed_pipe`].
pub fn stop_if_closed(e: &std::io::Error) {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(i32::from(exit::OK));
    }
}

/// Whether a panic message is the standard library's report of a write to a closed pipe.
pub fn is_closed_pipe(message: &str) -> bool {
    message.starts_with("failed printing to std") && message.contains("Broken pipe")
}

/// Where a command finds the estate: `--config FILE` (or `GATEHOUSE_CONFIG`), else
/// `./gatehouse.toml` if present, else the built-in sample estate; `--data-dir` overrides
/// the configuration's `site.data_dir`, which is relative to the configuration file's folder.
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
    ) -> Result<(crate::config::ValidConfig, std::path::PathBuf), crate::config::ConfigError> {
        let local = std::path::Path::new("gatehouse.toml");
        let file = match &self.config {
            Some(path) => Some(path.as_path()),
            None if local.exists() => Some(local),
            None => None,
        };
        let cfg = match file {
            Some(path) => crate::config::load(path)?,
            None => crate::config::parse(crate::sample::CONFIG, "built-in sample estate")?,
        };
        let dir = match &self.data_dir {
            Some(dir) => dir.clone(),
            None => data_dir_of(&cfg.site.data_dir, file),
        };
        Ok((cfg, dir))
    }
}

/// `site.data_dir` resolved against the folder of the configuration file it was read from (the
/// current folder for the built-in sample); an absolute path stays as it is.
fn data_dir_of(data_dir: &str, config_file: Option<&Path>) -> PathBuf {
    let base = config_file
        .and_then(Path::parent)
        .filter(|p| !p.as_os_str().is_empty());
    // `./data` next to `/etc/gatehouse/estate.toml` is `/etc/gatehouse/data`, said so.
    let relative: PathBuf = Path::new(data_dir)
        .components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect();
    match base {
        Some(base) => base.join(relative),
        None => PathBuf::from(data_dir),
    }
}

/// Why a command that only reads found no store.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// No store file in the data directory; nothing was created.
    #[error(
        "no store at {}: nothing has been recorded there, and a command that only reads creates none. Give the gateway's data directory with --data-dir, or check site.data_dir (relative to the configuration file's folder)",
        .0.display()
    )]
    NoStore(PathBuf),
    #[error(transparent)]
    Store(#[from] gatehouse_store::StoreError),
}

/// Opens the store for a command that only reads it (`log verify`, `log tail`, `log export`,
/// reports): a data directory without a store is [`ReadError::NoStore`], and nothing is made.
/// With the small read cache: a scan reads each page once, which the operating system's page
/// cache serves as fast; redb's large cache only added a quarter of a GiB to a 10 M-record
/// report's peak (docs/benchmarks.md, "Occupancy").
pub fn open_existing(dir: &Path, site_id: &str) -> Result<gatehouse_store::Store, ReadError> {
    let file = dir.join(gatehouse_store::tables::FILE_NAME);
    if !file.is_file() {
        return Err(ReadError::NoStore(file));
    }
    Ok(gatehouse_store::Store::open_lean(dir, site_id)?)
}

/// Who the CLI's records name as the actor: `cli:` and the login (`cli:office` without one).
fn actor() -> String {
    format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "office".into())
    )
}
