//! The detect workers: `detect-<n>` threads, one ONNX Runtime session each, taking frames from
//! every detector camera's queue in turn and handing [`DetectedFrame`]s to the track thread.
//!
//! Several workers may take frames of one camera at once; each frame is stamped with a
//! per-camera dispatch number (taken under the lane's lock, so numbers follow queue order) and
//! the track thread restores that order. Under the same lock the camera's motion gate (`gate`)
//! decides whether the detector looks at the frame; a frame it skips goes on without detections,
//! marked [`Gating::Skipped`], and the track thread gives it what the detector found last.

use super::gate::LaneGate;
use crate::metrics::Probe;
use anyhow::{Context, Result};
use crossbeam_channel::{Select, TryRecvError};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use vigil_config::Config;
use vigil_core::metrics::Histogram;
use vigil_core::throttle::Throttle;
use vigil_core::{
    CameraId, DetectedFrame, Detection, DropReason, Frame, Gating, QueueReceiver, QueueSender,
    StageCounters,
};
use vigil_detect::remap::ClassRemap;
use vigil_detect::{Detector, DetectorOptions};
use vigil_serve::live::LiveHub;

/// At most one "detection failed" warning per worker in this long (the rest are counted).
const WARN_EVERY: Duration = Duration::from_secs(10);

/// Detection time shared by the workers.
#[derive(Clone, Copy, Default)]
pub struct DetectTiming {
    pub infer: Duration,
    /// When the first frame was taken and the last one done.
    pub first: Option<Instant>,
    pub last: Option<Instant>,
}

impl DetectTiming {
    /// Seconds detection was busy: from the first frame taken to the last done, so model
    /// loading and draining do not count.
    pub fn processing_secs(&self) -> f64 {
        match (self.first, self.last) {
            (Some(a), Some(b)) => (b - a).as_secs_f64(),
            _ => 0.0,
        }
    }
}

/// Loads one detector per worker: as many workers as cores (at most 8) unless configured, and
/// none at all when no camera needs the detector (only facade cameras).
pub fn load_detectors(config: &Config) -> Result<Vec<Detector>> {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let detector_cameras = config
        .cameras
        .iter()
        .filter(|c| config.fall_rule(&c.id).is_none())
        .count();
    // One single-threaded session per core beats one session with a thread per core: measured
    // 87 vs 61 frames/s replaying car-detection.mp4 with YOLOX-Nano on 2 cores (README).
    let workers = match detector_cameras {
        0 => 0,
        _ => config.detector.workers.unwrap_or(cores.clamp(1, 8)),
    };
    let intra = config
        .detector
        .intra_threads
        .unwrap_or((cores / workers.max(1)).max(1));
    let options = DetectorOptions {
        score_threshold: config.detector.score_threshold,
        nms_iou: config.detector.nms_iou,
        intra_threads: intra,
        execution_provider: config.detector.execution_provider,
    };
    (0..workers)
        .map(|_| {
            Detector::new(&config.detector.manifest, options.clone())
                .context("cannot load the detector")
        })
        .collect()
}

/// One detector camera's frame queue as the workers see it.
pub struct Lane {
    camera: CameraId,
    rx: QueueReceiver<Frame>,
    /// Held while taking a frame, so dispatch numbers and the gate follow queue order.
    dispatch: Mutex<Dispatch>,
    /// What the detector found last on this camera, for the live view of skipped frames.
    last_found: Mutex<Vec<Detection>>,
    closed: AtomicBool,
    /// The camera has waste rules: its frames' pixels go on to the track thread.
    keep_image: bool,
    /// The camera's `class_map`, applied to each frame's detections (tracking, rules, the
    /// live view and snapshots all see the renamed classes).
    remap: Option<ClassRemap>,
}

/// A lane's dispatch state.
struct Dispatch {
    /// The next frame's dispatch number.
    next: u64,
    /// The camera's motion gate, when its frames are gated.
    gate: Option<LaneGate>,
}

impl Lane {
    pub fn new(
        camera: CameraId,
        rx: QueueReceiver<Frame>,
        keep_image: bool,
        remap: Option<ClassRemap>,
        gate: Option<LaneGate>,
    ) -> Self {
        Self {
            camera,
            rx,
            dispatch: Mutex::new(Dispatch { next: 0, gate }),
            last_found: Mutex::new(Vec::new()),
            closed: AtomicBool::new(false),
            keep_image,
            remap,
        }
    }
}

/// The cameras' frame queues, served in turn: a worker takes from the first lane after the one
/// served last that has a frame, so under load every camera waits at most one round (random
/// choice among ready lanes left some frames waiting several rounds: p99 latency 415 ms at 10
/// cameras).
struct Lanes {
    lanes: Vec<Lane>,
    /// The lane to look at first.
    turn: AtomicUsize,
}

impl Lanes {
    /// The next frame, its dispatch number in its camera, its lane, and whether the detector
    /// looks at it; `None` once every camera's queue has closed.
    fn next_frame(&self) -> Option<(Frame, u64, &Lane, Gating)> {
        let n = self.lanes.len();
        loop {
            let first = self.turn.load(Ordering::Relaxed);
            let mut open = 0;
            for i in 0..n {
                let index = (first + i) % n;
                let lane = &self.lanes[index];
                if lane.closed.load(Ordering::Relaxed) {
                    continue;
                }
                open += 1;
                let mut dispatch = lane.dispatch.lock().expect("dispatch lock");
                match lane.rx.inner().try_recv() {
                    Ok(frame) => {
                        self.turn.store((index + 1) % n, Ordering::Relaxed);
                        let seq = dispatch.next;
                        dispatch.next += 1;
                        let gating = match dispatch.gate.as_mut() {
                            Some(g) => g.look(&frame),
                            None => Gating::Off,
                        };
                        return Some((frame, seq, lane, gating));
                    }
                    Err(TryRecvError::Empty) => {}
                    Err(TryRecvError::Disconnected) => {
                        tracing::debug!(camera = %lane.camera, "camera queue closed");
                        lane.closed.store(true, Ordering::Relaxed);
                        open -= 1;
                    }
                }
            }
            if open == 0 {
                return None;
            }
            // Nothing waiting: sleep until some lane has a frame (or closes), then take turns.
            let mut sel = Select::new();
            for l in self
                .lanes
                .iter()
                .filter(|l| !l.closed.load(Ordering::Relaxed))
            {
                sel.recv(l.rx.inner());
            }
            let _ = sel.ready_timeout(Duration::from_millis(200));
        }
    }
}

/// What the detect workers share with the rest of the pipeline.
pub struct Settings {
    pub detectors: Vec<Detector>,
    pub lanes: Vec<Lane>,
    /// To the track thread (blocks when full).
    pub out: QueueSender<DetectedFrame>,
    pub counters: Arc<StageCounters>,
    pub timing: Arc<Mutex<DetectTiming>>,
    /// Inference time per frame.
    pub infer: Arc<Histogram>,
    pub probe: Option<Arc<Probe>>,
    /// Where watched cameras' frames go for the live view.
    pub live: Option<Arc<LiveHub>>,
}

/// The pieces one worker thread holds.
struct Worker {
    detector: Detector,
    lanes: Arc<Lanes>,
    out: QueueSender<DetectedFrame>,
    counters: Arc<StageCounters>,
    timing: Arc<Mutex<DetectTiming>>,
    infer: Arc<Histogram>,
    probe: Option<Arc<Probe>>,
    live: Option<Arc<LiveHub>>,
}

impl Settings {
    /// Starts a `detect-<n>` thread per detector; each ends when every lane has closed (or the
    /// track thread is gone). The output queue closes when the last one ends.
    pub fn spawn(self) -> std::io::Result<Vec<JoinHandle<()>>> {
        let lanes = Arc::new(Lanes {
            lanes: self.lanes,
            turn: AtomicUsize::new(0),
        });
        let mut threads = Vec::new();
        for (i, detector) in self.detectors.into_iter().enumerate() {
            let worker = Worker {
                detector,
                lanes: lanes.clone(),
                out: self.out.clone(),
                counters: self.counters.clone(),
                timing: self.timing.clone(),
                infer: self.infer.clone(),
                probe: self.probe.clone(),
                live: self.live.clone(),
            };
            threads.push(
                std::thread::Builder::new()
                    .name(format!("detect-{i}"))
                    .spawn(move || {
                        let _span = tracing::info_span!("detect", worker = i).entered();
                        worker.run()
                    })?,
            );
        }
        Ok(threads)
    }
}

impl Worker {
    fn run(mut self) {
        // A detector that fails fails for every frame: one warning per interval.
        let mut failures = Throttle::new(WARN_EVERY);
        while let Some((frame, dispatch_seq, lane, gating)) = self.lanes.next_frame() {
            if gating == Gating::Skipped {
                if self.skipped(frame, dispatch_seq, lane).is_err() {
                    break;
                }
                continue;
            }
            let taken = Instant::now();
            let cpu = vigil_core::cpu::thread_time();
            self.counters.received();
            let meta = frame.meta.clone();
            let (mut detections, error, infer_time) = match self
                .detector
                .detect(&frame.image, frame.meta.source_size)
            {
                Ok((d, t)) => {
                    if let Some(p) = &self.probe {
                        p.detect_phases(&t);
                    }
                    (d, None, t.infer)
                }
                Err(e) => {
                    if let Some(suppressed) = failures.allow() {
                        tracing::warn!(camera = %meta.camera, error = %e, suppressed, "detection failed");
                    }
                    self.counters.dropped(DropReason::Error);
                    (Vec::new(), Some(e.to_string()), Duration::ZERO)
                }
            };
            if let Some(remap) = &lane.remap {
                remap.apply(&mut detections, meta.source_size);
            }
            // Waste rules read the pixels: an owned copy, so the decoder's buffer is released.
            let image = lane.keep_image.then(|| frame.image.to_owned_packed());
            if let Some(live) = &self.live {
                live.offer(meta.camera.as_str(), || {
                    super::live::picture(&meta, &frame.image, &detections)
                });
            }
            // Kept only where a skipped frame may be shown with them.
            if gating != Gating::Off
                && self.live.is_some()
                && let Ok(mut last) = lane.last_found.lock()
            {
                last.clone_from(&detections);
            }
            self.counters.add_cpu(vigil_core::cpu::thread_time() - cpu);
            drop(frame); // release the decoded buffer before waiting on the next stage
            if error.is_none() {
                self.infer.observe(infer_time);
            }
            {
                let mut t = self.timing.lock().expect("timing lock");
                t.infer += infer_time;
                t.first.get_or_insert(taken);
                t.last = Some(Instant::now());
            }
            let detected = DetectedFrame {
                meta,
                dispatch_seq,
                detections,
                gating,
                error,
                infer_time,
                image,
            };
            if self.out.send(detected).is_err() {
                break;
            }
        }
    }

    /// A frame the gate kept from the detector: on to the track thread without detections
    /// (it gives the frame what the detector found last); the live view shows those.
    fn skipped(&self, frame: Frame, dispatch_seq: u64, lane: &Lane) -> Result<(), ()> {
        if let Some(live) = &self.live {
            live.offer(frame.meta.camera.as_str(), || {
                let last = lane
                    .last_found
                    .lock()
                    .map(|l| l.clone())
                    .unwrap_or_default();
                super::live::picture(&frame.meta, &frame.image, &last)
            });
        }
        let image = lane.keep_image.then(|| frame.image.to_owned_packed());
        let skipped = DetectedFrame {
            meta: frame.meta,
            dispatch_seq,
            detections: Vec::new(),
            gating: Gating::Skipped,
            error: None,
            infer_time: Duration::ZERO,
            image,
        };
        self.out.send(skipped).map_err(|_| ())
    }
}
