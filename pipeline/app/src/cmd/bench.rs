//! `vigil bench -c CONFIG`: the pipeline under measured load (see `crate::bench`); and the
//! hidden `vigil bench-server`, which serves its footage over RTSP from a child process.

use anyhow::Result;
use std::process::ExitCode;

pub fn exec(args: crate::bench::BenchArgs) -> Result<ExitCode> {
    crate::bench::run(args)?;
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args)]
pub struct ServerArgs {
    /// 0 picks a free port.
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    pub mounts: Vec<String>,
}

pub fn exec_server(args: ServerArgs) -> Result<ExitCode> {
    crate::bench::serve_main(args.port, &args.mounts)?;
    Ok(ExitCode::SUCCESS)
}
