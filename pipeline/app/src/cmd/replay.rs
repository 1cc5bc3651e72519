//! `vigil replay -c CONFIG --out DIR`: file cameras as fast as possible, nothing dropped.

use super::Common;
use anyhow::{Result, bail};
use std::path::PathBuf;
use std::process::ExitCode;
use vigil_config::CameraSource;
use vigil_runtime::pipeline::{self, Options};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub common: Common,
    /// Output folder: alerts.jsonl, alerts.db, summary.json.
    #[arg(long)]
    pub out: PathBuf,
    /// Also write every frame's tracks to OUT/tracks.jsonl.
    #[arg(long)]
    pub dump_tracks: bool,
    /// Write every falling-object track's verdict — and why each one was rejected — to
    /// OUT/explain.jsonl.
    #[arg(long)]
    pub explain: bool,
    /// At the end, wait up to this long for webhooks and MQTT to take every record (what
    /// they do not take stays in the outbox for the next run on OUT).
    #[arg(long, default_value_t = 10.0)]
    pub drain_secs: f64,
}

pub fn exec(args: Args) -> Result<ExitCode> {
    let config = args.common.load()?;
    if let Some(c) = config
        .cameras
        .iter()
        .find(|c| !matches!(c.source, CameraSource::File { .. }))
    {
        bail!(
            "replay takes file cameras only; camera \"{}\" is a live source",
            c.id
        );
    }
    let stop = super::stop_flag()?;
    let options = Options {
        dump_tracks: args.dump_tracks,
        explain: args.explain,
        drain: super::seconds("--drain-secs", args.drain_secs, 0.0..=3600.0)?,
        ..Options::replay(args.out.clone(), args.common.assets())
    };
    let summary = pipeline::run(&config, &options, stop)?;
    super::report(&summary, &args.out);
    Ok(super::cameras_ok(&summary))
}
