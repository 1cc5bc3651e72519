//! What a run did, per stage: printed by `vigil replay` and written to `OUT/summary.json`.

use crate::delivery::DeliverySnapshot;
use crate::metrics::PipelineMetrics;
use crate::stages::detect_pool::DetectTiming;
use crate::stages::falling::StatsByCamera;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;
use vigil_core::StageCounters;
use vigil_core::metrics::StageSnapshot;

/// What a run did, per stage.
#[derive(Debug, Serialize)]
pub struct Summary {
    pub elapsed_secs: f64,
    /// Per camera: decoded (`received`), handed to detection (`sent`), sampling and queue drops.
    pub ingest: BTreeMap<String, StageSnapshot>,
    pub detect: StageSnapshot,
    pub track: StageSnapshot,
    pub alerts: StageSnapshot,
    /// Per camera: encoded access units handed to the evidence recorder, and drops.
    pub evidence: BTreeMap<String, StageSnapshot>,
    /// Per camera with motion-gated detection: frames in (`received`), handed to the detector
    /// (`sent`), kept from it because nothing moved (`dropped_sampling`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub gate: BTreeMap<String, StageSnapshot>,
    /// From the first frame taken by detection to the last one done.
    pub processing_secs: f64,
    /// Frames through detection per second of `processing_secs`.
    pub detected_fps: f64,
    pub infer_ms_mean: f64,
    pub failed_cameras: Vec<String>,
    /// Per receiver (`webhook:<name>`, `mqtt`): delivered, failed attempts, still pending.
    pub delivery: BTreeMap<String, DeliverySnapshot>,
    /// Per facade camera: the falling-object stage's counts and what its detector saw.
    pub falling: BTreeMap<String, FallSummary>,
    /// Per camera with waste rules: what its static-object detector found and rejected.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub waste: BTreeMap<String, vigil_waste::SceneStats>,
    /// Per camera with `lane_obstructed` rules: the same for its lanes.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub lane: BTreeMap<String, vigil_waste::SceneStats>,
}

/// A facade camera's falling-object stage at the end of a run.
#[derive(Debug, Serialize)]
pub struct FallSummary {
    pub stage: StageSnapshot,
    pub detector: vigil_falling::FallStats,
}

impl Summary {
    /// The summary of a run that started at `started`, read from its counters once every
    /// stage has ended.
    pub fn gather(
        started: Instant,
        metrics: &PipelineMetrics,
        timing: &DetectTiming,
        fall_stats: &StatsByCamera,
        failed_cameras: Vec<String>,
        delivery: BTreeMap<String, DeliverySnapshot>,
    ) -> Self {
        let snapshots = |m: &BTreeMap<String, Arc<StageCounters>>| {
            m.iter().map(|(k, c)| (k.clone(), c.snapshot())).collect()
        };
        let stage = |c: &Option<Arc<StageCounters>>| c.as_ref().map(|c| c.snapshot());
        let detect = stage(&metrics.detect).unwrap_or_default();
        // Frames/s over the time detection was busy (model loading and draining excluded).
        let processing = timing.processing_secs();
        Self {
            elapsed_secs: started.elapsed().as_secs_f64(),
            ingest: snapshots(&metrics.ingest),
            detect,
            track: stage(&metrics.track).unwrap_or_default(),
            alerts: stage(&metrics.alerts).unwrap_or_default(),
            evidence: snapshots(&metrics.evidence),
            gate: metrics
                .gates
                .iter()
                .map(|(k, g)| (k.clone(), crate::metrics::gate_snapshot(g)))
                .collect(),
            processing_secs: processing,
            detected_fps: if processing > 0.0 {
                detect.received as f64 / processing
            } else {
                0.0
            },
            infer_ms_mean: if detect.received > 0 {
                timing.infer.as_secs_f64() * 1e3 / detect.received as f64
            } else {
                0.0
            },
            failed_cameras,
            delivery,
            falling: metrics
                .falling
                .iter()
                .map(|(k, c)| {
                    let detector = fall_stats
                        .get(k)
                        .and_then(|s| s.lock().ok().map(|s| s.clone()))
                        .unwrap_or_default();
                    let stage = c.snapshot();
                    (k.clone(), FallSummary { stage, detector })
                })
                .collect(),
            waste: scene_stats(&metrics.waste),
            lane: scene_stats(&metrics.lane),
        }
    }
}

/// Each camera's static-object counts, as they stand.
fn scene_stats(counts: &crate::metrics::SceneCounts) -> BTreeMap<String, vigil_waste::SceneStats> {
    counts
        .lock()
        .map(|w| w.iter().map(|(k, (s, _))| (k.clone(), s.clone())).collect())
        .unwrap_or_default()
}
