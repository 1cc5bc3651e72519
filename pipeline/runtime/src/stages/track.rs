//! The `track` thread: per camera, detected frames put back in dispatch order (a frame the
//! motion gate kept from the detector given what the detector found last) → tracker
//! (`vigil-track`) → rule engine (`vigil-rules`) → for a camera with waste rules, the waste
//! engine (`vigil-waste`), and with `lane_obstructed` rules, the lane engine (`vigil-lane`) →
//! one alert where a `dwell` rule and a `lane_obstructed` rule on one zone see the same object
//! (`vigil_lane::OneAlert`) → alerts to the writer, each with what its snapshot blurs and draws.
//! Edited rules (`reload`) are swapped in at each camera's next frame.

use super::RaisedAlert;
use crate::metrics::{Probe, SceneCounts};
use crate::progress::CameraProgress;
use crate::reload::RuleUpdates;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::BufWriter;
use std::sync::Arc;
use vigil_config::Config;
use vigil_core::metrics::Histogram;
use vigil_core::{
    Alert, CameraId, DetectedFrame, Detection, DropReason, Gating, QueueReceiver, QueueSender,
    StageCounters, Track,
};
use vigil_lane::{LaneEngine, OneAlert};
use vigil_motion::Carry;
use vigil_rules::RuleEngine;
use vigil_track::{Tracker, TrackerConfig};
use vigil_waste::WasteEngine;

/// Detections at or above this score are blurred in snapshots when their class is one the
/// camera pixelates for privacy (weaker ones are too unsure to mark).
const BLUR_MIN_SCORE: f32 = 0.2;

/// Every how many frames of a camera its static-object counts go to `/metrics`.
const SCENE_PUBLISH_EVERY: u64 = 10;

/// What the track thread needs from the rest of the pipeline.
pub struct Settings {
    pub cameras: HashMap<CameraId, CameraState>,
    pub frames: QueueReceiver<DetectedFrame>,
    /// To the alert writer (blocks: alerts never drop).
    pub alerts: QueueSender<RaisedAlert>,
    /// Rules edited while running.
    pub updates: Arc<RuleUpdates>,
    pub observe: Observers,
}

/// What watches each frame go through: counters, latency, `tracks.jsonl`, static-object counts.
pub struct Observers {
    pub counters: Arc<StageCounters>,
    /// `tracks.jsonl` (`--dump-tracks`).
    pub track_log: Option<BufWriter<File>>,
    /// Per camera with waste rules: counts for `/metrics` and the summary.
    pub waste: SceneCounts,
    /// Per camera with `lane_obstructed` rules: the same.
    pub lane: SceneCounts,
    /// Frame arrival from the decoder → its rules evaluated.
    pub frame_latency: Arc<Histogram>,
    pub probe: Option<Arc<Probe>>,
}

/// One camera's tracker and rule engines.
pub struct CameraState {
    tracker: Tracker,
    rules: RuleEngine,
    /// The camera's static-object detector and waste rules, when it has any.
    waste: Option<WasteEngine>,
    /// Its static-object detector set up for lanes and its `lane_obstructed` rules, when it has
    /// any.
    lane: Option<LaneEngine>,
    /// Merges the alerts of its `dwell` and `lane_obstructed` rules about one object.
    merge: OneAlert,
    /// The rule generation in force (see `reload`).
    generation: u64,
    /// Classes or groups pixelated in this camera's snapshots.
    blur: Vec<String>,
    /// With the motion gate on: what the detector found last, for the frames it skips.
    carry: Option<Carry<Detection>>,
    progress: Arc<CameraProgress>,
    /// The dispatch number of the next frame to step, and frames that came early.
    next: u64,
    pending: BTreeMap<u64, DetectedFrame>,
}

/// Every camera's state as the config sets it up.
pub fn cameras(
    config: &Config,
    progress: &HashMap<CameraId, Arc<CameraProgress>>,
) -> HashMap<CameraId, CameraState> {
    config
        .cameras
        .iter()
        .map(|c| {
            let rules: Vec<_> = config
                .rules
                .iter()
                .filter(|r| r.camera == c.id)
                .cloned()
                .collect();
            let waste = config.waste_rules(&c.id);
            let lane = config.lane_rules(&c.id);
            let floor = score_floor(&rules, config.reads_pixels(&c.id));
            let carry = config
                .motion_gate(c)
                .map(|spec| Carry::new(spec, progress[&c.id].gate.clone()).with_floor(floor));
            let state = CameraState {
                tracker: Tracker::new(TrackerConfig::clone(&config.tracker)),
                merge: OneAlert::new(&rules, &lane),
                rules: RuleEngine::new(rules),
                waste: (!waste.is_empty())
                    .then(|| WasteEngine::new(vigil_waste::SceneConfig::default(), waste)),
                lane: (!lane.is_empty()).then(|| LaneEngine::new(vigil_lane::scene_config(), lane)),
                generation: 0,
                blur: c.privacy_blur.clone(),
                carry,
                progress: progress[&c.id].clone(),
                next: 0,
                pending: BTreeMap::new(),
            };
            (c.id.clone(), state)
        })
        .collect()
}

impl Settings {
    /// Starts the `track` thread; it ends when the detect workers are gone (or the writer is).
    pub fn spawn(self) -> std::io::Result<std::thread::JoinHandle<()>> {
        std::thread::Builder::new()
            .name("track".into())
            .spawn(move || {
                let _span = tracing::info_span!("track").entered();
                self.run()
            })
    }

    fn run(mut self) {
        while let Some(df) = self.frames.recv() {
            let Some(state) = self.cameras.get_mut(&df.meta.camera) else {
                continue;
            };
            if self.updates.generation() != state.generation {
                for end in state.apply_updates(&self.updates, &df) {
                    // The end of an alert whose rule was removed.
                    if self.alerts.send(RaisedAlert::bare(end)).is_err() {
                        return;
                    }
                }
            }
            state.pending.insert(df.dispatch_seq, df);
            while let Some(mut df) = state.pending.remove(&state.next) {
                state.next += 1;
                self.observe.counters.received();
                if df.error.is_some() {
                    self.observe.counters.dropped(DropReason::Error);
                    continue;
                }
                if let Some(carry) = &mut state.carry {
                    match df.gating {
                        Gating::Skipped => df.detections = carry.skipped(),
                        Gating::Looked { motion } => {
                            carry.looked(&df.detections, df.meta.pts, motion);
                        }
                        Gating::Off => {}
                    }
                }
                for alert in self.observe.step(state, &df) {
                    if self.alerts.send(state.raised(alert, &df)).is_err() {
                        return;
                    }
                }
                self.observe.counters.sent();
            }
        }
        for (id, state) in &self.cameras {
            if let Some(w) = &state.waste {
                publish(&self.observe.waste, id, w.stats(), w.objects().len());
            }
            if let Some(l) = &state.lane {
                publish(&self.observe.lane, id, l.stats(), l.objects().len());
            }
        }
    }
}

impl Observers {
    /// One frame through the camera's tracker and rule engines: the alert records it raises.
    fn step(&mut self, state: &mut CameraState, df: &DetectedFrame) -> Vec<Alert> {
        let cpu = vigil_core::cpu::thread_time();
        let tracks = state.tracker.step(df.meta.pts, &df.detections);
        let tracked = vigil_core::cpu::thread_time();
        state.progress.frame_done(df.meta.pts);
        if let Some(log) = self.track_log.as_mut() {
            write_tracks(log, df, &tracks);
        }
        let mut alerts = state.rules.step(&df.meta, &tracks);
        let publish_now = df.dispatch_seq.is_multiple_of(SCENE_PUBLISH_EVERY);
        if let (Some(waste), Some(image)) = (state.waste.as_mut(), df.image.as_ref()) {
            alerts.extend(waste.step(&df.meta, image, &tracks));
            if publish_now {
                let present = waste.objects().len();
                publish(&self.waste, &df.meta.camera, waste.stats(), present);
            }
        }
        if let (Some(lane), Some(image)) = (state.lane.as_mut(), df.image.as_ref()) {
            alerts.extend(lane.step(&df.meta, image, &tracks));
            if publish_now {
                let present = lane.objects().len();
                publish(&self.lane, &df.meta.camera, lane.stats(), present);
            }
        }
        let alerts = state.merge.pass(&df.meta, alerts);
        let ruled = vigil_core::cpu::thread_time();
        self.counters.add_cpu(ruled - cpu);
        let latency = df.meta.arrived.elapsed();
        self.frame_latency.observe(latency);
        if let Some(p) = &self.probe {
            p.frame_latency.observe(latency);
            p.track_cpu(tracked - cpu, ruled - tracked);
        }
        alerts
    }
}

impl CameraState {
    /// Puts the latest published rules in force; the end records of alerts whose rule went.
    fn apply_updates(&mut self, updates: &RuleUpdates, df: &DetectedFrame) -> Vec<Alert> {
        let (generation, rules) = updates.latest();
        self.generation = generation;
        let mine = rules
            .iter()
            .filter(|r| r.camera == df.meta.camera)
            .cloned()
            .collect();
        let ends = self.rules.replace_rules(mine, &df.meta);
        let lanes = self.lane.as_ref().map_or(&[][..], |l| l.rules());
        self.merge.set_rules(self.rules.rules(), lanes);
        let ends = self.merge.pass(&df.meta, ends);
        let floor = score_floor(
            self.rules.rules(),
            self.waste.is_some() || self.lane.is_some(),
        );
        self.carry = self.carry.take().map(|c| c.with_floor(floor));
        tracing::info!(camera = %df.meta.camera, rules = self.rules.rules().len(), "new rules applied");
        ends
    }

    /// `alert`, raised on `df`, with what its snapshot blurs (this frame's detections of the
    /// classes the camera pixelates) and the rule's zone to draw.
    fn raised(&self, alert: Alert, df: &DetectedFrame) -> RaisedAlert {
        let blur = df
            .detections
            .iter()
            .filter(|d| d.score >= BLUR_MIN_SCORE)
            .filter(|d| self.blur.iter().any(|b| *b == *d.class || *b == *d.group))
            .map(|d| d.bbox_px)
            .collect();
        let zone = self
            .rules
            .rules()
            .iter()
            .find(|r| r.id == alert.rule)
            .map(|r| r.outline())
            .or_else(|| {
                let waste = self.waste.as_ref()?.rules();
                waste
                    .iter()
                    .find(|r| r.id == alert.rule)
                    .map(|r| r.outline())
            })
            .or_else(|| {
                let lane = self.lane.as_ref()?.rules();
                lane.iter()
                    .find(|r| r.id == alert.rule)
                    .map(|r| r.outline())
            })
            .unwrap_or_default();
        RaisedAlert {
            alert,
            blur,
            zone,
            arrived: Some(df.meta.arrived),
            space: Some(df.meta.source_size),
        }
    }
}

/// The score below which no rule of a camera acts on a find ([`vigil_motion::score_floor`]):
/// the motion gate lets such finds come and go on a still picture without looking again. A
/// camera with static-object rules (waste, lanes) counts every find (they mask people, and for
/// waste vehicles, out of the static-object detector, and name what it finds).
fn score_floor(rules: &[vigil_rules::Rule], reads_pixels: bool) -> f32 {
    match reads_pixels {
        true => 0.0,
        false => vigil_motion::score_floor(rules.iter().map(|r| r.min_score)),
    }
}

#[derive(Serialize)]
struct TrackLine<'a> {
    camera: &'a str,
    pts_secs: f64,
    detections: usize,
    tracks: Vec<TrackEntry<'a>>,
}

#[derive(Serialize)]
struct TrackEntry<'a> {
    id: u64,
    class: &'a str,
    group: &'a str,
    score: f32,
    matched: bool,
    bbox_px: [f32; 4],
}

fn write_tracks(out: &mut impl std::io::Write, df: &DetectedFrame, tracks: &[Track]) {
    let line = TrackLine {
        camera: df.meta.camera.as_str(),
        pts_secs: df.meta.pts.as_secs_f64(),
        detections: df.detections.len(),
        tracks: tracks
            .iter()
            .map(|t| TrackEntry {
                id: t.id.0,
                class: &t.class,
                group: &t.group,
                score: t.score,
                matched: t.matched,
                bbox_px: t.bbox_px.to_array(),
            })
            .collect(),
    };
    if let Err(e) = serde_json::to_writer(&mut *out, &line)
        .map_err(std::io::Error::from)
        .and_then(|()| out.write_all(b"\n"))
    {
        tracing::warn!(error = %e, "cannot write tracks.jsonl");
    }
}

/// Hands a camera's static-object counts and the number of objects it follows to `/metrics` and
/// the summary.
fn publish(out: &SceneCounts, camera: &CameraId, stats: &vigil_waste::SceneStats, present: usize) {
    if let Ok(mut out) = out.lock() {
        out.insert(camera.to_string(), (stats.clone(), present));
    }
}
