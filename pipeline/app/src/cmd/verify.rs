//! `vigil verify DIR`: the alert records' hash chain, their indexed columns and every evidence
//! file's sha256; with `--anchors` and `--public-key`, the chain against its signed heads (a cut
//! tail, a rewritten chain); with `--shared`, the shared store's copy of this instance's records
//! too; and the access chain (who opened, played or acknowledged which alert). Exit 1 on any
//! finding.

use anyhow::{Context, Result};
use std::path::PathBuf;
use std::process::ExitCode;
use vigil_deliver::shared::{Database, SharedReader};

#[derive(clap::Args)]
pub struct Args {
    /// Output folder (holding alerts.db and evidence/).
    pub dir: PathBuf,
    /// Also compare the shared store's copy of this instance's records with its own:
    /// `postgres://user@host:port/db` (password from --password-env).
    #[arg(long)]
    pub shared: Option<String>,
    /// The instance's name in the shared store (`--instance` of its `vigil run`).
    #[arg(long, default_value = "vigil")]
    pub instance: String,
    /// The environment variable holding the shared store's password.
    #[arg(long)]
    pub password_env: Option<String>,
    /// The CA certificate(s) of the shared store's server: TLS, verified.
    #[arg(long)]
    pub ca_file: Option<PathBuf>,
    /// The anchor file (`evidence.anchor.file`): the chain must hold every anchored head.
    #[arg(long, requires = "public_key")]
    pub anchors: Option<PathBuf>,
    /// The anchor key's public half, 64 hex digits (`vigil keygen` printed it).
    #[arg(long, requires = "anchors")]
    pub public_key: Option<String>,
    /// The site's config: each `expired` record's retention limit must be the one it sets.
    #[arg(short, long)]
    pub config: Option<PathBuf>,
}

/// The retention policy of the config at `path`.
fn policy(path: &std::path::Path) -> Result<vigil_deliver::verify::expiry::RetentionPolicy> {
    let config = vigil_config::load(path, super::assets_from_env().as_deref())
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("cannot read the config {}", path.display()))?;
    let e = &config.evidence;
    let mb = |b: Option<u64>| b.map(|b| b as f64 / (1024.0 * 1024.0));
    Ok(vigil_deliver::verify::expiry::RetentionPolicy {
        max_age_days: e.max_age.map(|d| d.as_secs_f64() / 86_400.0),
        max_mb_per_camera: mb(e.max_bytes_per_camera),
        max_total_mb: mb(e.max_bytes_total),
    })
}

pub fn exec(args: Args) -> Result<ExitCode> {
    let dir = &args.dir;
    let policy = args.config.as_deref().map(policy).transpose()?;
    let mut report = vigil_deliver::verify::verify_with(dir, policy.as_ref())
        .with_context(|| format!("cannot verify {}", dir.display()))?;
    if let (Some(anchors), Some(key)) = (&args.anchors, &args.public_key) {
        let check = vigil_deliver::anchor::check(dir, anchors, key, &args.instance)
            .map_err(anyhow::Error::msg)
            .context("cannot check the anchors")?;
        match &check.newest {
            Some(a) => println!(
                "anchors: {} valid, the newest names record {} of instance {}; {} of its access chain",
                check.valid, a.seq, args.instance, check.access_valid
            ),
            None => println!("anchors: none valid for instance {}", args.instance),
        }
        report
            .findings
            .extend(
                check
                    .findings
                    .into_iter()
                    .map(|message| vigil_deliver::verify::Finding {
                        alert_id: None,
                        message,
                    }),
            );
    }
    if let Some(url) = args.shared {
        let password = match &args.password_env {
            Some(var) => {
                Some(std::env::var(var).with_context(|| format!("--password-env {var}: not set"))?)
            }
            None => None,
        };
        let db = Database {
            url,
            password,
            ca_file: args.ca_file,
        };
        let instance = &args.instance;
        let rows = SharedReader::new(&db)
            .and_then(|mut r| r.records_of_instance(instance))
            .map_err(anyhow::Error::msg)
            .context("cannot read the shared store")?;
        let check = vigil_deliver::verify::against_shared(dir, &rows)
            .with_context(|| format!("cannot verify {}", dir.display()))?;
        println!(
            "shared store: {} record(s) of instance {instance} compared, {} still pending here",
            check.compared, check.pending
        );
        report.findings.extend(check.findings);
    }
    for f in &report.findings {
        println!("{f}");
    }
    println!(
        "{}: {} record(s), {} evidence file(s), {} access record(s): {}",
        dir.display(),
        report.records,
        report.files,
        report.accesses,
        if report.intact() {
            "intact".to_string()
        } else {
            format!("{} finding(s)", report.findings.len())
        }
    );
    Ok(match report.intact() {
        true => ExitCode::SUCCESS,
        false => ExitCode::FAILURE,
    })
}
