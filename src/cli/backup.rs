//! `gatehouse backup | restore` and `gatehouse log salvage`: copies of the store.
//!
//! The store file is held by one process at a time. `backup` opens the store like the other
//! commands, so it runs on a stopped gateway; a running gateway makes its own backups on the
//! schedule of its configuration's `[backup]` section (see docs/log.md).

use super::{EstateArgs, exit};
use gatehouse_store::{Copied, Store, StoreError};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct BackupArgs {
    #[command(flatten)]
    pub estate: EstateArgs,
    /// The new backup file (must not exist).
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(clap::Args, Debug)]
pub struct RestoreArgs {
    #[command(flatten)]
    pub estate: EstateArgs,
    /// The backup file to put in place of the store (the gateway must be stopped).
    pub file: PathBuf,
}

fn fail(code: u8, message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(code)
}

fn data_dir(estate: &EstateArgs) -> Result<(PathBuf, String), ExitCode> {
    estate
        .load()
        .map(|(config, dir)| (dir, config.site.id.clone()))
        .map_err(|e| fail(exit::CONFIG, e))
}

pub fn backup(args: BackupArgs) -> ExitCode {
    let (dir, site) = match data_dir(&args.estate) {
        Ok(found) => found,
        Err(code) => return code,
    };
    let store = match Store::open(&dir, &site) {
        Ok(store) => store,
        Err(e @ StoreError::Locked { .. }) => {
            return fail(
                exit::RUNTIME,
                format!(
                    "{e}. A running gateway makes its own backups: set `[backup] every_h`, `keep` and `dir` in its configuration."
                ),
            );
        }
        Err(e) => return fail(exit::RUNTIME, e),
    };
    match store.backup(&args.out) {
        Ok(copied) => {
            println!(
                "Backup written to {}: {} records, last seq {}.",
                args.out.display(),
                copied.records,
                copied.last_seq
            );
            report_lost(&copied)
        }
        Err(e) => fail(exit::RUNTIME, e),
    }
}

pub fn restore(args: RestoreArgs) -> ExitCode {
    let (dir, _) = match data_dir(&args.estate) {
        Ok(found) => found,
        Err(code) => return code,
    };
    match gatehouse_store::restore(&args.file, &dir) {
        Ok(report) => {
            println!(
                "Restored {} into {}: {} records, last seq {}; the store it replaced is kept as gatehouse.redb.before-restore.",
                args.file.display(),
                dir.display(),
                report.checked,
                report.last_seq
            );
            if let Some(bad) = report.first_bad {
                println!(
                    "Warning: the backup itself does not verify from record {} ({}).",
                    bad.seq, bad.problem
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(exit::RUNTIME, e),
    }
}

/// `gatehouse log salvage --out NEW_DIR`.
pub fn salvage(estate: &EstateArgs, out: &Path) -> ExitCode {
    let (dir, _) = match data_dir(estate) {
        Ok(found) => found,
        Err(code) => return code,
    };
    match gatehouse_store::salvage(&dir, out) {
        Ok(copied) => {
            println!(
                "Salvaged {} of {} records into {}.",
                copied.records,
                copied.last_seq,
                out.display()
            );
            report_lost(&copied)
        }
        Err(e) => fail(exit::RUNTIME, e),
    }
}

/// Prints what a copy lost; exit 1 if anything.
fn report_lost(copied: &Copied) -> ExitCode {
    for (from, to) in &copied.lost_records {
        println!("Lost: records {from} to {to} (unreadable).");
    }
    for line in &copied.lost_rows {
        println!("Lost: {line}.");
    }
    if copied.lost_records.is_empty() && copied.lost_rows.is_empty() {
        println!("Nothing was lost.");
        ExitCode::SUCCESS
    } else {
        ExitCode::from(exit::RUNTIME)
    }
}
