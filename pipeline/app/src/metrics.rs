//! The pipeline's live counters, gathered for `/metrics`: frames in / out / dropped per camera
//! and stage, the detector's latency histogram, camera up/down, and delivery per receiver.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use vigil_core::StageCounters;
use vigil_core::metrics::Histogram;
use vigil_deliver::worker::DeliveryCounters;
use vigil_serve::prom;

/// Shared handles to every counter the pipeline keeps.
#[derive(Default)]
pub struct PipelineMetrics {
    /// Per camera: decoded frames and what went to detection.
    pub ingest: BTreeMap<String, Arc<StageCounters>>,
    /// Per camera: encoded units to the evidence recorder.
    pub evidence: BTreeMap<String, Arc<StageCounters>>,
    /// Per facade camera: frames through the falling-object stage.
    pub falling: BTreeMap<String, Arc<StageCounters>>,
    pub detect: Option<Arc<StageCounters>>,
    pub track: Option<Arc<StageCounters>>,
    pub alerts: Option<Arc<StageCounters>>,
    /// Inference time per frame.
    pub infer: Option<Arc<Histogram>>,
    /// Per camera: online (true) or offline (false); absent until the first status.
    pub camera_up: Arc<Mutex<BTreeMap<String, bool>>>,
    pub delivery: Vec<(String, Arc<DeliveryCounters>)>,
}

impl PipelineMetrics {
    /// Appends everything in Prometheus text.
    pub fn write(&self, out: &mut String) {
        prom::stage_families(out);
        for (camera, c) in &self.ingest {
            prom::stage(
                out,
                &[("stage", "ingest"), ("camera", camera)],
                &c.snapshot(),
            );
        }
        for (camera, c) in &self.falling {
            prom::stage(
                out,
                &[("stage", "falling"), ("camera", camera)],
                &c.snapshot(),
            );
        }
        for (camera, c) in &self.evidence {
            prom::stage(
                out,
                &[("stage", "evidence"), ("camera", camera)],
                &c.snapshot(),
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
    }
}
