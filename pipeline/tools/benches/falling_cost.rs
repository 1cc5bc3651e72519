//! Cost per frame of the falling-object stage (foreground + blobs + tracker + classifier),
//! decode excluded, on rendered 720p and 1080p sequences: `cargo bench -p vigil-tools --bench falling_cost`.
//! Prints the median and 90th percentile milliseconds per frame and the share of one core that
//! 25 frames/s would take. Frames are rendered first, then timed on one thread.

mod common;

use std::time::Instant;
use vigil_falling::{FallDetector, GrayFrame};
use vigil_tools::scenes::falls::{Scene, SetKind, luma, scene_spec};

fn main() {
    let frames_per_case = common::frames(150) as u32;
    println!("case                      size       ms/frame p50   p90   core share at 25 fps");
    for (kind, label) in [
        (SetKind::Throws, "throw"),
        (SetKind::Distractors, "distractors"),
    ] {
        for (w, h) in [(1280u32, 720u32), (1920, 1080)] {
            // The first sequence of the set at this size with rain, if any, for the worst case.
            let mut spec = scene_spec(kind, 3, 0, f64::from(frames_per_case) / 25.0 + 1.0);
            spec.width = w;
            spec.height = h;
            spec.fps = 25;
            let mut scene = Scene::new(spec);
            let config = scene.calibration().fall_config().expect("calibration");
            let frames: Vec<Vec<u8>> = (0..frames_per_case)
                .map(|_| luma(&scene.next_frame()))
                .collect();
            let mut det = FallDetector::new(config);
            let mut times = Vec::new();
            for (i, y) in frames.iter().enumerate() {
                let frame = GrayFrame {
                    width: w,
                    height: h,
                    stride: w as usize,
                    data: y,
                };
                let start = Instant::now();
                let v = det.process(i as f64 / 25.0, &frame, (w, h));
                times.push(start.elapsed().as_secs_f64() * 1e3);
                std::hint::black_box(v);
            }
            // The warm-up frames learn without grouping: leave them out.
            let (p50, p90) = common::p50_p90(&mut times[20..]);
            println!(
                "{label:<25} {w}x{h:<5} {p50:>12.2} {p90:>6.2}   {:>5.1} %",
                p50 * 25.0 / 10.0
            );
        }
    }
}
