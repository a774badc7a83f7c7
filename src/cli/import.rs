//! `gatehouse import residents FILE`: households, people and passes from a CSV or XLSX file.

use super::exit;
use crate::import::residents::{self, ImportError};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    #[command(subcommand)]
    pub what: ImportCommand,
}

/// `import residents` is here; the other imports (swipe records) live with their areas and
/// are flattened in, so that `gatehouse import --help` lists them all.
#[derive(clap::Subcommand, Debug)]
pub enum ImportCommand {
    /// Import residents (CSV or XLSX, English or Chinese headers). All or nothing: bad rows are
    /// listed, and written to FILE.errors.csv.
    Residents(ResidentsArgs),
    #[command(flatten)]
    Records(super::occupancy::ImportCommand),
}

#[derive(clap::Args, Debug)]
pub struct ResidentsArgs {
    /// The residents file: household, name, phone, role, pass, valid_until
    /// (户号, 姓名, 手机号, 身份, 卡号, 有效期至).
    pub file: PathBuf,
    #[command(flatten)]
    pub estate: super::EstateArgs,
}

/// Files with fewer rows finish before a bar would be read.
const PROGRESS_FROM_ROWS: usize = 1_000;

pub fn run(args: ImportArgs) -> ExitCode {
    match args.what {
        ImportCommand::Residents(args) => import_residents(args),
        ImportCommand::Records(what) => {
            super::occupancy::import(super::occupancy::ImportArgs { what })
        }
    }
}

fn import_residents(args: ResidentsArgs) -> ExitCode {
    let (config, data_dir) = match args.estate.load() {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(exit::CONFIG);
        }
    };
    let store = match gatehouse_store::Store::open(&data_dir, &config.site.id) {
        Ok(store) => store,
        Err(e) => {
            eprintln!("Cannot open the store: {e}.");
            return ExitCode::from(exit::RUNTIME);
        }
    };
    let bar = progress_bar();
    let mut progress = |done: usize, total: usize| {
        if total >= PROGRESS_FROM_ROWS {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        }
    };
    let actor = super::actor();
    let result = residents::import(&args.file, &config, &store, &actor, &mut progress);
    bar.finish_and_clear();
    match result {
        Ok(done) => {
            let what = if done.wrote {
                "Imported"
            } else {
                "Nothing to change in"
            };
            println!("{what} {}: {}.", args.file.display(), done.counts);
            ExitCode::SUCCESS
        }
        Err(e @ ImportError::BadRows { .. }) => {
            for line in e.problem_lines() {
                eprintln!("{line}");
            }
            eprintln!("{e}");
            ExitCode::from(exit::RUNTIME)
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(exit::RUNTIME)
        }
    }
}

/// A bar on stderr when a person is watching; hidden in scripts and tests.
fn progress_bar() -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(0);
    if let Ok(style) = indicatif::ProgressStyle::with_template("Checking rows {bar:40} {pos}/{len}")
    {
        bar.set_style(style);
    }
    bar
}
