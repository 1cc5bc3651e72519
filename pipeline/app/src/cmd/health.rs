//! `vigil health --url URL [--ca-file PEM]`: exit 0 when a running vigil's API answers 200
//! (container health checks: the image has no curl). An `https://` API is checked against the
//! CA certificates `--ca-file` names (the site's own CA; else the public roots).

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, default_value = "http://127.0.0.1:8080/healthz")]
    pub url: String,
    #[arg(long, default_value_t = 3.0)]
    pub timeout_secs: f64,
    /// CA certificates (PEM) an https:// API's certificate is checked against.
    #[arg(long)]
    pub ca_file: Option<PathBuf>,
}

pub fn exec(args: Args) -> Result<ExitCode> {
    let timeout = super::seconds("--timeout-secs", args.timeout_secs, 0.1..=60.0)?;
    let tls = args.ca_file.as_deref().map(trusting).transpose()?;
    match get(&args.url, timeout, tls) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            eprintln!("{}: {e}", args.url);
            Ok(ExitCode::FAILURE)
        }
    }
}

/// TLS trusting only the certificates in `ca_file`.
fn trusting(ca_file: &Path) -> Result<ureq::tls::TlsConfig> {
    let pem = std::fs::read(ca_file).with_context(|| format!("{}", ca_file.display()))?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        if let ureq::tls::PemItem::Certificate(c) =
            item.with_context(|| format!("{}", ca_file.display()))?
        {
            certs.push(c);
        }
    }
    anyhow::ensure!(
        !certs.is_empty(),
        "{}: no certificate in it",
        ca_file.display()
    );
    Ok(ureq::tls::TlsConfig::builder()
        .root_certs(ureq::tls::RootCerts::new_with_certs(&certs))
        .build())
}

/// GET `url` within `timeout`; Ok when it answers 200.
fn get(url: &str, timeout: Duration, tls: Option<ureq::tls::TlsConfig>) -> Result<()> {
    let mut config = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0);
    if let Some(tls) = tls {
        config = config.tls_config(tls);
    }
    let agent: ureq::Agent = config.build().into();
    let status = agent.get(url).call()?.status();
    anyhow::ensure!(status == 200, "answered {status}");
    Ok(())
}
