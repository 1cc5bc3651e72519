//! `vigil synth-lanes` renders the synthetic lane scenes of [`crate::scenes::lanes`] to H.264
//! files, with one config that replays them all (a camera per scene, a `lane_obstructed` rule on
//! its lane with `dwell_secs` [`DWELL_SECS`]) and the labels `vigil eval` scores the alerts with:
//! the whole pipeline — decoding, the detector, the track stage's static-object engine, the
//! store — where `vigil eval-lanes` runs the engine alone with scripted tracks.
//!
//! People and vehicles are the renderer's block figures, which no object detector names: a
//! scene where someone stands in the lane longer than a moment (`people-stand-and-walk`) cannot
//! be scored this way, as nothing tells the engine that the figure is a person.

use crate::scenes::lanes::{DWELL_SECS, PASSAGE_SPARE_M, cases, passage_cases};
use anyhow::{Context, Result};
use std::fmt::Write as _;

#[derive(clap::Args)]
pub struct SynthLanesOptions {
    #[command(flatten)]
    pub set: crate::falls::SceneSetArgs,
    /// The passage scenes instead, each rule with its lane's ground calibration and a
    /// `min_width_m` 1.7 m narrower than the lane.
    #[arg(long)]
    pub passage: bool,
}

/// `[[x, y], …]` of normalised points.
fn flow(points: impl IntoIterator<Item = (f64, f64)>) -> String {
    let inner: Vec<String> = points
        .into_iter()
        .map(|(x, y)| format!("[{x:.4}, {y:.4}]"))
        .collect();
    format!("[{}]", inner.join(", "))
}

/// Renders the scenes; returns their names.
pub fn generate(o: &SynthLanesOptions) -> Result<Vec<String>> {
    let (mut config, mut labels) = o.set.begin("lane", "vigil synth-lanes")?;
    let mut rules = String::from("rules:\n");
    let scenes = match o.passage {
        true => passage_cases(o.set.seed),
        false => cases(o.set.seed),
    };
    let mut names = Vec::new();
    for (name, scene, expected) in scenes {
        if !o.set.wants(name) {
            continue;
        }
        let started = std::time::Instant::now();
        let v = &scene.view;
        crate::falls::encode(
            &o.set.out.join(format!("{name}.mp4")),
            (v.width, v.height),
            scene.fps as u32,
            scene.frames().map(|f| f.image.bytes().to_vec()),
        )?;
        eprintln!(
            "{name}: {}x{} {} fps {:.0} s ({:.1} s)",
            v.width,
            v.height,
            scene.fps,
            scene.secs,
            started.elapsed().as_secs_f64()
        );
        let zone = v.lane_zone();
        let _ = write!(
            config,
            "  - name: {name}\n    file: {name}.mp4\n    zones:\n      lane: {}\n",
            flow(zone.points().iter().map(|p| (p.x, p.y)))
        );
        let _ = write!(
            rules,
            "  - name: {name}-lane\n    kind: lane_obstructed\n    camera: {name}\n    zone: lane\n    dwell_secs: {DWELL_SECS}\n"
        );
        if o.passage {
            let ground = v
                .calibration()
                .context("the lane's stretch is not in front of the camera")?;
            let _ = write!(
                rules,
                "    min_width_m: {:.2}\n    ground:\n      corners: {}\n      width_m: {:.3}\n      length_m: {:.3}\n",
                v.lane_m - PASSAGE_SPARE_M,
                flow(ground.corners),
                ground.width_m,
                ground.length_m
            );
        }
        for e in expected {
            let _ = writeln!(
                labels,
                "  - {{ camera: {name}, kind: lane_obstructed, start: {}, end: {} }}",
                e.start,
                e.end.unwrap_or(scene.secs)
            );
        }
        names.push(name.to_string());
    }
    o.set
        .finish(&names, "lanes.yaml", (config, rules, labels))?;
    Ok(names)
}
