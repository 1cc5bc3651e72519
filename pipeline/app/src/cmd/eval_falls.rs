//! `vigil eval-falls SET/`: replay a `vigil synth` set and score the falling-object alerts;
//! OUT/eval-falls.json.

use anyhow::Result;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The folder `vigil synth` wrote.
    pub dir: PathBuf,
    /// Where the replays and the report go [default: DIR/eval].
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[arg(long)]
    pub assets: Option<PathBuf>,
}

pub fn exec(args: Args) -> Result<ExitCode> {
    let out = args.out.unwrap_or_else(|| args.dir.join("eval"));
    let assets = args.assets.or_else(super::assets_from_env);
    let report = vigil_tools::falls::evaluate(&args.dir, &out, assets)?;
    std::fs::create_dir_all(&out)?;
    std::fs::write(
        out.join("eval-falls.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    let s = &report.summary;
    println!(
        "throws: {}/{} found (recall {:.1} %; objects ≥ 6 px: {}/{} = {:.1} %)",
        s.found,
        s.throws,
        100.0 * s.recall,
        s.found_6px,
        s.throws_6px,
        100.0 * s.recall_6px
    );
    println!(
        "origin floor within ±1: {:.1} % (exact {:.1} %); alert after landing/leaving the frame: p50 {:.2} s, max {:.2} s",
        100.0 * s.floor_within_1,
        100.0 * s.floor_exact,
        s.latency_p50_secs,
        s.latency_max_secs
    );
    println!(
        "false alerts: {} in {:.1} min of distractor-only footage ({:.2} per 10 min), {} in throw sequences",
        s.false_alerts_distractor_seqs,
        s.distractor_minutes,
        s.false_alerts_per_10_min,
        s.false_alerts_throw_seqs
    );
    println!(
        "{:.0} frames/s through the pipeline (decode included); report in {}",
        report.frames_per_sec,
        out.join("eval-falls.json").display()
    );
    Ok(ExitCode::SUCCESS)
}
