//! `vigil serve-footage -c CONFIG`: the config's file cameras as RTSP cameras at
//! rtsp://LISTEN:PORT/<camera> until stopped (the compose demo's cameras). Runs no pipeline.

use super::Common;
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::Duration;
use vigil_config::{CameraSource, Config};
use vigil_ingest::rtsp_server::{Mount, RtspServer, loop_period, prepare_h264};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub common: Common,
    /// Address to listen on (0.0.0.0: every interface).
    #[arg(long, default_value = "127.0.0.1")]
    pub listen: String,
    #[arg(long, default_value_t = 8554)]
    pub port: u16,
    /// Where the footage is prepared as H.264 streams.
    #[arg(long, default_value = "vigil-streams")]
    pub cache: PathBuf,
}

pub fn exec(args: Args) -> Result<ExitCode> {
    let config = args.common.load()?;
    let mounts: Vec<Mount> = prepare_footage(&config, &args.cache)?
        .into_iter()
        .map(|f| f.mount)
        .collect();
    let server = RtspServer::start_on(&args.listen, args.port, &mounts)?;
    for m in &mounts {
        println!("rtsp://{}:{}/{}", args.listen, server.port(), m.path);
    }
    let stop = super::stop_flag()?;
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(200));
    }
    server.stop();
    Ok(ExitCode::SUCCESS)
}

/// A file camera's footage, prepared once as an H.264 stream to serve in a loop.
pub struct Footage {
    /// Named after the camera.
    pub mount: Mount,
    stream: PathBuf,
    fps: (i32, i32),
}

impl Footage {
    /// How long one pass of the loop lasts (its access units counted).
    pub fn loop_period(&self) -> Result<Duration> {
        loop_period(&self.stream, self.fps)
            .with_context(|| format!("cannot read {}", self.stream.display()))
    }
}

/// The footage of every file camera of `config`, each prepared once under `cache`.
pub fn prepare_footage(config: &Config, cache: &Path) -> Result<Vec<Footage>> {
    std::fs::create_dir_all(cache).with_context(|| format!("cannot create {}", cache.display()))?;
    let mut footage = Vec::new();
    for cam in &config.cameras {
        if let CameraSource::File { path, .. } = &cam.source {
            let stream = cache.join(format!("{}.h264", cam.id));
            let fps = prepare_h264(path, &stream, 25)
                .with_context(|| format!("cannot prepare {} for streaming", path.display()))?;
            let mount = Mount::looped_h264(cam.id.as_str(), &stream, fps);
            footage.push(Footage { mount, stream, fps });
        }
    }
    if footage.is_empty() {
        bail!("this config has no file cameras to serve over RTSP");
    }
    Ok(footage)
}
