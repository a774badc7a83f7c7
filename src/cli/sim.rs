//! `gatehouse sim controller`: simulated Modbus controllers of a profile, alone, for trying a
//! gateway without hardware and for benchmarks that keep the simulators' CPU out of the
//! gateway's figures. With `--script`, commands on stdin drive the doors, one per line
//! (`gatehouse_devices::sim::script`: `open I CH`, `card I READER HEX [PIN]`, …; `I` is the
//! controller's index in the order they were listed). Each command is answered
//! `ok <unix microseconds when applied>` or `error <what to do>`.

use super::exit;
use gatehouse_devices::modbus::link::SerialSettings;
use gatehouse_devices::sim::{SimController, serve_rtu, serve_tcp};
use gatehouse_devices::{Profile, Profiles};
use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Arc;
use tokio::io::AsyncBufReadExt;
use tokio_util::sync::CancellationToken;

#[derive(clap::Args, Debug)]
pub struct SimArgs {
    #[command(subcommand)]
    pub what: SimCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum SimCommand {
    /// Simulate Modbus controllers of one profile (TCP, or RTU on a serial device).
    Controller(ControllerArgs),
}

#[derive(clap::Args, Debug)]
pub struct ControllerArgs {
    /// The profile: relay-io, timed-relay, reader-controller, or one in --profiles-dir.
    #[arg(long)]
    pub profile: String,
    /// Modbus TCP listener, `host:port`; with --count N the next N-1 ports are used too.
    #[arg(long, conflicts_with = "serial")]
    pub listen: Option<String>,
    /// Serial device for Modbus RTU (e.g. one end of a socat pseudo-terminal pair).
    #[arg(long)]
    pub serial: Option<String>,
    #[arg(long, default_value_t = 9600)]
    pub baud: u32,
    /// RTU unit ids served on the bus, one controller each.
    #[arg(long, value_delimiter = ',', default_value = "1")]
    pub units: Vec<u8>,
    /// How many doors are wired to each controller (at most the profile's channels).
    #[arg(long)]
    pub doors: Option<u16>,
    /// TCP: how many controllers, on consecutive ports.
    #[arg(long, default_value_t = 1)]
    pub count: u16,
    /// A directory of extra or overriding profile files.
    #[arg(long)]
    pub profiles_dir: Option<std::path::PathBuf>,
    /// Read commands from stdin (see `gatehouse sim controller --help`); stop at its end.
    #[arg(long)]
    pub script: bool,
}

pub fn run(args: SimArgs) -> ExitCode {
    let SimCommand::Controller(args) = args.what;
    let profiles = match Profiles::load(args.profiles_dir.as_deref()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(exit::CONFIG);
        }
    };
    let Some(profile) = profiles.get(&args.profile).cloned() else {
        let known: Vec<_> = profiles.names().collect();
        eprintln!(
            "No profile '{}'. Use one of: {}.",
            args.profile,
            known.join(", ")
        );
        return ExitCode::from(exit::USAGE);
    };
    if let Some(doors) = args.doors.filter(|d| *d > profile.channels) {
        eprintln!(
            "Profile {} has {} channels; --doors {doors} is too many.",
            profile.name, profile.channels
        );
        return ExitCode::from(exit::USAGE);
    }
    let runtime = match super::runtime(Some(1)) {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    match runtime.block_on(serve(args, profile)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(exit::RUNTIME)
        }
    }
}

async fn serve(args: ControllerArgs, profile: Arc<Profile>) -> Result<(), String> {
    let token = CancellationToken::new();
    let mut sims: Vec<Arc<SimController>> = Vec::new();
    if let Some(path) = &args.serial {
        let serial = SerialSettings {
            path: path.clone(),
            baud: args.baud,
            parity: "N".into(),
            data_bits: 8,
            stop_bits: 1,
        };
        let mut units = HashMap::new();
        for unit in &args.units {
            let sim = SimController::new(profile.clone());
            units.insert(*unit, sim.clone());
            sims.push(sim);
            println!("serving unit {unit} on {path} profile {}", profile.name);
        }
        serve_rtu(&serial, units, token.clone()).map_err(|e| e.to_string())?;
    } else {
        let listen = args
            .listen
            .clone()
            .unwrap_or_else(|| "127.0.0.1:1502".into());
        let (host, port) = listen
            .rsplit_once(':')
            .and_then(|(h, p)| Some((h.to_string(), p.parse::<u16>().ok()?)))
            .ok_or_else(|| format!("--listen {listen}: write host:port, like 127.0.0.1:1502."))?;
        for i in 0..args.count.max(1) {
            let port = if port == 0 { 0 } else { port + i };
            let address = format!("{host}:{port}");
            let sim = serve_tcp(&address, SimController::new(profile.clone()), token.clone())
                .await
                .map_err(|e| format!("Cannot listen on {address}: {e}. Free the port or pick another with --listen."))?;
            println!("listening {} profile {}", sim.address, profile.name);
            sims.push(sim.controller.clone());
        }
    }
    println!("ready");
    if args.script {
        let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            let reply = match gatehouse_devices::sim::script::apply(&sims, &line) {
                Ok(()) => format!("ok {}", jiff::Timestamp::now().as_microsecond()),
                Err(e) => format!("error {e}"),
            };
            println!("{reply}");
        }
    } else {
        let _ = tokio::signal::ctrl_c().await;
    }
    token.cancel();
    Ok(())
}
