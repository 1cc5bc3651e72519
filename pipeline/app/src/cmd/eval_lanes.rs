//! `vigil eval-lanes --seed N`: the synthetic fire-lane scenes of a seed through a
//! `lane_obstructed` rule, scored (`vigil_tools::lanes`); OUT/eval-lanes.json with `--out`.

use anyhow::Result;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The seed the scenes' cameras are drawn from (1 is the development seed).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Where eval-lanes.json goes (nowhere when left out).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn exec(args: Args) -> Result<ExitCode> {
    let score = vigil_tools::lanes::score(args.seed, &[]);
    for s in &score.scenes {
        let [h, tilt, lens, aside] = s.camera;
        let verdict = match s.failures.is_empty() {
            true => "ok",
            false => "FAILED",
        };
        println!(
            "{verdict:6} {} (camera {h:.1} m up, {tilt:.0}° down, {lens:.0}° lens, {aside:.1} m aside): {} expected, {} alerts",
            s.name,
            s.expected,
            s.alerts.len()
        );
        for f in &s.failures {
            println!("       {f}");
        }
    }
    println!(
        "seed {}: {} of {} obstructions alerted in time, {} alerts, precision {:.3}, {} alerts in scenes with nothing left in the lane",
        score.seed,
        score.alerted,
        score.obstructions,
        score.alerts,
        score.precision(),
        score.false_in_clear_scenes
    );
    if let Some(out) = &args.out {
        std::fs::create_dir_all(out)?;
        std::fs::write(
            out.join("eval-lanes.json"),
            serde_json::to_string_pretty(&score)?,
        )?;
    }
    Ok(match score.failures().is_empty() {
        true => ExitCode::SUCCESS,
        false => ExitCode::FAILURE,
    })
}
