//! Cost per frame of the motion gate's mask (`vigil-motion`): `cargo bench -p vigil-tools
//! --bench gate_cost`. The "everything at once" bin scene (a person standing, a car parking, a
//! bag left, dusk) is rendered at the sizes detector frames arrive in (416×234: YOLOX-Nano on 16:9
//! footage; 320×180), then each frame is stepped through a `MotionDetector` watching one zone,
//! on one thread. Prints the median and 90th percentile milliseconds per frame, the share of one
//! core a camera at 5 frames/s takes, and how many frames showed motion in the zone.

mod common;

use std::time::Instant;
use vigil_motion::{MotionDetector, watched_area};
use vigil_tools::scenes::bins::ground_zone;

fn main() {
    let frames = common::frames(500);
    println!("size       ms/frame p50   p90    core share at 5 fps   frames with motion");
    for (w, h) in [(416u32, 234u32), (320, 180)] {
        let rendered = common::bin_scene(w, h, frames);
        let zone: Vec<(f64, f64)> = ground_zone().points().iter().map(|p| (p.x, p.y)).collect();
        let mut mask = MotionDetector::new(12.0, watched_area(&[zone], 0.05));
        let (mut times, mut moving) = (Vec::new(), 0);
        for f in &rendered {
            let start = Instant::now();
            let motion = std::hint::black_box(mask.step(&f.image, f.pts));
            times.push(start.elapsed().as_secs_f64() * 1e3);
            moving += usize::from(motion.any());
        }
        let (p50, p90) = common::p50_p90(&mut times);
        println!(
            "{w}x{h}    {p50:>6.3} {p90:>6.3}   {:>7.3} %            {moving} of {}",
            p50 * 5.0 / 1000.0 * 100.0,
            rendered.len()
        );
    }
}
