//! `vigil eval-lanes --seed N`: the synthetic fire-lane scenes of a seed through a
//! `lane_obstructed` rule, scored (`vigil_tools::lanes`); OUT/eval-lanes.json with `--out`.
//! `--with-dwell` adds a `dwell` rule on vehicles over the same zone, its alerts merged with the
//! lane rule's as `vigil run` merges them, or left separate to see what merging saves.
//! `--passage` scores the scenes made for a lane with a width calibration (`min_width_m`).

use anyhow::Result;
use std::path::PathBuf;
use std::process::ExitCode;
use vigil_tools::lanes::Watch;

#[derive(clap::Args)]
pub struct Args {
    /// The seed the scenes' cameras are drawn from (1 is the development seed).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Also a `dwell` rule on `vehicle` over the same zone: `merged` (one alert per object, as
    /// `vigil run` raises them) or `separate` (each rule's alerts as they come).
    #[arg(long, value_enum, conflicts_with = "passage")]
    pub with_dwell: Option<DwellAlerts>,
    /// The passage scenes instead, through a rule with the lane's width calibration that asks
    /// for a passage 1.7 m narrower than the lane (`min_width_m`).
    #[arg(long)]
    pub passage: bool,
    /// Where eval-lanes.json goes (nowhere when left out).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum DwellAlerts {
    Merged,
    Separate,
}

pub fn exec(args: Args) -> Result<ExitCode> {
    let watch = match args.with_dwell {
        None if args.passage => Watch::Passage,
        None => Watch::Lane,
        Some(DwellAlerts::Merged) => Watch::LaneAndDwell { merged: true },
        Some(DwellAlerts::Separate) => Watch::LaneAndDwell { merged: false },
    };
    let score = vigil_tools::lanes::score(args.seed, &[], watch);
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
