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
