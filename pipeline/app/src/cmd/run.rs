//! `vigil run -c CONFIG`: live until Ctrl-C / SIGTERM.

use super::Common;
use anyhow::Result;
use std::path::PathBuf;
use std::process::ExitCode;
use vigil_runtime::pipeline::{self, Options};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub common: Common,
    /// Output folder for alerts.db and alerts.jsonl [default: config outputs.dir, else vigil-data].
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn exec(args: Args) -> Result<ExitCode> {
    let config = args.common.load()?;
    let out = args
        .out
        .or(config.outputs.dir.clone())
        .unwrap_or_else(|| PathBuf::from("vigil-data"));
    let stop = super::stop_flag()?;
    let options = Options {
        print_alerts: config.outputs.stdout,
        ..Options::live(out.clone(), args.common.assets())
    };
    let summary = pipeline::run(&config, &options, stop)?;
    super::report(&summary, &out);
    Ok(ExitCode::SUCCESS)
}
