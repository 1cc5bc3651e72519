//! `vigil bench-server [--port P] NAME=FILE:NUM/DEN …` (hidden): H.264 or H.265 byte-stream
//! files served over RTSP on 127.0.0.1 from a child process — for `vigil bench --rtsp`, which
//! measures its CPU apart, and for the fault tests, which kill and restart it.

use anyhow::{Context, Result};
use std::io::Read;
use std::path::Path;
use std::process::ExitCode;
use vigil_ingest::rtsp_server::{Codec, Mount, RtspServer};

#[derive(clap::Args)]
pub struct Args {
    /// 0 picks a free port.
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    pub mounts: Vec<String>,
}

/// `vigil bench-server [--port P] NAME=FILE:NUM/DEN …`: serves each H.264 byte-stream file at
/// `rtsp://127.0.0.1:PORT/NAME` (port 0: a free one), prints `port PORT` once it accepts
/// connections, and runs until its stdin closes (or it is killed: the fault tests do).
pub fn exec(args: Args) -> Result<ExitCode> {
    let (port, mounts) = (args.port, &args.mounts);
    let mut list = Vec::new();
    for m in mounts {
        let (name, rest) = m.split_once('=').context("expected NAME=FILE:NUM/DEN")?;
        let (file, rate) = rest
            .rsplit_once(':')
            .context("expected NAME=FILE:NUM/DEN")?;
        let (n, d) = rate.split_once('/').context("expected NAME=FILE:NUM/DEN")?;
        let (file, fps) = (Path::new(file), (n.parse()?, d.parse()?));
        list.push(match Codec::of_file(file) {
            Codec::H265 => Mount::looped_h265(name, file, fps),
            Codec::H264 => Mount::looped_h264(name, file, fps),
        });
    }
    let server = RtspServer::start(port, &list)?;
    println!("port {}", server.port());
    // Until the bench closes our stdin (or dies).
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    server.stop();
    Ok(ExitCode::SUCCESS)
}
