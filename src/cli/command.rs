//! `gatehouse command ACTION …`: sign an office command with a key from `gatehouse keys new`,
//! send it to the estate's gateway over MQTT and print its result. The work is in
//! `gatehouse_bus::office`; this file reads the arguments and maps outcomes to exit codes.

use super::{EstateArgs, exit};
use gatehouse_bus::office::{self, Order};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct CommandArgs {
    /// lockdown, lift, unlock, hold_open, release_hold, suspend_pass, restore_pass, ack_fire,
    /// replay.
    pub action: String,
    /// The zone (lockdown, lift, ack_fire).
    #[arg(long)]
    pub zone: Option<String>,
    /// The lockdown mode: closed, residents_only, quarantine, limited_exit.
    #[arg(long)]
    pub mode: Option<String>,
    /// Why (lockdown, suspend_pass); recorded in the event.
    #[arg(long)]
    pub reason: Option<String>,
    /// The door (unlock, hold_open, release_hold).
    #[arg(long)]
    pub door: Option<String>,
    /// How long an unlock releases the door (default: the door's own pulse).
    #[arg(long)]
    pub pulse_ms: Option<u32>,
    /// When a hold_open ends, RFC 3339 (2026-11-22T23:00:00+08:00); without it the door is
    /// held until release_hold.
    #[arg(long)]
    pub until: Option<String>,
    /// The pass (suspend_pass, restore_pass).
    #[arg(long)]
    pub pass: Option<String>,
    /// The first seq the gateway's uplink publishes again (replay): for a district consumer
    /// that found a gap.
    #[arg(long)]
    pub from_seq: Option<u64>,
    /// The office's private key (NAME.key from `gatehouse keys new`); its counter is kept
    /// beside it in NAME.counter.
    #[arg(long)]
    pub key: PathBuf,
    /// The issuer id the gateway knows this key by (`[[issuers]] id`).
    #[arg(long)]
    pub issuer: String,
    /// The broker: mqtt://host:port or mqtts://host:port (default: the configuration's
    /// broker, e.g. the demo's embedded one).
    #[arg(long)]
    pub broker: Option<String>,
    /// The issuer's broker login (`[[broker.users]]` with `issuer = …`), if the broker wants
    /// one.
    #[arg(long)]
    pub username: Option<String>,
    /// Its password.
    #[arg(long, env = "GATEHOUSE_MQTT_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// The estate configuration (its site id and broker).
    #[arg(long, env = "GATEHOUSE_CONFIG")]
    pub config: Option<PathBuf>,
    /// How long the command stays valid after it is issued, in seconds.
    #[arg(long, default_value_t = 120)]
    pub valid_s: u32,
    /// How long to wait for the gateway's result, in seconds.
    #[arg(long, default_value_t = 10)]
    pub timeout_s: u32,
}

pub fn run(args: CommandArgs) -> ExitCode {
    let estate = EstateArgs {
        config: args.config.clone(),
        data_dir: None,
    };
    let mut config = match estate.load() {
        Ok((config, _)) => config.into_config(),
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(exit::CONFIG);
        }
    };
    if let Some(url) = &args.broker {
        config.broker.mode = gatehouse_core::config::BrokerMode::External;
        config.broker.url = Some(url.clone());
    }
    // The office logs in as itself, never with the gateway's login.
    config.broker.username = args.username.clone();
    config.broker.password = args.password.clone();
    let endpoint = match gatehouse_bus::client::Endpoint::from_config(&config.broker) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(exit::USAGE);
        }
    };
    let order = Order {
        action: args.action.clone(),
        zone: args.zone.clone(),
        mode: args.mode.clone(),
        reason: args.reason.clone(),
        door: args.door.clone(),
        pulse_ms: args.pulse_ms,
        until: args.until.clone(),
        pass: args.pass.clone(),
        from_seq: args.from_seq,
    };
    if let Err(e) = order.check() {
        eprintln!("{e}");
        return ExitCode::from(exit::USAGE);
    }
    let signed = office::load_key(&args.key).and_then(|key| {
        let now = jiff::Timestamp::now();
        let counter = office::next_counter(&args.key, now)?;
        let valid = jiff::SignedDuration::from_secs(i64::from(args.valid_s));
        Ok(office::sign_order(
            &order,
            &config.site.id,
            &args.issuer,
            counter,
            &key,
            now,
            valid,
        ))
    });
    let signed = match signed {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(exit::RUNTIME);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::from(exit::RUNTIME);
        }
    };
    let within = Duration::from_secs(u64::from(args.timeout_s));
    let outcome = runtime.block_on(office::send(&endpoint, &config.site.id, &signed, within));
    match outcome {
        Ok(result) => {
            println!(
                "{}",
                serde_json::to_string(&result).unwrap_or_else(|_| format!("{result:?}"))
            );
            if result.ok {
                eprintln!(
                    "Command {} ({}, counter {}) applied at {}.",
                    result.id,
                    args.action,
                    signed.counter,
                    result.applied_at.as_deref().unwrap_or("?")
                );
                ExitCode::from(exit::OK)
            } else {
                let code = result.error.as_deref().unwrap_or("unknown");
                let detail = result
                    .detail
                    .as_deref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default();
                eprintln!(
                    "Command {} refused: {code}{detail}; {}.",
                    result.id,
                    office::advice(code)
                );
                ExitCode::from(exit::RUNTIME)
            }
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(exit::RUNTIME)
        }
    }
}
