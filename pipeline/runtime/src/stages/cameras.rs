//! The cameras: for each configured camera a `cam-<id>` thread (`vigil-ingest`) decoding its
//! source into a bounded frame queue — a detector camera's frames go to the detect workers
//! (through its motion gate, when it has one), a
//! facade camera's to its falling-object stage — and its encoded access units to the evidence
//! recorder. A camera with a `record:` main stream records that one instead, from a second
//! pipeline (`rec-<id>`) that is never decoded and reconnects on its own.

use super::camera_status;
use super::detect_pool::Lane;
use super::gate::LaneGate;
use super::{Mode, capacity};
use crate::progress::CameraProgress;
use crate::reload::RuleUpdates;
use anyhow::{Context, Result};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use vigil_config::{CameraConfig, CameraSource, ColourOrder, Config, FallRule, ResizeMode};
use vigil_core::{
    CameraId, Frame, PixelFormat, QueueReceiver, Size, StageCounters, WhenFull, queue,
};
use vigil_detect::remap::ClassRemap;
use vigil_evidence::SecondStream;
use vigil_ingest::{
    CameraExit, CameraSinks, CameraSpec, EncodedSink, RecordSinks, TargetSize, spawn_camera,
    spawn_record,
};

/// What the cameras need from the rest of the pipeline.
pub struct Settings<'a> {
    pub config: &'a Config,
    pub mode: Mode,
    /// Where GIF footage is converted to H.264 once (`OUT/streams`).
    pub streams: PathBuf,
    /// Per camera with evidence: where its encoded access units go.
    pub encoded: HashMap<CameraId, EncodedSink>,
    /// Per camera with a record stream: its clock mapping and health ([`super::evidence`]).
    pub second: HashMap<CameraId, SecondStream>,
    pub status: camera_status::Settings,
    pub progress: &'a HashMap<CameraId, Arc<CameraProgress>>,
    /// Edited rules, whose zones the motion gates follow.
    pub updates: Arc<RuleUpdates>,
    pub stop: Arc<AtomicBool>,
}

/// The running cameras and the far ends of their frame queues.
pub struct Cameras {
    pub threads: Vec<(CameraId, JoinHandle<CameraExit>)>,
    /// Detector cameras' queues, for the detect workers.
    pub lanes: Vec<Lane>,
    /// Facade cameras' queues, each with its falling-object rule.
    pub facades: Vec<(FallRule, QueueReceiver<Frame>)>,
    /// Per camera: decoded frames, handed on, dropped.
    pub counters: BTreeMap<String, Arc<StageCounters>>,
    /// Per camera: the element decoding its stream, once one runs.
    pub decoders: BTreeMap<String, Arc<Mutex<Option<String>>>>,
    /// Per camera with a record stream: its access units (received).
    pub records: BTreeMap<String, Arc<StageCounters>>,
}

impl Settings<'_> {
    pub fn spawn(mut self) -> Result<Cameras> {
        let mut started = Cameras {
            threads: Vec::new(),
            lanes: Vec::new(),
            facades: Vec::new(),
            counters: BTreeMap::new(),
            decoders: BTreeMap::new(),
            records: BTreeMap::new(),
        };
        // Live: the newest frames win (oldest dropped, counted); replay: nothing is lost.
        let policy = match self.mode {
            Mode::Live => WhenFull::DropOldest,
            Mode::Replay => WhenFull::Block,
        };
        let config = self.config;
        for cam in &config.cameras {
            let counters = Arc::new(StageCounters::default());
            let facade = config.fall_rule(&cam.id);
            let depth = match (facade.is_some(), self.mode) {
                (true, _) => capacity::FALL_FRAMES,
                (false, Mode::Live) => capacity::DETECT_FRAMES_LIVE,
                (false, Mode::Replay) => capacity::DETECT_FRAMES_REPLAY,
            };
            let (tx, rx) = queue::bounded::<Frame>(depth, policy, counters.clone());
            // A camera with a main stream records that one; its detect stream is decoded only.
            let encoded = self.encoded.remove(&cam.id);
            let (encoded, record) = match (&cam.record, self.second.remove(&cam.id), encoded) {
                (Some(source), Some(second), Some(sink)) => (None, Some((source, second, sink))),
                (Some(_), _, encoded) => {
                    tracing::info!(camera = %cam.id, "evidence is off: the record stream is not opened");
                    (encoded, None)
                }
                (None, _, encoded) => (encoded, None),
            };
            let sinks = CameraSinks {
                frames: tx,
                encoded,
                clock: record.as_ref().map(|(_, second, _)| second.clock.clone()),
                status: self.status.sink(),
                counters: counters.clone(),
                duration_ms: self.progress[&cam.id].duration_ms.clone(),
                decoder: self.progress[&cam.id].decoder.clone(),
            };
            let mut spec = camera_spec(config, cam, self.mode);
            playable(&mut spec.source, &cam.id, &self.streams)?;
            let gated = config.motion_gate(cam).is_some();
            tracing::info!(camera = %cam.id, source = %describe_source(&cam.source), motion_gate = gated, "starting camera");
            let thread = spawn_camera(spec, sinks, self.stop.clone())?;
            started.threads.push((cam.id.clone(), thread));
            if let Some((source, second, encoded)) = record {
                tracing::info!(camera = %cam.id, record = %describe_source(source), "starting record stream");
                let counters = Arc::new(StageCounters::default());
                let sinks = RecordSinks {
                    encoded,
                    status: self.status.record_sink(second.health),
                    counters: counters.clone(),
                };
                let thread = spawn_record(
                    cam.id.clone(),
                    source.clone(),
                    cam.stall,
                    sinks,
                    self.stop.clone(),
                )?;
                started.threads.push((cam.id.clone(), thread));
                started.records.insert(cam.id.to_string(), counters);
            }
            started.counters.insert(cam.id.to_string(), counters);
            let decoder = self.progress[&cam.id].decoder.clone();
            started.decoders.insert(cam.id.to_string(), decoder);
            match facade {
                Some(rule) => started.facades.push((rule.clone(), rx)),
                None => {
                    let keep_image = config.reads_pixels(&cam.id);
                    let m = &config.detector.manifest;
                    let remap = ClassRemap::new(
                        &m.labels,
                        &m.group_of,
                        &cam.class_map,
                        cam.class_map_min_area,
                        config.detector.nms_iou,
                    );
                    let shared = self.progress[&cam.id].gate.clone();
                    let gate = LaneGate::new(config, cam, shared, self.updates.clone());
                    started
                        .lanes
                        .push(Lane::new(cam.id.clone(), rx, keep_image, remap, gate));
                }
            }
        }
        Ok(started)
    }
}

/// Waits for every camera to end; the cameras that failed, with why.
pub fn join(threads: Vec<(CameraId, JoinHandle<CameraExit>)>) -> Vec<String> {
    let mut failed = Vec::new();
    for (id, t) in threads {
        match t.join() {
            Ok(CameraExit::Failed(reason)) => {
                tracing::error!(camera = %id, %reason, "camera failed");
                failed.push(format!("{id}: {reason}"));
            }
            Ok(exit) => tracing::info!(camera = %id, ?exit, "camera finished"),
            Err(_) => failed.push(format!("{id}: camera thread panicked")),
        }
    }
    failed
}

/// What GStreamer delivers for `cam`: the model's colour order and input size for a detector
/// camera; every frame's luma at the rule's processing width for a facade camera.
fn camera_spec(config: &Config, cam: &CameraConfig, mode: Mode) -> CameraSpec {
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
        decoder: cam.decoder,
        loop_period: cam.served_loop,
    };
    match config.fall_rule(&cam.id) {
        // A facade camera: every decoded frame, luma only (the decoder's Y plane, stretched
        // from video range to 0–255 for GRAY8; no other colour conversion), at the rule's
        // processing width.
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

/// Points a file camera whose format GStreamer cannot play reliably (GIF) at a converted copy
/// under `streams/`, made once.
fn playable(source: &mut CameraSource, camera: &CameraId, streams: &Path) -> Result<()> {
    let CameraSource::File { path, .. } = source else {
        return Ok(());
    };
    if !vigil_ingest::transcode::needs_transcode(path) {
        return Ok(());
    }
    std::fs::create_dir_all(streams)?;
    let converted = streams.join(format!("{camera}.mp4"));
    let fresh = |c: &Path| -> Option<bool> {
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
