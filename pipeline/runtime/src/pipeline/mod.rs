//! Wires the stages (`crate::stages`) together on named threads with bounded queues:
//!
//! ```text
//! camera threads ──frame queue per camera (live: drop-oldest; replay: block)──▶ detect workers
//! facade cameras ──frame queue per camera──▶ fall-<camera> ──┐
//! detect workers ──DETECTED_FRAMES, block──▶ track thread ──┴─ALERTS, block──▶ alert writer
//! camera encoded branch ──ENCODED_UNITS, drop-oldest──▶ evidence recorder ◀──clip requests── writer
//! ```
//!
//! Capacities are named in [`capacity`] (`stages/capacity.rs`). Alerts never drop. [`run`] only builds those queues,
//! starts each stage with its `Settings`, and stops them in order: cameras, then the stages
//! downstream as each one's input closes.

mod summary;

pub use crate::stages::Mode;
pub use summary::Summary;

use crate::delivery::Delivery;
use crate::metrics::PipelineMetrics;
use crate::reload::RuleUpdates;
use crate::stages::detect_pool::{self, DetectTiming};
use crate::stages::{
    RaisedAlert, camera_status, cameras, capacity, evidence, falling, serve, track, writer,
};
use anyhow::{Context, Result};
use std::io::BufWriter;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use vigil_config::Config;
use vigil_core::metrics::{Histogram, LATENCY_BUCKETS_SECS};
use vigil_core::{DetectedFrame, StageCounters, WhenFull, queue};

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

/// Runs the pipeline until the input ends (replay) or `stop` is set.
pub fn run(config: &Config, options: &Options, stop: Arc<AtomicBool>) -> Result<Summary> {
    let out = &options.out_dir;
    std::fs::create_dir_all(out)
        .with_context(|| format!("cannot create output folder {}", out.display()))?;
    let started = Instant::now();
    let detectors = detect_pool::load_detectors(config)?;
    let mut metrics = PipelineMetrics::default();

    // Track thread and falling-object stages → alert writer: never dropped, the sender blocks.
    let alert_counters = Arc::new(StageCounters::default());
    let (alert_tx, alert_rx) =
        queue::bounded::<RaisedAlert>(capacity::ALERTS, WhenFull::Block, alert_counters.clone());
    metrics.alerts = Some(alert_counters.clone());
    let recorders = evidence::spawn(config, out)?;
    metrics.evidence = recorders.counters.clone();

    // Delivery starts first: what an earlier run left in the outbox goes out at once.
    let db = out.join("alerts.db");
    let delivery = Delivery::start(config, &db)?;
    metrics.delivery = delivery.counters();
    let events = vigil_serve::Events::default();
    // The live view's pictures, when there is a page to show them.
    let live = config.api.as_ref().map(|api| {
        Arc::new(vigil_serve::live::LiveHub::new(
            api.live,
            &config.camera_names(),
        ))
    });
    let live_encoder = live
        .clone()
        .map(|hub| crate::stages::live::Settings { hub }.spawn())
        .transpose()?;
    let writer = writer::Settings {
        config,
        out_dir: out.clone(),
        print: options.print_alerts,
        nudgers: delivery.nudgers(),
        events: events.clone(),
        alerts: alert_rx,
        clip_requests: recorders.requests,
        clips_done: recorders.done,
        counters: alert_counters,
        latency: metrics.alert_latency.clone(),
        probe: options.probe.clone(),
    }
    .spawn()?;

    let progress = crate::progress::per_camera(config);
    let updates = Arc::new(RuleUpdates::default());
    let status = camera_status::Settings {
        store: Arc::new(Mutex::new(vigil_deliver::AlertStore::open(&db)?)),
        events: events.clone(),
        up: metrics.camera_up.clone(),
        record_up: metrics.record_up.clone(),
    };
    let cams = cameras::Settings {
        config,
        mode: options.mode,
        streams: out.join("streams"),
        encoded: recorders.encoded,
        second: recorders.second,
        status,
        progress: &progress,
        updates: updates.clone(),
        stop,
    }
    .spawn()?;
    (metrics.ingest, metrics.decoders) = (cams.counters, cams.decoders);
    metrics.records = cams.records;
    metrics.gates = config
        .cameras
        .iter()
        .filter(|c| config.motion_gate(c).is_some())
        .map(|c| (c.id.to_string(), progress[&c.id].gate.clone()))
        .collect();

    let falls = falling::Facades {
        cameras: cams.facades,
        alerts: alert_tx.clone(),
        progress: &progress,
        explain: options.explain.then(|| out.join("explain.jsonl")),
        live: live.clone(),
    }
    .spawn()?;
    metrics.falling = falls.counters;

    let detect_counters = Arc::new(StageCounters::default());
    let (det_tx, det_rx) = queue::bounded::<DetectedFrame>(
        capacity::DETECTED_FRAMES,
        WhenFull::Block,
        detect_counters.clone(),
    );
    let timing = Arc::new(Mutex::new(DetectTiming::default()));
    let infer = Arc::new(Histogram::new(LATENCY_BUCKETS_SECS));
    (metrics.detect, metrics.infer) = (Some(detect_counters.clone()), Some(infer.clone()));
    let workers = detect_pool::Settings {
        detectors,
        lanes: cams.lanes,
        out: det_tx,
        counters: detect_counters,
        timing: timing.clone(),
        infer,
        probe: options.probe.clone(),
        live: live.clone(),
    }
    .spawn()?;

    let watcher = Helper::start(options.reload_rules, |stop| {
        crate::reload::spawn(config, options.assets.clone(), updates.clone(), stop)
    })?;
    let progress_line = Helper::start(options.progress, |stop| {
        crate::progress::spawn(progress.values().cloned().collect(), stop)
    })?;
    let track_counters = Arc::new(StageCounters::default());
    metrics.track = Some(track_counters.clone());
    let track_log = match options.dump_tracks {
        true => Some(BufWriter::new(std::fs::File::create(
            out.join("tracks.jsonl"),
        )?)),
        false => None,
    };
    let tracker = track::Settings {
        cameras: track::cameras(config, &progress),
        frames: det_rx,
        alerts: alert_tx,
        updates,
        observe: track::Observers {
            counters: track_counters,
            track_log,
            waste: metrics.waste.clone(),
            lane: metrics.lane.clone(),
            frame_latency: metrics.frame_latency.clone(),
            probe: options.probe.clone(),
        },
    }
    .spawn()?;

    // The HTTP API and page, once every counter exists.
    metrics.presence = config.outputs.postgres.as_ref().map(|_| Arc::default());
    let presence = metrics.presence.clone();
    let metrics = Arc::new(metrics);
    if let Some(p) = &options.probe {
        p.attach(metrics.clone());
    }
    let serving = serve::Settings {
        config,
        db,
        out_dir: out.clone(),
        events,
        metrics: metrics.clone(),
        presence,
        live: live.clone(),
        assets: options.assets.clone(),
    }
    .spawn()?;

    // Stop in flow order: each stage ends when its input closes.
    let failed = cameras::join(cams.threads);
    join_all(workers.into_iter().chain(falls.threads));
    join_all([tracker]);
    progress_line.stop();
    watcher.stop();
    join_all(std::iter::once(writer).chain(recorders.threads));
    delivery.drain(options.drain);
    let delivery = delivery.stop();
    serving.stop();
    if let Some(hub) = &live {
        hub.close();
    }
    join_all(live_encoder);

    let timing = *timing.lock().expect("timing lock");
    let summary = Summary::gather(started, &metrics, &timing, &falls.stats, failed, delivery);
    std::fs::write(
        out.join("summary.json"),
        serde_json::to_string_pretty(&summary)?,
    )?;
    Ok(summary)
}

fn join_all(threads: impl IntoIterator<Item = JoinHandle<()>>) {
    for t in threads {
        let _ = t.join();
    }
}

/// A helper thread beside the stages (rule reload, replay progress) that runs until told to stop.
struct Helper(Option<(Arc<AtomicBool>, JoinHandle<()>)>);

impl Helper {
    fn start(
        wanted: bool,
        spawn: impl FnOnce(Arc<AtomicBool>) -> std::io::Result<JoinHandle<()>>,
    ) -> std::io::Result<Self> {
        if !wanted {
            return Ok(Self(None));
        }
        let stop = Arc::new(AtomicBool::new(false));
        Ok(Self(Some((stop.clone(), spawn(stop)?))))
    }

    fn stop(self) {
        if let Some((stop, thread)) = self.0 {
            stop.store(true, Ordering::Relaxed);
            let _ = thread.join();
        }
    }
}
