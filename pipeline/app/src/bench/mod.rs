//! `vigil bench`: the pipeline under a chosen load, measured.
//!
//! The config's cameras are repeated to `--cameras`, then either replayed from their files as fast
//! as the machine allows (looped) or — with `--rtsp` — served at their real rate by an RTSP server
//! in a child process (its own CPU measured apart) and run live. After a warm-up, one measured
//! window: frames in / out / dropped per stage, CPU per frame per stage (from the threads' CPU
//! clocks, grouped by thread name, and the stages' own counters), latency p50/p99 (frame arrival
//! → rules evaluated; condition true → alert committed), process CPU and resident memory. Before
//! the run, the **limit**: the clip decoded alone and the model run alone, one thread each; the
//! pipeline's efficiency is its frames/s against `cores ÷ (decode + inference CPU per frame)`.
//! Everything goes to `OUT/bench.json`; a table goes to stdout.

pub mod limits;
pub mod procfs;
mod stream;

use crate::metrics::{Probe, ProbeTimes};
use crate::pipeline::{self, Mode, Options, Summary};
use anyhow::{Context, Result, bail};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use vigil_config::{CameraSource, Config, ModelManifest, RtspTransport, RtspUrl};
use vigil_core::CameraId;
use vigil_core::metrics::LatencySummary;
use vigil_core::metrics::StageSnapshot;

pub use stream::{StreamFormat, serve_main};

#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Configuration whose cameras and rules are benchmarked.
    #[arg(short, long, default_value = "benches/car-detection.yaml")]
    pub config: PathBuf,
    /// Folder holding models/ and footage/ [default: $VIGIL_ASSETS].
    #[arg(long)]
    pub assets: Option<PathBuf>,
    /// Cameras to run: the config's cameras repeated (ids get a suffix) [default: the config's].
    #[arg(long)]
    pub cameras: Option<usize>,
    /// Seconds measured, after the warm-up.
    #[arg(long, default_value_t = 30.0)]
    pub secs: f64,
    /// Seconds run before measuring (models loaded, queues filled, caches warm).
    #[arg(long, default_value_t = 5.0)]
    pub warmup: f64,
    /// Serve the footage over RTSP from a child process at its real rate and run live (default:
    /// replay the files as fast as possible, nothing dropped).
    #[arg(long)]
    pub rtsp: bool,
    /// With --rtsp: encode the footage once to WIDTHxHEIGHT@FPS H.264 (e.g. 1280x720@25) before
    /// serving it; the server then only repacketises it.
    #[arg(long)]
    pub stream: Option<StreamFormat>,
    /// Frames per second each camera hands to detection (overrides the config).
    #[arg(long)]
    pub detect_fps: Option<f64>,
    /// Model manifest to use instead of the config's (e.g. models/yolox-nano-int8.yaml).
    #[arg(long)]
    pub manifest: Option<PathBuf>,
    /// Detection threads (overrides the config).
    #[arg(long)]
    pub workers: Option<usize>,
    /// ONNX Runtime intra-op threads per detection thread (overrides the config).
    #[arg(long)]
    pub intra_threads: Option<usize>,
    /// Skip measuring decode alone and inference alone (the limit).
    #[arg(long)]
    pub no_limits: bool,
    /// Output folder: bench.json, and the run's alerts and evidence [default: a temporary one].
    #[arg(long)]
    pub out: Option<PathBuf>,
}

impl BenchArgs {
    /// Live over RTSP, or file replay.
    fn mode(&self) -> Mode {
        if self.rtsp { Mode::Live } else { Mode::Replay }
    }
}

/// One stage's share of the measured window.
#[derive(Debug, Default, Serialize)]
pub struct StageReport {
    pub received: u64,
    pub sent: u64,
    pub dropped: u64,
    /// CPU seconds in the window, from the stage's threads.
    pub cpu_secs: f64,
    /// CPU milliseconds per frame that reached detection (per decoded frame for decode).
    pub cpu_ms_per_frame: f64,
}

#[derive(Debug, Serialize)]
pub struct BenchReport {
    pub config: String,
    /// The first camera's footage.
    pub clip: String,
    pub model: String,
    pub mode: &'static str,
    pub cameras: usize,
    pub cores: usize,
    pub workers: Option<usize>,
    pub intra_threads: Option<usize>,
    pub detect_fps: Option<f64>,
    pub window_secs: f64,
    /// Frames decoded, all cameras.
    pub decoded: u64,
    /// Frames through detection, all cameras.
    pub detected: u64,
    pub decoded_fps: f64,
    pub detected_fps: f64,
    /// Live: frames the server sent in the window that were not decoded ÷ frames it sent
    /// (network, jitter buffer or decoder losses; a few frames of window-edge noise either way).
    pub decode_drop_rate: Option<f64>,
    /// Frames picked for detection (every frame, or `detect_fps`).
    pub sampled: u64,
    /// Sampled frames replaced by a newer one of their camera before detection took them
    /// (live: each camera holds only its newest sampled frame).
    pub queue_drops: u64,
    /// Sampled frames that were not detected ÷ sampled frames.
    pub detect_shortfall: f64,
    /// Process CPU in the window ÷ window (1.0 = one core busy).
    pub cpu_cores_used: f64,
    /// Process CPU milliseconds per detected frame.
    pub cpu_ms_per_frame: f64,
    /// Per stage: decode, convert (colour + scale), detect, track, rules, evidence, alerts,
    /// source (demux, parsing, network), other.
    pub stages: BTreeMap<String, StageReport>,
    /// CPU seconds in the window by thread group (as the threads are named).
    pub threads: BTreeMap<&'static str, f64>,
    /// Process CPU no thread reading accounts for (threads that ended between two readings).
    pub unattributed_cpu_secs: f64,
    /// Wall milliseconds per detected frame inside detection.
    pub detect_ms: DetectMs,
    /// Frame arrival from the decoder → its rules evaluated.
    pub frame_latency: LatencySummary,
    /// Arrival of the frame that made the condition true → alert committed to the store.
    pub alert_latency: LatencySummary,
    pub alerts: u64,
    pub rss_mb_start: f64,
    pub rss_mb_end: f64,
    /// Peak resident memory over the whole run (VmHWM).
    pub rss_mb_peak: f64,
    /// Peak resident memory sampled inside the window.
    pub rss_mb_window_peak: f64,
    /// The RTSP server process: CPU cores it used in the window.
    pub server_cpu_cores: Option<f64>,
    pub limit: Option<limits::Limit>,
    /// Pipeline frames/s ÷ the limit's frames/s (file replay, every frame detected).
    pub efficiency: Option<f64>,
    /// Pipeline frames/s ÷ the all-cores limit (inference measured with every core busy).
    pub efficiency_all_cores: Option<f64>,
    pub failed_cameras: Vec<String>,
}

#[derive(Debug, Default, Serialize)]
pub struct DetectMs {
    pub preprocess: f64,
    pub infer: f64,
    pub postprocess: f64,
}

/// Runs the benchmark and prints its table; `bench.json` goes to the output folder.
pub fn run(mut args: BenchArgs) -> Result<BenchReport> {
    if args.assets.is_none() {
        args.assets = crate::cmd::assets_from_env();
    }
    let mut config = vigil_config::load(&args.config, args.assets.as_deref())
        .map_err(|errors| crate::cmd::InvalidConfig::new(&args.config, errors))?;
    if let Some(m) = &args.manifest {
        config.detector.manifest = ModelManifest::load(m, args.assets.as_deref())
            .map_err(|errors| crate::cmd::InvalidConfig::new(m, errors))?;
    }
    if args.workers.is_some() {
        config.detector.workers = args.workers;
    }
    if args.intra_threads.is_some() {
        config.detector.intra_threads = args.intra_threads;
    }
    let clips = replicate(&mut config, args.cameras, args.detect_fps)?;
    let out = match &args.out {
        Some(o) => o.clone(),
        None => std::env::temp_dir().join(format!("vigil-bench-{}", std::process::id())),
    };
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;

    let limit = match args.no_limits {
        true => None,
        false => {
            eprintln!(
                "bench: measuring the limit (decode alone, inference alone, one thread each)"
            );
            Some(limits::measure(&clips[0], &config)?)
        }
    };

    let mut server = None;
    if args.rtsp {
        let cameras: Vec<(String, usize)> = (0..config.cameras.len())
            .map(|i| (config.cameras[i].id.to_string(), i % clips.len()))
            .collect();
        let s = stream::ServerProcess::start(&clips, &cameras, args.stream, &out.join("streams"))?;
        for cam in &mut config.cameras {
            let url = s.url(cam.id.as_str());
            cam.source = CameraSource::Rtsp {
                url: RtspUrl::parse(&url, None, None).map_err(anyhow::Error::msg)?,
                transport: RtspTransport::Tcp,
                latency_ms: 200,
            };
        }
        server = Some(s);
    }

    let probe = Arc::new(Probe::default());
    let stop = Arc::new(AtomicBool::new(false));
    let mode = args.mode();
    let options = Options {
        mode,
        print_alerts: false,
        progress: false,
        reload_rules: false,
        drain: Duration::ZERO,
        probe: Some(probe.clone()),
        ..Options::replay(out.clone(), args.assets.clone())
    };
    let window = Duration::from_secs_f64(args.secs.max(1.0));
    let warmup = Duration::from_secs_f64(args.warmup.max(0.0));
    let watcher = {
        let (probe, stop) = (probe.clone(), stop.clone());
        let server = server.as_ref().map(|s| (s.pid(), s.fps()));
        std::thread::Builder::new()
            .name("bench".into())
            .spawn(move || watch(probe, stop, warmup, window, server))?
    };
    let summary = pipeline::run(&config, &options, stop.clone());
    stop.store(true, Ordering::SeqCst);
    let measured = watcher
        .join()
        .map_err(|_| anyhow::anyhow!("bench thread panicked"))?;
    if let Some(s) = server {
        s.stop();
    }
    let summary = summary?;
    let Some(measured) = measured else {
        bail!(
            "the run ended before the measured window did (cameras failed: {:?})",
            summary.failed_cameras
        );
    };
    let report = report(&args, &config, &clips[0], &summary, measured, limit);
    std::fs::write(
        out.join("bench.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    print_table(&report);
    eprintln!("bench: {}", out.join("bench.json").display());
    Ok(report)
}

/// Every error of a config or manifest, one per line (`file:line:col: message`).
/// Repeats the config's cameras (and their rules) to `n`, looping every file; returns the
/// distinct clips in camera order.
fn replicate(
    config: &mut Config,
    n: Option<usize>,
    detect_fps: Option<f64>,
) -> Result<Vec<PathBuf>> {
    let templates: Vec<_> = config
        .cameras
        .iter()
        .filter(|c| config.fall_rule(&c.id).is_none())
        .cloned()
        .collect();
    if templates.is_empty() {
        bail!("the bench needs a config with at least one detector camera");
    }
    let mut clips = Vec::new();
    for t in &templates {
        let CameraSource::File { path, .. } = &t.source else {
            bail!(
                "camera {}: the bench plays files; this camera is not one",
                t.id
            );
        };
        clips.push(path.clone());
    }
    let n = n.unwrap_or(templates.len()).max(1);
    let rules = config.rules.clone();
    config.cameras.clear();
    config.rules.clear();
    config.falling.clear();
    for i in 0..n {
        let t = &templates[i % templates.len()];
        let mut cam = t.clone();
        if n > templates.len() {
            cam.id = CameraId::new(format!("{}-{}", t.id, i / templates.len() + 1));
        }
        if let CameraSource::File { looping, .. } = &mut cam.source {
            *looping = true;
        }
        if detect_fps.is_some() {
            cam.detect_fps = detect_fps;
        }
        for r in rules.iter().filter(|r| r.camera == t.id) {
            let mut r = r.clone();
            r.camera = cam.id.clone();
            config.rules.push(r);
        }
        config.cameras.push(cam);
    }
    Ok(clips)
}

/// What the watcher saw at the two ends of the window.
struct Measured {
    window: Duration,
    threads: BTreeMap<&'static str, f64>,
    process_cpu: f64,
    server_cpu: Option<f64>,
    /// Frames per second the RTSP server sends, all cameras.
    server_fps: Option<f64>,
    rss_start: f64,
    rss_end: f64,
    rss_window_peak: f64,
    rss_peak: f64,
    counters_start: Counters,
    counters_end: Counters,
    latency: (LatencySummary, LatencySummary),
    times: ProbeTimes,
}

/// The pipeline's counters, read through `/metrics`'s gatherer at one instant.
#[derive(Default)]
struct Counters(BTreeMap<String, StageSnapshot>);

/// Waits out the warm-up, measures the window, then stops the run. `None` when the run ended
/// before the window did.
fn watch(
    probe: Arc<Probe>,
    stop: Arc<AtomicBool>,
    warmup: Duration,
    window: Duration,
    server: Option<(u32, f64)>,
) -> Option<Measured> {
    let server_pid = server.map(|(pid, _)| pid);
    let terminal = std::io::stderr().is_terminal();
    let started = Instant::now();
    let sleep_until = |t: Duration| -> bool {
        while started.elapsed() < t {
            if stop.load(Ordering::SeqCst) {
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        true
    };
    if !sleep_until(warmup) {
        return None;
    }
    let counters_start = Counters(probe.counters());
    let mut threads = procfs::ThreadCpu::start();
    let cpu_before = vigil_core::cpu::process_time();
    let server_before = server_pid.and_then(procfs::process_cpu);
    let (rss_start, _) = procfs::rss_mb();
    probe.arm();
    let window_start = Instant::now();
    let mut rss_window_peak = rss_start;
    let mut last_line = Instant::now();
    while window_start.elapsed() < window {
        if stop.load(Ordering::SeqCst) {
            probe.disarm();
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
        threads.sample();
        let (rss, _) = procfs::rss_mb();
        rss_window_peak = rss_window_peak.max(rss);
        let every = if terminal { 0.5 } else { 10.0 };
        if last_line.elapsed().as_secs_f64() >= every {
            last_line = Instant::now();
            let now = Counters(probe.counters());
            let done = now.detected() - counters_start.detected();
            let secs = window_start.elapsed().as_secs_f64();
            let line = format!(
                "bench: {secs:.0}/{:.0} s · {:.1} frames/s detected · RSS {rss:.0} MB",
                window.as_secs_f64(),
                done as f64 / secs.max(1e-3)
            );
            if terminal {
                eprint!("\r\x1b[2K{line}");
            } else {
                eprintln!("{line}");
            }
        }
    }
    let elapsed = window_start.elapsed();
    threads.sample();
    let process_cpu = (vigil_core::cpu::process_time() - cpu_before).as_secs_f64();
    let server_cpu = match (server_before, server_pid.and_then(procfs::process_cpu)) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    let counters_end = Counters(probe.counters());
    probe.disarm();
    let (rss_end, rss_peak) = procfs::rss_mb();
    if terminal {
        eprintln!();
    }
    stop.store(true, Ordering::SeqCst);
    Some(Measured {
        window: elapsed,
        threads: threads.by_stage(),
        process_cpu,
        server_cpu,
        server_fps: server.map(|(_, fps)| fps),
        rss_start,
        rss_end,
        rss_window_peak: rss_window_peak.max(rss_end),
        rss_peak,
        counters_start,
        counters_end,
        latency: (probe.frame_latency.summary(), probe.alert_latency.summary()),
        times: probe.times(),
    })
}

impl Counters {
    fn get(&self, key: &str) -> StageSnapshot {
        self.0.get(key).copied().unwrap_or_default()
    }

    /// Summed over cameras for keys `stage/<camera>`.
    fn sum(&self, stage: &str) -> StageSnapshot {
        let prefix = format!("{stage}/");
        self.0
            .iter()
            .filter(|(k, _)| k.starts_with(&prefix))
            .fold(StageSnapshot::default(), |a, (_, s)| add(a, *s))
    }

    fn detected(&self) -> u64 {
        self.get("detect").received
    }
}

/// `a` and `b` combined counter by counter.
fn zip(a: StageSnapshot, b: StageSnapshot, f: fn(u64, u64) -> u64) -> StageSnapshot {
    StageSnapshot {
        received: f(a.received, b.received),
        sent: f(a.sent, b.sent),
        dropped_queue_full: f(a.dropped_queue_full, b.dropped_queue_full),
        dropped_sampling: f(a.dropped_sampling, b.dropped_sampling),
        dropped_error: f(a.dropped_error, b.dropped_error),
        dropped_stale: f(a.dropped_stale, b.dropped_stale),
        cpu_us: f(a.cpu_us, b.cpu_us),
    }
}

fn add(a: StageSnapshot, b: StageSnapshot) -> StageSnapshot {
    zip(a, b, u64::saturating_add)
}

/// What happened between two readings.
fn sub(a: StageSnapshot, b: StageSnapshot) -> StageSnapshot {
    zip(a, b, u64::saturating_sub)
}

fn report(
    args: &BenchArgs,
    config: &Config,
    clip: &std::path::Path,
    summary: &Summary,
    m: Measured,
    limit: Option<limits::Limit>,
) -> BenchReport {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mode = args.mode();
    let secs = m.window.as_secs_f64();
    let delta = |k: &str| sub(m.counters_end.get(k), m.counters_start.get(k));
    let ingest = sub(m.counters_end.sum("ingest"), m.counters_start.sum("ingest"));
    let detect = delta("detect");
    let track = delta("track");
    let alerts = delta("alerts");
    let evidence = sub(
        m.counters_end.sum("evidence"),
        m.counters_start.sum("evidence"),
    );
    let detected = detect.received;
    let sampled = ingest.received.saturating_sub(ingest.dropped_sampling);
    let per = |cpu: f64, frames: u64| {
        if frames > 0 {
            cpu * 1e3 / frames as f64
        } else {
            0.0
        }
    };
    let thread = |k: &str| m.threads.get(k).copied().unwrap_or(0.0);
    let convert_cpu = ingest.cpu_us as f64 / 1e6;
    let mut stages = BTreeMap::new();
    let mut stage = |name: &str, s: StageSnapshot, cpu: f64, frames: u64| {
        stages.insert(
            name.to_string(),
            StageReport {
                received: s.received,
                sent: s.sent,
                dropped: s.lost(),
                cpu_secs: cpu,
                cpu_ms_per_frame: per(cpu, frames),
            },
        );
    };
    // The decode thread also converts; the converter's own CPU is counted apart.
    stage(
        "decode",
        ingest,
        (thread("decode") - convert_cpu).max(0.0),
        ingest.received,
    );
    stage("convert", ingest, convert_cpu, ingest.sent);
    stage("detect", detect, thread("detect"), detected);
    stage("track", track, m.times.tracker_secs, detected);
    stage("rules", track, m.times.rules_secs, detected);
    stage("evidence", evidence, thread("evidence"), ingest.received);
    stage("alerts", alerts, thread("alerts"), detected);
    for k in ["source", "delivery", "http", "other"] {
        stage(k, StageSnapshot::default(), thread(k), detected);
    }
    let detected_fps = detected as f64 / secs;
    let efficiency = limit
        .as_ref()
        .filter(|_| mode == Mode::Replay && config.cameras.iter().all(|c| c.detect_fps.is_none()))
        .map(|l| detected_fps / l.fps);
    let efficiency_all_cores = efficiency
        .and(limit.as_ref())
        .map(|l| detected_fps / l.fps_all_cores);
    BenchReport {
        config: args.config.display().to_string(),
        clip: clip.display().to_string(),
        model: config.detector.manifest.file.display().to_string(),
        mode: match mode {
            Mode::Replay => "file replay",
            Mode::Live => "live rtsp",
        },
        cameras: config.cameras.len(),
        cores,
        workers: config.detector.workers,
        intra_threads: config.detector.intra_threads,
        detect_fps: args.detect_fps,
        window_secs: secs,
        decoded: ingest.received,
        detected,
        decoded_fps: ingest.received as f64 / secs,
        detected_fps,
        decode_drop_rate: m
            .server_fps
            .map(|fps| (1.0 - ingest.received as f64 / (fps * secs)).max(0.0)),
        sampled,
        queue_drops: ingest.dropped_queue_full,
        detect_shortfall: if sampled > 0 {
            sampled.saturating_sub(detected) as f64 / sampled as f64
        } else {
            0.0
        },
        cpu_cores_used: m.process_cpu / secs,
        cpu_ms_per_frame: per(m.process_cpu, detected),
        stages,
        threads: m.threads.clone(),
        unattributed_cpu_secs: (m.process_cpu - m.threads.values().sum::<f64>()).max(0.0),
        detect_ms: DetectMs {
            preprocess: per(m.times.preprocess_secs, detected),
            infer: per(m.times.infer_secs, detected),
            postprocess: per(m.times.postprocess_secs, detected),
        },
        frame_latency: m.latency.0,
        alert_latency: m.latency.1,
        alerts: alerts.received,
        rss_mb_start: m.rss_start,
        rss_mb_end: m.rss_end,
        rss_mb_peak: m.rss_peak,
        rss_mb_window_peak: m.rss_window_peak,
        server_cpu_cores: m.server_cpu.map(|c| c / secs),
        limit,
        efficiency,
        efficiency_all_cores,
        failed_cameras: summary.failed_cameras.clone(),
    }
}

fn ms(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.1}"))
}

fn print_table(r: &BenchReport) {
    println!(
        "{} · {} camera(s) · {} · {:.0} s measured · {} cores",
        r.mode, r.cameras, r.model, r.window_secs, r.cores
    );
    println!(
        "frames/s: {:.1} decoded{}, {:.1} detected · detection shortfall {:.2} % of {} sampled ({} replaced by newer frames)",
        r.decoded_fps,
        r.decode_drop_rate.map_or(String::new(), |d| format!(
            " (lost before decoding: {:.2} %)",
            d * 100.0
        )),
        r.detected_fps,
        r.detect_shortfall * 100.0,
        r.sampled,
        r.queue_drops
    );
    println!(
        "CPU: {:.2} cores · {:.1} ms per detected frame (detect: preprocess {:.2}, inference {:.2}, postprocess {:.2} ms wall)",
        r.cpu_cores_used,
        r.cpu_ms_per_frame,
        r.detect_ms.preprocess,
        r.detect_ms.infer,
        r.detect_ms.postprocess
    );
    println!(
        "{:<10} {:>9} {:>9} {:>8} {:>9} {:>10}",
        "stage", "in", "out", "dropped", "CPU s", "CPU ms/f"
    );
    for (name, s) in &r.stages {
        println!(
            "{name:<10} {:>9} {:>9} {:>8} {:>9.2} {:>10.3}",
            s.received, s.sent, s.dropped, s.cpu_secs, s.cpu_ms_per_frame
        );
    }
    println!(
        "latency ms: frame → rules p50 {} p99 {} · condition → alert stored p50 {} p99 {} ({} alerts)",
        ms(r.frame_latency.p50_ms),
        ms(r.frame_latency.p99_ms),
        ms(r.alert_latency.p50_ms),
        ms(r.alert_latency.p99_ms),
        r.alerts
    );
    println!(
        "RSS MB: {:.0} at start of window, {:.0} at end, {:.0} window peak, {:.0} peak",
        r.rss_mb_start, r.rss_mb_end, r.rss_mb_window_peak, r.rss_mb_peak
    );
    if let Some(s) = r.server_cpu_cores {
        println!("RTSP server process: {:.2} cores", s);
    }
    if let Some(l) = &r.limit {
        println!(
            "limit: decode {:.2} ms + inference {:.2} ms CPU per frame → {:.1} frames/s on {} cores{}",
            l.decode_cpu_ms,
            l.infer_cpu_ms,
            l.fps,
            r.cores,
            r.efficiency.map_or(String::new(), |e| format!(
                " · efficiency {:.1} %",
                e * 100.0
            ))
        );
        println!(
            "limit with every core running inference at once: {:.2} ms per frame → {:.1} frames/s{}",
            l.infer_cpu_ms_all_cores,
            l.fps_all_cores,
            r.efficiency_all_cores.map_or(String::new(), |e| format!(
                " · efficiency {:.1} %",
                e * 100.0
            ))
        );
    }
}
