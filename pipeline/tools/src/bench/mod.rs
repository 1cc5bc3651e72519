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

mod footage;
pub mod limits;
pub mod procfs;
mod report;
pub mod stream;

use anyhow::{Context, Result, bail};
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
use vigil_runtime::metrics::{Probe, ProbeTimes};
use vigil_runtime::pipeline::{self, Mode, Options};

pub use footage::Idle;
pub use report::BenchReport;
pub use stream::StreamFormat;

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
    /// With --rtsp: encode the footage once to WIDTHxHEIGHT@FPS (e.g. 1280x720@25; H.264, or
    /// H.265 with `:h265`) before serving it; the server then only repacketises it.
    #[arg(long)]
    pub stream: Option<StreamFormat>,
    /// With --rtsp: each camera also serves a main stream, the footage encoded once at
    /// WIDTHxHEIGHT@FPS[:h265] (e.g. 1920x1080@25:h265), which vigil records as the evidence
    /// (`record:`) without decoding it; the --stream one is then the sub-stream, decoded for
    /// detection.
    #[arg(long, requires = "rtsp")]
    pub record: Option<StreamFormat>,
    /// With --stream: before each pass of the footage, SECS of it standing still — its seconds
    /// FROM–TO, where nothing moves, played forward and back (sensor noise and compression as
    /// they are). `2-4.2:25` makes car-detection.mp4 a lot where cars move in about a fifth of
    /// each pass.
    #[arg(long, requires = "stream", value_name = "FROM-TO:SECS")]
    pub idle: Option<Idle>,
    /// With --rtsp: each camera starts its footage at another keyframe, spread over a pass, as
    /// a fleet's cameras see motion at different times (default: all in step).
    #[arg(long, requires = "rtsp")]
    pub stagger: bool,
    /// Frames per second each camera hands to detection (overrides the config).
    #[arg(long)]
    pub detect_fps: Option<f64>,
    /// Model manifest to use instead of the config's (e.g. models/yolox-nano-int8.yaml).
    #[arg(long)]
    pub manifest: Option<PathBuf>,
    /// Detection threads (overrides the config).
    #[arg(long)]
    pub workers: Option<usize>,
    /// Motion-gated detection on or off for every camera, over what the config says.
    #[arg(long, value_name = "on|off", value_parser = vigil_runtime::loading::on_off)]
    pub motion_gate: Option<bool>,
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
/// Runs the benchmark and prints its table; `bench.json` goes to the output folder.
pub fn run(mut args: BenchArgs) -> Result<BenchReport> {
    if args.assets.is_none() {
        args.assets = vigil_runtime::loading::assets_from_env();
    }
    let mut config = vigil_config::load(&args.config, args.assets.as_deref())
        .map_err(|errors| vigil_runtime::loading::InvalidConfig::new(&args.config, errors))?;
    if let Some(m) = &args.manifest {
        config.detector.manifest = ModelManifest::load(m, args.assets.as_deref())
            .map_err(|errors| vigil_runtime::loading::InvalidConfig::new(m, errors))?;
    }
    if args.workers.is_some() {
        config.detector.workers = args.workers;
    }
    if let Some(on) = args.motion_gate {
        config.set_motion_gate(on);
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
        let formats = (args.stream, args.record);
        let shape = stream::Shape {
            idle: args.idle,
            stagger: args.stagger,
        };
        let cache = out.join("streams");
        let s = stream::ServerProcess::start(&clips, &cameras, formats, shape, &cache)?;
        let rtsp = |url: String| -> Result<CameraSource> {
            Ok(CameraSource::Rtsp {
                url: RtspUrl::parse(&url, None, None).map_err(anyhow::Error::msg)?,
                transport: RtspTransport::Tcp,
                latency_ms: 200,
            })
        };
        for cam in &mut config.cameras {
            cam.source = rtsp(s.url(cam.id.as_str()))?;
            cam.record = match args.record {
                Some(_) => Some(rtsp(s.url(&stream::main_mount(cam.id.as_str())))?),
                None => None,
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
    let report = report::report(&args, &config, &clips[0], &summary, measured, limit);
    std::fs::write(
        out.join("bench.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    report::print_table(&report);
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
