//! `gatehouse decide`: one access decision against the estate's store, end to end without the
//! daemon: the core decides, the event is appended durably to the log, then what the decision
//! changed is saved, and the result is printed as JSON (the reader's result, `docs/interfaces.md#mqtt`).
//! The door itself is not driven from here: the CLI has no controller connection.

use anyhow::{Context, anyhow};
use gatehouse_core::io::{AccessPoint, AccessRequest, Credential, Input, Reply};
use gatehouse_core::{CardNumber, Direction};
use gatehouse_store::{Store, StoreError};
use jiff::Timestamp;
use std::process::ExitCode;

use super::{EstateArgs, exit};

#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("credential").required(true).args(["card", "qr", "pass"])))]
pub struct DecideArgs {
    #[command(flatten)]
    pub estate: EstateArgs,
    /// The door, as configured (`gate-north`).
    #[arg(long)]
    pub door: String,
    /// A card number (hex).
    #[arg(long)]
    pub card: Option<String>,
    /// A visitor's QR token.
    #[arg(long)]
    pub qr: Option<String>,
    /// A pass number checked by a guard (`P-000123`).
    #[arg(long)]
    pub pass: Option<String>,
    /// Phone digits typed or said.
    #[arg(long)]
    pub pin: Option<String>,
    /// Which way: `in` or `out`.
    #[arg(long, default_value = "in", value_parser = ["in", "out"])]
    pub direction: String,
}

pub fn run(args: DecideArgs) -> ExitCode {
    let (config, dir) = match args.estate.load() {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(exit::CONFIG);
        }
    };
    match decide(&args, &config, &dir) {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(exit::RUNTIME)
        }
    }
}

fn decide(
    args: &DecideArgs,
    config: &gatehouse_core::config::Config,
    dir: &std::path::Path,
) -> anyhow::Result<String> {
    if !config.doors.iter().any(|d| d.id == args.door) {
        return Err(anyhow!(
            "unknown door '{}': use a door id from the configuration's [[doors]]",
            args.door
        ));
    }
    let store = Store::open(dir, &config.site.id).map_err(|e| match e {
        StoreError::Locked { .. } => anyhow!(
            "the store in {} is in use by a running gateway; stop it, or make the request at a reader or the guard's screen",
            dir.display()
        ),
        other => anyhow!(other).context(format!("cannot open the store in {}; check --data-dir", dir.display())),
    })?;
    let now = Timestamp::now();
    let estate = store.load_estate()?;
    // Presence and quotas need the recent log: restored with the core.
    let mut core = gatehouse_runtime::offline::core(config, &store, estate)?;
    let credential = match (&args.card, &args.qr, &args.pass) {
        (Some(card), _, _) => {
            Credential::Card(CardNumber::parse(card).map_err(|e| anyhow!("--card: {e}"))?)
        }
        (_, Some(token), _) => Credential::Qr(token.clone()),
        (_, _, Some(pass)) => Credential::PassNumber(pass.clone()),
        _ => return Err(anyhow!("give --card, --qr or --pass")),
    };
    let direction = if args.direction == "out" {
        Direction::Out
    } else {
        Direction::In
    };
    let input = Input::Access(AccessRequest {
        point: AccessPoint::Door {
            door: args.door.clone(),
            direction,
        },
        credential,
        pin: args.pin.clone(),
        requested_at: None,
        actor: Some(super::actor()),
        source: "cli".into(),
    });
    // Write-ahead: nothing of a record is carried out before its event is durable.
    let carried = gatehouse_runtime::offline::handle(&mut core, &store, input, now)
        .context("the decision could not be logged, so nothing was carried out")?;
    let result = carried.replies.into_iter().find_map(|r| match r {
        Reply::Access(r) => Some(r),
        _ => None,
    });
    let records: Vec<String> = carried.records.into_iter().map(|e| e.id).collect();
    let actuations: Vec<serde_json::Value> = carried
        .doors
        .into_iter()
        .map(|(door, action)| serde_json::json!({"door": door, "action": action}))
        .collect();
    let result =
        result.ok_or_else(|| anyhow!("the core gave no answer for door '{}'", args.door))?;
    let mut json = serde_json::to_value(&result)?;
    json["events"] = serde_json::json!(records);
    // The CLI has no controller connection: say what a gateway would have done.
    json["not_actuated"] = serde_json::json!(actuations);
    Ok(serde_json::to_string_pretty(&json)?)
}
