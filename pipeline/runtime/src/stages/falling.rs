//! The falling-object stage of one facade camera: every decoded frame (luma) through
//! [`vigil_falling::FallDetector`]; accepted falls become `falling_object` alerts with their
//! trajectory and origin; a fall seen as several tracks (broken, or a fragment beside it) is one
//! alert, whose `update` carries the whole trajectory and the best origin once the fall is over;
//! with `--explain`, every verdict (and why a track was rejected) goes to `explain.jsonl`.

use super::RaisedAlert;
use crate::progress::CameraProgress;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;
use vigil_config::FallRule;
use vigil_core::{
    Alert, AlertKind, AlertObject, BBoxPx, CameraId, DropReason, FallOrigin, Frame, FrameMeta,
    ObjectRef, QueueReceiver, QueueSender, Raiser, StageCounters, Trajectory, TrajectoryPoint,
};
use vigil_falling::{Fall, FallDetector, FallStats, GrayFrame, Settled, Sighting, Verdict};
use vigil_serve::live::LiveHub;

/// `explain.jsonl`, shared by the facade cameras.
type Explain = Arc<Mutex<std::io::BufWriter<std::fs::File>>>;

/// Every facade camera's stage.
pub struct Facades<'a> {
    /// Each facade camera's rule and frame queue.
    pub cameras: Vec<(FallRule, QueueReceiver<Frame>)>,
    pub alerts: QueueSender<RaisedAlert>,
    pub progress: &'a HashMap<CameraId, Arc<CameraProgress>>,
    /// Where every verdict is explained (`--explain`).
    pub explain: Option<PathBuf>,
    /// Where watched cameras' frames go for the live view.
    pub live: Option<Arc<LiveHub>>,
}

/// Per facade camera: its detector's statistics, updated as it runs.
pub type StatsByCamera = BTreeMap<String, Arc<Mutex<FallStats>>>;

/// The running stages, and per camera their counters and detector statistics.
pub struct Running {
    pub threads: Vec<JoinHandle<()>>,
    pub counters: BTreeMap<String, Arc<StageCounters>>,
    pub stats: StatsByCamera,
}

impl Facades<'_> {
    /// Starts a `fall-<camera>` thread per facade camera (creating `explain.jsonl` if asked).
    pub fn spawn(self) -> std::io::Result<Running> {
        let explain: Option<Explain> = match &self.explain {
            Some(path) => Some(Arc::new(Mutex::new(std::io::BufWriter::new(
                std::fs::File::create(path)?,
            )))),
            None => None,
        };
        let mut running = Running {
            threads: Vec::new(),
            counters: BTreeMap::new(),
            stats: BTreeMap::new(),
        };
        for (rule, frames) in self.cameras {
            let (counters, stats) = (Arc::<StageCounters>::default(), Arc::<Mutex<_>>::default());
            let camera = rule.camera.to_string();
            running.counters.insert(camera.clone(), counters.clone());
            running.stats.insert(camera, stats.clone());
            let stage = Settings {
                progress: self.progress[&rule.camera].clone(),
                rule,
                frames,
                alerts: self.alerts.clone(),
                counters,
                explain: explain.clone(),
                stats,
                live: self.live.clone(),
            };
            running.threads.push(stage.spawn()?);
        }
        Ok(running)
    }
}

/// What one camera's stage shares with the rest of the pipeline.
pub struct Settings {
    pub rule: FallRule,
    pub frames: QueueReceiver<Frame>,
    pub alerts: QueueSender<RaisedAlert>,
    pub counters: Arc<StageCounters>,
    pub progress: Arc<CameraProgress>,
    pub explain: Option<Explain>,
    /// The detector's statistics, updated as it runs.
    pub stats: Arc<Mutex<FallStats>>,
    pub live: Option<Arc<LiveHub>>,
}

impl Settings {
    /// Starts the `fall-<camera>` thread; it ends when the camera's frame queue closes.
    pub fn spawn(self) -> std::io::Result<std::thread::JoinHandle<()>> {
        std::thread::Builder::new()
            .name(format!("fall-{}", self.rule.camera))
            .spawn(move || {
                let _span = tracing::info_span!("fall", camera = %self.rule.camera).entered();
                run(self)
            })
    }
}

/// Alerts raised and not yet settled, by track: a fall settles within seconds, so a handful.
type Raised = HashMap<u64, Alert>;

/// More raised falls than this waiting to settle: the oldest is forgotten (its update lost).
const MAX_UNSETTLED: usize = 64;

fn run(stage: Settings) {
    let mut detector = FallDetector::new(stage.rule.detector.clone());
    let mut last: Option<FrameMeta> = None;
    let mut raised = Raised::new();
    while let Some(Frame { meta, image }) = stage.frames.recv() {
        stage.counters.received();
        if image.format.channels() != 1 {
            stage.counters.dropped(DropReason::Error);
            continue;
        }
        let gray = GrayFrame {
            width: image.size.width,
            height: image.size.height,
            stride: image.stride,
            data: image.bytes(),
        };
        let source = meta.source_size;
        let verdicts =
            detector.process(meta.pts.as_secs_f64(), &gray, (source.width, source.height));
        if let Some(live) = &stage.live {
            live.offer(meta.camera.as_str(), || {
                super::live::picture(&meta, &image, &[])
            });
        }
        // Release the decoded buffer before waiting on the alert writer.
        drop(image);
        stage.progress.frame_done(meta.pts);
        if !report(&stage, &meta, verdicts, &mut raised)
            || !settle(&stage, &meta, detector.take_settled(), &mut raised)
        {
            return;
        }
        stage.counters.sent();
        if meta.seq % 25 == 0
            && let Ok(mut s) = stage.stats.lock()
        {
            *s = detector.stats();
        }
        last = Some(meta);
    }
    // End of input: tracks still open get their verdict at the last frame's time.
    if let Some(meta) = last {
        let verdicts = detector.finish();
        let _ = report(&stage, &meta, verdicts, &mut raised)
            && settle(&stage, &meta, detector.take_settled(), &mut raised);
    }
    if let Ok(mut s) = stage.stats.lock() {
        *s = detector.stats();
    }
    if let Some(e) = &stage.explain
        && let Ok(mut e) = e.lock()
    {
        let _ = e.flush();
    }
}

/// Raises the accepted falls and explains every verdict; false when the alert writer is gone.
fn report(stage: &Settings, meta: &FrameMeta, verdicts: Vec<Verdict>, raised: &mut Raised) -> bool {
    for v in verdicts {
        if let Some(out) = &stage.explain {
            explain(out, &stage.rule, &v);
        }
        let fall = match (&v.outcome, v.continues) {
            (Ok(_), Some(earlier)) => {
                tracing::debug!(camera = %stage.rule.camera, track = v.track.id, earlier, "the rest of a fall already raised");
                continue;
            }
            (Ok(fall), None) => fall,
            (Err(reason), _) => {
                tracing::debug!(camera = %stage.rule.camera, track = v.track.id, frames = v.track.points.len(), %reason, "not a fall");
                continue;
            }
        };
        let in_force = stage
            .rule
            .schedule
            .as_ref()
            .is_none_or(|s| s.active(meta.wall_time));
        if !in_force {
            tracing::info!(camera = %stage.rule.camera, rule = %stage.rule.id, "a fall outside the rule's schedule: not raised");
            continue;
        }
        let alert = alert(&stage.rule, meta, &v, fall);
        tracing::info!(camera = %alert.camera, floor = fall.origin.floor, column = fall.origin.column, "falling object");
        if raised.len() >= MAX_UNSETTLED
            && let Some(oldest) = raised.keys().min().copied()
        {
            raised.remove(&oldest);
        }
        raised.insert(v.track.id, alert.clone());
        if !send(stage, meta, alert) {
            return false;
        }
    }
    true
}

fn send(stage: &Settings, meta: &FrameMeta, alert: Alert) -> bool {
    let raised = RaisedAlert {
        alert,
        blur: Vec::new(),
        zone: stage.rule.detector.zone.clone(),
        arrived: Some(meta.arrived),
        space: Some(meta.source_size),
    };
    stage.alerts.send(raised).is_ok()
}

/// Each fall over that more than one track made: its alert's `update`, with every sighting and
/// the best origin. False when the alert writer is gone.
fn settle(stage: &Settings, meta: &FrameMeta, settled: Vec<Settled>, raised: &mut Raised) -> bool {
    for s in settled {
        let Some(alert) = raised.remove(&s.track) else {
            continue;
        };
        if s.tracks < 2 {
            continue;
        }
        tracing::info!(camera = %alert.camera, tracks = s.tracks, floor = s.fall.origin.floor, "falling object settled");
        let object = object(&s.points, &s.fall, s.track, meta.source_size);
        let mut update = alert.update(meta, vec![object]);
        update.trajectory = Some(Box::new(trajectory(&s.points, &s.fall, meta.source_size)));
        if !send(stage, meta, update) {
            return false;
        }
    }
    true
}

/// The `falling_object` alert of an accepted fall, raised at `meta` (the frame that ended the
/// track).
pub fn alert(rule: &FallRule, meta: &FrameMeta, v: &Verdict, fall: &Fall) -> Alert {
    let points = &v.track.points;
    let first = points.first().map_or(0.0, |p| p.t);
    let by = Raiser {
        camera: &rule.camera,
        rule: &rule.id,
        kind: AlertKind::FallingObject,
        severity: rule.severity,
        zone: rule.zone.as_ref(),
    };
    let object = object(points, fall, v.track.id, meta.source_size);
    // From the release (extrapolated) when that lies before the first sighting.
    let started = Duration::try_from_secs_f64(fall.origin.t.clamp(0.0, first)).unwrap_or_default();
    Alert {
        trajectory: Some(Box::new(trajectory(points, fall, meta.source_size))),
        ..Alert::start(by, meta, started, vec![object])
    }
}

/// The object of a fall's alert: its box at the last sighting (a square of the blob's area),
/// scored by how well the track fits.
fn object(points: &[Sighting], fall: &Fall, track: u64, source: vigil_core::Size) -> AlertObject {
    let (x, y, area) = points
        .last()
        .map_or((0.0, 0.0, 0), |p| (p.x_px, p.y_px, p.area));
    let half = (f64::from(area).sqrt() / 2.0).max(2.0);
    AlertObject {
        object: ObjectRef::Fall(track),
        class: "falling_object".into(),
        score: fall.quality as f32,
        bbox_px: BBoxPx::new(
            (x - half) as f32,
            (y - half) as f32,
            (x + half) as f32,
            (y + half) as f32,
        )
        .clamp_to(source),
    }
}

fn trajectory(points: &[Sighting], fall: &Fall, source: vigil_core::Size) -> Trajectory {
    let o = &fall.origin;
    Trajectory {
        points: points
            .iter()
            .map(|p| TrajectoryPoint {
                pts_secs: p.t,
                x_px: p.x_px,
                y_px: p.y_px,
            })
            .collect(),
        acceleration_mps2: fall.accel_mps2,
        drop_m: fall.drop_m,
        speed_mps: fall.speed_mps,
        origin: FallOrigin {
            floor: o.floor,
            column: o.column,
            x_px: o.x * f64::from(source.width),
            y_px: o.y * f64::from(source.height),
            height_m: o.h_m,
            uncertainty_m: o.sigma_m,
            floor_range: o.floor_range,
            pts_secs: o.t,
            method: o.method.to_string(),
        },
    }
}

#[derive(serde::Serialize)]
struct ExplainLine<'a> {
    camera: &'a str,
    rule: &'a str,
    track: u64,
    frames: usize,
    first_pts_secs: f64,
    last_pts_secs: f64,
    /// `fall`, `continuation` (of the fall whose track is `continues`) or `rejected`.
    verdict: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    continues: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<&'a vigil_falling::Reject>,
    #[serde(skip_serializing_if = "Option::is_none")]
    acceleration_mps2: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    origin: Option<&'a vigil_falling::Origin>,
    /// `[pts_secs, x_px, y_px]` of each sighting.
    points: Vec<[f64; 3]>,
}

fn explain(out: &Mutex<std::io::BufWriter<std::fs::File>>, rule: &FallRule, v: &Verdict) {
    let p = &v.track.points;
    let line = ExplainLine {
        camera: rule.camera.as_str(),
        rule: rule.id.as_str(),
        track: v.track.id,
        frames: p.len(),
        first_pts_secs: p.first().map_or(0.0, |s| s.t),
        last_pts_secs: p.last().map_or(0.0, |s| s.t),
        verdict: match (&v.outcome, v.continues) {
            (Ok(_), None) => "fall",
            (Ok(_), Some(_)) => "continuation",
            (Err(_), _) => "rejected",
        },
        continues: v.continues,
        reason: v.outcome.as_ref().err().map(|r| r.to_string()),
        detail: v.outcome.as_ref().err(),
        acceleration_mps2: v.outcome.as_ref().ok().map(|f| f.accel_mps2),
        origin: v.outcome.as_ref().ok().map(|f| &f.origin),
        points: p.iter().map(|s| [s.t, s.x_px, s.y_px]).collect(),
    };
    if let (Ok(mut out), Ok(json)) = (out.lock(), serde_json::to_string(&line)) {
        let _ = writeln!(out, "{json}");
    }
}
