//! `vigil synth` renders the synthetic falling-object benchmark to H.264 files (with sensor
//! noise and compression, as a camera sends them), each with its ground truth and a config that
//! replays it; `vigil eval-falls` replays every sequence through the real pipeline and scores
//! the alerts: recall, false alerts per 10 minutes, origin floor accuracy, latency ([`score`]).

pub mod compressed;
pub mod memory;
pub mod score;

use crate::scenes::falls::{Placement, Scene, SceneSpec, SetKind, Truth, placed_spec};
use anyhow::{Context, Result, bail};
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use score::{Detection, SequenceScore, score, summarise};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What `vigil synth` writes beside the sequences.
#[derive(Serialize, Deserialize)]
pub struct SetIndex {
    pub seed: u64,
    pub sequences: Vec<String>,
}

#[derive(clap::Args)]
pub struct SynthOptions {
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub set: SetShape,
    /// Detector manifest the configs name (the detector is not loaded for facade cameras, but
    /// a config needs one).
    #[arg(long, default_value = "models/yolox-nano.yaml")]
    pub manifest: PathBuf,
}

/// Which sequences make a set: `vigil synth` renders them to files, `vigil eval-falls
/// --in-memory` straight into the detector.
#[derive(clap::Args, Clone, Debug)]
pub struct SetShape {
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Sequences with one throw each.
    #[arg(long, default_value_t = 40)]
    pub throws: u32,
    #[arg(long, default_value_t = 8.0)]
    pub throw_secs: f64,
    /// Sequences with distractors only (birds, leaves, rain, branches, lights, shake).
    #[arg(long, default_value_t = 10)]
    pub distractors: u32,
    #[arg(long, default_value_t = 60.0)]
    pub distractor_secs: f64,
    /// Render every sequence at WIDTHxHEIGHT (e.g. 640x360) instead of its own 720p or 1080p.
    #[arg(long, value_parser = parse_size)]
    pub size: Option<(u32, u32)>,
    /// Where the cameras stand: `far` (28–42 m from a tower, the original benchmark), `close`
    /// (5–15 m from a low-rise building, wide lenses, throws pushed towards the camera:
    /// development) or `close-held-out` (the same, from distances, lenses and tilts
    /// development never sees).
    #[arg(long, value_enum, default_value = "far")]
    pub placement: PlacementArg,
}

impl SetShape {
    /// The set's sequences, throws first.
    pub fn specs(&self) -> Result<Vec<SceneSpec>> {
        let secs_ok = |s: f64| s.is_finite() && (3.0..=3600.0).contains(&s);
        if !secs_ok(self.throw_secs) || !secs_ok(self.distractor_secs) {
            bail!("sequence lengths must be between 3 and 3600 seconds");
        }
        let placement = Placement::from(self.placement);
        let spec = |kind, i, secs| placed_spec(placement, kind, self.seed, i, secs);
        let mut specs: Vec<SceneSpec> = (0..self.throws)
            .map(|i| spec(SetKind::Throws, i, self.throw_secs))
            .chain(
                (0..self.distractors).map(|i| spec(SetKind::Distractors, i, self.distractor_secs)),
            )
            .collect();
        if let Some((w, h)) = self.size {
            for s in &mut specs {
                let k = f64::from(h) / f64::from(s.height);
                for t in &mut s.throws {
                    t.size_px *= k;
                }
                // The same bits per pixel.
                let pixels = f64::from(w * h) / f64::from(s.width * s.height);
                s.kbps = s
                    .kbps
                    .map(|kbps| (f64::from(kbps) * pixels).max(200.0) as u32);
                (s.width, s.height) = (w, h);
            }
        }
        Ok(specs)
    }
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum PlacementArg {
    Far,
    Close,
    CloseHeldOut,
}

impl From<PlacementArg> for Placement {
    fn from(p: PlacementArg) -> Self {
        match p {
            PlacementArg::Far => Placement::Far,
            PlacementArg::Close => Placement::Close { held_out: false },
            PlacementArg::CloseHeldOut => Placement::Close { held_out: true },
        }
    }
}

/// Where a set of named scenes (`vigil synth-waste`, `vigil synth-lanes`) goes, and which.
#[derive(clap::Args)]
pub struct SceneSetArgs {
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Detector manifest the config names.
    #[arg(long, default_value = "models/yolox-nano.yaml")]
    pub manifest: PathBuf,
    /// Only the scenes whose name contains this.
    #[arg(long)]
    pub only: Option<String>,
}

impl SceneSetArgs {
    pub fn wants(&self, name: &str) -> bool {
        self.only.as_deref().is_none_or(|f| name.contains(f))
    }

    /// Creates the output folder; returns the start of the set's config (up to `cameras:`) and
    /// of its labels (up to `events:`), for `what` (`lane`, `bin`) by `command`.
    pub fn begin(&self, what: &str, command: &str) -> Result<(String, String)> {
        let manifest = prepare(&self.out, &self.manifest)?;
        let config = format!(
            "# Synthetic {what} scenes ({command}, seed {seed}); labels in labels.yaml.\n\
             detector:\n  manifest: {manifest}\n  detect_fps: 5\n\
             evidence:\n  pre_roll_secs: 2\n  post_roll_secs: 2\ncameras:\n",
            seed = self.seed,
            manifest = manifest.display()
        );
        let labels = format!(
            "# What each scene must raise ({command}). Ends are the scene's length when what was\n\
             # left is still there at the end.\ntolerance_secs: 8\nevents:\n"
        );
        Ok((config, labels))
    }

    /// Writes the set's config (`config` then `rules`) as `file` and its labels beside it;
    /// an error when no scene was wanted.
    pub fn finish(
        &self,
        names: &[String],
        file: &str,
        (config, rules, labels): (String, String, String),
    ) -> Result<()> {
        if names.is_empty() {
            bail!("no scene matches");
        }
        std::fs::write(self.out.join(file), config + &rules)?;
        std::fs::write(self.out.join("labels.yaml"), labels)?;
        Ok(())
    }
}

fn parse_size(s: &str) -> Result<(u32, u32), String> {
    s.split_once('x')
        .and_then(|(w, h)| Some((w.parse::<u32>().ok()?, h.parse::<u32>().ok()?)))
        .filter(|&(w, h)| (64..=7680).contains(&w) && (64..=4320).contains(&h))
        .ok_or_else(|| format!("{s}: expected WIDTHxHEIGHT, e.g. 640x360"))
}

pub fn generate(o: &SynthOptions) -> Result<SetIndex> {
    let specs = o.set.specs()?;
    let manifest = prepare(&o.out, &o.manifest)?;
    let mut index = SetIndex {
        seed: o.set.seed,
        sequences: Vec::new(),
    };
    for spec in specs {
        let name = spec.name.clone();
        let started = std::time::Instant::now();
        let truth = render(spec, &o.out.join(format!("{name}.mp4")))?;
        std::fs::write(
            o.out.join(format!("{name}.truth.json")),
            serde_json::to_string_pretty(&truth)?,
        )?;
        std::fs::write(
            o.out.join(format!("{name}.yaml")),
            config_text(&name, &truth, &manifest),
        )?;
        eprintln!(
            "{name}: {}x{} {} fps {:.0} s, {} throw(s), {} distractor kind(s) ({:.1} s)",
            truth.scene.width,
            truth.scene.height,
            truth.scene.fps,
            truth.scene.duration_secs,
            truth.throws.len(),
            truth.scene.distractors.len(),
            started.elapsed().as_secs_f64()
        );
        index.sequences.push(name);
    }
    std::fs::write(
        o.out.join("set.json"),
        serde_json::to_string_pretty(&index)?,
    )?;
    Ok(index)
}

/// The config that replays one sequence: the file camera and the calibration an integrator
/// would write for that view.
fn config_text(name: &str, truth: &Truth, manifest: &Path) -> String {
    let c = &truth.calibration;
    let pts = |p: &[[f64; 2]]| {
        p.iter()
            .map(|[x, y]| format!("[{x:.4}, {y:.4}]"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "# Synthetic facade sequence {name} (vigil synth, seed {seed}); ground truth in {name}.truth.json.
cameras:
  - name: facade
    file: {name}.mp4
    zones:
      fall_area: [{zone}]
detector:
  manifest: {manifest}
evidence:
  pre_roll_secs: 2
  post_roll_secs: 2
rules:
  - name: throws
    kind: falling_object
    camera: facade
    zone: fall_area
    facade:
      corners: [{corners}]
      width_m: {width:.2}
      height_m: {height:.2}
      floor_height_m: {floor:.2}
      first_floor: {first}
      columns: {columns}{top}
",
        seed = truth.scene.seed,
        zone = pts(&c.zone),
        manifest = manifest.display(),
        corners = pts(&c.corners),
        width = c.width_m,
        height = c.height_m,
        floor = c.floor_height_m,
        first = c.first_floor,
        columns = c.columns,
        top = c
            .top_floor
            .map(|t| format!("\n      top_floor: {t}"))
            .unwrap_or_default(),
    )
}

/// Creates the output folder `out`; returns the absolute path of the detector manifest the
/// written configs name.
pub fn prepare(out: &Path, manifest: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    std::fs::canonicalize(manifest).with_context(|| {
        format!(
            "detector manifest {} not found (pass --manifest)",
            manifest.display()
        )
    })
}

/// Renders `spec` and encodes it as H.264 in MP4 at a camera-like bitrate; returns the truth.
pub(crate) fn render(spec: SceneSpec, path: &Path) -> Result<Truth> {
    let (w, h, fps) = (spec.width, spec.height, spec.fps);
    let kbps = spec.kbps.map_or_else(|| camera_kbps(w, h), u64::from);
    let mut scene = Scene::new(spec);
    let n = scene.frames();
    encode_at(path, (w, h), fps, kbps, (0..n).map(|_| scene.next_frame()))?;
    Ok(scene.truth())
}

/// What a residential camera streams: about 2.2 Mbit/s per 720p (4.5 at 1080p), 500 at least.
fn camera_kbps(w: u32, h: u32) -> u64 {
    (u64::from(w) * u64::from(h) * 2200 / (1280 * 720)).max(500)
}

/// Encodes packed RGB frames of `size` at `fps` as H.264 in MP4 at about 2 Mbit/s per 720p (4.5
/// at 1080p: what residential cameras stream), a keyframe every 2 s.
pub fn encode(
    path: &Path,
    (w, h): (u32, u32),
    fps: u32,
    frames: impl Iterator<Item = Vec<u8>>,
) -> Result<()> {
    encode_at(path, (w, h), fps, camera_kbps(w, h), frames)
}

/// A path inside a double-quoted property of a launch line.
fn quoted(path: &Path) -> String {
    path.to_string_lossy().replace('"', "\\\"")
}

/// The pipeline `line` describes (GStreamer initialised first).
fn launch(line: &str) -> Result<gst::Pipeline> {
    gst::init()?;
    gst::parse::launch(line)?
        .downcast::<gst::Pipeline>()
        .map_err(|_| anyhow::anyhow!("not a pipeline: {line}"))
}

/// [`encode`] at `kbps` kbit/s.
fn encode_at(
    path: &Path,
    (w, h): (u32, u32),
    fps: u32,
    kbps: u64,
    frames: impl Iterator<Item = Vec<u8>>,
) -> Result<()> {
    let pipeline = launch(&format!(
        "appsrc name=src format=time ! videoconvert ! video/x-raw,format=I420 \
         ! x264enc speed-preset=superfast bitrate={kbps} key-int-max={gop} bframes=0 threads=1 \
         ! h264parse ! mp4mux ! filesink location=\"{}\"",
        quoted(path),
        gop = fps * 2
    ))?;
    let src = pipeline
        .by_name("src")
        .and_then(|e| e.downcast::<gst_app::AppSrc>().ok())
        .context("no appsrc")?;
    src.set_caps(Some(
        &gst::Caps::builder("video/x-raw")
            .field("format", "RGB")
            .field("width", w as i32)
            .field("height", h as i32)
            .field("framerate", gst::Fraction::new(fps as i32, 1))
            .build(),
    ));
    src.set_property("block", true);
    src.set_property("max-bytes", u64::from(w * h * 3) * 4);
    pipeline.set_state(gst::State::Playing)?;
    let frame_ns = 1_000_000_000u64 / u64::from(fps);
    for (i, frame) in frames.enumerate() {
        let mut buffer = gst::Buffer::from_mut_slice(frame);
        {
            let b = buffer.get_mut().expect("a new buffer is writable");
            b.set_pts(gst::ClockTime::from_nseconds(i as u64 * frame_ns));
            b.set_duration(gst::ClockTime::from_nseconds(frame_ns));
        }
        if src.push_buffer(buffer).is_err() {
            break;
        }
    }
    let _ = src.end_of_stream();
    let bus = pipeline.bus().context("no bus")?;
    let outcome = bus.timed_pop_filtered(
        gst::ClockTime::from_seconds(120),
        &[gst::MessageType::Eos, gst::MessageType::Error],
    );
    let _ = pipeline.set_state(gst::State::Null);
    match outcome.as_ref().map(|m| m.view()) {
        Some(gst::MessageView::Eos(_)) => Ok(()),
        Some(gst::MessageView::Error(e)) => bail!("encoding {}: {}", path.display(), e.error()),
        _ => bail!("encoding {} did not finish", path.display()),
    }
}

/// `vigil eval-falls`: the report.
#[derive(Serialize)]
pub struct FallsReport {
    pub summary: score::Summary,
    pub sequences: Vec<SequenceScore>,
    /// Frames processed per second of wall time over the whole set (decode included).
    pub frames_per_sec: f64,
}

/// Replays every sequence of the set in `dir` into `out/<name>/` and scores the alerts.
pub fn evaluate(dir: &Path, out: &Path, assets: Option<PathBuf>) -> Result<FallsReport> {
    let index: SetIndex = serde_json::from_str(
        &std::fs::read_to_string(dir.join("set.json"))
            .with_context(|| format!("{} has no set.json (run vigil synth)", dir.display()))?,
    )?;
    let mut scores = Vec::new();
    let (mut frames, mut secs) = (0u64, 0.0);
    for name in &index.sequences {
        let truth: Truth = serde_json::from_str(&std::fs::read_to_string(
            dir.join(format!("{name}.truth.json")),
        )?)?;
        let path = dir.join(format!("{name}.yaml"));
        let config = vigil_config::load(&path, assets.as_deref())
            .map_err(|errors| vigil_runtime::loading::InvalidConfig::new(&path, errors))?;
        let run_dir = out.join(name);
        // A fresh store per run: an earlier evaluation's alerts must not count.
        let _ = std::fs::remove_dir_all(&run_dir);
        let options = vigil_runtime::pipeline::Options {
            print_alerts: false,
            drain: std::time::Duration::ZERO,
            ..vigil_runtime::pipeline::Options::replay(run_dir.clone(), assets.clone())
        };
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let started = std::time::Instant::now();
        let summary = vigil_runtime::pipeline::run(&config, &options, stop)?;
        secs += started.elapsed().as_secs_f64();
        frames += summary.ingest.values().map(|c| c.received).sum::<u64>();
        if !summary.failed_cameras.is_empty() {
            bail!("{name}: {}", summary.failed_cameras.join("; "));
        }
        let detections = read_detections(&run_dir.join("alerts.jsonl"))?;
        let s = score(&truth, &detections);
        let found = s.throws.iter().filter(|t| t.found).count();
        eprintln!(
            "{name}: {found}/{} throw(s) found{}, {} false alert(s), {} duplicate(s)",
            s.throws.len(),
            s.throws
                .iter()
                .filter_map(|t| t
                    .found_floor
                    .map(|f| format!(" (floor {f}, truly {})", t.floor)))
                .collect::<String>(),
            s.false_alerts,
            s.duplicates
        );
        scores.push(s);
    }
    Ok(FallsReport {
        summary: summarise(&scores),
        sequences: scores,
        frames_per_sec: if secs > 0.0 {
            frames as f64 / secs
        } else {
            0.0
        },
    })
}

fn read_detections(alerts: &Path) -> Result<Vec<Detection>> {
    use vigil_core::AlertEvent;
    let text = std::fs::read_to_string(alerts).unwrap_or_default();
    let mut out = Vec::new();
    // Each alert's detection, which its `update` (the fall settled) replaces but for the time
    // it was raised.
    let mut by_id = std::collections::HashMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let a: vigil_core::Alert = serde_json::from_str(line)
            .with_context(|| format!("bad record in {}", alerts.display()))?;
        let Some(t) = a.trajectory else { continue };
        let d = Detection {
            raised_t: a.raised_pts_secs,
            floor: t.origin.floor,
            column: t.origin.column,
            points: t
                .points
                .iter()
                .map(|p| (p.pts_secs, p.x_px, p.y_px))
                .collect(),
        };
        match a.event {
            AlertEvent::Start => {
                by_id.insert(a.id.to_string(), out.len());
                out.push(d);
            }
            AlertEvent::Update => {
                if let Some(&i) = by_id.get(&a.id.to_string()) {
                    out[i] = d;
                }
            }
            _ => {}
        }
    }
    Ok(out)
}
