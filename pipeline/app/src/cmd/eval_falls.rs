//! `vigil eval-falls SET/`: replay a `vigil synth` set and score the falling-object alerts;
//! OUT/eval-falls.json. `vigil eval-falls --in-memory [--placement …]` renders the set's
//! sequences straight into the detector instead (`vigil_tools::falls::memory`).

use anyhow::Result;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The folder `vigil synth` wrote.
    #[arg(required_unless_present = "in_memory")]
    pub dir: Option<PathBuf>,
    /// Where the replays and the report go [default: DIR/eval; with --in-memory, nowhere].
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[arg(long)]
    pub assets: Option<PathBuf>,
    /// Render the set (the options below, as `vigil synth` takes them) frame by frame straight
    /// into the detector: no files, no encoding or decoding, no compression.
    #[arg(long, conflicts_with = "dir")]
    pub in_memory: bool,
    /// With --in-memory: print each fall, each rejected track and where each throw truly was.
    #[arg(long, requires = "in_memory")]
    pub explain: bool,
    /// With --in-memory: judge every track on the facade plane, as vigil did before the 3-D
    /// verdict (for side-by-side scores).
    #[arg(long, requires = "in_memory")]
    pub plane: bool,
    /// With --in-memory: only the sequence of this name (`throw-019`, `distractors-003`;
    /// repeatable), rendered as in the whole set: one sequence traced with --explain.
    #[arg(long, requires = "in_memory")]
    pub only: Vec<String>,
    #[command(flatten)]
    pub set: vigil_tools::falls::SetShape,
}

pub fn exec(args: Args) -> Result<ExitCode> {
    let (report, out) = match &args.dir {
        Some(dir) => {
            let out = args.out.clone().unwrap_or_else(|| dir.join("eval"));
            let assets = args.assets.clone().or_else(super::assets_from_env);
            (vigil_tools::falls::evaluate(dir, &out, assets)?, Some(out))
        }
        None => {
            let started = std::time::Instant::now();
            let specs = only(args.set.specs()?, &args.only)?;
            let frames: f64 = specs
                .iter()
                .map(|s| s.duration_secs * f64::from(s.fps))
                .sum();
            let judging = vigil_tools::falls::memory::Judging {
                explain: args.explain,
                plane: args.plane,
            };
            let sequences = vigil_tools::falls::memory::run_all(specs, judging);
            let report = vigil_tools::falls::FallsReport {
                summary: vigil_tools::falls::score::summarise(&sequences),
                sequences,
                frames_per_sec: frames / started.elapsed().as_secs_f64().max(1e-9),
            };
            (report, args.out.clone())
        }
    };
    if let Some(out) = &out {
        std::fs::create_dir_all(out)?;
        std::fs::write(
            out.join("eval-falls.json"),
            serde_json::to_string_pretty(&report)?,
        )?;
    }
    let s = &report.summary;
    println!(
        "throws: {}/{} found (recall {:.1} %; objects ≥ 6 px: {}/{} = {:.1} %, smaller: {}/{} = {:.1} %); {} thrown out of view at once, not counted",
        s.found,
        s.throws,
        100.0 * s.recall,
        s.found_6px,
        s.throws_6px,
        100.0 * s.recall_6px,
        s.found_small,
        s.throws_small,
        100.0 * s.recall_small,
        s.unseen
    );
    println!(
        "origin floor within ±1: {:.1} % (exact {:.1} %); alert after landing/leaving the frame: p50 {:.2} s, max {:.2} s",
        100.0 * s.floor_within_1,
        100.0 * s.floor_exact,
        s.latency_p50_secs,
        s.latency_max_secs
    );
    println!(
        "false alerts: {} in {:.1} min of distractor-only footage ({:.2} per 10 min), {} in throw sequences; {} duplicate alert(s) for throws already found",
        s.false_alerts_distractor_seqs,
        s.distractor_minutes,
        s.false_alerts_per_10_min,
        s.false_alerts_throw_seqs,
        s.duplicates
    );
    let through = match args.in_memory {
        true => "the detector, rendering included",
        false => "the pipeline (decode included)",
    };
    let report_at = out.map_or_else(
        || "no report written (--out)".to_string(),
        |o| format!("report in {}", o.join("eval-falls.json").display()),
    );
    println!(
        "{:.0} frames/s through {through}; {report_at}",
        report.frames_per_sec
    );
    Ok(ExitCode::SUCCESS)
}

/// The sequences of `specs` named in `names` (all of them when it is empty); an error names a
/// sequence the set does not have.
fn only(
    specs: Vec<vigil_tools::scenes::falls::SceneSpec>,
    names: &[String],
) -> Result<Vec<vigil_tools::scenes::falls::SceneSpec>> {
    if let Some(missing) = names.iter().find(|n| !specs.iter().any(|s| &s.name == *n)) {
        let (first, last) = (specs.first(), specs.last());
        anyhow::bail!(
            "--only {missing}: this set has no such sequence (it has {} from {} to {})",
            specs.len(),
            first.map_or("", |s| s.name.as_str()),
            last.map_or("", |s| s.name.as_str())
        );
    }
    Ok(specs
        .into_iter()
        .filter(|s| names.is_empty() || names.contains(&s.name))
        .collect())
}
