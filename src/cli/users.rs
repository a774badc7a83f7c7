//! `gatehouse users list|add|reset-password`: the console's users, from the gateway itself.
//! The way back from a lost admin password: it works on the users file in the data directory
//! (`web-users.json`) with no console and no session. Stop the gateway first (it keeps the
//! users in memory and would write its own copy back on the next change in the console), or
//! restart it afterwards.

use super::{EstateArgs, exit};
use gatehouse_web::{PasswordCost, Role, users::Users};
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct UsersArgs {
    #[command(subcommand)]
    pub command: UsersCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum UsersCommand {
    /// List the console's users with their roles.
    List(UsersFileArgs),
    /// Add a console user; prints the password when it was generated.
    Add(AddArgs),
    /// Give a user a new password (and re-enable them); prints it when it was generated.
    ResetPassword(ResetArgs),
}

#[derive(clap::Args, Debug)]
pub struct UsersFileArgs {
    #[command(flatten)]
    pub estate: EstateArgs,
}

#[derive(clap::Args, Debug)]
pub struct AddArgs {
    /// The new user's name (1–32 letters, digits, '-', '_' or '.').
    pub name: String,
    /// guard, office, admin or auditor.
    #[arg(long, value_parser = ["guard", "office", "admin", "auditor"])]
    pub role: String,
    /// The password (at least 8 characters); a random one is made and printed without it.
    #[arg(long, env = "GATEHOUSE_NEW_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    #[command(flatten)]
    pub estate: EstateArgs,
}

#[derive(clap::Args, Debug)]
pub struct ResetArgs {
    /// The user whose password is lost.
    pub name: String,
    /// The new password (at least 8 characters); a random one is made and printed without it.
    #[arg(long, env = "GATEHOUSE_NEW_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    #[command(flatten)]
    pub estate: EstateArgs,
}

pub fn run(args: UsersArgs) -> ExitCode {
    let result = match args.command {
        UsersCommand::List(a) => open(&a.estate).map(|users| {
            for (name, role, disabled) in users.list() {
                let off = if disabled { " (disabled)" } else { "" };
                println!("{name}\t{}{off}", role.as_str());
            }
        }),
        UsersCommand::Add(a) => open(&a.estate).and_then(|users| {
            if users.list().iter().any(|(n, _, _)| *n == a.name) {
                return Err(format!(
                    "There is already a user '{}': use `gatehouse users reset-password {}` to give them a new password.",
                    a.name, a.name
                ));
            }
            let role = role_of(&a.role)?;
            set(&users, &a.name, role, a.password)
        }),
        UsersCommand::ResetPassword(a) => open(&a.estate).and_then(|users| {
            let Some((_, role, _)) = users.list().into_iter().find(|(n, _, _)| *n == a.name)
            else {
                return Err(format!(
                    "No user '{}': `gatehouse users list` shows who there is; `gatehouse users add` adds one.",
                    a.name
                ));
            };
            set(&users, &a.name, role, a.password)
        }),
    };
    match result {
        Ok(()) => ExitCode::from(exit::OK),
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(exit::RUNTIME)
        }
    }
}

/// The users file of the estate's data directory, or of a console data directory named
/// alone with `--data-dir` (the district office's `[web] data_dir`).
fn open(estate: &EstateArgs) -> Result<Users, String> {
    let data_dir = match (&estate.config, &estate.data_dir) {
        (None, Some(dir)) if dir.join(gatehouse_web::users::FILE).exists() => dir.clone(),
        _ => estate.load().map_err(|e| e.to_string())?.1,
    };
    if !data_dir.join("web-users.json").exists() {
        return Err(format!(
            "No console users in {}: the gateway makes the first admin when it first starts there (check --data-dir).",
            data_dir.display()
        ));
    }
    let (users, _) = Users::open(&data_dir, PasswordCost::Standard).map_err(|e| e.to_string())?;
    Ok(users)
}

fn role_of(text: &str) -> Result<Role, String> {
    Role::ALL
        .into_iter()
        .find(|r| r.as_str() == text)
        .ok_or_else(|| format!("Unknown role '{text}': use guard, office, admin or auditor."))
}

/// Sets the password (given, or a random one that is printed once).
fn set(users: &Users, name: &str, role: Role, password: Option<String>) -> Result<(), String> {
    let generated = password.is_none();
    let password = password.unwrap_or_else(gatehouse_web::users::random_password);
    gatehouse_web::api::users::check_new(name, &password).map_err(|e| e.message)?;
    users
        .put(name, role, &password)
        .map_err(|e| e.to_string())?;
    if generated {
        println!(
            "user '{name}' ({}), password '{password}' (shown once)",
            role.as_str()
        );
    } else {
        println!("user '{name}' ({}): password set", role.as_str());
    }
    Ok(())
}
