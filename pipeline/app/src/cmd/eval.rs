//! `vigil eval -c CONFIG --labels LABELS.yaml`: replay, then score the alerts against labelled
//! events (precision, recall, timing per rule); OUT/eval.json.

use super::Common;
use anyhow::{Result, bail};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use vigil_runtime::pipeline::{self, Options};
use vigil_tools::eval::{self, Labels};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub common: Common,
    /// Labelled events (YAML: tolerance_secs, events: [{camera, rule|kind, start, end}]).
    #[arg(long)]
    pub labels: PathBuf,
    /// Output folder of the replay and the report [default: a fresh temporary folder].
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn exec(args: Args) -> Result<ExitCode> {
    let config = args.common.load()?;
    let labels = Labels::load(&args.labels)?;
    let out = args
        .out
        .unwrap_or_else(|| std::env::temp_dir().join(format!("vigil-eval-{}", std::process::id())));
    if out.join("alerts.db").exists() {
        bail!(
            "{} already holds alerts: eval needs a fresh output folder",
            out.display()
        );
    }
    let options = Options {
        print_alerts: false,
        drain: Duration::ZERO,
        ..Options::replay(out.clone(), args.common.assets())
    };
    let summary = pipeline::run(&config, &options, super::stop_flag()?)?;
    let records = vigil_deliver::AlertStore::open(&out.join("alerts.db"))?.all()?;
    let alerts = eval::alerts_of(&records);
    let footage_end = labels
        .events
        .iter()
        .map(|l| l.end)
        .chain(alerts.iter().map(|a| a.raised))
        .fold(0.0, f64::max)
        + labels.tolerance_secs;
    let report = eval::score(&labels, &alerts, footage_end);
    print!("{}", eval::table(&report));
    let path = out.join("eval.json");
    std::fs::write(&path, serde_json::to_string_pretty(&report)?)?;
    eprintln!(
        "{} alert(s) from {} frames; report in {}",
        alerts.len(),
        summary.detect.received,
        path.display()
    );
    Ok(super::cameras_ok(&summary))
}
