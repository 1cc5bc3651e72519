//! What `vigil bench` reports: `bench.json` (`BenchReport`) built from the measured window, and
//! the table printed on stdout.

use super::{BenchArgs, Measured, limits, sub};
use serde::Serialize;
use std::collections::BTreeMap;
use vigil_config::Config;
use vigil_core::metrics::{LatencySummary, StageSnapshot};
use vigil_runtime::pipeline::{Mode, Summary};

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
    /// Sampled frames the motion gate kept from the detector (nothing moved near the zones).
    pub gate_skipped: u64,
    /// Sampled frames neither detected nor skipped by the motion gate ÷ sampled frames.
    pub detect_shortfall: f64,
    /// Process CPU in the window ÷ window (1.0 = one core busy).
    pub cpu_cores_used: f64,
    /// Process CPU milliseconds per detected frame.
    pub cpu_ms_per_frame: f64,
    /// Per stage: decode, convert (colour + scale), detect, track, rules, evidence, record (a
    /// main stream's access units, with `--record`), alerts, source (demux, parsing, network),
    /// other.
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

pub(super) fn report(
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
    let record = sub(m.counters_end.sum("record"), m.counters_start.sum("record"));
    let detected = detect.received;
    let sampled = ingest.received.saturating_sub(ingest.dropped_sampling);
    let gate_skipped =
        sub(m.counters_end.sum("gate"), m.counters_start.sum("gate")).dropped_sampling;
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
    // A main stream's access units (parsed, never decoded); its CPU is in source and evidence.
    stage("record", record, 0.0, record.received);
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
        gate_skipped,
        detect_shortfall: if sampled > 0 {
            sampled.saturating_sub(detected + gate_skipped) as f64 / sampled as f64
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

pub(super) fn print_table(r: &BenchReport) {
    println!(
        "{} · {} camera(s) · {} · {:.0} s measured · {} cores",
        r.mode, r.cameras, r.model, r.window_secs, r.cores
    );
    println!(
        "frames/s: {:.1} decoded{}, {:.1} detected · detection shortfall {:.2} % of {} sampled ({} replaced by newer frames, {} skipped by the motion gate)",
        r.decoded_fps,
        r.decode_drop_rate.map_or(String::new(), |d| format!(
            " (lost before decoding: {:.2} %)",
            d * 100.0
        )),
        r.detected_fps,
        r.detect_shortfall * 100.0,
        r.sampled,
        r.queue_drops,
        r.gate_skipped
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
