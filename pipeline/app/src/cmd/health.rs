//! `vigil health --url URL`: exit 0 when a running vigil's API answers 200 (container health
//! checks: the image has no curl).

use anyhow::Result;
use std::process::ExitCode;
use std::time::Duration;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, default_value = "http://127.0.0.1:8080/healthz")]
    pub url: String,
    #[arg(long, default_value_t = 3.0)]
    pub timeout_secs: f64,
}

pub fn exec(args: Args) -> Result<ExitCode> {
    let timeout = super::seconds("--timeout-secs", args.timeout_secs, 0.1..=60.0)?;
    match get(&args.url, timeout) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            eprintln!("{}: {e}", args.url);
            Ok(ExitCode::FAILURE)
        }
    }
}

/// GET `url` within `timeout`; Ok when it answers 200.
fn get(url: &str, timeout: Duration) -> Result<()> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let status = agent.get(url).call()?.status();
    anyhow::ensure!(status == 200, "answered {status}");
    Ok(())
}
