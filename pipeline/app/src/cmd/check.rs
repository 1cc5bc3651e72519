//! `vigil check -c CONFIG`: validate; every error as `file:line:col: message`.

use super::Common;
use anyhow::Result;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub common: Common,
}

pub fn exec(args: Args) -> Result<ExitCode> {
    let config = args.common.load()?;
    println!(
        "{}: ok ({} camera(s), {} rule(s), model {} at {})",
        args.common.config.display(),
        config.cameras.len(),
        config.rules.len() + config.falling.len() + config.waste.len(),
        config.detector.manifest.name,
        config.detector.manifest.file.display()
    );
    Ok(ExitCode::SUCCESS)
}
