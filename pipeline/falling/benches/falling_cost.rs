//! Cost per frame of the falling-object stage (foreground + blobs + tracker + the 3-D verdict),
//! decode excluded, on rendered 720p and 1080p sequences from a far camera and a close one (its
//! distractors in a downpour): `cargo bench -p vigil-falling`. Prints the
//! median, 90th percentile and mean milliseconds per frame and the share of one core that 25
//! frames/s would take at the mean (a track's fit costs at the frame it ends, not every frame).
//! Frames are rendered first, then timed on one thread, each frame through two detectors side by
//! side: the rule as shipped, and the same with faint blocks off (`faint_diff: 0`), so that the
//! ratio of their means is what faint objects cost. The allocator is set up as `vigil` does.

#[path = "../../tools/benches/common/timing.rs"]
mod timing;

use std::time::Instant;
use timing::{frames, p50_p90};
use vigil_falling::{FallDetector, GrayFrame};
use vigil_fallscene::{Distractor, Placement, Scene, SetKind, luma, placed_spec};

fn main() {
    // The allocator as `vigil` sets it up: each model's planes in mappings of their own. Left
    // as glibc starts, they came from its heap, and what prefetching the model saves at 1080p
    // (a fifth to a quarter, mapped for themselves) shrank to between 6 % worse and 11 % better.
    vigil_core::mem::configure_allocator();
    let frames_per_case = frames(150) as u32;
    println!(
        "per-pixel model: the {} build",
        vigil_falling::Foreground::model_build()
    );
    println!(
        "case                      size       ms/frame p50   p90   mean   core share at 25 fps (mean)   faint off: mean   on/off"
    );
    let close = Placement::Close { held_out: false };
    for (placement, kind, label) in [
        (Placement::Far, SetKind::Throws, "far throw"),
        (Placement::Far, SetKind::Distractors, "far distractors"),
        (close, SetKind::Throws, "close throw"),
        (close, SetKind::Distractors, "close distractors"),
    ] {
        for (w, h) in [(1280u32, 720u32), (1920, 1080)] {
            // The first sequence of the set at this size with rain, if any, for the worst case.
            let secs = f64::from(frames_per_case) / 25.0 + 1.0;
            let mut spec = placed_spec(placement, kind, 3, 0, secs);
            // The close camera's distractors at their worst: the densest downpour.
            let raining = spec
                .distractors
                .iter()
                .any(|d| matches!(d, Distractor::Downpour { .. }));
            if placement == close && kind == SetKind::Distractors && !raining {
                spec.distractors.push(Distractor::Downpour {
                    drops: 450,
                    wind: [2.0, 0.5],
                });
            }
            spec.width = w;
            spec.height = h;
            spec.fps = 25;
            let mut scene = Scene::new(spec);
            let config = scene.calibration().fall_config().expect("calibration");
            let frames: Vec<Vec<u8>> = (0..frames_per_case)
                .map(|_| luma(&scene.next_frame()))
                .collect();
            let mut off = config.clone();
            off.foreground.faint_diff = 0.0;
            let mut dets = [FallDetector::new(config), FallDetector::new(off)];
            let mut times = [Vec::new(), Vec::new()];
            for (i, y) in frames.iter().enumerate() {
                let frame = GrayFrame {
                    width: w,
                    height: h,
                    stride: w as usize,
                    data: y,
                };
                // Alternate which goes first, so that neither always finds the frame in cache.
                for k in [i % 2, 1 - i % 2] {
                    let start = Instant::now();
                    let v = dets[k].process(i as f64 / 25.0, &frame, (w, h));
                    times[k].push(start.elapsed().as_secs_f64() * 1e3);
                    std::hint::black_box(v);
                }
            }
            // The warm-up frames learn without grouping: leave them out.
            let [on, off] = times.map(|mut t| t.split_off(20));
            let mean = |t: &[f64]| t.iter().sum::<f64>() / t.len() as f64;
            let (mut on, m_off) = (on, mean(&off));
            let m_on = mean(&on);
            let (p50, p90) = p50_p90(&mut on);
            println!(
                "{label:<25} {w}x{h:<5} {p50:>12.2} {p90:>6.2} {m_on:>6.2}   {:>5.1} %{:>34.2} {:>8.2}",
                m_on * 25.0 / 10.0,
                m_off,
                m_on / m_off
            );
        }
    }
}
