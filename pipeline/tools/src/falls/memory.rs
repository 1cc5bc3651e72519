//! The falling-object detector on rendered sequences in memory: each frame's luma straight from
//! the renderer into a [`FallDetector`] with the calibration the scene carries — no encoding,
//! decoding or pipeline, so no compression either. Quicker than `eval-falls` on files: for
//! development (`vigil eval-falls --in-memory`) and the tests on rendered sequences.

use super::score::{Detection, SequenceScore, score};
use crate::scenes::falls::{Scene, SceneSpec, Truth, luma};
use std::collections::HashMap;
use vigil_falling::{
    ClassifyParams, FallDetector, FallStats, GrayFrame, Settled, Sighting, Verdict,
};

/// How the sequences are judged.
#[derive(Clone, Copy, Debug, Default)]
pub struct Judging {
    /// Print each fall, each rejected track of 8 points or more and where each throw truly was,
    /// on stderr.
    pub explain: bool,
    /// On the facade plane only, as before the 3-D verdict.
    pub plane: bool,
}

/// Runs one sequence through the detector and scores its alerts.
pub fn run(spec: SceneSpec, judging: Judging) -> SequenceScore {
    run_judged_by(spec, judging, ClassifyParams::default())
}

/// [`run`], its tracks judged by `classify` (a rule switched off, to show what it catches).
pub fn run_judged_by(spec: SceneSpec, judging: Judging, classify: ClassifyParams) -> SequenceScore {
    let mut scene = Scene::new(spec);
    // The view and its calibration; where the throws were seen is written as frames render.
    let view = scene.truth();
    let frames = (0..scene.frames()).map(|_| luma(&scene.next_frame()));
    let raised = detect(&view, frames, judging, classify);
    raised.scored(&scene.truth(), judging.explain)
}

/// What the detector raised on one sequence.
pub struct Raised {
    alerts: Alerts,
    stats: FallStats,
}

/// Runs the luma of each frame of the sequence `view` describes, in order (as the renderer
/// draws them, or as a decoder gives them back), through the detector with its calibration, its
/// tracks judged by `classify`.
pub fn detect(
    view: &Truth,
    frames: impl IntoIterator<Item = Vec<u8>>,
    judging: Judging,
    classify: ClassifyParams,
) -> Raised {
    let mut config = view
        .calibration
        .fall_config()
        .expect("a rendered scene's calibration is valid");
    config.classify = classify;
    let mut det = FallDetector::new(config);
    if judging.plane {
        det = det.on_the_plane();
    }
    let (w, h) = (view.scene.width, view.scene.height);
    let fps = f64::from(view.scene.fps);
    let mut alerts = Alerts {
        name: view.scene.name.clone(),
        explain: judging.explain,
        found: Vec::new(),
        raised: HashMap::new(),
    };
    let mut t = 0.0;
    for (i, y) in frames.into_iter().enumerate() {
        let frame = GrayFrame {
            width: w,
            height: h,
            stride: w as usize,
            data: &y,
        };
        t = i as f64 / fps;
        let verdicts = det.process(t, &frame, (w, h));
        alerts.take(t, verdicts, det.take_settled());
    }
    let verdicts = det.finish();
    alerts.take(t, verdicts, det.take_settled());
    Raised {
        alerts,
        stats: det.stats(),
    }
}

impl Raised {
    /// The alerts scored against `truth` (printed with the detector's counts with `explain`).
    pub fn scored(&self, truth: &Truth, explain: bool) -> SequenceScore {
        let s = score(truth, &self.alerts.found);
        if explain {
            let fps = f64::from(truth.scene.fps);
            for (k, (t, r)) in truth.throws.iter().zip(&s.throws).enumerate() {
                if t.track.is_empty() {
                    continue;
                }
                let seen = t.track.iter().map(|&(i, x, y)| (f64::from(i) / fps, x, y));
                eprintln!(
                    "{}: throw {k} (the truth) {} size={:.1} px floor={}: {}",
                    self.alerts.name,
                    span(seen),
                    t.size_px,
                    t.floor,
                    match r.found_floor {
                        Some(f) => format!("found, floor {f}"),
                        None => "missed".to_string(),
                    },
                );
            }
            eprintln!("{}: {:?} stats {:?}", self.alerts.name, s, self.stats);
        }
        s
    }
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
                            "{name}: {} {} accel={:.1} drop={:.1} floor={} ±{:.1} m out={:?}",
                            match v.continues {
                                Some(_) => "CONTINUES",
                                None => "FALL",
                            },
                            extent(p),
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
                    eprintln!("{name}: track {} rejected: {r}", extent(p));
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

/// A track's sightings, their times and their first and last pixels, for `--explain`.
fn extent(p: &[Sighting]) -> String {
    span(p.iter().map(|p| (p.t, p.x_px, p.y_px)))
}

/// How many `(t, x, y)` points there are, their first and last times and pixels.
fn span(mut points: impl ExactSizeIterator<Item = (f64, f64, f64)>) -> String {
    let n = points.len();
    let Some(a) = points.next() else {
        return "n=0".to_string();
    };
    let b = points.last().unwrap_or(a);
    format!(
        "n={n} t={:.2}..{:.2} px=({:.0},{:.0})..({:.0},{:.0})",
        a.0, b.0, a.1, a.2, b.1, b.2
    )
}

/// Every sequence of `specs`, two at a time (this machine's cores; a 1080p scene holds its
/// frames and models), in their order.
pub fn run_all(specs: Vec<SceneSpec>, judging: Judging) -> Vec<SequenceScore> {
    specs
        .chunks(2)
        .flat_map(|pair| crate::on_threads(pair, "fall-scene", |spec| run(spec.clone(), judging)))
        .collect()
}
