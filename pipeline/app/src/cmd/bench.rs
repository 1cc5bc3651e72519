//! `vigil bench -c CONFIG`: the pipeline under measured load (see `vigil_tools::bench`).

use anyhow::Result;
use std::process::ExitCode;

pub fn exec(args: vigil_tools::bench::BenchArgs) -> Result<ExitCode> {
    vigil_tools::bench::run(args)?;
    Ok(ExitCode::SUCCESS)
}
