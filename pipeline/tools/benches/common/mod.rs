//! What the cost benches share: how many frames to time, the percentiles they print, and the
//! bin scene the gate and waste benches render.

mod timing;

pub use timing::{frames, p50_p90};
use vigil_tools::scenes::bins::{SynthFrame, cases};

/// The first `frames` frames of the "everything at once" bin scene (a person standing, a car
/// parking, a bag left, dusk) rendered at `width`×`height`.
pub fn bin_scene(width: u32, height: u32, frames: usize) -> Vec<SynthFrame> {
    let (_, mut scene, _) = cases(1)
        .into_iter()
        .find(|(n, ..)| *n == "everything-at-once")
        .expect("the scene");
    (scene.width, scene.height) = (width, height);
    scene.frames().take(frames).collect()
}
