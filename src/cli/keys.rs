//! `gatehouse keys new --out NAME`: an Ed25519 key pair for an office that signs commands.

use super::exit;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct KeysArgs {
    #[command(subcommand)]
    pub command: KeysCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum KeysCommand {
    /// Write a new key pair: NAME.key (private, mode 0600) and NAME.pub (public).
    New(NewArgs),
}

#[derive(clap::Args, Debug)]
pub struct NewArgs {
    /// The files' name without extension: `office` writes office.key and office.pub.
    #[arg(long)]
    pub out: PathBuf,
    /// The issuer id to print in the configuration lines (default: the file name).
    #[arg(long)]
    pub issuer: Option<String>,
}

pub fn run(args: KeysArgs) -> ExitCode {
    let KeysCommand::New(args) = args.command;
    let pair = match gatehouse_bus::office::new_key_pair(&args.out) {
        Ok(pair) => pair,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(exit::RUNTIME);
        }
    };
    let issuer = args.issuer.unwrap_or_else(|| {
        args.out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "office".into())
    });
    println!(
        "Wrote {} (private: keep it on the office's machine only) and {} (public).",
        pair.private.display(),
        pair.public.display()
    );
    println!(
        "Add the public key to the estate's configuration, then restart the gateway:\n\n[[issuers]]\nid = \"{issuer}\"\npublic_key = \"{}\"\n",
        pair.public_key
    );
    println!(
        "Then send commands with it, e.g.:\n  gatehouse command lockdown --zone ZONE --mode quarantine --reason \"…\" --key {} --issuer {issuer}",
        pair.private.display()
    );
    ExitCode::from(exit::OK)
}
