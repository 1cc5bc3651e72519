//! `vigil synth --out SET/` (the falling-object benchmark), `vigil synth-waste --out DIR/` (the bin
//! scenes) and `vigil synth-lanes --out DIR/` (the fire-lane scenes): render synthetic footage with
//! its ground truth and a config to replay it.

use anyhow::Result;
use std::process::ExitCode;

pub fn exec_falls(options: vigil_tools::falls::SynthOptions) -> Result<ExitCode> {
    let index = vigil_tools::falls::generate(&options)?;
    let out = options.out.display();
    println!(
        "{} sequence(s) in {out} (replay one: vigil replay -c {out}/<name>.yaml --out DIR --explain)",
        index.sequences.len(),
    );
    Ok(ExitCode::SUCCESS)
}

pub fn exec_waste(options: vigil_tools::bins::SynthWasteOptions) -> Result<ExitCode> {
    let names = vigil_tools::bins::generate(&options)?;
    let out = options.set.out.display();
    println!(
        "{} scene(s) in {out} (score them: vigil eval -c {out}/waste.yaml --labels {out}/labels.yaml --out DIR)",
        names.len()
    );
    Ok(ExitCode::SUCCESS)
}

pub fn exec_lanes(options: vigil_tools::lane_synth::SynthLanesOptions) -> Result<ExitCode> {
    let names = vigil_tools::lane_synth::generate(&options)?;
    let out = options.set.out.display();
    println!(
        "{} scene(s) in {out} (score them: vigil eval -c {out}/lanes.yaml --labels {out}/labels.yaml --out DIR)",
        names.len()
    );
    Ok(ExitCode::SUCCESS)
}
