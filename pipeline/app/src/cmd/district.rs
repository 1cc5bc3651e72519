//! `vigil district setup` and `vigil district add-instance NAME`: run once by the shared
//! database's administrator, so each instance of a district can write only its own rows there
//! (`vigil_deliver::shared::setup`).

use anyhow::Result;
use std::path::PathBuf;
use std::process::ExitCode;
use vigil_deliver::shared::{Database, setup};

#[derive(clap::Subcommand)]
pub enum Args {
    /// Create the shared tables, the group role `vigil_instance` and the row-level security that
    /// keeps instances to their own rows. Connect as the tables' owner; safe to run again.
    Setup(Target),
    /// Make the database role of instance NAME (or give it a new password): it logs in as NAME
    /// and writes only NAME's rows. Prints the password, once: that instance reads it from the
    /// variable its outputs.postgres.password_env names.
    AddInstance {
        /// The instance's name, as its `--instance` / VIGIL_INSTANCE says.
        name: String,
        #[command(flatten)]
        target: Target,
    },
}

/// The shared database, as its administrator.
#[derive(clap::Args)]
pub struct Target {
    /// `postgres://ADMIN@HOST:PORT/DB`; the password from $PGPASSWORD when it is not in the URL.
    #[arg(long)]
    pub db: String,
    /// The CA certificate(s), PEM, the server's certificate is checked against (TLS required).
    #[arg(long)]
    pub ca_file: Option<PathBuf>,
}

impl Target {
    fn database(&self) -> Database {
        Database {
            url: self.db.clone(),
            password: std::env::var("PGPASSWORD").ok(),
            ca_file: self.ca_file.clone(),
        }
    }
}

pub fn exec(args: Args) -> Result<ExitCode> {
    match args {
        Args::Setup(target) => {
            setup::setup(&target.database()).map_err(anyhow::Error::msg)?;
            eprintln!(
                "shared store set up: instances write only their own rows; add each with \
                 `vigil district add-instance NAME`"
            );
        }
        Args::AddInstance { name, target } => {
            let password =
                setup::add_instance(&target.database(), &name).map_err(anyhow::Error::msg)?;
            eprintln!(
                "role {name} may log in and write {name}'s rows; its password (shown once; the \
                 instance reads it from the variable its outputs.postgres.password_env names):"
            );
            println!("{password}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
