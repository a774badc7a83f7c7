//! Occupancy commands: `simulate`, `eval occupancy`, `report occupancy`, `report building`,
//! `import swipes`. The work is in `gatehouse_occupancy`; this file reads files and the
//! store, writes outputs, and logs each report run as an `admin` event.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, anyhow};
use gatehouse_core::config::Config;
use gatehouse_core::estate::EstateData;
use gatehouse_core::event::Event;
use gatehouse_occupancy::export::{self, Format};
use gatehouse_occupancy::simulate::{SimConfig, Simulation, Truth, csv_row};
use gatehouse_occupancy::site::Site;
use gatehouse_occupancy::{Method, Occupancy, Report, Window, eval, swipes};
use gatehouse_store::Store;

use super::{EstateArgs, exit};

/// Records appended per transaction batch by `import swipes`.
const CHUNK: usize = 50_000;

/// `gatehouse simulate`: a seeded estate, its swipe records and the truth.
#[derive(clap::Args, Debug)]
pub struct SimulateArgs {
    #[arg(long, default_value_t = 200)]
    pub households: usize,
    /// Nights to simulate (one more morning is added so the last night is judged).
    #[arg(long, default_value_t = 28)]
    pub days: u32,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Share of gate exits never recorded, 0 to 1.
    #[arg(long, default_value_t = 0.2)]
    pub missing_exits: f64,
    /// First date (local).
    #[arg(long, default_value = "2026-09-01")]
    pub start: String,
    /// Where to write estate.toml, estate.json, residents.csv, swipes.csv and truth.json.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(clap::Args, Debug)]
pub struct EvalArgs {
    #[command(subcommand)]
    pub what: EvalCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum EvalCommand {
    /// Score an occupancy report (JSON) against a simulator's truth.json.
    Occupancy {
        #[arg(long)]
        truth: PathBuf,
        #[arg(long)]
        report: PathBuf,
        /// Also print the scores as one row of the table in docs/occupancy.md.
        #[arg(long)]
        markdown_row: Option<String>,
    },
}

#[derive(clap::Args, Debug)]
pub struct ReportArgs {
    #[command(subcommand)]
    pub what: ReportCommand,
}

/// Where a report reads events and the estate from: the store (default), or a swipe file
/// with an estate file (a simulator's output, or another system's records, offline).
#[derive(clap::Args, Debug, Clone)]
pub struct Source {
    #[command(flatten)]
    pub estate: EstateArgs,
    /// Read swipe records from this CSV instead of the log.
    #[arg(long, requires = "estate_json")]
    pub swipes: Option<PathBuf>,
    /// Households, people and passes as JSON (as `simulate` writes them), with --swipes.
    #[arg(long)]
    pub estate_json: Option<PathBuf>,
    /// First date of the window (default: four weeks before --to).
    #[arg(long)]
    pub from: Option<String>,
    /// Last date of the window (default: the date of the latest swipe record, so that the
    /// window is the last 28 days of data).
    #[arg(long)]
    pub to: Option<String>,
    /// How presence is judged: ours, or a baseline (first-last-read, last-direction,
    /// entry-days).
    #[arg(long, default_value = "ours")]
    pub method: Method,
}

#[derive(clap::Subcommand, Debug)]
pub enum ReportCommand {
    /// Who lives where: households, head counts, anomalies (docs/interfaces.md#files-and-commands).
    Occupancy {
        #[command(flatten)]
        source: Source,
        #[arg(long, default_value = "json")]
        format: Format,
        /// Write here instead of standard output (XLSX needs a file). With CSV, the
        /// anomalies go beside it as NAME-anomalies.csv.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// The per-building household table (楼组表), printable on A4.
    Building {
        /// A building zone id (bldg-18) or its number (18).
        building: String,
        #[command(flatten)]
        source: Source,
        #[arg(long, default_value = "html")]
        format: Format,
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    #[command(subcommand)]
    pub what: ImportCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum ImportCommand {
    /// Swipe records (CSV: at, card, door, direction, result) into the log as access events.
    Swipes {
        file: PathBuf,
        /// Import the good rows even when some rows are bad (they are listed either way).
        #[arg(long)]
        skip_bad: bool,
        /// Check the file and count what would be new, without writing anything.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        estate: EstateArgs,
    },
}

/// Runs a command and maps its error to an exit code, printing what to do.
fn finish(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(exit::RUNTIME)
        }
    }
}

pub fn simulate(args: SimulateArgs) -> ExitCode {
    finish(run_simulate(args))
}

fn run_simulate(args: SimulateArgs) -> anyhow::Result<()> {
    let start = gatehouse_occupancy::window::parse_date(&args.start)?;
    if !(0.0..=1.0).contains(&args.missing_exits) {
        return Err(anyhow!(
            "--missing-exits {} is not a share between 0 and 1 (e.g. 0.2 for 20 %)",
            args.missing_exits
        ));
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}; check the path", args.out.display()))?;
    let mut cfg = SimConfig::new(args.households, args.days, args.seed, args.missing_exits);
    cfg.start = start;
    let began = std::time::Instant::now();
    let mut sim = Simulation::new(cfg);
    let tz = jiff::tz::TimeZone::get(&sim.cfg.timezone)?;
    let path = args.out.join("swipes.csv");
    let file =
        std::fs::File::create(&path).with_context(|| format!("cannot write {}", path.display()))?;
    let mut w = csv::Writer::from_writer(std::io::BufWriter::with_capacity(1 << 20, file));
    w.write_record(["at", "card", "door", "direction", "result"])?;
    let mut failed = None;
    let truth = {
        let (estate_view, config_view) = (sim.estate.clone(), sim.config.clone());
        let writer = &mut w;
        let failed = &mut failed;
        let row_of =
            |s: &gatehouse_occupancy::simulate::Swipe| csv_row(&config_view, &estate_view, s, &tz);
        sim.run(|s| {
            if failed.is_none()
                && let Err(e) = writer.write_record(row_of(s))
            {
                *failed = Some(e);
            }
        })
    };
    if let Some(e) = failed {
        return Err(anyhow!("writing {}: {e}", path.display()));
    }
    w.flush()?;
    let secs = began.elapsed().as_secs_f64();
    write(
        &args.out.join("estate.toml"),
        toml::to_string(&sim.config)?.as_bytes(),
    )?;
    write(
        &args.out.join("estate.json"),
        &serde_json::to_vec(&sim.estate)?,
    )?;
    write(&args.out.join("truth.json"), &serde_json::to_vec(&truth)?)?;
    write(
        &args.out.join("residents.csv"),
        &residents_csv(&sim.estate)?,
    )?;
    println!(
        "Simulated {} households, {} nights from {}: {} swipe records in {:.2} s ({:.0} records/s). Window {} to {}.",
        args.households,
        args.days,
        args.start,
        truth.swipes,
        secs,
        truth.swipes as f64 / secs.max(1e-9),
        truth.window.from,
        truth.window.to
    );
    println!(
        "Wrote {}/{{estate.toml, estate.json, residents.csv, swipes.csv, truth.json}}.",
        args.out.display()
    );
    Ok(())
}

/// The estate as the residents import reads it (docs/interfaces.md#files-and-commands), for trying the whole path.
fn residents_csv(estate: &EstateData) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["household", "name", "phone", "role", "pass"])?;
    // Each person's first resident card, found once (a search per person is quadratic).
    let mut cards: std::collections::HashMap<&str, &str> = std::collections::HashMap::new();
    for x in estate.passes.iter().filter(|x| x.visitor.is_none()) {
        if let Some(card) = &x.card {
            cards.entry(x.holder.as_str()).or_insert(card.as_str());
        }
    }
    for p in estate.people.iter().filter(|p| p.household.is_some()) {
        let card = cards.get(p.id.as_str()).copied();
        let role = match p.role {
            gatehouse_core::estate::Role::Tenant => "tenant",
            gatehouse_core::estate::Role::Family => "family",
            _ => "owner",
        };
        w.write_record([
            p.household.as_deref().unwrap_or(""),
            &p.name,
            &p.phone,
            role,
            card.unwrap_or(""),
        ])?;
    }
    Ok(w.into_inner()?)
}

fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, bytes).with_context(|| {
        format!(
            "cannot write {}; check the directory exists and is writable",
            path.display()
        )
    })
}

pub fn eval(args: EvalArgs) -> ExitCode {
    finish((|| {
        let EvalCommand::Occupancy {
            truth,
            report,
            markdown_row,
        } = args.what;
        let truth: Truth = serde_json::from_slice(
            &std::fs::read(&truth).with_context(|| format!("cannot read {}", truth.display()))?,
        )
        .with_context(|| {
            format!(
                "{} is not a truth file written by gatehouse simulate",
                truth.display()
            )
        })?;
        let report: Report = serde_json::from_slice(
            &std::fs::read(&report).with_context(|| format!("cannot read {}", report.display()))?,
        )
        .with_context(|| {
            format!(
                "{} is not an occupancy report in JSON (make one with --format json)",
                report.display()
            )
        })?;
        let scores = eval::score(&truth, &report);
        print!("{}", scores.to_text());
        if let Some(label) = markdown_row {
            println!("{}", scores.markdown_row(&label));
        }
        Ok(())
    })())
}

/// The estate, the events' source and the window, ready to infer.
struct Loaded {
    config: Config,
    estate: EstateData,
    store: Option<Store>,
    /// `None`: the window ends on the date of the latest record (found while reading).
    window: Option<Window>,
    from: Option<jiff::civil::Date>,
}

fn load(source: &Source) -> anyhow::Result<Loaded> {
    let (config, dir) = source.estate.load().map_err(|e| anyhow!("{e}"))?;
    let (estate, store) = match (&source.swipes, &source.estate_json) {
        (Some(_), Some(json)) => {
            let estate: EstateData = serde_json::from_slice(
                &std::fs::read(json).with_context(|| format!("cannot read {}", json.display()))?,
            )
            .with_context(|| {
                format!(
                    "{} is not estate JSON (households, people, passes)",
                    json.display()
                )
            })?;
            (estate, None)
        }
        _ => {
            // A report only reads: a folder without a store is an error, never a new store.
            let store = super::open_existing(&dir, &config.site.id).with_context(|| {
                format!(
                    "cannot open the store in {}; check --data-dir",
                    dir.display()
                )
            })?;
            let estate = store.load_estate()?;
            (estate, Some(store))
        }
    };
    let from = source
        .from
        .as_deref()
        .map(gatehouse_occupancy::window::parse_date)
        .transpose()?;
    let window = match &source.to {
        Some(d) => {
            let to = gatehouse_occupancy::window::parse_date(d)?;
            Some(match from {
                Some(from) => Window { from, to },
                None => Window::ending(to, 28),
            })
        }
        None => None,
    };
    Ok(Loaded {
        config: config.into_config(),
        estate,
        store,
        window,
        from,
    })
}

fn infer(source: &Source, loaded: &Loaded) -> anyhow::Result<Report> {
    let mut occ = match loaded.window {
        Some(window) => Occupancy::new(&loaded.config, &loaded.estate, window, source.method)?,
        None => {
            let tz = jiff::tz::TimeZone::get(&loaded.config.site.timezone)?;
            let today = jiff::Zoned::now().with_time_zone(tz).date();
            Occupancy::until_latest(
                &loaded.config,
                &loaded.estate,
                loaded.from,
                today,
                source.method,
            )?
        }
    };
    match (&loaded.store, &source.swipes) {
        (Some(store), _) => {
            // A report run by hand may use every core, and more readers than cores so that
            // a store not in the page cache is read with many disk reads in flight.
            let threads = gatehouse_occupancy::scan::readers();
            crate::occupancy::observe_store(
                &mut occ,
                &store.reader(),
                1,
                store.last_seq(),
                threads,
            )?
        }
        (None, Some(path)) => {
            let site = Site::new(&loaded.config, &loaded.estate)?;
            let file = std::fs::File::open(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let mut bad = 0usize;
            swipes::for_each(
                std::io::BufReader::with_capacity(1 << 20, file),
                &site,
                |row, e| match e {
                    Ok(e) => occ.observe(&e),
                    Err(reason) => {
                        bad += 1;
                        if bad <= 20 {
                            eprintln!("row {row}: {reason}");
                        }
                    }
                },
            )?;
            if bad > 0 {
                eprintln!(
                    "{bad} bad rows in {} were left out of the report.",
                    path.display()
                );
            }
        }
        (None, None) => {
            return Err(anyhow!(
                "no events to read: give --swipes FILE with --estate-json FILE, or use the store"
            ));
        }
    }
    Ok(occ.finish())
}

/// Records that personal data was viewed or exported (docs/interfaces.md#events, kind `admin`).
fn log_report_run(loaded: &Loaded, action: &str, object: String) -> anyhow::Result<()> {
    let Some(store) = &loaded.store else {
        return Ok(());
    };
    let tz = jiff::tz::TimeZone::get(&loaded.config.site.timezone)?;
    let e = gatehouse_core::admin::record(
        gatehouse_core::time::rfc3339(jiff::Timestamp::now(), &tz),
        &super::actor(),
        action,
        &object,
        None,
    );
    store
        .append_blocking(e)
        .context("the report was made but its admin event could not be logged; check the store")?;
    Ok(())
}

fn emit(out: &Option<PathBuf>, bytes: &[u8], binary: bool) -> anyhow::Result<()> {
    match out {
        Some(path) => write(path, bytes),
        None if binary => Err(anyhow!(
            "XLSX cannot go to the terminal; give --out FILE.xlsx"
        )),
        None => Ok(std::io::stdout().write_all(bytes)?),
    }
}

fn gates(config: &Config) -> Vec<String> {
    config
        .doors
        .iter()
        .filter(|d| d.outside == "outside")
        .map(|d| d.id.clone())
        .collect()
}

pub fn report(args: ReportArgs) -> ExitCode {
    finish((|| match args.what {
        ReportCommand::Occupancy {
            source,
            format,
            out,
        } => {
            let loaded = load(&source)?;
            let report = infer(&source, &loaded)?;
            let bytes = match format {
                Format::Json => serde_json::to_vec_pretty(&report)?,
                Format::Csv => export::table::households_csv(&report)?,
                Format::Xlsx => export::xlsx::workbook(&report, &gates(&loaded.config))?,
                Format::Html => {
                    export::html::page(&report, &gates(&loaded.config), &loaded.config.site.name)
                        .into_bytes()
                }
            };
            emit(&out, &bytes, format == Format::Xlsx)?;
            if format == Format::Csv
                && let Some(path) = &out
            {
                // The anomalies, with card numbers, beside the households' table.
                let stem = path
                    .file_stem()
                    .map_or("report".into(), |s| s.to_string_lossy());
                let beside = path.with_file_name(format!("{stem}-anomalies.csv"));
                write(&beside, &export::table::anomalies_csv(&report)?)?;
            }
            log_report_run(
                &loaded,
                "report_occupancy",
                format!(
                    "occupancy {} to {} ({format:?})",
                    report.window.from, report.window.to
                ),
            )
        }
        ReportCommand::Building {
            building,
            source,
            format,
            out,
        } => {
            let loaded = load(&source)?;
            let report = infer(&source, &loaded)?;
            let site = Site::new(&loaded.config, &loaded.estate)?;
            let bytes = match format {
                Format::Html => export::building::html(&site, &report, &building)?.into_bytes(),
                Format::Xlsx => export::building::workbook(&site, &report, &building)?,
                _ => {
                    return Err(anyhow!(
                        "the building table is made as html or xlsx; use --format html or --format xlsx"
                    ));
                }
            };
            emit(&out, &bytes, format == Format::Xlsx)?;
            log_report_run(
                &loaded,
                "report_building",
                format!("building {building} ({format:?})"),
            )
        }
    })())
}

pub fn import(args: ImportArgs) -> ExitCode {
    let ImportCommand::Swipes {
        file,
        skip_bad,
        dry_run,
        estate,
    } = args.what;
    finish((|| {
        let (config, dir) = estate.load().map_err(|e| anyhow!("{e}"))?;
        let store = Store::open(&dir, &config.site.id).with_context(|| {
            format!(
                "cannot open the store in {}; check --data-dir",
                dir.display()
            )
        })?;
        let data = store.load_estate()?;
        let site = Site::new(&config, &data)?;
        // Two passes over the file: the first finds every bad row, so that nothing is
        // appended unless the import may go ahead; the second appends in chunks, so that
        // millions of records never sit in memory at once.
        let open = || -> anyhow::Result<std::io::BufReader<std::fs::File>> {
            let f = std::fs::File::open(&file)
                .with_context(|| format!("cannot read {}; check the path", file.display()))?;
            Ok(std::io::BufReader::with_capacity(1 << 20, f))
        };
        let mut bad = Vec::new();
        let mut rows = 0u64;
        swipes::for_each(open()?, &site, |row, e| {
            rows += 1;
            if let Err(reason) = e {
                bad.push(swipes::BadRow { row, reason });
            }
        })?;
        for b in &bad {
            eprintln!("row {}: {}", b.row, b.reason);
        }
        let skipped = bad.len();
        swipes::to_import(
            swipes::Parsed {
                events: Vec::new(),
                bad,
            },
            skip_bad,
        )?;
        let mut progress = Progress::new(rows, if dry_run { "Checking" } else { "Importing" });
        let mut done = gatehouse_store::Imported {
            last_seq: store.last_seq(),
            ..Default::default()
        };
        let mut chunk = Vec::with_capacity(CHUNK);
        let mut failed = None;
        let flush = |chunk: &mut Vec<(gatehouse_store::ImportKey, Event)>,
                     done: &mut gatehouse_store::Imported|
         -> anyhow::Result<()> {
            let part = std::mem::take(chunk);
            let n = part.len() as u64;
            if dry_run {
                let keys: Vec<_> = part.iter().map(|(k, _)| *k).collect();
                let known = store.known_imports(&keys)?;
                done.already += known;
                done.appended += n - known;
            } else {
                let got = store.append_imported(part)?;
                done.appended += got.appended;
                done.already += got.already;
                done.last_seq = got.last_seq;
            }
            Ok(())
        };
        swipes::for_each(open()?, &site, |_, e| {
            progress.row(done.already);
            if let Ok(e) = e
                && failed.is_none()
            {
                chunk.push((import_key(&site, &e), e));
                if chunk.len() == CHUNK
                    && let Err(err) = flush(&mut chunk, &mut done)
                {
                    failed = Some(err);
                }
            }
        })?;
        if let Some(err) = failed {
            return Err(anyhow!(
                "appending to the log failed after {} records ({err:#}); the records before it are kept and a later import of the same file adds only the rest",
                done.appended
            ));
        }
        flush(&mut chunk, &mut done)?;
        progress.finish();
        if dry_run {
            println!(
                "Dry run: {} of {} would be new, {} are already in the log; {skipped} bad rows. Nothing was written.",
                done.appended,
                file.display(),
                done.already
            );
            return Ok(());
        }
        let admin = gatehouse_core::admin::record(
            gatehouse_core::time::rfc3339(jiff::Timestamp::now(), &site.tz),
            &super::actor(),
            "import_swipes",
            &format!(
                "{} ({} records, {} already imported, {skipped} bad rows skipped)",
                file.display(),
                done.appended,
                done.already
            ),
            None,
        );
        let last = store.append_blocking(admin)?.seq;
        println!(
            "Imported {} swipe records from {} (log now at seq {last}); {} were already in the log; {skipped} bad rows skipped.",
            done.appended,
            file.display(),
            done.already
        );
        Ok(())
    })())
}

/// The import key of an imported access event: its pass's card, door, instant, direction.
fn import_key(site: &Site, e: &Event) -> gatehouse_store::ImportKey {
    let card = e
        .pass
        .as_deref()
        .and_then(|p| site.pass(p))
        .and_then(|p| site.passes[p as usize].card.as_deref())
        .unwrap_or("");
    let micros = e.timestamp().map_or(0, |t| t.as_microsecond());
    let direction = match e.direction {
        Some(gatehouse_core::event::Direction::In) => "in",
        Some(gatehouse_core::event::Direction::Out) => "out",
        None => "",
    };
    gatehouse_store::import_key(card, e.door.as_deref().unwrap_or(""), micros, direction)
}

/// Progress of a long import: a bar when a person watches the terminal, otherwise a line
/// every 10 seconds (logs of scheduled imports).
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    rows: u64,
    total: u64,
    what: &'static str,
    last_line: std::time::Instant,
}

impl Progress {
    fn new(total: u64, what: &'static str) -> Progress {
        use std::io::IsTerminal;
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(total);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{msg} {bar:40} {pos}/{len} rows ({per_sec}, {eta} left)",
            ) {
                bar.set_style(style);
            }
            bar.set_message(what);
            bar
        });
        Progress {
            bar,
            rows: 0,
            total,
            what,
            last_line: std::time::Instant::now(),
        }
    }

    fn row(&mut self, already: u64) {
        self.rows += 1;
        if let Some(bar) = &self.bar {
            if self.rows.is_multiple_of(4096) {
                bar.set_position(self.rows);
            }
        } else if self.last_line.elapsed() >= std::time::Duration::from_secs(10) {
            self.last_line = std::time::Instant::now();
            eprintln!(
                "{} swipe records: {} of {} rows read, {already} already in the log.",
                self.what, self.rows, self.total
            );
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
