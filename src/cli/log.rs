//! `gatehouse log verify | tail | export`: the event log from the command line.
//!
//! The gateway holds the store exclusively while it runs, so these commands work on a stopped
//! gateway (or a copy of its data directory); on a running one they say so and exit 1.

use super::{EstateArgs, exit};
use gatehouse_core::Event;
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
            serde_json::to_string(e).expect("an Event always serialises")
        ) {
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

/// The CSV columns: every field of the event record, in the spec's order. There is no phone
/// column, and free-text fields have phone-like digit runs masked (a guard's note may hold one).
const COLUMNS: &[&str] = &[
    "seq",
    "id",
    "at",
    "kind",
    "door",
    "reader",
    "direction",
    "pass",
    "card",
    "person",
    "household",
    "method",
    "decision",
    "reason",
    "detail",
    "actor",
    "state",
    "alarm",
    "cleared",
    "device",
    "zone",
    "mode",
    "by",
    "command",
    "request",
    "issuer",
    "action",
    "counter",
    "ok",
    "error",
    "source",
    "object",
    "temperature",
    "prev_hash",
    "hash",
];
const FREE_TEXT: &[&str] = &["detail", "error", "object", "source"];

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
        let mut write = |row: Vec<String>| w.write_record(&row).map_err(|e| e.to_string());
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
            failed.get_or_insert(e.to_string());
        }
    } else {
        store.for_each_event(from_seq, |e| {
            match writeln!(
                sink,
                "{}",
                serde_json::to_string(e).expect("an Event always serialises")
            ) {
                Ok(()) => {
                    count += 1;
                    ControlFlow::Continue(())
                }
                Err(err) => {
                    failed = Some(err.to_string());
                    ControlFlow::Break(())
                }
            }
        })?;
    }
    if let Err(e) = sink.flush() {
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

/// One CSV row in [`COLUMNS`] order.
fn csv_row(event: &Event) -> Vec<String> {
    let serde_json::Value::Object(fields) =
        serde_json::to_value(event).expect("an Event always serialises")
    else {
        unreachable!("an Event serialises as an object")
    };
    COLUMNS
        .iter()
        .map(|column| {
            let text = match fields.get(*column) {
                None | Some(serde_json::Value::Null) => String::new(),
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
            };
            if FREE_TEXT.contains(column) {
                mask_phones(&text)
            } else {
                text
            }
        })
        .collect()
}

/// Masks every run of 7 or more digits (`13812345678` → `138****5678`).
fn mask_phones(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut digits = String::new();
    let flush = |digits: &mut String, out: &mut String| {
        if digits.len() >= 7 {
            out.push_str(&gatehouse_core::phone::mask(digits));
        } else {
            out.push_str(digits);
        }
        digits.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            flush(&mut digits, &mut out);
            out.push(c);
        }
    }
    flush(&mut digits, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_core::event::Kind;

    #[test]
    fn csv_rows_never_carry_a_phone_number() {
        let mut e = Event::new(Kind::Access, "2026-11-22T08:03:12.418+08:00");
        e.detail = Some("let in by hand, called 13812345678 to check".into());
        e.person = Some("R-004211".into());
        e.household = Some("18-2-501".into());
        let row = csv_row(&e).join(",");
        assert!(!row.contains("13812345678"), "{row}");
        assert!(row.contains("138****5678"), "{row}");
        assert!(
            row.contains("R-004211") && row.contains("18-2-501"),
            "ids stay readable: {row}"
        );
        assert!(!COLUMNS.iter().any(|c| c.contains("phone")));
    }

    #[test]
    fn every_field_of_the_record_has_a_column() {
        let mut e = Event::new(Kind::Command, "2026-11-22T08:03:12.418+08:00");
        e.seq = 3;
        e.id = "s:3".into();
        e.issuer = Some("office-1".into());
        e.counter = Some(9);
        e.ok = Some(true);
        e.prev_hash = "p".into();
        e.hash = "h".into();
        let serde_json::Value::Object(fields) = serde_json::to_value(&e).unwrap() else {
            panic!()
        };
        for key in fields.keys() {
            assert!(
                COLUMNS.contains(&key.as_str()),
                "field {key} has no CSV column"
            );
        }
        let row = csv_row(&e);
        assert_eq!(
            row[COLUMNS.iter().position(|c| *c == "counter").unwrap()],
            "9"
        );
        assert_eq!(
            row[COLUMNS.iter().position(|c| *c == "ok").unwrap()],
            "true"
        );
    }
}
