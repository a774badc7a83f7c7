//! `gatehouse run` (an estate's own configuration) and `gatehouse demo` (the sample estate
//! with simulated controllers and readers).

use super::{EstateArgs, exit};
use crate::daemon::{self, Options, Running};
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub estate: EstateArgs,
    /// The embedded MQTT broker's listener (overrides `broker.listen`).
    #[arg(long)]
    pub mqtt_listen: Option<String>,
    /// The web console's HTTPS listener (overrides `web.listen`).
    #[arg(long)]
    pub web_listen: Option<String>,
    /// The metrics and health listener, plain HTTP (overrides `metrics.listen`).
    #[arg(long)]
    pub metrics_listen: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct DemoArgs {
    /// Where the demo keeps its data (created if missing).
    #[arg(long, default_value = "./data/demo")]
    pub data_dir: std::path::PathBuf,
    /// The embedded MQTT broker's listener.
    #[arg(long, default_value = "127.0.0.1:18830")]
    pub mqtt_listen: String,
    /// The web console's HTTPS listener.
    #[arg(long, default_value = "127.0.0.1:8443")]
    pub web_listen: String,
    /// The metrics and health listener (plain HTTP, loopback).
    #[arg(long, default_value = "127.0.0.1:9464")]
    pub metrics_listen: String,
    /// The estate's site id (default: the sample's, north-estate): a-z, 0-9 and '-'.
    #[arg(long, value_name = "ID")]
    pub site: Option<String>,
    /// The estate's name (default: the sample's, 新门口社区).
    #[arg(long, value_name = "NAME")]
    pub site_name: Option<String>,
    /// The first TCP port of the simulated Modbus controllers; the sample's 30 take this port
    /// and the ones after it.
    #[arg(long, value_name = "PORT", default_value_t = crate::sample::FIRST_PORT,
          value_parser = clap::value_parser!(u16).range(1..))]
    pub modbus_port: u16,
    /// A node of the district broker to send events to (`[uplink]`), like
    /// mqtt://127.0.0.1:24242; repeat it for each node.
    #[arg(long = "uplink", value_name = "URL")]
    pub uplink: Vec<String>,
    /// An office allowed to send signed commands (`[[issuers]]`), besides the sample's
    /// office-1: its id and base64 public key (`gatehouse keys new`); repeatable.
    #[arg(long = "issuer", value_name = "ID=PUBLIC_KEY", value_parser = parse_issuer)]
    pub issuers: Vec<(String, String)>,
}

fn parse_issuer(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(id, key)| (id.to_string(), key.to_string()))
        .ok_or_else(|| "expected ID=PUBLIC_KEY, like district=KGzI…= (the .pub file's key)".into())
}

pub fn run(args: RunArgs) -> ExitCode {
    let (config, data_dir) = match args.estate.load() {
        Ok(v) => v,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(exit::CONFIG);
        }
    };
    let options = Options {
        data_dir,
        mqtt_listen: args.mqtt_listen,
        web_listen: args.web_listen,
        metrics_listen: args.metrics_listen,
        simulate: false,
        occupancy: Default::default(),
    };
    serve(config, options, None)
}

/// What only the demo has: its simulated residents' cards and its first logins.
type Demo = (Vec<crate::demo::Card>, Option<crate::demo::Logins>);

pub fn demo(args: DemoArgs) -> ExitCode {
    let overrides = crate::sample::Overrides {
        site: args.site,
        site_name: args.site_name,
        modbus_port: Some(args.modbus_port),
        uplink: args.uplink,
        issuers: args.issuers,
    };
    let config = match crate::sample::config_with(&overrides)
        .map_err(crate::config::ConfigError)
        .and_then(|text| crate::config::parse(&text, "built-in sample estate"))
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(exit::CONFIG);
        }
    };
    if let Err(e) = std::fs::create_dir_all(&args.data_dir) {
        eprintln!(
            "Cannot create the demo's data directory {}: {e}. Choose another with --data-dir.",
            args.data_dir.display()
        );
        return ExitCode::from(exit::RUNTIME);
    }
    let cards = match crate::demo::prepare(&config, &args.data_dir) {
        Ok(cards) => cards,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(exit::RUNTIME);
        }
    };
    let logins = match crate::demo::logins(&args.data_dir) {
        Ok(logins) => logins,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(exit::RUNTIME);
        }
    };
    let options = Options {
        data_dir: args.data_dir,
        mqtt_listen: Some(args.mqtt_listen),
        web_listen: Some(args.web_listen),
        metrics_listen: Some(args.metrics_listen),
        simulate: true,
        occupancy: Default::default(),
    };
    serve(config, options, Some((cards, logins)))
}

/// Runs the daemon; `demo_cards` (the demo only) start the simulated residents' swipes.
fn serve(config: crate::config::ValidConfig, options: Options, demo: Option<Demo>) -> ExitCode {
    let runtime = match super::runtime(None) {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let site = config.site.name.clone();
    let data_dir = options.data_dir.clone();
    let traffic_config = config.clone().into_config();
    let result = runtime.block_on(daemon::run(config, options, shutdown_signal(), |running| {
        let (cards, logins) = demo.map_or((None, None), |(c, l)| (Some(c), Some(l)));
        print_banner(
            &site,
            running,
            cards.is_some(),
            logins.flatten().as_ref(),
            &data_dir,
        );
        if let Some(cards) = cards {
            crate::demo::spawn_traffic(&traffic_config, running, cards);
        }
    }));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gatehouse stopped: {e}");
            ExitCode::from(exit::RUNTIME)
        }
    }
}

/// Ctrl-C or SIGTERM.
pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
}

/// Where `run` leaves the first admin password (mode 0600), instead of printing it to a log.
pub const INITIAL_PASSWORD_FILE: &str = "initial-admin-password";

fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    writeln!(file, "{text}")?;
    file.sync_all()
}

fn print_banner(
    site: &str,
    running: &Running,
    demo: bool,
    logins: Option<&crate::demo::Logins>,
    data_dir: &std::path::Path,
) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "gatehouse {} — {site}{}",
        env!("CARGO_PKG_VERSION"),
        if demo { " (demo)" } else { "" }
    );
    if let Some(console) = &running.console {
        let _ = writeln!(out, "console: {console}");
    }
    match &running.metrics {
        Some(Ok(metrics)) => {
            let _ = writeln!(
                out,
                "metrics: {metrics}metrics (health: {metrics}healthz, {metrics}readyz)"
            );
        }
        Some(Err(problem)) => {
            let _ = writeln!(out, "metrics: NOT served: {problem}");
        }
        None => {}
    }
    let admin = logins
        .and_then(|l| l.admin.as_ref())
        .or(running.initial_admin_password.as_ref());
    if let Some(password) = admin {
        if demo {
            let _ = writeln!(
                out,
                "login: user 'admin', password '{password}' (shown once; change it in the console)"
            );
        } else {
            // Under systemd stdout is the journal, readable by more people than the admin: the
            // first password goes to a file only the service user (and root) can read.
            let path = data_dir.join(INITIAL_PASSWORD_FILE);
            match write_private(&path, password) {
                Ok(()) => {
                    let _ = writeln!(
                        out,
                        "login: user 'admin'; its first password is in {} (readable by this user only; delete the file once you have changed the password)",
                        path.display()
                    );
                }
                Err(e) => {
                    let _ = writeln!(
                        out,
                        "login: user 'admin'; could not write its first password to {} ({e}): reset it with `gatehouse users reset-password admin`",
                        path.display()
                    );
                }
            }
        }
    }
    if let Some(l) = logins {
        let _ = writeln!(
            out,
            "guard login: user '{}', password '{}' (shown once; the checkpoint screen)",
            crate::demo::GUARD_USER,
            l.guard
        );
    }
    if let (true, Some(console)) = (demo, &running.console) {
        let _ = writeln!(
            out,
            "guard screen: {}/guard (sign in as a guard: a tablet at the gate)",
            console.trim_end_matches('/')
        );
    }
    if let Some(mqtt) = &running.mqtt {
        let _ = writeln!(out, "mqtt: mqtt://{mqtt} (embedded broker)");
    }
    let broker = match &running.broker {
        Some(b) if b.connected => format!("connected to {} (MQTT {})", b.broker, b.protocol),
        Some(b) => format!(
            "NOT connected to {}: {} (still trying)",
            b.broker,
            b.problem.as_deref().unwrap_or("no answer yet")
        ),
        None => "not started".into(),
    };
    let _ = writeln!(out, "mqtt broker: {broker}");
    let _ = writeln!(
        out,
        "controllers: {} ({} simulated)",
        running.controllers, running.simulated_controllers
    );
    let _ = writeln!(out, "ready — press Ctrl-C to stop");
    let _ = out.flush();
}
