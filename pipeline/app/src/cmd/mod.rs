//! The `vigil` commands, one module each: `Args` (clap) and `exec(args) -> Result<ExitCode>`.
//! What several commands share lives here: the config flags ([`Common`]) and loading them,
//! the stop flag, and the run summary printed on stderr. A config that cannot be used comes back
//! as [`InvalidConfig`], which [`exit`] prints — every error as `file:line:col: message` (or
//! `--flag: message`) — with exit code 2; any other error is one line and exit code 1.

pub mod audit;
#[cfg(feature = "tools")]
pub mod bench;
#[cfg(feature = "tools")]
pub mod bench_encode;
pub mod bench_server;
pub mod cameras;
pub mod check;
pub mod demo;
pub mod district;
#[cfg(feature = "tools")]
pub mod eval;
#[cfg(feature = "tools")]
pub mod eval_falls;
#[cfg(feature = "tools")]
pub mod eval_lanes;
pub mod health;
pub mod keygen;
pub mod labels;
pub mod replay;
pub mod run;
pub mod serve_footage;
#[cfg(feature = "tools")]
pub mod synth;
pub mod test_rules;
pub mod token;
pub mod user;
pub mod verify;

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use vigil_config::Config;
use vigil_config::placement::Placement;
pub use vigil_runtime::loading::{InvalidConfig, assets_from_env};
use vigil_runtime::pipeline::Summary;

/// The config flags of every command that reads one.
#[derive(clap::Args)]
pub struct Common {
    /// Configuration file (YAML).
    #[arg(short, long)]
    pub config: PathBuf,
    /// Folder holding models/ and footage/ for relative paths not found beside the config
    /// [default: $VIGIL_ASSETS].
    #[arg(long)]
    pub assets: Option<PathBuf>,
    /// Process only this instance's share of the cameras: `INDEX/COUNT` (0-based, `1/3`), or
    /// `auto` (index from VIGIL_SHARD_INDEX or the host name's `-<ordinal>`, count from
    /// VIGIL_SHARD_COUNT). Cameras are shared out by rendezvous hashing on their names.
    #[arg(long)]
    pub shard: Option<String>,
    /// This instance's name among several running the same config [default: $VIGIL_INSTANCE;
    /// with --shard, `shard-<index>`]. It names the MQTT client and the liveness topic
    /// `<prefix>/instance/<name>/status`.
    #[arg(long)]
    pub instance: Option<String>,
    /// Where the other instances reach this one's API, `http://host:port` [default:
    /// $VIGIL_ADVERTISE; else the API's listen address, with the host name for 0.0.0.0]. Kept
    /// in the shared store (outputs.postgres): another instance's page fetches this one's
    /// evidence and sends its acknowledgements there.
    #[arg(long)]
    pub advertise: Option<String>,
    /// Motion-gated detection for every camera, over what the config says
    /// (`detector.motion_gate.enabled` and each camera's `motion_gate`).
    #[arg(long, value_name = "on|off", value_parser = vigil_runtime::loading::on_off)]
    pub motion_gate: Option<bool>,
}

impl Common {
    /// `--assets`, else `$VIGIL_ASSETS`.
    pub fn assets(&self) -> Option<PathBuf> {
        self.assets.clone().or_else(assets_from_env)
    }

    /// The config, validated, with this instance's placement applied.
    pub fn load(&self) -> Result<Config> {
        let invalid = |errors| InvalidConfig::new(&self.config, errors);
        let mut config =
            vigil_config::load(&self.config, self.assets().as_deref()).map_err(invalid)?;
        let placement = Placement {
            shard: self.shard.clone(),
            instance: self
                .instance
                .clone()
                .or_else(|| std::env::var("VIGIL_INSTANCE").ok()),
            advertise: self
                .advertise
                .clone()
                .or_else(|| std::env::var("VIGIL_ADVERTISE").ok()),
        };
        if let Some(gate) = self.motion_gate {
            config.set_motion_gate(gate);
        }
        if let Some(s) = placement.apply(&mut config).map_err(invalid)? {
            let mine: Vec<&str> = config.cameras.iter().map(|c| c.id.as_str()).collect();
            tracing::info!(shard = %s.shard, cameras = ?mine, of = s.of, "this instance's shard");
            eprintln!(
                "shard {}: {} of {} camera(s): {}",
                s.shard,
                mine.len(),
                s.of,
                mine.join(", ")
            );
        }
        Ok(config)
    }
}

/// A command's result as the process's exit code, its error printed: an invalid config with
/// each of its errors (exit 2), anything else on one line (exit 1).
pub fn exit(result: Result<ExitCode>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(e) => match e.downcast_ref::<InvalidConfig>() {
            Some(invalid) => {
                for error in &invalid.errors.0 {
                    eprintln!("{error}");
                }
                eprintln!("{invalid}");
                ExitCode::from(2)
            }
            None => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        },
    }
}

/// A flag set by Ctrl-C / SIGTERM; a second signal exits at once.
pub fn stop_flag() -> Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    let s = stop.clone();
    ctrlc::set_handler(move || {
        if s.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!("stopping (Ctrl-C again to exit at once)");
    })
    .context("cannot install the Ctrl-C handler")?;
    Ok(stop)
}

/// A flag's seconds as a duration within `range` (clamped), refusing what is not a number
/// (`NaN` would panic in `Duration::from_secs_f64`).
pub fn seconds(flag: &str, value: f64, range: std::ops::RangeInclusive<f64>) -> Result<Duration> {
    anyhow::ensure!(
        value.is_finite(),
        "{flag} {value}: expected a number of seconds"
    );
    Ok(Duration::from_secs_f64(
        value.clamp(*range.start(), *range.end()),
    ))
}

/// Success unless a camera failed.
pub fn cameras_ok(summary: &Summary) -> ExitCode {
    match summary.failed_cameras.is_empty() {
        true => ExitCode::SUCCESS,
        false => ExitCode::FAILURE,
    }
}

/// What a run did, on stderr: per camera, detection, delivery, falling objects, waste.
pub fn report(s: &Summary, out: &Path) {
    for (camera, c) in &s.ingest {
        eprintln!(
            "camera {camera}: decoded {} frames, {} handed on, {} skipped by detect_fps, {} dropped (queue full)",
            c.received, c.sent, c.dropped_sampling, c.dropped_queue_full
        );
    }
    for (camera, g) in &s.gate {
        eprintln!(
            "camera {camera}: motion gate skipped {} of {} frames ({:.1} %): nothing moved near its zones",
            g.dropped_sampling,
            g.received,
            100.0 * g.dropped_sampling as f64 / g.received.max(1) as f64
        );
    }
    eprintln!(
        "detected {} frames in {:.1} s of processing ({:.1} frames/s, {:.1} ms inference per frame; {:.1} s in all); {} alert(s) in {}",
        s.detect.received,
        s.processing_secs,
        s.detected_fps,
        s.infer_ms_mean,
        s.elapsed_secs,
        s.alerts.received,
        out.join("alerts.jsonl").display()
    );
    for (sink, d) in &s.delivery {
        let ms = |v: Option<i64>| v.map_or("-".into(), |v| v.to_string());
        eprintln!(
            "{sink}: delivered {} (stored → acknowledged p50 {} ms, p99 {} ms), {} failed attempts, {} pending",
            d.delivered,
            ms(d.latency_ms_p50),
            ms(d.latency_ms_p99),
            d.failed_attempts,
            d.pending
        );
    }
    for (camera, f) in &s.falling {
        let d = &f.detector;
        let rejected: Vec<String> = d.rejected.iter().map(|(k, n)| format!("{n} {k}")).collect();
        eprintln!(
            "camera {camera} (falling objects): {} frames, {} candidates, {} fall(s), rejected tracks: {} ({} blips); {} frames guarded (global change)",
            f.stage.received,
            d.candidates,
            d.falls,
            if rejected.is_empty() {
                "none".into()
            } else {
                rejected.join(", ")
            },
            d.blips,
            d.guarded_frames
        );
    }
    for (camera, w) in &s.waste {
        eprintln!(
            "camera {camera} (waste): {} frames, {} object(s) found, {} removed, {} absorbed; rejected as lighting {}, as ghosts {}, as people or vehicles lost by the detector {}; {} relearn(s)",
            w.frames,
            w.objects,
            w.removed,
            w.absorbed,
            w.lighting,
            w.ghosts,
            w.lost_occluders,
            w.relearns
        );
    }
    for f in &s.failed_cameras {
        eprintln!("camera failed: {f}");
    }
}
