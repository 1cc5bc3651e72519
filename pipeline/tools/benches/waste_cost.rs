//! Cost per frame of the waste stage (static-object detector + waste rules), decoding and
//! detection excluded: `cargo bench -p vigil-tools --bench waste_cost`. The "everything at once" bin scene (a person
//! standing, a car parking, a bag left, dusk) is rendered first at the size YOLOX-Nano's frames
//! arrive in (416×234 for 16:9 footage) and at 320×180, then timed on one thread. Prints the
//! median and 90th percentile milliseconds per frame and the share of one core a camera at
//! 5 frames/s takes.

mod common;

use std::time::Instant;
use vigil_core::{CameraId, Size};
use vigil_rules::test_meta;
use vigil_tools::scenes::bins::{bin_zone, ground_zone};
use vigil_waste::{SceneConfig, WasteCheck, WasteEngine, WasteRule};

fn main() {
    let frames = common::frames(500);
    println!("size       ms/frame p50   p90   core share at 5 fps");
    for (w, h) in [(416u32, 234u32), (320, 180)] {
        let rendered = common::bin_scene(w, h, frames);
        let camera = CameraId::new("bins");
        let (bin, line) = bin_zone();
        let rule = |id: &str, polygon, check| WasteRule {
            id: vigil_core::RuleId::new(id),
            camera: camera.clone(),
            zone: vigil_core::ZoneId::new(id),
            polygon,
            check,
            static_secs: 20.0,
            severity: Default::default(),
            schedule: None,
            min_area: 0.0,
            max_area: 0.25,
        };
        let rules = vec![
            rule("left", ground_zone(), WasteCheck::Left),
            rule(
                "overflow",
                bin,
                WasteCheck::Overflow {
                    fill_line: Some(line),
                    min_above: 0.15,
                    max_fill: 0.6,
                },
            ),
        ];
        let mut engine = WasteEngine::new(SceneConfig::default(), rules);
        let mut times = Vec::new();
        for f in &rendered {
            let meta = test_meta(&camera, Size::new(w, h), f.pts);
            let start = Instant::now();
            std::hint::black_box(engine.step(&meta, &f.image, &f.tracks));
            times.push(start.elapsed().as_secs_f64() * 1e3);
        }
        let (p50, p90) = common::p50_p90(&mut times);
        println!(
            "{w}x{h}    {p50:>6.3} {p90:>6.3}   {:>5.2} %",
            p50 * 5.0 / 1000.0 * 100.0
        );
    }
}
