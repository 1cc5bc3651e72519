//! The falling-object detector on rendered sequences in memory: each frame's luma straight from
//! the renderer into a [`FallDetector`] with the calibration the scene carries — no encoding,
//! decoding or pipeline, so no compression either. Quicker than `eval-falls` on files: for
//! development (`vigil eval-falls --in-memory`) and the tests on rendered sequences.

use super::score::{Detection, SequenceScore, score};
use crate::scenes::falls::{Scene, SceneSpec, luma};
use std::collections::HashMap;
use vigil_falling::{FallDetector, GrayFrame, Settled, Verdict};

/// How the sequences are judged.
#[derive(Clone, Copy, Debug, Default)]
pub struct Judging {
    /// Print each fall and each rejected track of 8 points or more on stderr.
    pub explain: bool,
    /// On the facade plane only, as before the 3-D verdict.
    pub plane: bool,
}

/// Runs one sequence through the detector and scores its alerts.
pub fn run(spec: SceneSpec, judging: Judging) -> SequenceScore {
    run_frames(
        Scene::new(spec),
        |scene| Some(luma(&scene.next_frame())),
        judging,
    )
}

/// Runs the luma of each of `scene`'s frames in order, from `next` (rendered by the scene it is
/// handed, or as a decoder gives them back; `None` ends the sequence early), through the
/// detector with `scene`'s calibration, and scores its alerts against `scene`'s truth.
pub fn run_frames(
    mut scene: Scene,
    mut next: impl FnMut(&mut Scene) -> Option<Vec<u8>>,
    judging: Judging,
) -> SequenceScore {
    let explain = judging.explain;
    let config = scene
        .calibration()
        .fall_config()
        .expect("a rendered scene's calibration is valid");
    let mut det = FallDetector::new(config);
    if judging.plane {
        det = det.on_the_plane();
    }
    let (w, h) = (scene.spec().width, scene.spec().height);
    let fps = f64::from(scene.spec().fps);
    let mut alerts = Alerts {
        name: scene.spec().name.clone(),
        explain,
        found: Vec::new(),
        raised: HashMap::new(),
    };
    let mut t = 0.0;
    for i in 0..scene.frames() {
        let Some(y) = next(&mut scene) else { break };
        let frame = GrayFrame {
            width: w,
            height: h,
            stride: w as usize,
            data: &y,
        };
        t = f64::from(i) / fps;
        let verdicts = det.process(t, &frame, (w, h));
        alerts.take(t, verdicts, det.take_settled());
    }
    let verdicts = det.finish();
    alerts.take(t, verdicts, det.take_settled());
    let s = score(&scene.truth(), &alerts.found);
    if explain {
        eprintln!("{}: {:?} stats {:?}", alerts.name, s, det.stats());
    }
    s
}

/// What the pipeline would raise: an alert per fall that continues none, and its `update` when
/// a fall of several tracks settles.
struct Alerts {
    name: String,
    explain: bool,
    found: Vec<Detection>,
    /// The detection raised on each track, to which its fall's settled estimate goes.
    raised: HashMap<u64, usize>,
}

impl Alerts {
    fn take(&mut self, t: f64, verdicts: Vec<Verdict>, settled: Vec<Settled>) {
        let name = &self.name;
        for v in verdicts {
            let p = &v.track.points;
            match &v.outcome {
                Ok(fall) => {
                    if self.explain {
                        eprintln!(
                            "{name}: {} n={} t={:.2}..{:.2} px=({:.0},{:.0})..({:.0},{:.0}) accel={:.1} drop={:.1} floor={} ±{:.1} m out={:?}",
                            match v.continues {
                                Some(_) => "CONTINUES",
                                None => "FALL",
                            },
                            p.len(),
                            p[0].t,
                            p[p.len() - 1].t,
                            p[0].x_px,
                            p[0].y_px,
                            p[p.len() - 1].x_px,
                            p[p.len() - 1].y_px,
                            fall.accel_mps2,
                            fall.drop_m,
                            fall.origin.floor,
                            fall.origin.sigma_m,
                            fall.origin.out_m,
                        );
                    }
                    if v.continues.is_some() {
                        continue;
                    }
                    self.raised.insert(v.track.id, self.found.len());
                    self.found.push(Detection {
                        raised_t: t,
                        floor: fall.origin.floor,
                        column: fall.origin.column,
                        points: p.iter().map(|p| (p.t, p.x_px, p.y_px)).collect(),
                    });
                }
                Err(r) if self.explain && p.len() >= 8 => {
                    eprintln!("{name}: track of {} rejected: {r}", p.len());
                }
                Err(_) => {}
            }
        }
        for s in settled {
            if let Some(d) = self
                .raised
                .remove(&s.track)
                .and_then(|i| self.found.get_mut(i))
                && s.tracks > 1
            {
                d.floor = s.fall.origin.floor;
                d.column = s.fall.origin.column;
                d.points = s.points.iter().map(|p| (p.t, p.x_px, p.y_px)).collect();
            }
        }
    }
}

/// Every sequence of `specs`, two at a time (this machine's cores; a 1080p scene holds its
/// frames and models), in their order.
pub fn run_all(specs: Vec<SceneSpec>, judging: Judging) -> Vec<SequenceScore> {
    specs
        .chunks(2)
        .flat_map(|pair| crate::on_threads(pair, "fall-scene", |spec| run(spec.clone(), judging)))
        .collect()
}
