//! `gatehouse broker`: logins for the embedded broker and files for an external one.
//!
//! - `hash-password`: reads a password on stdin, prints the argon2 hash for
//!   `[[broker.users]] password_hash`.
//! - `acl --format mosquitto --passwords FILE --out DIR`: writes `DIR/acl` and `DIR/passwd`
//!   for a Mosquitto with the same rights as the embedded broker, and prints the listener
//!   lines that go with them.

use super::{EstateArgs, exit};
use gatehouse_bus::broker::{acl, guard};
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct BrokerArgs {
    #[command(subcommand)]
    pub command: BrokerCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum BrokerCommand {
    /// Read a password on stdin and print its argon2 hash for `password_hash`.
    HashPassword,
    /// Write password and ACL files for an external broker from the estate configuration.
    Acl(AclArgs),
}

#[derive(clap::Args, Debug)]
pub struct AclArgs {
    #[command(flatten)]
    pub estate: EstateArgs,
    /// The broker the files are for.
    #[arg(long, value_parser = ["mosquitto"])]
    pub format: String,
    /// `user:password` lines: the clear password of every `[[broker.users]]` login (the
    /// broker's password file is made from them; the gateway's own is `broker.password`).
    #[arg(long)]
    pub passwords: PathBuf,
    /// Directory for `acl` and `passwd`.
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(args: BrokerArgs) -> ExitCode {
    match args.command {
        BrokerCommand::HashPassword => hash_password(),
        BrokerCommand::Acl(args) => write_acl(args),
    }
}

fn hash_password() -> ExitCode {
    let mut text = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut text) {
        eprintln!("could not read the password from stdin: {e}");
        return ExitCode::from(exit::RUNTIME);
    }
    let password = text.trim_end_matches(['\r', '\n']);
    if password.is_empty() {
        eprintln!(
            "no password on stdin; pipe one in: echo -n 'PASSWORD' | gatehouse broker hash-password"
        );
        return ExitCode::from(exit::USAGE);
    }
    match guard::hash_password(password) {
        Ok(hash) => {
            println!("{hash}");
            ExitCode::from(exit::OK)
        }
        Err(e) => {
            eprintln!("could not hash the password: {e}");
            ExitCode::from(exit::RUNTIME)
        }
    }
}

fn write_acl(args: AclArgs) -> ExitCode {
    let (config, _) = match args.estate.load() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(exit::CONFIG);
        }
    };
    let passwords = match std::fs::read_to_string(&args.passwords) {
        Ok(text) => acl::parse_passwords(&text),
        Err(e) => {
            eprintln!(
                "cannot read the passwords file {}: {e}; write one 'user:password' line per [[broker.users]] login",
                args.passwords.display()
            );
            return ExitCode::from(exit::USAGE);
        }
    };
    let passwd = match acl::mosquitto_passwd(&config, &passwords) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(exit::CONFIG);
        }
    };
    let written = std::fs::create_dir_all(&args.out)
        .and_then(|()| std::fs::write(args.out.join("acl"), acl::mosquitto_acl(&config)))
        .and_then(|()| write_private(&args.out.join("passwd"), &passwd));
    if let Err(e) = written {
        eprintln!("cannot write into {}: {e}", args.out.display());
        return ExitCode::from(exit::RUNTIME);
    }
    println!(
        "Wrote {0}/acl and {0}/passwd. Add to the Mosquitto listener the gateway uses:\n\n{1}password_file {0}/passwd\nacl_file {0}/acl\n",
        args.out.display(),
        acl::MOSQUITTO_CONF
    );
    ExitCode::from(exit::OK)
}

/// The password file holds hashes, still: readable by its owner only.
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    options.open(path)?.write_all(text.as_bytes())
}
