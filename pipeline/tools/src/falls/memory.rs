//! The falling-object detector on rendered sequences in memory: each frame's luma straight from
//! the renderer into a [`FallDetector`] with the calibration the scene carries — no encoding,
//! decoding or pipeline, so no compression either. Quicker than `eval-falls` on files: for
//! development (`vigil eval-falls --in-memory`) and the tests on rendered sequences.

use super::score::{Detection, SequenceScore, score};
use crate::scenes::falls::{Scene, SceneSpec, luma};
use vigil_falling::{FallDetector, GrayFrame};

/// Runs one sequence through the detector and scores its alerts; with `explain`, prints each
/// fall and each rejected track of 8 points or more on stderr.
pub fn run(spec: SceneSpec, explain: bool) -> SequenceScore {
    let mut scene = Scene::new(spec);
    let name = scene.spec().name.clone();
    let config = scene
        .calibration()
        .fall_config()
        .expect("a rendered scene's calibration is valid");
    let mut det = FallDetector::new(config);
    let (w, h) = (scene.spec().width, scene.spec().height);
    let fps = f64::from(scene.spec().fps);
    let mut found = Vec::new();
    for i in 0..scene.frames() {
        let y = luma(&scene.next_frame());
        let frame = GrayFrame {
            width: w,
            height: h,
            stride: w as usize,
            data: &y,
        };
        let t = f64::from(i) / fps;
        for v in det.process(t, &frame, (w, h)) {
            let p = &v.track.points;
            match &v.outcome {
                Ok(fall) => {
                    if explain {
                        eprintln!(
                            "{name}: FALL n={} t={:.2}..{:.2} px=({:.0},{:.0})..({:.0},{:.0}) accel={:.1} drop={:.1} floor={}",
                            p.len(),
                            p[0].t,
                            p[p.len() - 1].t,
                            p[0].x_px,
                            p[0].y_px,
                            p[p.len() - 1].x_px,
                            p[p.len() - 1].y_px,
                            fall.accel_mps2,
                            fall.drop_m,
                            fall.origin.floor
                        );
                    }
                    found.push(Detection {
                        raised_t: t,
                        floor: fall.origin.floor,
                        column: fall.origin.column,
                        points: p.iter().map(|p| (p.t, p.x_px, p.y_px)).collect(),
                    });
                }
                Err(r) if explain && p.len() >= 8 => {
                    eprintln!("{name}: track of {} rejected: {r}", p.len());
                }
                Err(_) => {}
            }
        }
    }
    let s = score(&scene.truth(), &found);
    if explain {
        eprintln!("{name}: {:?} stats {:?}", s, det.stats());
    }
    s
}

/// Every sequence of `specs`, two at a time (this machine's cores; a 1080p scene holds its
/// frames and models), in their order.
pub fn run_all(specs: Vec<SceneSpec>, explain: bool) -> Vec<SequenceScore> {
    specs
        .chunks(2)
        .flat_map(|pair| crate::on_threads(pair, "fall-scene", |spec| run(spec.clone(), explain)))
        .collect()
}
