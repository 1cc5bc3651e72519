//! `vigil user …`: the named accounts of `api.users` — add, set a password, disable or enable,
//! end sessions, mint a machine token, list. Passwords are read from standard input (one line),
//! never from the command line; the running vigil sees each change at the account's next request.

use anyhow::{Context, Result};
use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;
use vigil_config::Role;
use vigil_serve::users::Users;

#[derive(clap::Args)]
pub struct Args {
    /// The accounts database (`api.users` of the config).
    #[arg(long)]
    pub db: PathBuf,
    #[command(subcommand)]
    pub action: Action,
}

#[derive(clap::Subcommand)]
pub enum Action {
    /// Add an account; its password from standard input (at least 10 characters), unless
    /// --no-password (an account for machine tokens only).
    Add {
        name: String,
        /// viewer, operator or admin.
        #[arg(long)]
        role: String,
        /// The cameras it may see: names or `*` patterns, comma-separated (`b3-*,gate`);
        /// every camera without.
        #[arg(long, value_delimiter = ',')]
        cameras: Vec<String>,
        #[arg(long)]
        no_password: bool,
    },
    /// Set an account's password (from standard input); its sessions end.
    Passwd { name: String },
    /// Disable an account: its sessions end, its tokens stop working, it cannot sign in.
    Disable { name: String },
    /// Enable a disabled account again.
    Enable { name: String },
    /// End every session of an account (it signs in again).
    Revoke { name: String },
    /// Mint a machine token for an account: printed once, stored salted.
    Token { name: String },
    /// Revoke every machine token of an account.
    RevokeTokens { name: String },
    /// List the accounts.
    List,
}

/// One line of standard input, without its line ending.
fn password_from_stdin() -> Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

pub fn exec(args: Args) -> Result<ExitCode> {
    let mut users = Users::open(&args.db)?;
    match args.action {
        Action::Add {
            name,
            role,
            cameras,
            no_password,
        } => {
            let role: Role = role.parse().map_err(anyhow::Error::msg)?;
            let password = (!no_password).then(password_from_stdin).transpose()?;
            users.add(&name, role, &cameras, password.as_deref())?;
            eprintln!("account {name} added ({})", role.as_str());
        }
        Action::Passwd { name } => {
            users.set_password(&name, &password_from_stdin()?)?;
            eprintln!("password of {name} set; its sessions ended");
        }
        Action::Disable { name } => {
            users.set_disabled(&name, true)?;
            eprintln!("{name} disabled: its sessions ended, its tokens stopped");
        }
        Action::Enable { name } => {
            users.set_disabled(&name, false)?;
            eprintln!("{name} enabled");
        }
        Action::Revoke { name } => {
            let n = users.end_sessions(&name)?;
            eprintln!("{n} session(s) of {name} ended");
        }
        Action::Token { name } => {
            let token = users.mint_token(&name)?;
            eprintln!("token of {name} (shown once; send it as Authorization: Bearer …):");
            println!("{token}");
        }
        Action::RevokeTokens { name } => {
            let n = users.revoke_tokens(&name)?;
            eprintln!("{n} token(s) of {name} revoked");
        }
        Action::List => {
            for u in users.list()? {
                let cameras = if u.cameras.is_empty() {
                    "all cameras".to_string()
                } else {
                    u.cameras.join(",")
                };
                let state = if u.disabled { "disabled" } else { "enabled" };
                let login = if u.has_password {
                    "password"
                } else {
                    "tokens only"
                };
                println!(
                    "{}\t{}\t{cameras}\t{state}\t{login}",
                    u.name,
                    u.role.as_str()
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
