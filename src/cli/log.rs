//! `gatehouse log verify | tail | export`: the event log from the command line.
//!
//! The gateway holds the store exclusively while it runs, so these commands work on a stopped
//! gateway (or a copy of its data directory); on a running one they say so and exit 1.

use super::{EstateArgs, exit};
use gatehouse_core::export::{COLUMNS, csv_row, masked};
use gatehouse_store::{Store, StoreError};
use std::io::Write;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct LogArgs {
    #[command(subcommand)]
    pub command: LogCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum LogCommand {
    /// Re-check the whole log (hash chain, seals, head); exit 1 and name the first bad record
    /// if it was tampered with.
    Verify {
        #[command(flatten)]
        estate: EstateArgs,
        /// Check this store file (a backup) instead, with the data directory's seal key.
        #[arg(long)]
        file: Option<PathBuf>,
    },
    /// Copy every readable record and the estate data of a damaged store (gateway stopped)
    /// into a new data directory, and say what was lost.
    Salvage {
        #[command(flatten)]
        estate: EstateArgs,
        /// The new data directory (must not hold a store).
        #[arg(long)]
        out: PathBuf,
    },
    /// Print the last events as JSON lines.
    Tail {
        #[command(flatten)]
        estate: EstateArgs,
        /// How many events.
        #[arg(short = 'n', long = "lines", default_value_t = 20)]
        lines: u64,
        /// Keep printing new events as they are appended (checks once a second).
        #[arg(long)]
        follow: bool,
    },
    /// Write the log as CSV or JSON lines (one event a line, the spec's record).
    Export {
        #[command(flatten)]
        estate: EstateArgs,
        #[arg(long, value_parser = ["csv", "jsonl"])]
        format: String,
        /// Where to write; standard output if absent.
        #[arg(long)]
        out: Option<PathBuf>,
        /// The first seq to export.
        #[arg(long, default_value_t = 1)]
        from_seq: u64,
    },
}

pub fn run(args: LogArgs) -> ExitCode {
    let result = match args.command {
        LogCommand::Verify { estate, file } => verify(&estate, file.as_deref()),
        LogCommand::Salvage { estate, out } => return super::backup::salvage(&estate, &out),
        LogCommand::Tail {
            estate,
            lines,
            follow,
        } => tail(&estate, lines, follow),
        LogCommand::Export {
            estate,
            format,
            out,
            from_seq,
        } => export(&estate, &format, out.as_deref(), from_seq),
    };
    match result {
        Ok(code) => code,
        Err(Failure::Config(e)) => {
            eprintln!("error: {e}");
            ExitCode::from(exit::CONFIG)
        }
        Err(Failure::Runtime(e)) => {
            eprintln!("error: {e}");
            ExitCode::from(exit::RUNTIME)
        }
    }
}

enum Failure {
    Config(String),
    Runtime(String),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Failure {
        Failure::Runtime(e.to_string())
    }
}

/// Every log command only reads: a folder without a store is an error, never a new store.
fn open(estate: &EstateArgs) -> Result<(Store, String), Failure> {
    let (config, dir) = estate.load().map_err(|e| Failure::Config(e.to_string()))?;
    let store = super::open_existing(&dir, &config.site.id)
        .map_err(|e| Failure::Runtime(format!("{e}.")))?;
    Ok((store, config.site.id.clone()))
}

fn verify(estate: &EstateArgs, file: Option<&Path>) -> Result<ExitCode, Failure> {
    let report = match file {
        Some(file) => {
            let (_, dir) = estate.load().map_err(|e| Failure::Config(e.to_string()))?;
            gatehouse_store::verify_file(file, &dir)?
        }
        None => open(estate)?.0.verify()?,
    };
    match report.first_bad {
        None => {
            println!(
                "Log intact: {} records checked, last seq {}.",
                report.checked, report.last_seq
            );
            Ok(ExitCode::SUCCESS)
        }
        Some(bad) => {
            println!(
                "Log TAMPERED or damaged: first bad record {} ({}); {} records before it are intact, last seq {}.",
                bad.seq, bad.problem, report.checked, report.last_seq
            );
            for (from, to) in &report.damaged {
                println!("Bad records: {from} to {to}.");
            }
            println!(
                "Keep a copy of the data directory as evidence and compare with the events received over MQTT; `gatehouse log salvage --out NEW_DIR` copies every readable record into a new store, or restore a backup."
            );
            Ok(ExitCode::from(exit::RUNTIME))
        }
    }
}

fn tail(estate: &EstateArgs, lines: u64, follow: bool) -> Result<ExitCode, Failure> {
    let (store, _) = open(estate)?;
    let from = store.last_seq().saturating_sub(lines) + 1;
    let mut next = print_from(&store, from)?;
    if !follow {
        return Ok(ExitCode::SUCCESS);
    }
    let dir = store.dir();
    drop(store);
    // Between checks the store is closed, so that a gateway starting meanwhile is not refused.
    let mut said_locked = false;
    loop {
        std::thread::sleep(Duration::from_secs(1));
        match open(estate) {
            Ok((store, _)) => {
                said_locked = false;
                next = print_from(&store, next)?;
            }
            Err(Failure::Runtime(e)) if !said_locked => {
                eprintln!("{e}");
                eprintln!(
                    "Waiting for {} to be free; a running gateway's live events are on its console and on MQTT (gatehouse/{{site}}/events/#).",
                    dir.display()
                );
                said_locked = true;
            }
            Err(Failure::Runtime(_)) => {}
            Err(config) => return Err(config),
        }
    }
}

/// Prints events from `from` on as JSON lines; returns the seq to continue from.
fn print_from(store: &Store, from: u64) -> Result<u64, Failure> {
    let mut out = std::io::stdout().lock();
    let mut next = from;
    let mut failed = None;
    store.for_each_event(from, |e| {
        if let Err(err) = writeln!(
            out,
            "{}",
            serde_json::to_string(&masked(e)).expect("an Event always serialises")
        ) {
            super::stop_if_closed(&err);
            failed = Some(err);
            return ControlFlow::Break(());
        }
        next = e.seq + 1;
        ControlFlow::Continue(())
    })?;
    match failed {
        Some(e) => Err(Failure::Runtime(format!(
            "cannot write to standard output: {e}"
        ))),
        None => Ok(next),
    }
}

fn export(
    estate: &EstateArgs,
    format: &str,
    out: Option<&Path>,
    from_seq: u64,
) -> Result<ExitCode, Failure> {
    let (store, _) = open(estate)?;
    let sink: Box<dyn Write> = match out {
        Some(path) => Box::new(std::fs::File::create(path).map_err(|e| {
            Failure::Runtime(format!(
                "cannot create {}: {e}; check the folder exists and is writable",
                path.display()
            ))
        })?),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut sink = std::io::BufWriter::with_capacity(1 << 20, sink);
    let mut count = 0u64;
    let mut failed: Option<String> = None;
    if format == "csv" {
        let mut w = csv::Writer::from_writer(&mut sink);
        let mut write = |row: Vec<String>| {
            w.write_record(&row).map_err(|e| {
                if let csv::ErrorKind::Io(io) = e.kind() {
                    super::stop_if_closed(io);
                }
                e.to_string()
            })
        };
        if let Err(e) = write(COLUMNS.iter().map(|c| c.to_string()).collect()) {
            return Err(Failure::Runtime(format!("cannot write the export: {e}")));
        }
        store.for_each_event(from_seq, |e| match write(csv_row(e)) {
            Ok(()) => {
                count += 1;
                ControlFlow::Continue(())
            }
            Err(err) => {
                failed = Some(err);
                ControlFlow::Break(())
            }
        })?;
        if let Err(e) = w.flush() {
            super::stop_if_closed(&e);
            failed.get_or_insert(e.to_string());
        }
    } else {
        store.for_each_event(from_seq, |e| {
            match writeln!(
                sink,
                "{}",
                serde_json::to_string(&masked(e)).expect("an Event always serialises")
            ) {
                Ok(()) => {
                    count += 1;
                    ControlFlow::Continue(())
                }
                Err(err) => {
                    super::stop_if_closed(&err);
                    failed = Some(err.to_string());
                    ControlFlow::Break(())
                }
            }
        })?;
    }
    if let Err(e) = sink.flush() {
        super::stop_if_closed(&e);
        failed.get_or_insert(e.to_string());
    }
    if let Some(e) = failed {
        return Err(Failure::Runtime(format!(
            "the export stopped after {count} events: {e}; check free space and retry"
        )));
    }
    if let Some(path) = out {
        eprintln!("Exported {count} events to {}.", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
