//! `gatehouse office --config FILE`: the district office service (docs/district.md): every
//! estate's events from the district broker into PostgreSQL, chains checked, gaps asked for
//! again.

use super::exit;
use std::path::PathBuf;
use std::process::ExitCode;
use tokio_util::sync::CancellationToken;

#[derive(clap::Args, Debug)]
pub struct OfficeArgs {
    /// The office's configuration file ([nats], [postgres], [issuer]; docs/district.md).
    #[arg(long)]
    pub config: PathBuf,
}

pub fn run(args: OfficeArgs) -> ExitCode {
    let config = match gatehouse_office::config::OfficeConfig::load(&args.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(exit::CONFIG);
        }
    };
    let runtime = match super::runtime(None) {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    runtime.spawn(async move {
        super::run::shutdown_signal().await;
        stop.cancel();
    });
    let ready = |ready: gatehouse_office::Ready| {
        let url = format!("https://{}/", ready.console);
        match ready.initial_password {
            Some(password) => println!(
                "District console: {url} — sign in as admin with password {password} (shown once)"
            ),
            None => println!("District console: {url}"),
        }
    };
    let cost = gatehouse_web::PasswordCost::Standard;
    match runtime.block_on(gatehouse_office::run(config, cost, shutdown, ready)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gatehouse office stopped: {e}");
            ExitCode::from(exit::RUNTIME)
        }
    }
}
