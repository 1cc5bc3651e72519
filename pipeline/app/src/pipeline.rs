//! Wires the stages together on named threads with bounded queues:
//!
//! ```text
//! camera threads ──FrameQueue per camera (live: drop-oldest; replay: block)──▶ detect workers
//! detect workers ──bounded(64), block──▶ track+rules thread ──bounded(256), block──▶ alert writer
//! ```
//!
//! Detect workers take frames from any camera (a `Select` over the per-camera queues) and stamp
//! each with a per-camera dispatch number; the track thread restores that order before the
//! tracker sees the frames, so several workers never reorder a camera's stream. Alerts never drop.

use crate::delivery::{Delivery, DeliverySnapshot};
use crate::metrics::PipelineMetrics;
use anyhow::{Context, Result};
use crossbeam_channel::{Select, TryRecvError};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use vigil_config::{CameraSource, ColourOrder, Config, ResizeMode};
use vigil_core::metrics::StageSnapshot;
use vigil_core::metrics::{Histogram, LATENCY_BUCKETS_SECS};
use vigil_core::{
    Alert, AlertEvent, CameraId, ClipRef, DetectedFrame, DropReason, EncodedUnit, Frame,
    PixelFormat, QueueReceiver, Size, SnapshotRef, StageCounters, WhenFull, queue,
};
use vigil_detect::{Detector, DetectorOptions};
use vigil_evidence::retention::{EvidenceFile, RetentionLimits};
use vigil_evidence::snapshot::{Overlay, TrajectoryOverlay};
use vigil_evidence::{
    ClipDone, ClipRequest, RecorderConfig, RingLimits, SnapshotRequest, spawn_recorder,
};
use vigil_ingest::{
    CameraExit, CameraSinks, CameraSpec, CameraStatus, EncodedSink, TargetSize, spawn_camera,
};
use vigil_rules::RuleEngine;
use vigil_track::Tracker;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Cameras at their real rate, for ever; frames drop (oldest first) when detection lags.
    Live,
    /// File cameras as fast as the machine allows, nothing dropped; ends with the input.
    Replay,
}

pub struct Options {
    pub mode: Mode,
    pub out_dir: PathBuf,
    pub print_alerts: bool,
    /// Write every frame's confirmed tracks to `tracks.jsonl` (for debugging rules and tracking).
    pub dump_tracks: bool,
    /// Write every falling-object verdict, with the reason for each rejection, to
    /// `explain.jsonl`.
    pub explain: bool,
    /// At the end, how long to wait for receivers to take what is still in the outbox (what
    /// they do not take stays there for the next run).
    pub drain: Duration,
    /// Watch the config and rule files and put edited rules in force (`reload`); with the
    /// assets folder the config was loaded with.
    pub reload_rules: bool,
    pub assets: Option<PathBuf>,
    /// What `vigil bench` measures beside the counters (latency samples, time per step).
    pub probe: Option<Arc<crate::metrics::Probe>>,
    /// Replay progress on stderr.
    pub progress: bool,
}

impl Options {
    /// A live run into `out_dir`: alerts printed, rules reloaded when their files change, a
    /// short drain on stopping.
    pub fn live(out_dir: PathBuf, assets: Option<PathBuf>) -> Self {
        Self {
            mode: Mode::Live,
            out_dir,
            print_alerts: true,
            dump_tracks: false,
            explain: false,
            drain: Duration::from_secs(3),
            reload_rules: true,
            assets,
            probe: None,
            progress: false,
        }
    }

    /// A replay into `out_dir`: alerts printed, a 10 s drain at the end.
    pub fn replay(out_dir: PathBuf, assets: Option<PathBuf>) -> Self {
        Self {
            mode: Mode::Replay,
            drain: Duration::from_secs(10),
            reload_rules: false,
            progress: true,
            ..Self::live(out_dir, assets)
        }
    }
}

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
}

/// A facade camera's falling-object stage at the end of a run.
#[derive(Debug, Serialize)]
pub struct FallSummary {
    pub stage: StageSnapshot,
    pub detector: vigil_falling::FallStats,
}

/// Detection time shared by the workers.
#[derive(Clone, Copy, Default)]
struct DetectTiming {
    infer: Duration,
    first: Option<Instant>,
    last: Option<Instant>,
}

struct Lane {
    camera: CameraId,
    rx: QueueReceiver<Frame>,
    /// Dispatch counter; held while taking a frame so numbers follow queue order.
    dispatch: Mutex<u64>,
    closed: AtomicBool,
    /// The camera has waste rules: its frames' pixels go on to the track thread.
    keep_image: bool,
}

fn camera_spec(config: &Config, cam: &vigil_config::CameraConfig, mode: Mode) -> CameraSpec {
    let m = &config.detector.manifest;
    let input = Size::new(m.input_width, m.input_height);
    let spec = CameraSpec {
        id: cam.id.clone(),
        source: cam.source.clone(),
        detect_fps: cam.detect_fps.or(config.detector.detect_fps),
        format: match m.colour {
            ColourOrder::Rgb => PixelFormat::Rgb8,
            ColourOrder::Bgr => PixelFormat::Bgr8,
        },
        // Scale in GStreamer (one pass with conversion) to what the model takes.
        target: match m.resize {
            ResizeMode::LetterboxTopLeft => TargetSize::FitWithin(input),
            ResizeMode::Stretch => TargetSize::Exact(input),
        },
        realtime: mode == Mode::Live && matches!(cam.source, CameraSource::File { .. }),
        // Replay blocks on a slow detector by design: that is not a stall.
        stall: (mode == Mode::Live).then_some(cam.stall),
        decode_threads: if mode == Mode::Replay { 2 } else { 1 },
    };
    match config.fall_rule(&cam.id) {
        // A facade camera: every decoded frame, luma only (the decoder's Y plane, no colour
        // conversion), at the rule's processing width.
        Some(rule) => CameraSpec {
            detect_fps: None,
            format: PixelFormat::Gray8,
            target: match rule.process_width {
                Some(w) => TargetSize::FitWithin(Size::new(w, 8192)),
                None => TargetSize::Source,
            },
            ..spec
        },
        None => spec,
    }
}

/// Runs the pipeline until the input ends (replay) or `stop` is set.
pub fn run(config: &Config, options: &Options, stop: Arc<AtomicBool>) -> Result<Summary> {
    std::fs::create_dir_all(&options.out_dir)
        .with_context(|| format!("cannot create output folder {}", options.out_dir.display()))?;
    let started = Instant::now();
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let detector_cameras = config
        .cameras
        .iter()
        .filter(|c| config.fall_rule(&c.id).is_none())
        .count();
    // One single-threaded session per core beats one session with a thread per core: measured
    // 87 vs 61 frames/s replaying car-detection.mp4 with YOLOX-Nano on 2 cores (README). No
    // detector camera (only facades): no model loaded at all.
    let workers = match detector_cameras {
        0 => 0,
        _ => config.detector.workers.unwrap_or(cores.clamp(1, 8)),
    };
    let intra = config
        .detector
        .intra_threads
        .unwrap_or((cores / workers.max(1)).max(1));
    let mut detectors = Vec::new();
    for _ in 0..workers {
        let options = DetectorOptions {
            score_threshold: config.detector.score_threshold,
            nms_iou: config.detector.nms_iou,
            intra_threads: intra,
            execution_provider: config.detector.execution_provider,
        };
        detectors.push(
            Detector::new(&config.detector.manifest, options)
                .context("cannot load the detector")?,
        );
    }

    // Alerts: track thread → writer. Never dropped: the sender blocks.
    let alert_counters = Arc::new(StageCounters::default());
    let mut metrics = PipelineMetrics {
        alerts: Some(alert_counters.clone()),
        ..Default::default()
    };
    let (alert_tx, alert_rx) =
        queue::bounded::<RaisedAlert>(256, WhenFull::Block, alert_counters.clone());

    // Evidence: per camera, a recorder fed by the tee's encoded branch; clips come back on `done`.
    let evidence = &config.evidence;
    let (done_tx, done_rx) = crossbeam_channel::bounded::<ClipDone>(1024);
    let mut clip_requests: HashMap<CameraId, crossbeam_channel::Sender<ClipRequest>> =
        HashMap::new();
    let mut encoded_sinks: HashMap<CameraId, EncodedSink> = HashMap::new();
    let mut evidence_counters = BTreeMap::new();
    let mut recorder_threads = Vec::new();
    if evidence.enabled {
        for cam in &config.cameras {
            let counters = Arc::new(StageCounters::default());
            // Evidence never holds up decoding: oldest units go first, counted.
            let (unit_tx, unit_rx) =
                queue::bounded::<EncodedUnit>(512, WhenFull::DropOldest, counters.clone());
            let (req_tx, req_rx) = crossbeam_channel::bounded::<ClipRequest>(1024);
            // A left object's alert comes `static_secs` after it appeared: the ring reaches back
            // that far too, so the clip shows it being left (and by whom), bytes permitting.
            let reach = config
                .waste
                .iter()
                .filter(|r| r.camera == cam.id && r.check == vigil_waste::WasteCheck::Left)
                .map(|r| Duration::from_secs_f64(r.static_secs))
                .max()
                .unwrap_or_default();
            let recorder = RecorderConfig {
                limits: RingLimits {
                    pre_roll: evidence.pre_roll + reach,
                    max_bytes: evidence.max_ring_bytes,
                },
                max_clip: evidence
                    .max_clip
                    .max(evidence.pre_roll + reach + evidence.post_roll),
                dir: options.out_dir.join("evidence"),
            };
            recorder_threads.push(spawn_recorder(
                cam.id.clone(),
                recorder,
                unit_rx,
                req_rx,
                done_tx.clone(),
            )?);
            clip_requests.insert(cam.id.clone(), req_tx);
            let sink: EncodedSink = Arc::new(move |u| {
                let _ = unit_tx.send(u);
            });
            encoded_sinks.insert(cam.id.clone(), sink);
            metrics
                .evidence
                .insert(cam.id.to_string(), counters.clone());
            evidence_counters.insert(cam.id.to_string(), counters);
        }
    }
    drop(done_tx);

    // Delivery starts first: what an earlier run left in the outbox goes out at once.
    let db = options.out_dir.join("alerts.db");
    let delivery = Delivery::start(config, &db)?;
    metrics.delivery = delivery.counters();
    // Live events for the page and other SSE clients.
    let events = vigil_serve::Events::default();
    let mut sink = AlertSink::open(
        &options.out_dir,
        options.print_alerts,
        crate::delivery::routes(config),
        delivery.nudgers(),
        events.clone(),
    )?;
    // What a killed run left behind: half-written evidence files, and alerts whose clip was
    // never recorded.
    if evidence.enabled {
        sink.recover_interrupted(&options.out_dir.join("evidence"));
    }
    // Camera status history, written from the camera threads on a connection of its own.
    let status_store = Arc::new(Mutex::new(vigil_deliver::AlertStore::open(&db)?));
    let writer_counters = alert_counters.clone();
    let (pre_roll, post_roll) = (evidence.pre_roll, evidence.post_roll);
    let retention = RetentionLimits {
        max_age: evidence.max_age,
        max_bytes_per_camera: evidence.max_bytes_per_camera,
        max_bytes_total: evidence.max_bytes_total,
        keep_unacknowledged_longest: evidence.keep_unacknowledged_longest,
    };
    let out_dir = options.out_dir.clone();
    let writer_probe = options.probe.clone();
    let alert_latency = metrics.alert_latency.clone();
    let writer = std::thread::Builder::new()
        .name("alerts".into())
        .spawn(move || {
            // Alerts waiting for their clip.
            // Alerts waiting for a clip, by request key, with the record the clip completes.
            let mut waiting: HashMap<String, (Alert, AlertEvent)> = HashMap::new();
            let (mut alerts_open, mut done_open) = (true, true);
            while alerts_open || done_open {
                let mut sel = Select::new();
                let a = alerts_open.then(|| sel.recv(alert_rx.inner()));
                let d = done_open.then(|| sel.recv(&done_rx));
                let Ok(op) = sel.select_timeout(RETENTION_EVERY) else {
                    sink.enforce_retention(&retention);
                    continue;
                };
                if Some(op.index()) == a {
                    let Ok(RaisedAlert {
                        alert,
                        blur,
                        zone,
                        arrived,
                    }) = op.recv(alert_rx.inner())
                    else {
                        // No more alerts: let the recorders finish what is open.
                        alerts_open = false;
                        clip_requests.clear();
                        continue;
                    };
                    writer_counters.received();
                    let cpu = vigil_core::cpu::thread_time();
                    if !sink.write(&alert) {
                        writer_counters.dropped(DropReason::Error);
                    } else if let Some(arrived) =
                        arrived.filter(|_| alert.event == AlertEvent::Start)
                    {
                        let latency = arrived.elapsed();
                        alert_latency.observe(latency);
                        if let Some(p) = &writer_probe {
                            p.alert_latency.observe(latency);
                        }
                    }
                    writer_counters.add_cpu(vigil_core::cpu::thread_time() - cpu);
                    let wanted = clip_for(&alert, pre_roll, post_roll);
                    if let (Some(req), Some((request, completes))) =
                        (clip_requests.get(&alert.camera), wanted)
                    {
                        let key = request.key.clone();
                        let request = ClipRequest {
                            snapshot: request.snapshot.map(|at| SnapshotRequest {
                                at,
                                overlay: overlay(&alert, zone),
                                blur,
                            }),
                            key: request.key,
                            from: request.from,
                            until: request.until,
                        };
                        if req.send(request).is_ok() {
                            waiting.insert(key, (alert, completes));
                        }
                    }
                } else if Some(op.index()) == d {
                    let Ok(done) = op.recv(&done_rx) else {
                        done_open = false;
                        continue;
                    };
                    for id in &done.keys {
                        let Some((mut alert, completes)) = waiting.remove(id) else {
                            continue;
                        };
                        alert.event = completes;
                        match &done.result {
                            Ok(clip) => {
                                // Relative to the output folder: it moves as a whole.
                                let path = clip.path.strip_prefix(&out_dir).unwrap_or(&clip.path);
                                alert.evidence.clip = Some(ClipRef {
                                    path: path.display().to_string(),
                                    duration_secs: clip.duration.as_secs_f64(),
                                    first_pts_secs: clip.first_pts.as_secs_f64(),
                                    sha256: clip.sha256.clone(),
                                });
                            }
                            Err(e) => alert.evidence.error = Some(e.clone()),
                        }
                        match done.snapshots.iter().find(|(a, _)| a == id).map(|(_, r)| r) {
                            Some(Ok(snap)) => {
                                let rel = |p: &std::path::Path| {
                                    p.strip_prefix(&out_dir).unwrap_or(p).display().to_string()
                                };
                                alert.evidence.snapshot = Some(SnapshotRef {
                                    path: rel(&snap.path),
                                    sha256: snap.sha256.clone(),
                                    clean_path: rel(&snap.clean_path),
                                    clean_sha256: snap.clean_sha256.clone(),
                                });
                            }
                            Some(Err(e)) if alert.evidence.error.is_none() => {
                                alert.evidence.error = Some(format!("snapshot: {e}"));
                            }
                            _ => {}
                        }
                        sink.write(&alert);
                    }
                    sink.enforce_retention(&retention);
                }
            }
            // Recorders have ended: anything still waiting gets no clip.
            for (_, (mut alert, completes)) in waiting {
                alert.event = completes;
                alert.evidence.error =
                    Some("the camera stopped before the clip was recorded".into());
                sink.write(&alert);
            }
        })?;

    // Replay progress, per camera, fed by the track thread.
    let progress: HashMap<CameraId, Arc<crate::progress::CameraProgress>> = config
        .cameras
        .iter()
        .map(|c| (c.id.clone(), Arc::default()))
        .collect();

    // Cameras.
    let streams = options.out_dir.join("streams");
    let mut lanes = Vec::new();
    let mut ingest_counters = BTreeMap::new();
    let mut camera_threads = Vec::new();
    let policy = if options.mode == Mode::Live {
        WhenFull::DropOldest
    } else {
        WhenFull::Block
    };
    let explain = match options.explain {
        true => Some(Arc::new(Mutex::new(std::io::BufWriter::new(
            std::fs::File::create(options.out_dir.join("explain.jsonl"))?,
        )))),
        false => None,
    };
    let mut fall_threads = Vec::new();
    let mut fall_stages = BTreeMap::new();
    for cam in &config.cameras {
        let counters = Arc::new(StageCounters::default());
        let facade = config.fall_rule(&cam.id);
        // A facade camera's stage must see every frame: a deeper queue.
        // Live detector cameras hold only their newest sampled frame: one waiting frame per
        // camera bounds how stale a frame can be when detection is busy (10 cameras × 20 ms ÷ 2
        // workers ≈ 100 ms at most, lanes being served in turn), and an older one would be
        // dropped for a newer one anyway. Replay keeps two so decoding runs ahead.
        let depth = match (facade.is_some(), options.mode) {
            (true, _) => crate::falling::QUEUE_FRAMES,
            (false, Mode::Live) => 1,
            (false, Mode::Replay) => 2,
        };
        let (tx, rx) = queue::bounded::<Frame>(depth, policy, counters.clone());
        let sinks = CameraSinks {
            frames: tx,
            encoded: encoded_sinks.remove(&cam.id),
            status: {
                let store = status_store.clone();
                let (events, up) = (events.clone(), metrics.camera_up.clone());
                // When this camera went offline, to report how long it was away.
                let down_since: Mutex<Option<Instant>> = Mutex::new(None);
                Arc::new(move |camera, status| {
                    let mut since = down_since.lock().unwrap_or_else(|p| p.into_inner());
                    let (online, detail) = match &status {
                        CameraStatus::Online => match since.take() {
                            Some(t) => {
                                let offline_secs = t.elapsed().as_secs_f64();
                                tracing::info!(%camera, offline_secs, "camera online");
                                (true, format!("back after {offline_secs:.1} s offline"))
                            }
                            None => {
                                tracing::info!(%camera, "camera online");
                                (true, String::new())
                            }
                        },
                        CameraStatus::Offline { reason } => {
                            since.get_or_insert_with(Instant::now);
                            tracing::warn!(%camera, %reason, "camera offline");
                            (false, reason.clone())
                        }
                    };
                    drop(since);
                    let recorded = store
                        .lock()
                        .map_err(|_| "status store lock poisoned".to_string())
                        .and_then(|mut s| {
                            s.record_camera_status(camera, online, &detail)
                                .map_err(|e| e.to_string())
                        });
                    if let Err(error) = recorded {
                        tracing::warn!(%camera, %error, "cannot record camera status");
                    }
                    if let Ok(mut up) = up.lock() {
                        up.insert(camera.to_string(), online);
                    }
                    events.publish(vigil_serve::LiveEvent::Camera {
                        status: vigil_deliver::CameraStatusEntry {
                            camera: camera.to_string(),
                            online,
                            at_ms: vigil_deliver::now_ms(),
                            detail,
                        },
                    });
                })
            },
            counters: counters.clone(),
            duration_ms: progress[&cam.id].duration_ms.clone(),
        };
        let mut spec = camera_spec(config, cam, options.mode);
        playable(&mut spec.source, &cam.id, &streams)?;
        tracing::info!(camera = %cam.id, source = %describe_source(&cam.source), "starting camera");
        camera_threads.push((cam.id.clone(), spawn_camera(spec, sinks, stop.clone())?));
        metrics.ingest.insert(cam.id.to_string(), counters.clone());
        ingest_counters.insert(cam.id.to_string(), counters);
        if let Some(rule) = facade {
            let stage_counters = Arc::new(StageCounters::default());
            let stats = Arc::new(Mutex::new(vigil_falling::FallStats::default()));
            fall_threads.push(crate::falling::spawn(crate::falling::FallStage {
                rule: rule.clone(),
                frames: rx,
                alerts: alert_tx.clone(),
                counters: stage_counters.clone(),
                progress: progress[&cam.id].clone(),
                explain: explain.clone(),
                stats: stats.clone(),
            })?);
            metrics
                .falling
                .insert(cam.id.to_string(), stage_counters.clone());
            fall_stages.insert(cam.id.to_string(), (stage_counters, stats));
            continue;
        }
        lanes.push(Lane {
            camera: cam.id.clone(),
            rx,
            dispatch: Mutex::new(0),
            closed: AtomicBool::new(false),
            keep_image: config.waste.iter().any(|w| w.camera == cam.id),
        });
    }
    let lanes = Arc::new(Lanes {
        lanes,
        turn: AtomicUsize::new(0),
    });

    // Detect workers → track thread.
    let detect_counters = Arc::new(StageCounters::default());
    let (det_tx, det_rx) =
        queue::bounded::<DetectedFrame>(64, WhenFull::Block, detect_counters.clone());
    let timing = Arc::new(Mutex::new(DetectTiming::default()));
    let infer_hist = Arc::new(Histogram::new(LATENCY_BUCKETS_SECS));
    metrics.detect = Some(detect_counters.clone());
    metrics.infer = Some(infer_hist.clone());
    let mut worker_threads = Vec::new();
    for (i, mut detector) in detectors.into_iter().enumerate() {
        let (lanes, tx, counters, timing, hist) = (
            lanes.clone(),
            det_tx.clone(),
            detect_counters.clone(),
            timing.clone(),
            infer_hist.clone(),
        );
        let probe = options.probe.clone();
        worker_threads.push(std::thread::Builder::new().name(format!("detect-{i}")).spawn(move || {
            while let Some((frame, dispatch_seq, keep_image)) = lanes.next_frame() {
                let taken = Instant::now();
                let cpu = vigil_core::cpu::thread_time();
                counters.received();
                let meta = frame.meta.clone();
                let (detections, error, infer_time) =
                    match detector.detect(&frame.image, frame.meta.source_size) {
                        Ok((d, t)) => {
                            if let Some(p) = &probe {
                                p.detect_phases(&t);
                            }
                            (d, None, t.infer)
                        }
                        Err(e) => {
                            tracing::warn!(camera = %meta.camera, error = %e, "detection failed");
                            counters.dropped(DropReason::Error);
                            (Vec::new(), Some(e.to_string()), Duration::ZERO)
                        }
                    };
                // Waste rules read the pixels: an owned copy, so the decoder's buffer is released.
                let image = keep_image.then(|| frame.image.to_owned_packed());
                counters.add_cpu(vigil_core::cpu::thread_time() - cpu);
                drop(frame); // release the decoded buffer before waiting on the next stage
                if error.is_none() {
                    hist.observe(infer_time);
                }
                {
                    let mut t = timing.lock().expect("timing lock");
                    t.infer += infer_time;
                    t.first.get_or_insert(taken);
                    t.last = Some(Instant::now());
                }
                if tx.send(DetectedFrame { meta, dispatch_seq, detections, error, infer_time, image }).is_err() {
                    break;
                }
            }
        })?);
    }
    drop(det_tx);

    let track_counters = Arc::new(StageCounters::default());
    metrics.track = Some(track_counters.clone());
    let tc = track_counters.clone();
    type CameraRules = (
        Vec<vigil_rules::Rule>,
        Vec<vigil_waste::WasteRule>,
        Vec<String>,
    );
    let rules_by_camera: HashMap<CameraId, CameraRules> = config
        .cameras
        .iter()
        .map(|c| {
            let rules = config
                .rules
                .iter()
                .filter(|r| r.camera == c.id)
                .cloned()
                .collect();
            let waste = config.waste_rules(&c.id);
            (c.id.clone(), (rules, waste, c.privacy_blur.clone()))
        })
        .collect();
    let waste_stats = metrics.waste.clone();
    let waste_out = waste_stats.clone();
    let mut track_log = match options.dump_tracks {
        true => Some(std::io::BufWriter::new(std::fs::File::create(
            options.out_dir.join("tracks.jsonl"),
        )?)),
        false => None,
    };
    let tracker_config = config.tracker.clone();
    let updates = Arc::new(crate::reload::RuleUpdates::default());
    let reload_stop = Arc::new(AtomicBool::new(false));
    let watcher = match options.reload_rules {
        true => Some(crate::reload::spawn(
            config,
            options.assets.clone(),
            updates.clone(),
            reload_stop.clone(),
        )?),
        false => None,
    };
    let progress_stop = Arc::new(AtomicBool::new(false));
    let progress_thread = match options.progress {
        true => Some(crate::progress::spawn(
            progress.values().cloned().collect(),
            progress_stop.clone(),
        )?),
        false => None,
    };
    let track_probe = options.probe.clone();
    let frame_latency = metrics.frame_latency.clone();
    let tracker_thread = std::thread::Builder::new()
        .name("track".into())
        .spawn(move || {
            struct CameraState {
                tracker: Tracker,
                rules: RuleEngine,
                /// The camera's static-object detector and waste rules, when it has any.
                waste: Option<vigil_waste::WasteEngine>,
                /// The rule generation in force (see `reload`).
                generation: u64,
                /// Classes or groups pixelated in this camera's snapshots.
                blur: Vec<String>,
                progress: Arc<crate::progress::CameraProgress>,
                next: u64,
                pending: BTreeMap<u64, DetectedFrame>,
            }
            let mut cameras: HashMap<CameraId, CameraState> = rules_by_camera
                .into_iter()
                .map(|(id, (rules, waste, blur))| {
                    let state = CameraState {
                        tracker: Tracker::new(tracker_config.clone()),
                        rules: RuleEngine::new(rules),
                        waste: (!waste.is_empty()).then(|| {
                            vigil_waste::WasteEngine::new(vigil_waste::SceneConfig::default(), waste)
                        }),
                        generation: 0,
                        blur,
                        progress: progress[&id].clone(),
                        next: 0,
                        pending: BTreeMap::new(),
                    };
                    (id, state)
                })
                .collect();
            while let Some(df) = det_rx.recv() {
                let Some(state) = cameras.get_mut(&df.meta.camera) else {
                    continue;
                };
                if updates.generation() != state.generation {
                    let (generation, rules) = updates.latest();
                    state.generation = generation;
                    let mine = rules.iter().filter(|r| r.camera == df.meta.camera).cloned().collect();
                    for end in state.rules.replace_rules(mine, &df.meta) {
                        // The end of an alert whose rule was removed.
                        let raised = RaisedAlert { alert: end, blur: Vec::new(), zone: Vec::new(), arrived: None };
                        if alert_tx.send(raised).is_err() {
                            return;
                        }
                    }
                    tracing::info!(camera = %df.meta.camera, rules = state.rules.rules().len(), "new rules applied");
                }
                state.pending.insert(df.dispatch_seq, df);
                while let Some(df) = state.pending.remove(&state.next) {
                    state.next += 1;
                    tc.received();
                    if df.error.is_some() {
                        tc.dropped(DropReason::Error);
                        continue;
                    }
                    let cpu = vigil_core::cpu::thread_time();
                    let tracks = state.tracker.step(df.meta.pts, &df.detections);
                    let tracked = vigil_core::cpu::thread_time();
                    state.progress.frame_done(df.meta.pts);
                    if let Some(log) = track_log.as_mut() {
                        write_tracks(log, &df, &tracks);
                    }
                    let mut alerts = state.rules.step(&df.meta, &tracks);
                    if let (Some(waste), Some(image)) = (state.waste.as_mut(), df.image.as_ref()) {
                        alerts.extend(waste.step(&df.meta, image, &tracks));
                        // For /metrics, every few frames.
                        if df.dispatch_seq % 10 == 0 {
                            publish_waste(&waste_out, &df.meta.camera, waste);
                        }
                    }
                    let ruled = vigil_core::cpu::thread_time();
                    tc.add_cpu(ruled - cpu);
                    let latency = df.meta.arrived.elapsed();
                    frame_latency.observe(latency);
                    if let Some(p) = &track_probe {
                        p.frame_latency.observe(latency);
                        p.track_cpu(tracked - cpu, ruled - tracked);
                    }
                    for alert in alerts {
                        // What this frame shows of the classes blurred for privacy.
                        let blur = df
                            .detections
                            .iter()
                            .filter(|d| d.score >= 0.2)
                            .filter(|d| state.blur.iter().any(|b| *b == *d.class || *b == *d.group))
                            .map(|d| d.bbox_px)
                            .collect();
                        let zone = state
                            .rules
                            .rules()
                            .iter()
                            .find(|r| r.id == alert.rule)
                            .map(|r| r.outline())
                            .or_else(|| {
                                let waste = state.waste.as_ref()?.rules();
                                waste.iter().find(|r| r.id == alert.rule).map(|r| r.outline())
                            })
                            .unwrap_or_default();
                        let arrived = Some(df.meta.arrived);
                        if alert_tx.send(RaisedAlert { alert, blur, zone, arrived }).is_err() {
                            return;
                        }
                    }
                    tc.sent();
                }
            }
            for (id, state) in &cameras {
                if let Some(w) = &state.waste {
                    publish_waste(&waste_out, id, w);
                }
            }
        })?;

    let presence_counters = config
        .outputs
        .postgres
        .as_ref()
        .map(|_| Arc::new(vigil_deliver::shared::presence::PresenceCounters::default()));
    metrics.presence = presence_counters.clone();
    // The HTTP API and page, once every counter exists.
    let metrics = Arc::new(metrics);
    if let Some(p) = &options.probe {
        p.attach(metrics.clone());
    }
    let server = match &config.api {
        Some(api) => {
            let metrics = metrics.clone();
            let serve = vigil_serve::ServeConfig {
                listen: api.listen,
                tokens: api.tokens.clone(),
                db: db.clone(),
                out_dir: options.out_dir.clone(),
                cameras: config.camera_names(),
                district: config.outputs.postgres.as_ref().map(|p| {
                    vigil_serve::district::DistrictConfig {
                        database: crate::delivery::shared_database(p),
                        instance: config.instance_name().to_string(),
                    }
                }),
            };
            let server = vigil_serve::start(
                serve,
                events.clone(),
                Arc::new(move |out: &mut String| metrics.write(out)),
            )
            .context("cannot start the HTTP API")?;
            eprintln!("page and API on http://{}/", server.addr());
            Some(server)
        }
        None => None,
    };
    // This instance's rows in the shared store: where its API is, its acknowledgements.
    let presence = match (&config.outputs.postgres, presence_counters) {
        (Some(p), Some(counters)) => {
            let announce = vigil_deliver::shared::presence::Announce {
                instance: config.instance_name().to_string(),
                url: config
                    .advertise
                    .clone()
                    .or_else(|| server.as_ref().map(|s| advertised(s.addr()))),
                shard: config
                    .instance
                    .as_ref()
                    .and_then(|i| i.shard)
                    .map(|s| s.to_string()),
                cameras: config.camera_names(),
            };
            let shared = crate::delivery::shared_database(p);
            Some(
                vigil_deliver::shared::presence::spawn(&db, &shared, announce, counters)
                    .map_err(anyhow::Error::msg)?,
            )
        }
        _ => None,
    };

    let mut failed = Vec::new();
    for (id, t) in camera_threads {
        match t.join() {
            Ok(CameraExit::Failed(reason)) => {
                tracing::error!(camera = %id, %reason, "camera failed");
                failed.push(format!("{id}: {reason}"));
            }
            Ok(exit) => tracing::info!(camera = %id, ?exit, "camera finished"),
            Err(_) => failed.push(format!("{id}: camera thread panicked")),
        }
    }
    for w in worker_threads {
        let _ = w.join();
    }
    for f in fall_threads {
        let _ = f.join();
    }
    if let Some(e) = &explain
        && let Ok(mut e) = e.lock()
    {
        let _ = std::io::Write::flush(&mut *e);
    }
    let _ = tracker_thread.join();
    progress_stop.store(true, Ordering::Relaxed);
    if let Some(p) = progress_thread {
        let _ = p.join();
    }
    reload_stop.store(true, Ordering::Relaxed);
    if let Some(w) = watcher {
        let _ = w.join();
    }
    let _ = writer.join();
    for r in recorder_threads {
        let _ = r.join();
    }
    let left = delivery.drain(options.drain);
    if left > 0 {
        tracing::warn!(
            pending = left,
            "receivers did not take every record; they stay in the outbox for the next run"
        );
    }
    let delivery = delivery.stop();
    if let Some(p) = presence {
        p.stop();
    }
    if let Some(server) = server {
        server.stop();
    }

    let elapsed = started.elapsed().as_secs_f64();
    let detect = detect_counters.snapshot();
    let DetectTiming { infer, first, last } = *timing.lock().expect("timing lock");
    // Frames/s over the time detection was busy: from the first frame taken to the last done,
    // so model loading and draining do not count.
    let processing = match (first, last) {
        (Some(a), Some(b)) => (b - a).as_secs_f64(),
        _ => 0.0,
    };
    let summary = Summary {
        elapsed_secs: elapsed,
        ingest: ingest_counters
            .into_iter()
            .map(|(k, c)| (k, c.snapshot()))
            .collect(),
        detect,
        track: track_counters.snapshot(),
        alerts: alert_counters.snapshot(),
        evidence: evidence_counters
            .into_iter()
            .map(|(k, c)| (k, c.snapshot()))
            .collect(),
        processing_secs: processing,
        detected_fps: if processing > 0.0 {
            detect.received as f64 / processing
        } else {
            0.0
        },
        infer_ms_mean: if detect.received > 0 {
            infer.as_secs_f64() * 1e3 / detect.received as f64
        } else {
            0.0
        },
        failed_cameras: failed,
        delivery,
        falling: fall_stages
            .into_iter()
            .map(|(k, (c, stats))| {
                let detector = stats.lock().map(|s| s.clone()).unwrap_or_default();
                (
                    k,
                    FallSummary {
                        stage: c.snapshot(),
                        detector,
                    },
                )
            })
            .collect(),
        waste: waste_stats
            .lock()
            .map(|w| w.iter().map(|(k, (s, _))| (k.clone(), s.clone())).collect())
            .unwrap_or_default(),
    };
    std::fs::write(
        options.out_dir.join("summary.json"),
        serde_json::to_string_pretty(&summary)?,
    )?;
    Ok(summary)
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

fn write_tracks(out: &mut impl std::io::Write, df: &DetectedFrame, tracks: &[vigil_core::Track]) {
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

/// Points a file camera whose format GStreamer cannot play reliably (GIF) at a converted copy
/// under `streams/`, made once.
fn playable(source: &mut CameraSource, camera: &CameraId, streams: &std::path::Path) -> Result<()> {
    let CameraSource::File { path, .. } = source else {
        return Ok(());
    };
    if !vigil_ingest::transcode::needs_transcode(path) {
        return Ok(());
    }
    std::fs::create_dir_all(streams)?;
    let converted = streams.join(format!("{camera}.mp4"));
    let fresh = |c: &std::path::Path| -> Option<bool> {
        Some(c.metadata().ok()?.modified().ok()? >= path.metadata().ok()?.modified().ok()?)
    };
    if fresh(&converted) != Some(true) {
        let frames = vigil_ingest::transcode::gif_to_mp4(path, &converted)
            .with_context(|| format!("camera {camera}: cannot convert {}", path.display()))?;
        tracing::info!(%camera, frames, to = %converted.display(), "converted GIF to H.264 MP4");
    }
    *path = converted;
    Ok(())
}

/// Takes the next frame from any camera; `None` once every camera queue is closed and empty.
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
    /// The next frame to detect and its dispatch number in its camera; `None` once every
    /// camera's queue has closed.
    fn next_frame(&self) -> Option<(Frame, u64, bool)> {
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
                        let seq = *dispatch;
                        *dispatch += 1;
                        return Some((frame, seq, lane.keep_image));
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

/// The clip an alert record asks for — key, stream-time span, snapshot time — and the record
/// that will report it: `start` gets the clip of its beginning (`evidence`); `end` gets one of
/// its end (`end_evidence`) when the end lies past what the first clip holds.
struct WantedClip {
    key: String,
    from: Duration,
    until: Duration,
    snapshot: Option<Duration>,
}

fn clip_for(
    alert: &Alert,
    pre_roll: Duration,
    post_roll: Duration,
) -> Option<(WantedClip, AlertEvent)> {
    let secs = Duration::from_secs_f64;
    match alert.event {
        AlertEvent::Start => Some((
            WantedClip {
                key: alert.id.clone(),
                from: secs(alert.started_pts_secs).saturating_sub(pre_roll),
                until: secs(alert.raised_pts_secs) + post_roll,
                snapshot: Some(secs(alert.raised_pts_secs)),
            },
            AlertEvent::Evidence,
        )),
        AlertEvent::End => {
            let ended = secs(alert.ended_pts_secs?);
            (ended > secs(alert.raised_pts_secs) + post_roll).then(|| {
                (
                    WantedClip {
                        key: format!("{}-end", alert.id),
                        from: ended.saturating_sub(pre_roll),
                        until: ended + post_roll,
                        snapshot: Some(ended),
                    },
                    AlertEvent::EndEvidence,
                )
            })
        }
        _ => None,
    }
}

/// An alert on its way to the writer, with what its snapshot must blur.
pub(crate) struct RaisedAlert {
    pub alert: Alert,
    pub blur: Vec<vigil_core::BBoxPx>,
    /// The rule's zone (normalised points), drawn on the snapshot.
    pub zone: Vec<(f64, f64)>,
    /// When the frame that made the rule's condition true arrived from the decoder (the start
    /// of the alert latency, measured to the record's commit).
    pub arrived: Option<Instant>,
}

/// What the annotated snapshot shows: the rule's zone and each object with its track id; for a
/// falling object, its trajectory and origin (the composite evidence image).
fn overlay(alert: &Alert, zone: Vec<(f64, f64)>) -> Overlay {
    Overlay {
        trajectory: alert.trajectory.as_ref().map(|t| TrajectoryOverlay {
            points: t.points.iter().map(|p| (p.x_px, p.y_px)).collect(),
            origin: (t.origin.x_px, t.origin.y_px),
            label: format!(
                "floor {} ({}-{}) col {}",
                t.origin.floor, t.origin.floor_range[0], t.origin.floor_range[1], t.origin.column
            ),
        }),
        zone,
        boxes: alert
            .objects
            .iter()
            .map(|o| {
                (
                    o.bbox_px,
                    format!("#{} {} {:.2}", o.track_id, o.class, o.score),
                )
            })
            .collect(),
    }
}

/// Why an alert raised by a run that was killed has no clip.
pub(crate) const INTERRUPTED: &str =
    "vigil stopped (killed or crashed) before this alert's clip was written";

/// Where the writer puts alert records: the SQLite store, `alerts.jsonl`, and the terminal.
struct AlertSink {
    store: vigil_deliver::AlertStore,
    log: vigil_deliver::JsonlLog,
    print: bool,
    dir: PathBuf,
    /// Wake the delivery workers (full: a wake-up is already queued).
    nudgers: Vec<crossbeam_channel::Sender<()>>,
    /// Every stored record goes to the live-event clients.
    events: vigil_serve::Events,
    /// When the delivery log and status history were last pruned.
    pruned: Option<Instant>,
}

/// How often the delivery log and status history are pruned (retention runs far more often).
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// Days the delivery log and camera status history are kept (alert records are kept for good;
/// their clips follow the evidence retention).
const HISTORY_DAYS: i64 = 90;

/// How often retention runs when nothing else happens (it also runs after every clip).
const RETENTION_EVERY: Duration = Duration::from_secs(30);

impl AlertSink {
    /// Cleans up after a run that was killed: removes half-written evidence files (`*.part`:
    /// clips and snapshots are written to a temporary name and renamed when complete) and gives
    /// every alert whose clip never came an `evidence` record saying why, so each alert's record
    /// set is complete and receivers hear about it.
    fn recover_interrupted(&mut self, evidence: &std::path::Path) {
        let mut removed = 0;
        let mut folders = vec![evidence.to_path_buf()];
        while let Some(dir) = folders.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries.flatten() {
                let path = e.path();
                if path.is_dir() {
                    folders.push(path);
                } else if path.extension().is_some_and(|x| x == "part")
                    && std::fs::remove_file(&path).is_ok()
                {
                    removed += 1;
                }
            }
        }
        if removed > 0 {
            tracing::warn!(
                removed,
                "removed half-written evidence files left by a killed run"
            );
        }
        let records = match self.store.all() {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the store to finish interrupted alerts");
                return;
            }
        };
        let mut waiting: BTreeMap<String, Alert> = BTreeMap::new();
        for r in records {
            match r.event {
                AlertEvent::Start => {
                    waiting.insert(r.id.clone(), r);
                }
                AlertEvent::Evidence | AlertEvent::Expired => {
                    waiting.remove(&r.id);
                }
                _ => {}
            }
        }
        let marked = waiting.len();
        for (_, mut alert) in waiting {
            alert.event = AlertEvent::Evidence;
            alert.evidence.error = Some(INTERRUPTED.to_string());
            self.write(&alert);
        }
        if marked > 0 {
            tracing::warn!(marked, "alerts of a killed run marked as without a clip");
        }
    }

    fn open(
        dir: &std::path::Path,
        print: bool,
        routes: Vec<vigil_deliver::Route>,
        nudgers: Vec<crossbeam_channel::Sender<()>>,
        events: vigil_serve::Events,
    ) -> Result<Self> {
        Ok(Self {
            store: vigil_deliver::AlertStore::open(&dir.join("alerts.db"))?.with_routes(routes),
            log: vigil_deliver::JsonlLog::open(&dir.join("alerts.jsonl"))?,
            print,
            dir: dir.to_path_buf(),
            nudgers,
            events,
            pruned: None,
        })
    }

    /// Deletes clips beyond the retention budgets, oldest first, and records each deletion (an
    /// `expired` record per alert that shared the file) so `vigil verify` stays intact.
    fn enforce_retention(&mut self, limits: &RetentionLimits) {
        // The delivery log and camera status history are kept for HISTORY_DAYS: pruned at the
        // first pass and then hourly, not at every pass.
        if self.pruned.is_none_or(|t| t.elapsed() >= PRUNE_EVERY) {
            self.pruned = Some(Instant::now());
            let cutoff = vigil_deliver::now_ms() - HISTORY_DAYS * 86_400_000;
            if let Err(e) = self.store.prune_history(cutoff) {
                tracing::warn!(error = %e, "retention: cannot prune the delivery and status history");
            }
        }
        let live = match self.store.live_clips() {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "retention: cannot list clips");
                return;
            }
        };
        // One query for every acknowledgement, not one per clip.
        let acked = self.store.acknowledged_ids().unwrap_or_else(|e| {
            tracing::warn!(error = %e, "retention: cannot read acknowledgements");
            Default::default()
        });
        let mut files: Vec<EvidenceFile> = Vec::new();
        for a in &live {
            let Some(clip) = a.evidence.clip.as_ref() else {
                continue;
            };
            let acknowledged = acked.contains(&a.id);
            if let Some(f) = files.iter_mut().find(|f| f.path == clip.path) {
                // Shared by several alerts: acknowledged only when all of them are.
                f.acknowledged &= acknowledged;
                continue;
            }
            let meta = std::fs::metadata(self.dir.join(&clip.path)).ok();
            files.push(EvidenceFile {
                camera: a.camera.to_string(),
                path: clip.path.clone(),
                bytes: meta.as_ref().map_or(0, |m| m.len()),
                created: meta
                    .and_then(|m| m.modified().ok())
                    .unwrap_or_else(SystemTime::now),
                acknowledged,
            });
        }
        for (i, why) in vigil_evidence::retention::plan(&files, *limits, SystemTime::now()) {
            let f = &files[i];
            match std::fs::remove_file(self.dir.join(&f.path)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::warn!(path = %f.path, error = %e, "retention: cannot delete clip");
                    continue;
                }
            }
            tracing::info!(path = %f.path, reason = why.describe(), "retention: clip deleted");
            let sharing = live
                .iter()
                .filter(|a| a.evidence.clip.as_ref().is_some_and(|c| c.path == f.path));
            for snap in sharing.filter_map(|a| a.evidence.snapshot.as_ref()) {
                for p in [&snap.path, &snap.clean_path] {
                    let _ = std::fs::remove_file(self.dir.join(p));
                }
            }
            let sharing = live
                .iter()
                .filter(|a| a.evidence.clip.as_ref().is_some_and(|c| c.path == f.path));
            for a in sharing {
                let mut record = a.clone();
                record.event = a.event.expiry();
                record.evidence.error = Some(format!("deleted by retention: {}", why.describe()));
                self.write(&record);
            }
        }
    }

    /// Stores one record; false (logged) when it could not be stored.
    fn write(&mut self, alert: &Alert) -> bool {
        let stored = self.store.insert(alert).and_then(|record| {
            self.log.append(&record)?;
            Ok(record)
        });
        match stored {
            Ok(record) => {
                for n in &self.nudgers {
                    let _ = n.try_send(());
                }
                self.events.publish(vigil_serve::LiveEvent::Alert {
                    record: Box::new(record.clone()),
                });
                if self.print {
                    println!("{}", describe(&record));
                }
                true
            }
            Err(e) => {
                tracing::error!(alert = %alert.id, error = %e, "cannot store alert");
                false
            }
        }
    }
}

/// One line for a person watching the terminal.
pub fn describe(a: &Alert) -> String {
    let zone = a.zone.as_ref().map_or("-", |z| z.as_str());
    let head = format!(
        "{} camera={} rule={} zone={zone}",
        a.kind.as_str(),
        a.camera,
        a.rule
    );
    match a.event {
        AlertEvent::Start if a.trajectory.is_some() => {
            let t = a.trajectory.as_ref().expect("matched");
            let o = &t.origin;
            format!(
                "ALERT {head} from floor {} (floors {}-{}), column {}: fell {:.1} m at {:.1} m/s² over {} frames, released={:.2}s raised={:.2}s {} id={}",
                o.floor,
                o.floor_range[0],
                o.floor_range[1],
                o.column,
                t.drop_m,
                t.acceleration_mps2,
                t.points.len(),
                o.pts_secs,
                a.raised_pts_secs,
                a.wall_time,
                a.id
            )
        }
        AlertEvent::Start => {
            let objects: Vec<String> = a
                .objects
                .iter()
                .map(|o| {
                    let b = o.bbox_px.to_array().map(|v| v.round() as i32);
                    format!("track {} {} {:.2} at {:?}", o.track_id, o.class, o.score, b)
                })
                .collect();
            format!(
                "ALERT {head} started={:.2}s raised={:.2}s {} [{}] id={}",
                a.started_pts_secs,
                a.raised_pts_secs,
                a.wall_time,
                objects.join("; "),
                a.id
            )
        }
        AlertEvent::Update => format!(
            "UPDATE {head} still there {:.1} s after the alert ({:.1} s in all) {} id={}",
            a.updated_pts_secs.unwrap_or(a.raised_pts_secs) - a.raised_pts_secs,
            a.updated_pts_secs.unwrap_or(a.raised_pts_secs) - a.started_pts_secs,
            a.wall_time,
            a.id
        ),
        AlertEvent::End => {
            let ended = a.ended_pts_secs.unwrap_or(a.raised_pts_secs);
            format!(
                "END {head} started={:.2}s ended={ended:.2}s (lasted {:.1} s) id={}",
                a.started_pts_secs,
                ended - a.started_pts_secs,
                a.id
            )
        }
        AlertEvent::Evidence | AlertEvent::EndEvidence => {
            match (&a.evidence.clip, &a.evidence.error) {
                (Some(c), _) => format!(
                    "  {}evidence for {}: clip {} ({:.1} s from {:.2}s, sha256 {})",
                    if a.event == AlertEvent::EndEvidence {
                        "end "
                    } else {
                        ""
                    },
                    a.id,
                    c.path,
                    c.duration_secs,
                    c.first_pts_secs,
                    &c.sha256[..12.min(c.sha256.len())]
                ),
                (None, e) => {
                    format!(
                        "  evidence for {}: no clip ({})",
                        a.id,
                        e.as_deref().unwrap_or("unknown")
                    )
                }
            }
        }
        AlertEvent::Expired | AlertEvent::EndExpired => {
            let reason = a.evidence.error.as_deref().unwrap_or("retention");
            format!("  evidence for {} deleted ({reason})", a.id)
        }
    }
}

fn describe_source(s: &CameraSource) -> String {
    match s {
        // `RtspUrl`'s Display redacts credentials.
        CameraSource::Rtsp { url, .. } => url.to_string(),
        CameraSource::File { path, looping } => {
            format!(
                "{}{}",
                path.display(),
                if *looping { " (loop)" } else { "" }
            )
        }
    }
}

/// Hands a camera's static-object counts and the objects it follows to `/metrics` and the summary.
fn publish_waste(
    out: &crate::metrics::WasteCounts,
    camera: &CameraId,
    waste: &vigil_waste::WasteEngine,
) {
    if let Ok(mut out) = out.lock() {
        out.insert(
            camera.to_string(),
            (waste.stats().clone(), waste.objects().len()),
        );
    }
}

/// Where the other instances reach an API listening on `addr`: the address itself, or this
/// host's name when it listens on every interface (a pod's name, in a StatefulSet).
fn advertised(addr: std::net::SocketAddr) -> String {
    if !addr.ip().is_unspecified() {
        return format!("http://{addr}");
    }
    let host = vigil_config::shard::host_name().unwrap_or_else(|| "localhost".into());
    format!("http://{host}:{}", addr.port())
}
