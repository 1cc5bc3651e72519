//! Objects thrown or falling from height (高空抛物).
//!
//! A dedicated camera looks up at a facade. Every decoded frame (not the detector's sampled
//! rate) goes through [`Foreground`] (per-pixel running Gaussian on luma, zone-restricted,
//! global-change guard) → blobs → [`SmallTracker`] (gating by the position predicted under
//! gravity, on the facade plane) → [`classify`] (parabola fit with residual, acceleration and
//! lateral limits) → a [`Fall`] with its [`Origin`] floor and column from the [`Facade`]
//! calibration. [`FacadeCamera`] recovers the camera behind the calibration and [`flight`] fits a
//! track's path under gravity in 3-D through it (not yet used by [`classify()`]). The synthetic
//! facade renderer and its scorer are tools (`vigil-tools`).

pub mod camera;
pub mod classify;
pub mod fit;
pub mod flight;
pub mod foreground;
pub mod tracker;

pub use camera::FacadeCamera;
pub use classify::{ClassifyParams, Fall, Origin, Reject, classify};
pub use foreground::{Blob, Foreground, ForegroundParams, GrayFrame};
pub use tracker::{FallTrack, Sighting, SmallTracker, TrackerParams};
pub use vigil_spec::facade::{self, Facade};
pub use vigil_spec::falling::{FallConfig, G};

use std::collections::BTreeMap;

/// The verdict on one ended track.
#[derive(Clone, Debug)]
pub struct Verdict {
    pub track: FallTrack,
    pub outcome: Result<Fall, Reject>,
    /// An accepted fall that continues an earlier one (the same object, its track broken where
    /// it crossed something of its own brightness): the track id of that fall. Not a new alert.
    pub continues: Option<u64>,
}

/// What the detector has seen, for metrics and `--explain`.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct FallStats {
    pub frames: u64,
    /// Frames whose candidates a global change suppressed.
    pub guarded_frames: u64,
    pub warmup_frames: u64,
    pub candidates: u64,
    /// Tracks of fewer than three sightings (noise), not classified one by one.
    pub blips: u64,
    pub falls: u64,
    /// Accepted tracks that continued an earlier fall (not raised again).
    pub continuations: u64,
    /// Rejected tracks by reason.
    pub rejected: BTreeMap<String, u64>,
    /// Candidates not tracked because too many tracks were open.
    pub overflow: u64,
}

/// One camera's falling-object detector.
pub struct FallDetector {
    config: FallConfig,
    foreground: Option<Foreground>,
    tracker: SmallTracker,
    stats: FallStats,
    /// Falls accepted lately, which a new track may continue.
    recent: Vec<RecentFall>,
    /// Tracks rejected lately for too little drop or too few sightings: the slow start of a
    /// fall (an object hovering at the apex of a throw) can be one of them.
    preludes: Vec<FallTrack>,
}

struct RecentFall {
    track: u64,
    first_t: f64,
    last_t: f64,
    /// Height and sideways position over time since `first_t`.
    height: fit::Poly,
    lateral: fit::Poly,
}

/// How long before a fall's first sighting its prelude may have ended.
const PRELUDE_SECS: f64 = 0.6;

/// How long after its last sighting a fall may be continued by another track.
const CONTINUATION_SECS: f64 = 1.5;

/// Tracks shorter than this are noise and get no verdict of their own.
const MIN_VERDICT_POINTS: usize = 3;

impl FallDetector {
    pub fn new(config: FallConfig) -> Self {
        let tracker = SmallTracker::new(config.tracker.clone());
        Self {
            config,
            foreground: None,
            tracker,
            stats: FallStats::default(),
            recent: Vec::new(),
            preludes: Vec::new(),
        }
    }

    pub fn stats(&self) -> FallStats {
        FallStats {
            overflow: self.tracker.overflow,
            ..self.stats.clone()
        }
    }

    /// Processes the frame shown at stream time `t` (seconds); `source` is the decoded size
    /// (positions are reported in its pixels). Returns the verdicts on tracks that ended.
    pub fn process(&mut self, t: f64, frame: &GrayFrame<'_>, source: (u32, u32)) -> Vec<Verdict> {
        let size = (frame.width, frame.height);
        if self.foreground.as_ref().is_some_and(|f| f.size() != size) {
            // The camera changed resolution: learn it afresh.
            self.foreground = None;
        }
        let foreground = self.foreground.get_or_insert_with(|| {
            Foreground::new(
                self.config.foreground.clone(),
                size.0,
                size.1,
                &self.config.zone,
            )
        });
        let fg = foreground.process(frame);
        self.stats.frames += 1;
        self.stats.guarded_frames += u64::from(fg.guarded);
        self.stats.warmup_frames += u64::from(fg.warming_up);
        self.stats.candidates += fg.blobs.len() as u64;
        let (w, h) = (f64::from(size.0), f64::from(size.1));
        let (sw, sh) = (f64::from(source.0), f64::from(source.1));
        let facade = &self.config.facade;
        let sightings = fg
            .blobs
            .iter()
            .filter_map(|b| {
                let (x, y) = (b.cx / w, b.cy / h);
                let (u, hm) = facade.to_facade((x, y))?;
                Some(Sighting {
                    t,
                    x_px: x * sw,
                    y_px: y * sh,
                    u,
                    h: hm,
                    area: b.area,
                    crowd: fg.blobs.len() as u32,
                })
            })
            .collect();
        let ended = self.tracker.step(t, sightings);
        self.judge(ended)
    }

    /// Ends every open track (end of input) and returns their verdicts.
    pub fn finish(&mut self) -> Vec<Verdict> {
        let ended = self.tracker.flush();
        self.judge(ended)
    }

    fn judge(&mut self, ended: Vec<FallTrack>) -> Vec<Verdict> {
        let mut out = Vec::new();
        for track in ended {
            if track.points.len() < MIN_VERDICT_POINTS {
                self.stats.blips += 1;
                continue;
            }
            let mut track = track;
            let mut outcome = classify(&track, &self.config.facade, &self.config.classify);
            match &outcome {
                Ok(fall) => {
                    if let Some((merged, merged_outcome)) = self.with_prelude(&track, fall) {
                        (track, outcome) = (merged, merged_outcome);
                    }
                }
                Err(Reject::NotFalling { .. } | Reject::TooShort { .. }) => {
                    self.preludes.push(track.clone());
                }
                Err(_) => {}
            }
            let mut continues = None;
            if let Ok(fall) = &outcome {
                let first = &track.points[0];
                let last_t = track.points.last().map_or(first.t, |p| p.t);
                self.recent
                    .retain(|r| first.t - r.last_t <= CONTINUATION_SECS);
                // Where each recent fall's fit puts the object at this track's first sighting.
                continues = self
                    .recent
                    .iter()
                    .find(|r| {
                        let dt = first.t - r.first_t;
                        let gap = first.t - r.last_t;
                        let (du, dh) = (r.lateral.at(dt) - first.u, r.height.at(dt) - first.h);
                        gap >= -0.1
                            && du.hypot(dh) <= 1.0 + 0.15 * r.height.slope(dt).abs() * gap.max(0.1)
                    })
                    .map(|r| r.track);
                self.recent.push(RecentFall {
                    track: track.id,
                    first_t: first.t,
                    last_t,
                    height: fall.height_fit.clone(),
                    lateral: fall.lateral_fit.clone(),
                });
            }
            match &outcome {
                Ok(_) if continues.is_some() => self.stats.continuations += 1,
                Ok(_) => self.stats.falls += 1,
                Err(r) => *self.stats.rejected.entry(r.code().into()).or_default() += 1,
            }
            out.push(Verdict {
                track,
                outcome,
                continues,
            });
        }
        out
    }

    /// The fall with the rejected track that its fit passes through just before its first
    /// sighting (the apex of a throw, seen hovering): the start is then observed rather than
    /// extrapolated. `None` when there is no such track or the whole does not pass as a fall.
    fn with_prelude(
        &mut self,
        track: &FallTrack,
        fall: &Fall,
    ) -> Option<(FallTrack, Result<Fall, Reject>)> {
        let first = &track.points[0];
        self.preludes.retain(|p| {
            p.points
                .last()
                .is_some_and(|l| first.t - l.t <= PRELUDE_SECS)
        });
        let (hf, lf) = (&fall.height_fit, &fall.lateral_fit);
        let i = self.preludes.iter().position(|p| {
            let Some(last) = p.points.last() else {
                return false;
            };
            let gap = first.t - last.t;
            // The fits are in time since the fall's first sighting: `dt` is negative.
            let dt = last.t - first.t;
            let (du, dh) = (lf.at(dt) - last.u, hf.at(dt) - last.h);
            gap > 0.0 && du.hypot(dh) <= 1.0 + 0.3 * hf.slope(dt).abs() * gap.max(0.1)
        })?;
        let prelude = self.preludes.remove(i);
        let mut merged = FallTrack {
            id: track.id,
            points: prelude.points,
        };
        merged.points.extend(track.points.iter().cloned());
        let outcome = classify(&merged, &self.config.facade, &self.config.classify);
        outcome.is_ok().then_some((merged, outcome))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detector() -> FallDetector {
        FallDetector::new(FallConfig {
            facade: facade::skewed(),
            zone: Vec::new(),
            foreground: ForegroundParams::default(),
            tracker: TrackerParams::default(),
            classify: ClassifyParams::default(),
        })
    }

    /// Sightings at 25 fps from frame `from` (inclusive) to `to` (exclusive) of `h(t)`.
    fn track(id: u64, from: u32, to: u32, h: impl Fn(f64) -> f64) -> FallTrack {
        FallTrack {
            id,
            points: (from..to)
                .map(|i| {
                    let t = f64::from(i) / 25.0;
                    Sighting {
                        t,
                        x_px: 0.0,
                        y_px: 0.0,
                        u: 10.0,
                        h: h(t),
                        area: 30,
                        crowd: 1,
                    }
                })
                .collect(),
        }
    }

    /// Thrown up at 3 m/s from 40 m at t = 0: apex 40.46 m at 0.31 s.
    fn throw(t: f64) -> f64 {
        40.0 + 3.0 * t - 0.5 * G * t * t
    }

    #[test]
    fn a_hovering_apex_track_becomes_the_start_of_its_fall() {
        let mut det = detector();
        // Seen near the apex (0.2–0.6 s): too little drop on its own.
        let apex = det.judge(vec![track(1, 5, 15, throw)]);
        assert!(matches!(apex[0].outcome, Err(Reject::NotFalling { .. })));
        // Lost for 0.2 s, then seen falling.
        let fall = det.judge(vec![track(2, 20, 60, throw)]);
        let v = &fall[0];
        let f = v.outcome.as_ref().expect("a fall");
        assert_eq!(
            v.track.points.len(),
            50,
            "the apex sightings are part of it"
        );
        assert!(
            (f.origin.h_m - (40.0 + 9.0 / (2.0 * G))).abs() < 0.05,
            "{:?}",
            f.origin
        );
        assert_eq!(v.continues, None);
        assert_eq!(det.stats().falls, 1);
    }

    #[test]
    fn a_fall_that_resumes_after_a_gap_is_one_fall() {
        let mut det = detector();
        let drop = |t: f64| 50.0 - 0.5 * G * t * t;
        let first = det.judge(vec![track(1, 0, 30, drop)]);
        assert!(first[0].outcome.is_ok());
        // Unseen for 0.4 s (past a window of its own brightness), then seen again.
        let rest = det.judge(vec![track(2, 40, 60, drop)]);
        assert!(rest[0].outcome.is_ok());
        assert_eq!(rest[0].continues, Some(1));
        // Another object elsewhere is not a continuation.
        let other = det.judge(vec![track(3, 40, 60, |t| {
            30.0 - 0.5 * G * (t - 1.0).powi(2)
        })]);
        assert_eq!(other[0].continues, None);
        let s = det.stats();
        assert_eq!((s.falls, s.continuations), (2, 1));
    }
}
