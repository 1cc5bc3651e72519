//! The pipeline's live counters, gathered for `/metrics`: frames in / out / dropped per camera
//! and stage, the detector's latency histogram, camera up/down, and delivery per receiver.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use vigil_core::StageCounters;
use vigil_core::metrics::{Histogram, LatencySamples, StageSnapshot};
use vigil_deliver::worker::DeliveryCounters;
use vigil_serve::prom;

/// Per camera with waste (or lane) rules: its static-object detector's counts and the objects it
/// follows.
pub type SceneCounts = Arc<Mutex<BTreeMap<String, (vigil_waste::SceneStats, usize)>>>;

/// A motion gate's counts as a stage: frames in, frames handed to the detector, and the ones it
/// kept from the detector as `sampling` drops (intended, like `detect_fps`, not a loss).
pub fn gate_snapshot(g: &vigil_motion::Shared) -> StageSnapshot {
    let (looked, skipped) = (g.looked(), g.skipped());
    StageSnapshot {
        received: looked + skipped,
        sent: looked,
        dropped_sampling: skipped,
        ..StageSnapshot::default()
    }
}

/// Shared handles to every counter the pipeline keeps.
#[derive(Default)]
pub struct PipelineMetrics {
    /// Per camera: decoded frames and what went to detection.
    pub ingest: BTreeMap<String, Arc<StageCounters>>,
    /// Per camera: encoded units to the evidence recorder.
    pub evidence: BTreeMap<String, Arc<StageCounters>>,
    /// Per facade camera: frames through the falling-object stage.
    pub falling: BTreeMap<String, Arc<StageCounters>>,
    /// Per camera with motion-gated detection: frames through its gate.
    pub gates: BTreeMap<String, Arc<vigil_motion::Shared>>,
    pub detect: Option<Arc<StageCounters>>,
    pub track: Option<Arc<StageCounters>>,
    pub alerts: Option<Arc<StageCounters>>,
    /// Inference time per frame.
    pub infer: Option<Arc<Histogram>>,
    /// Frame arrival from the decoder → its rules evaluated.
    pub frame_latency: Arc<Histogram>,
    /// Arrival of the frame that made an alert's condition true → the alert committed.
    pub alert_latency: Arc<Histogram>,
    /// Per camera: online (true) or offline (false); absent until the first status.
    pub camera_up: Arc<Mutex<BTreeMap<String, bool>>>,
    /// Per camera with a record stream: that stream online or not.
    pub record_up: Arc<Mutex<BTreeMap<String, bool>>>,
    /// Per camera with a record stream: its access units.
    pub records: BTreeMap<String, Arc<StageCounters>>,
    /// Per camera: the element decoding its stream, once one runs.
    pub decoders: BTreeMap<String, Arc<Mutex<Option<String>>>>,
    pub delivery: Vec<(String, Arc<DeliveryCounters>)>,
    /// Per camera with waste rules: its static-object detector's counts (updated as it runs)
    /// and the objects it follows now.
    pub waste: SceneCounts,
    /// The same for each camera with `lane_obstructed` rules.
    pub lane: SceneCounts,
    /// This instance's rows in the shared store (with `outputs.postgres`).
    pub presence: Option<Arc<vigil_deliver::shared::presence::PresenceCounters>>,
}

impl PipelineMetrics {
    /// Appends everything in Prometheus text.
    pub fn write(&self, out: &mut String) {
        prom::stage_families(out);
        for (stage, map) in [
            ("ingest", &self.ingest),
            ("record", &self.records),
            ("falling", &self.falling),
            ("evidence", &self.evidence),
        ] {
            for (camera, c) in map {
                prom::stage(out, &[("stage", stage), ("camera", camera)], &c.snapshot());
            }
        }
        for (camera, g) in &self.gates {
            prom::stage(
                out,
                &[("stage", "gate"), ("camera", camera)],
                &gate_snapshot(g),
            );
        }
        for (stage, c) in [
            ("detect", &self.detect),
            ("track", &self.track),
            ("alerts", &self.alerts),
        ] {
            if let Some(c) = c {
                prom::stage(out, &[("stage", stage)], &c.snapshot());
            }
        }
        if let Some(h) = &self.infer {
            prom::histogram(
                out,
                "vigil_detector_inference_seconds",
                "Detector inference time per frame (preprocessing and decoding included).",
                &h.snapshot(),
            );
        }
        prom::histogram(
            out,
            "vigil_frame_latency_seconds",
            "Frame arrival from the decoder to its rules evaluated.",
            &self.frame_latency.snapshot(),
        );
        prom::histogram(
            out,
            "vigil_alert_latency_seconds",
            "Arrival of the frame that made an alert's condition true to the alert committed to the store.",
            &self.alert_latency.snapshot(),
        );
        prom::family(
            out,
            "vigil_camera_up",
            "1 while a camera delivers frames, 0 while it is down.",
            "gauge",
        );
        if let Ok(up) = self.camera_up.lock() {
            for (camera, online) in up.iter() {
                prom::sample(
                    out,
                    "vigil_camera_up",
                    &[("camera", camera)],
                    f64::from(u8::from(*online)),
                );
            }
        }
        prom::family(
            out,
            "vigil_camera_stream_up",
            "1 while a stream of a camera delivers, 0 while it is down: `detect` (decoded for detection) and, for a camera with a main stream, `record` (its evidence).",
            "gauge",
        );
        for (stream, map) in [("detect", &self.camera_up), ("record", &self.record_up)] {
            if let Ok(up) = map.lock() {
                for (camera, online) in up.iter() {
                    prom::sample(
                        out,
                        "vigil_camera_stream_up",
                        &[("camera", camera), ("stream", stream)],
                        f64::from(u8::from(*online)),
                    );
                }
            }
        }
        prom::family(
            out,
            "vigil_camera_decoder",
            "The element decoding a camera's stream (`decoder:` in the config): 1, labelled.",
            "gauge",
        );
        for (camera, decoder) in &self.decoders {
            if let Ok(d) = decoder.lock()
                && let Some(name) = d.as_deref()
            {
                prom::sample(
                    out,
                    "vigil_camera_decoder",
                    &[("camera", camera), ("decoder", name)],
                    1.0,
                );
            }
        }
        type Counter = fn(&DeliveryCounters) -> &std::sync::atomic::AtomicU64;
        let delivery: [(&str, &str, Counter); 2] = [
            (
                "vigil_delivered_total",
                "Records a receiver acknowledged.",
                |c| &c.delivered,
            ),
            (
                "vigil_delivery_failures_total",
                "Failed delivery attempts (each is retried).",
                |c| &c.failed_attempts,
            ),
        ];
        for (name, help, counter) in delivery {
            prom::family(out, name, help, "counter");
            for (sink, c) in &self.delivery {
                let n = counter(c).load(std::sync::atomic::Ordering::Relaxed);
                prom::sample(out, name, &[("sink", sink)], n as f64);
            }
        }
        if let Some(p) = &self.presence {
            prom::counters(
                out,
                &[
                    (
                        "vigil_shared_acks_total",
                        "Acknowledgements written to the shared store.",
                        &p.acks_shared,
                    ),
                    (
                        "vigil_shared_presence_failures_total",
                        "Failed updates of this instance's rows in the shared store (retried).",
                        &p.failures,
                    ),
                ],
            );
        }
        write_scene(out, &self.waste, "waste", "bin zones", "bin camera");
        write_scene(out, &self.lane, "lane", "fire lanes", "lane camera");
    }
}

/// The static-object detectors' counts of one use (`waste`, `lane`) as `vigil_<what>_*`
/// families; `place` and `camera` say where in their help.
fn write_scene(out: &mut String, counts: &SceneCounts, what: &str, place: &str, camera: &str) {
    let Ok(scenes) = counts.lock() else { return };
    if scenes.is_empty() {
        return;
    }
    type Count = fn(&vigil_waste::SceneStats) -> u64;
    /// Name, help, label, and the label's values with their counts.
    type Family = (
        String,
        String,
        &'static str,
        &'static [(&'static str, Count)],
    );
    let families: [Family; 2] = [
        (
            format!("vigil_{what}_objects_total"),
            format!("New static objects in {place}, by what became of them."),
            "outcome",
            &[
                ("found", |s| s.objects),
                ("removed", |s| s.removed),
                ("absorbed", |s| s.absorbed),
            ],
        ),
        (
            format!("vigil_{what}_rejected_total"),
            format!("Static-region checks in {place} that found no object, by why."),
            "reason",
            &[
                ("lighting", |s| s.lighting),
                ("ghost", |s| s.ghosts),
                ("lost_occluder", |s| s.lost_occluders),
            ],
        ),
    ];
    for (name, help, label, values) in &families {
        prom::family(out, name, help, "counter");
        for (cam, (stats, _)) in scenes.iter() {
            for (value, count) in *values {
                let labels = [("camera", cam.as_str()), (*label, *value)];
                prom::sample(out, name, &labels, count(stats) as f64);
            }
        }
    }
    type Single = fn(&(vigil_waste::SceneStats, usize)) -> f64;
    let singles: [(String, String, &str, Single); 2] = [
        (
            format!("vigil_{what}_relearns_total"),
            format!(
                "Whole-scene relearns of a {camera}'s backgrounds (lights, infrared switch, camera moved)."
            ),
            "counter",
            |(s, _)| s.relearns as f64,
        ),
        (
            format!("vigil_{what}_objects_present"),
            format!("Static objects a {camera} follows now."),
            "gauge",
            |(_, present)| *present as f64,
        ),
    ];
    for (name, help, kind, value) in &singles {
        prom::family(out, name, help, kind);
        for (cam, c) in scenes.iter() {
            prom::sample(out, name, &[("camera", cam)], value(c));
        }
    }
}

/// What `vigil bench` measures beside the counters: exact latency samples (kept only once
/// [`arm`](Probe::arm)ed, i.e. after the warm-up) and where detection and tracking time goes.
pub struct Probe {
    /// Frame arrival from the decoder → its rules evaluated.
    pub frame_latency: LatencySamples,
    /// Arrival of the frame that made an alert's condition true → the alert committed.
    pub alert_latency: LatencySamples,
    /// Nanoseconds: preprocessing, inference, postprocessing (wall time on the detect thread),
    /// then tracker and rules (CPU time on the track thread).
    spent_ns: [AtomicU64; 5],
    armed: AtomicBool,
    /// The run's counters, once it has built them.
    metrics: Mutex<Option<Arc<PipelineMetrics>>>,
}

/// [`Probe`] time totals since it was armed.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct ProbeTimes {
    pub preprocess_secs: f64,
    pub infer_secs: f64,
    pub postprocess_secs: f64,
    pub tracker_secs: f64,
    pub rules_secs: f64,
}

impl Default for Probe {
    fn default() -> Self {
        Self {
            frame_latency: LatencySamples::new(4_000_000),
            alert_latency: LatencySamples::new(1_000_000),
            spent_ns: Default::default(),
            armed: AtomicBool::new(false),
            metrics: Mutex::new(None),
        }
    }
}

impl Probe {
    /// Starts the measured window: samples and totals from now on.
    pub fn arm(&self) {
        for n in &self.spent_ns {
            n.store(0, Ordering::Relaxed);
        }
        self.frame_latency.arm();
        self.alert_latency.arm();
        self.armed.store(true, Ordering::Release);
    }

    /// Ends the window: what arrives later is not counted.
    pub fn disarm(&self) {
        self.armed.store(false, Ordering::Release);
        self.frame_latency.disarm();
        self.alert_latency.disarm();
    }

    fn add(&self, i: usize, d: Duration) {
        if self.armed.load(Ordering::Acquire) {
            self.spent_ns[i].fetch_add(d.as_nanos() as u64, Ordering::Relaxed);
        }
    }

    pub fn detect_phases(&self, t: &vigil_detect::DetectTimes) {
        self.add(0, t.preprocess);
        self.add(1, t.infer);
        self.add(2, t.postprocess);
    }

    pub fn track_cpu(&self, tracker: Duration, rules: Duration) {
        self.add(3, tracker);
        self.add(4, rules);
    }

    /// Hands the probe the run's counters (the pipeline does, once they all exist).
    pub fn attach(&self, metrics: Arc<PipelineMetrics>) {
        if let Ok(mut m) = self.metrics.lock() {
            *m = Some(metrics);
        }
    }

    /// Every stage's counters now: `ingest/<camera>`, `evidence/<camera>`, `record/<camera>`,
    /// `falling/<camera>`, `detect`, `track`, `alerts` (empty before [`attach`](Self::attach)).
    pub fn counters(&self) -> BTreeMap<String, vigil_core::metrics::StageSnapshot> {
        let mut out = BTreeMap::new();
        let Some(m) = self.metrics.lock().ok().and_then(|m| m.clone()) else {
            return out;
        };
        for (stage, map) in [
            ("ingest", &m.ingest),
            ("evidence", &m.evidence),
            ("record", &m.records),
            ("falling", &m.falling),
        ] {
            for (camera, c) in map {
                out.insert(format!("{stage}/{camera}"), c.snapshot());
            }
        }
        for (camera, g) in &m.gates {
            out.insert(format!("gate/{camera}"), gate_snapshot(g));
        }
        for (stage, c) in [
            ("detect", &m.detect),
            ("track", &m.track),
            ("alerts", &m.alerts),
        ] {
            if let Some(c) = c {
                out.insert(stage.to_string(), c.snapshot());
            }
        }
        out
    }

    pub fn times(&self) -> ProbeTimes {
        let s = |i: usize| self.spent_ns[i].load(Ordering::Relaxed) as f64 / 1e9;
        ProbeTimes {
            preprocess_secs: s(0),
            infer_secs: s(1),
            postprocess_secs: s(2),
            tracker_secs: s(3),
            rules_secs: s(4),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bin_cameras_export_what_their_static_object_detector_did() {
        let m = PipelineMetrics::default();
        let stats = vigil_waste::SceneStats {
            objects: 3,
            removed: 2,
            ghosts: 4,
            relearns: 1,
            ..Default::default()
        };
        m.waste
            .lock()
            .unwrap()
            .insert("bins-east".into(), (stats, 1));
        let mut out = String::new();
        m.write(&mut out);
        for line in [
            "# TYPE vigil_waste_objects_total counter",
            "vigil_waste_objects_total{camera=\"bins-east\",outcome=\"found\"} 3",
            "vigil_waste_objects_total{camera=\"bins-east\",outcome=\"removed\"} 2",
            "vigil_waste_rejected_total{camera=\"bins-east\",reason=\"ghost\"} 4",
            "vigil_waste_relearns_total{camera=\"bins-east\"} 1",
            "vigil_waste_objects_present{camera=\"bins-east\"} 1",
        ] {
            assert!(out.lines().any(|l| l == line), "no {line:?} in\n{out}");
        }
        // Without bin cameras, no waste families at all.
        let mut out = String::new();
        PipelineMetrics::default().write(&mut out);
        assert!(!out.contains("vigil_waste"), "{out}");
    }
}
