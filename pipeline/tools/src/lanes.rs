//! `vigil eval-lanes`: the synthetic lane scenes of a seed ([`crate::scenes::lanes`]) through a
//! `lane_obstructed` rule (`dwell_secs` [`DWELL_SECS`]), with the tracks a detector would report
//! for their people and vehicles, scored against what each scene must raise: every obstruction
//! alerted within `dwell_secs` + 5 s of its arrival and ended within 5 s of the lane clearing,
//! nothing else. With [`Watch::LaneAndDwell`], a `dwell` rule on vehicles watches the same zone
//! too, as a site that had one before lanes were watched for anything would keep it.

use crate::scenes::lanes::{
    DWELL_SECS, Expected, LaneScene, PASSAGE_SPARE_M, cases, passage_cases,
};
use serde::Serialize;
use std::time::{Duration, SystemTime};
use vigil_core::{AlertEvent, CameraId, FrameMeta, RuleId, Severity, Track, ZoneId};
use vigil_lane::{LaneEngine, LaneRule, OneAlert, SceneStats, scene_config};
use vigil_rules::RuleEngine;
use vigil_spec::lane::Passage;
use vigil_spec::rule::Rule;

/// Which rules watch the lane.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Watch {
    /// A `lane_obstructed` rule alone.
    Lane,
    /// It and a `dwell` rule on `vehicle` over the same zone (the same `dwell_secs`, 3 s
    /// `max_gap`), their alerts about one object merged as the pipeline merges them
    /// ([`OneAlert`]) — or, with `merged` false, each rule's alerts as they come.
    LaneAndDwell { merged: bool },
    /// A `lane_obstructed` rule with the lane's ground calibration, asking for a passage
    /// [`PASSAGE_SPARE_M`] narrower than the lane, on the scenes made for it
    /// ([`passage_cases`]).
    Passage,
}

/// An alert as raised, with its end.
#[derive(Clone, Debug, Serialize)]
pub struct Raised {
    pub class: String,
    pub started: f64,
    pub raised: f64,
    pub ended: Option<f64>,
}

/// One scene's run.
#[derive(Debug, Serialize)]
pub struct SceneResult {
    pub name: String,
    /// Camera height (m), tilt down (°), lens (°), offset from the lane's centre line (m).
    pub camera: [f64; 4],
    pub expected: usize,
    pub alerts: Vec<Raised>,
    /// What was wrong, if anything.
    pub failures: Vec<String>,
    #[serde(skip)]
    pub stats: SceneStats,
}

/// A seed's scenes, scored.
#[derive(Debug, Serialize)]
pub struct Score {
    pub seed: u64,
    pub watch: Watch,
    pub scenes: Vec<SceneResult>,
    pub obstructions: usize,
    /// Obstructions alerted in time (and ended in time).
    pub alerted: usize,
    pub alerts: usize,
    /// Alerts in scenes with nothing left in the lane (traffic, people, shadows, lights).
    pub false_in_clear_scenes: usize,
}

impl Score {
    pub fn precision(&self) -> f64 {
        match self.alerts {
            0 => 1.0,
            n => self.alerted as f64 / n as f64,
        }
    }

    pub fn failures(&self) -> Vec<String> {
        self.scenes
            .iter()
            .flat_map(|s| s.failures.iter().map(move |f| format!("{}: {f}", s.name)))
            .collect()
    }
}

/// Runs `scene` through a `lane_obstructed` rule on its lane (and what else `watch` says);
/// `extra` adds tracks to each frame (by time).
pub fn run(
    scene: &LaneScene,
    watch: Watch,
    extra: impl Fn(f64) -> Vec<Track>,
) -> (Vec<Raised>, SceneStats) {
    let camera = CameraId::new("lane");
    let rule = LaneRule {
        id: RuleId::new("lane-clear"),
        camera: camera.clone(),
        zone: ZoneId::new("lane"),
        polygon: scene.view.lane_zone(),
        dwell_secs: DWELL_SECS,
        min_fraction: 0.003,
        passage: match watch {
            Watch::Passage => Some(Passage {
                ground: scene
                    .view
                    .calibration()
                    .expect("the lane's stretch is seen in front of the camera"),
                min_width_m: scene.view.lane_m - PASSAGE_SPARE_M,
            }),
            _ => None,
        },
        severity: Severity::High,
        schedule: None,
    };
    let dwell = match watch {
        Watch::Lane | Watch::Passage => Vec::new(),
        Watch::LaneAndDwell { .. } => vec![Rule {
            max_gap: Duration::from_secs(3),
            ..Rule::new(
                RuleId::new("car-parked"),
                camera.clone(),
                rule.zone.clone(),
                rule.polygon.clone(),
                vec!["vehicle".into()],
                Duration::from_secs_f64(DWELL_SECS),
            )
        }],
    };
    let mut merge = match watch {
        Watch::LaneAndDwell { merged: true } => {
            Some(OneAlert::new(&dwell, std::slice::from_ref(&rule)))
        }
        _ => None,
    };
    let mut rules = RuleEngine::new(dwell);
    let mut engine = LaneEngine::new(scene_config(), vec![rule]);
    let size = vigil_core::Size::new(scene.view.width, scene.view.height);
    let mut out: Vec<(vigil_core::AlertId, Raised)> = Vec::new();
    for (seq, f) in scene.frames().enumerate() {
        let meta = FrameMeta {
            camera: camera.clone(),
            seq: seq as u64,
            pts: f.pts,
            pass: 0,
            source_size: size,
            wall_time: SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000) + f.pts,
            arrived: std::time::Instant::now(),
        };
        let mut tracks = f.tracks;
        tracks.extend(extra(f.pts.as_secs_f64()));
        let mut alerts = rules.step(&meta, &tracks);
        alerts.extend(engine.step(&meta, &f.image, &tracks));
        if let Some(merge) = &mut merge {
            alerts = merge.pass(&meta, alerts);
        }
        for a in alerts {
            match a.event {
                AlertEvent::Start => out.push((
                    a.id.clone(),
                    Raised {
                        class: a
                            .objects
                            .first()
                            .map(|o| o.class.clone())
                            .unwrap_or_default(),
                        started: a.started_pts_secs,
                        raised: a.raised_pts_secs,
                        ended: None,
                    },
                )),
                AlertEvent::End => {
                    if let Some((_, open)) = out.iter_mut().find(|(id, _)| *id == a.id) {
                        open.ended = a.ended_pts_secs;
                    }
                }
                _ => {}
            }
        }
    }
    (
        out.into_iter().map(|(_, r)| r).collect(),
        engine.stats().clone(),
    )
}

/// Whether `a` reports `e` in time: raised within `dwell_secs` + 5 s of its arrival (and not
/// more than 3 s before `dwell_secs`: the start is estimated from when its cells began to
/// differ, which someone bringing it moves a little earlier), its start within 8 s of the
/// truth, ended within 5 s of its end.
pub fn in_time(e: &Expected, a: &Raised) -> bool {
    let started = (a.started - e.start).abs() <= 8.0;
    let raised = a.raised >= e.start + DWELL_SECS - 3.0 && a.raised <= e.start + DWELL_SECS + 5.0;
    let ended = match (e.end, a.ended) {
        (None, None) => true,
        (Some(want), Some(got)) => (got - want).abs() <= 5.0,
        _ => false,
    };
    started && raised && ended
}

/// Every scene of `seed` (the passage scenes with [`Watch::Passage`]) but those named in `skip`,
/// rendered and run on every core through the rules of `watch`, scored.
pub fn score(seed: u64, skip: &[&str], watch: Watch) -> Score {
    let cases = match watch {
        Watch::Passage => passage_cases(seed),
        _ => cases(seed),
    };
    let cases: Vec<_> = cases
        .into_iter()
        .filter(|(name, ..)| !skip.contains(name))
        .collect();
    let results = crate::on_threads(&cases, "lane-scene", |(_, scene, _)| {
        run(scene, watch, |_| Vec::new())
    });
    let mut score = Score {
        seed,
        watch,
        scenes: Vec::new(),
        obstructions: 0,
        alerted: 0,
        alerts: 0,
        false_in_clear_scenes: 0,
    };
    for ((name, scene, expected), (alerts, stats)) in cases.iter().zip(results) {
        let mut used = vec![false; alerts.len()];
        let mut failures = Vec::new();
        for e in expected {
            match (0..alerts.len()).find(|&i| !used[i] && in_time(e, &alerts[i])) {
                Some(i) => {
                    used[i] = true;
                    score.alerted += 1;
                }
                None => failures.push(format!("expected {e:?}, got {alerts:?}")),
            }
        }
        for (a, _) in alerts.iter().zip(&used).filter(|(_, u)| !**u) {
            failures.push(format!("alert with nothing to report: {a:?}"));
        }
        score.obstructions += expected.len();
        score.alerts += alerts.len();
        if expected.is_empty() {
            score.false_in_clear_scenes += alerts.len();
        }
        let v = &scene.view;
        score.scenes.push(SceneResult {
            name: name.to_string(),
            camera: [v.height_m, v.tilt_deg, v.hfov_deg, v.offset_m],
            expected: expected.len(),
            alerts,
            failures,
            stats,
        });
    }
    score
}
