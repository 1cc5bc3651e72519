//! The `detector:` section, range-checked: thresholds, threads, where inference runs, and the
//! motion gate (`detector.motion_gate`), with the model manifest the config loaded.

use crate::check::Validator;
use crate::manifest::ModelManifest;
use crate::raw::{RawDetector, RawMotionGate};
use std::time::Duration;
use vigil_spec::motion::MotionGate;

/// Where ONNX Runtime runs the model. Asking for a GPU that is not there is an error, never a
/// silent fall back to the CPU.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ExecutionProvider {
    #[default]
    Cpu,
    /// NVIDIA CUDA on GPU `device_id` (needs ONNX Runtime's CUDA provider library beside
    /// `libonnxruntime.so`, from the `onnxruntime-gpu` build, and vigil built with `cuda`).
    Cuda { device_id: i32 },
    /// NVIDIA TensorRT on GPU `device_id` (its provider library and TensorRT, and vigil built
    /// with `tensorrt`).
    TensorRt { device_id: i32 },
}

impl ExecutionProvider {
    /// `cpu`, `cuda`, `cuda:N`, `tensorrt` or `tensorrt:N`.
    pub fn parse(s: &str) -> Option<Self> {
        let (name, device) = match s.split_once(':') {
            Some((name, n)) => (name, n.parse::<i32>().ok().filter(|n| *n >= 0)?),
            None => (s, 0),
        };
        match (name, s.contains(':')) {
            ("cpu", false) => Some(Self::Cpu),
            ("cuda", _) => Some(Self::Cuda { device_id: device }),
            ("tensorrt", _) => Some(Self::TensorRt { device_id: device }),
            _ => None,
        }
    }

    /// How the config names it (`cuda:0`).
    pub fn name(&self) -> String {
        match self {
            Self::Cpu => "cpu".into(),
            Self::Cuda { device_id } => format!("cuda:{device_id}"),
            Self::TensorRt { device_id } => format!("tensorrt:{device_id}"),
        }
    }
}

#[derive(Clone, Debug)]
pub struct DetectorConfig {
    pub manifest: ModelManifest,
    pub score_threshold: f32,
    pub nms_iou: f32,
    /// Default for cameras that set none.
    pub detect_fps: Option<f64>,
    /// ONNX Runtime intra-op threads per worker (default: cores ÷ workers).
    pub intra_threads: Option<usize>,
    /// Detection threads, one session each (default: one per core).
    pub workers: Option<usize>,
    /// Where inference runs.
    pub execution_provider: ExecutionProvider,
    /// When the detector may skip a frame in which nothing moved.
    pub motion_gate: MotionGate,
}

/// The `detector:` section with its loaded `manifest` (`None` when it failed to load: the
/// section's other values are still checked, and the config has an error already).
pub(crate) fn detector(
    v: &mut Validator<'_>,
    d: &RawDetector,
    manifest: Option<ModelManifest>,
) -> Option<DetectorConfig> {
    let score_threshold = d.score_threshold.as_ref().map_or(0.3, |s| s.value);
    if let Some(s) = &d.score_threshold {
        v.check(
            s.value.is_finite() && (0.0..=1.0).contains(&s.value),
            s,
            "score_threshold must be in [0, 1]",
        );
    }
    let nms_iou = d.nms_iou.as_ref().map_or(0.45, |s| s.value);
    if let Some(s) = &d.nms_iou {
        v.check(
            s.value > 0.0 && s.value <= 1.0,
            s,
            "nms_iou must be in (0, 1]",
        );
    }
    let workers = d.workers.as_ref().map(|s| s.value);
    if let Some(s) = &d.workers {
        v.check(
            s.value >= 1 && s.value <= 64,
            s,
            "workers must be between 1 and 64",
        );
    }
    let intra_threads = d.intra_threads.as_ref().map(|s| s.value);
    if let Some(s) = &d.intra_threads {
        v.check(
            (1..=256).contains(&s.value),
            s,
            "intra_threads must be between 1 and 256",
        );
    }
    let detect_fps = d.detect_fps.as_ref().map(|f| v.fps(f));
    let execution_provider = match &d.execution_provider {
        Some(e) => ExecutionProvider::parse(&e.value).unwrap_or_else(|| {
            v.error(
                e,
                format!(
                    "execution_provider \"{}\" is none of cpu, cuda, cuda:N, tensorrt, tensorrt:N",
                    e.value
                ),
            );
            ExecutionProvider::Cpu
        }),
        None => ExecutionProvider::Cpu,
    };

    let motion_gate = motion_gate(v, d.motion_gate.as_ref());
    Some(DetectorConfig {
        manifest: manifest?,
        score_threshold,
        nms_iou,
        detect_fps,
        intra_threads,
        workers,
        execution_provider,
        motion_gate,
    })
}

fn motion_gate(v: &mut Validator<'_>, raw: Option<&RawMotionGate>) -> MotionGate {
    let mut gate = MotionGate::default();
    let Some(raw) = raw else { return gate };
    if let Some(on) = raw.enabled {
        gate.enabled = on;
    }
    if let Some(s) = &raw.stationary_check_secs {
        let ok = s.value.is_finite() && (1.0..=600.0).contains(&s.value);
        v.check(ok, s, "stationary_check_secs must be in [1, 600]");
        if ok {
            gate.stationary_check = Duration::from_secs_f64(s.value);
        }
    }
    if let Some(t) = &raw.threshold {
        let ok = t.value.is_finite() && t.value >= 1.0 && t.value <= 255.0;
        v.check(ok, t, "threshold must be in [1, 255] (luma levels)");
        if ok {
            gate.threshold = t.value;
        }
    }
    if let Some(m) = &raw.margin {
        let ok = m.value.is_finite() && (0.0..=0.5).contains(&m.value);
        v.check(
            ok,
            m,
            "margin must be in [0, 0.5] (a fraction of the frame)",
        );
        if ok {
            gate.margin = m.value;
        }
    }
    if let Some(n) = &raw.settle_frames {
        let ok = (1..=100).contains(&n.value);
        v.check(ok, n, "settle_frames must be between 1 and 100");
        if ok {
            gate.settle_frames = n.value;
        }
    }
    gate
}
