//! `gatehouse check-config FILE`.

use super::exit;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct CheckConfigArgs {
    /// The estate configuration file (TOML).
    pub file: PathBuf,
}

pub fn check(args: CheckConfigArgs) -> ExitCode {
    // The same validation `run` starts from: controllers' profiles (the shipped ones plus a
    // `profiles/` folder beside the file), broker, TLS files, policy ranges, the core's model.
    match crate::config::load(&args.file) {
        Ok(cfg) => {
            println!(
                "{}: valid — site '{}', {} zones, {} doors, {} controllers.",
                args.file.display(),
                cfg.site.id,
                cfg.zones.len(),
                cfg.doors.len(),
                cfg.controllers.len()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(exit::CONFIG)
        }
    }
}

#[derive(clap::Args, Debug)]
pub struct SampleArgs {
    #[command(subcommand)]
    pub command: SampleCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum SampleCommand {
    /// Generate the sample estate (configuration, residents CSV and XLSX, demo office key).
    Generate(GenerateArgs),
}

#[derive(clap::Args, Debug)]
pub struct GenerateArgs {
    /// The same seed gives the same estate; the shipped sample uses 7.
    #[arg(long, default_value_t = crate::sample::SEED)]
    pub seed: u64,
    /// The folder to write into.
    #[arg(long, default_value = "config")]
    pub out: PathBuf,
}

/// `gatehouse sample generate`: remakes the files of `config/`.
pub fn sample(args: SampleArgs) -> ExitCode {
    let SampleCommand::Generate(args) = args.command;
    let sample = crate::sample::generate(args.seed);
    match crate::sample::write(&sample, &args.out) {
        Ok(()) => {
            println!(
                "Wrote the sample estate (seed {}, {} residents) to {}.",
                args.seed,
                sample.residents.len(),
                args.out.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!(
                "{}: cannot write the sample: {e}. Check that the folder is writable.",
                args.out.display()
            );
            ExitCode::from(exit::RUNTIME)
        }
    }
}
