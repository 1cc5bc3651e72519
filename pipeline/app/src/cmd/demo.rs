//! `vigil demo -c CONFIG`: the config's file cameras served over RTSP on 127.0.0.1, and vigil
//! run live against those `rtsp://` URLs.

use super::Common;
use anyhow::Result;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use vigil_config::{CameraSource, Config, RtspTransport, RtspUrl};
use vigil_ingest::rtsp_server::RtspServer;
use vigil_runtime::pipeline::{self, Options};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub common: Common,
    /// RTSP port (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    #[arg(long, default_value = "vigil-demo")]
    pub out: PathBuf,
}

pub fn exec(args: Args) -> Result<ExitCode> {
    let mut config = args.common.load()?;
    let out = &args.out;
    let server = serve_file_cameras(&mut config, args.port, &out.join("streams"))?;
    let stop = super::stop_flag()?;
    let options = Options::live(out.clone(), args.common.assets());
    eprintln!(
        "running; alerts print below and go to {}/alerts.jsonl (Ctrl-C stops)",
        out.display()
    );
    let summary = pipeline::run(&config, &options, stop)?;
    server.stop();
    super::report(&summary, out);
    Ok(ExitCode::SUCCESS)
}

/// Starts the embedded RTSP server with each file camera's footage (prepared once as an H.264
/// stream under `cache`) and points those cameras at it. Each camera is told how long a pass of
/// its loop lasts, so a car standing in a zone when the footage starts over is not a new stay.
fn serve_file_cameras(config: &mut Config, port: u16, cache: &Path) -> Result<RtspServer> {
    let footage = super::serve_footage::prepare_footage(config, cache)?;
    let mounts: Vec<_> = footage.iter().map(|f| f.mount.clone()).collect();
    let server = RtspServer::start(port, &mounts)?;
    for cam in &mut config.cameras {
        if matches!(cam.source, CameraSource::File { .. }) {
            let served = footage.iter().find(|f| f.mount.path == cam.id.as_str());
            cam.served_loop = served.map(|f| f.loop_period()).transpose()?;
            let url = server.url(cam.id.as_str());
            eprintln!("camera {} served at {url}", cam.id);
            cam.source = CameraSource::Rtsp {
                url: RtspUrl::parse(&url, None, None).map_err(anyhow::Error::msg)?,
                transport: RtspTransport::Tcp,
                latency_ms: 200,
            };
        }
    }
    Ok(server)
}
