//! `vigil audit DIR [--alert ID] [--who NAME] [--limit N] [--json]`: who opened, played,
//! downloaded or acknowledged which alert, when and from where — the store's access chain,
//! oldest first. `vigil verify DIR` checks that chain.

use anyhow::{Context, Result};
use std::path::PathBuf;
use std::process::ExitCode;
use vigil_deliver::AlertStore;
use vigil_deliver::access::AccessQuery;

#[derive(clap::Args)]
pub struct Args {
    /// Output folder (holding alerts.db).
    pub dir: PathBuf,
    /// Only the accesses to this alert.
    #[arg(long)]
    pub alert: Option<String>,
    /// Only this caller's accesses (`guard`, or `guard@box-a` through another instance).
    #[arg(long)]
    pub who: Option<String>,
    /// The newest this many (at most 10000).
    #[arg(long, default_value_t = 1000)]
    pub limit: usize,
    /// One JSON record per line, as chained.
    #[arg(long)]
    pub json: bool,
}

pub fn exec(args: Args) -> Result<ExitCode> {
    let db = args.dir.join("alerts.db");
    anyhow::ensure!(db.is_file(), "{}: no alert store there", db.display());
    let store = AlertStore::open(&db).with_context(|| format!("cannot open {}", db.display()))?;
    let accesses = store.accesses(&AccessQuery {
        alert_id: args.alert,
        who: args.who,
        limit: args.limit,
    })?;
    for a in &accesses {
        if args.json {
            println!("{}", serde_json::to_string(a)?);
            continue;
        }
        let at = vigil_core::time::rfc3339(
            std::time::UNIX_EPOCH + std::time::Duration::from_millis(a.at_ms.max(0) as u64),
        );
        let from = if a.from.is_empty() { "-" } else { &a.from };
        let detail = if a.detail.is_empty() {
            String::new()
        } else {
            format!("  {:?}", a.detail)
        };
        println!(
            "{at}  {:<8}  {}  {} ({}) from {from}{detail}",
            a.action.as_str(),
            a.alert_id,
            a.who,
            a.role
        );
    }
    eprintln!("{} access record(s)", accesses.len());
    Ok(ExitCode::SUCCESS)
}
