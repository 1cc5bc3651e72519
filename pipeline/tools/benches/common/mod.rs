//! What the cost benches share: how many frames to time, the percentiles they print, and the
//! bin scene the gate and waste benches render.

use vigil_tools::scenes::bins::{SynthFrame, cases};

/// Frames per case: `FRAMES` from the environment, else `default`.
pub fn frames(default: usize) -> usize {
    std::env::var("FRAMES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The median and 90th percentile of `times` (sorted in place).
pub fn p50_p90(times: &mut [f64]) -> (f64, f64) {
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], times[times.len() * 9 / 10])
}

/// The first `frames` frames of the "everything at once" bin scene (a person standing, a car
/// parking, a bag left, dusk) rendered at `width`×`height`.
#[allow(dead_code)] // the falling-object bench renders its own scenes
pub fn bin_scene(width: u32, height: u32, frames: usize) -> Vec<SynthFrame> {
    let (_, mut scene, _) = cases(1)
        .into_iter()
        .find(|(n, ..)| *n == "everything-at-once")
        .expect("the scene");
    (scene.width, scene.height) = (width, height);
    scene.frames().take(frames).collect()
}
