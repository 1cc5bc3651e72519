//! `vigil bench-encode --format WxH@FPS[:h265] CLIP OUT` (hidden): encodes footage as a camera
//! would send it, for `vigil bench --rtsp`, which runs it as a child so that the encoder's
//! memory is not counted as the pipeline's.

use anyhow::Result;
use std::path::PathBuf;
use std::process::ExitCode;
use vigil_tools::bench::stream::StreamFormat;

#[derive(clap::Args)]
pub struct Args {
    /// `WIDTHxHEIGHT@FPS[:h264|:h265]`.
    #[arg(long)]
    pub format: StreamFormat,
    pub clip: PathBuf,
    pub out: PathBuf,
}

pub fn exec(args: Args) -> Result<ExitCode> {
    args.format.encode(&args.clip, &args.out)?;
    Ok(ExitCode::SUCCESS)
}
