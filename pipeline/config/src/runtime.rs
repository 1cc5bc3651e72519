//! Phase two: validation into the types the pipeline runs on.

use crate::anchor::{AnchorConfig, anchor};
pub use crate::assets::resolve_asset;
pub use crate::camera::{CameraConfig, CameraSource, Decoder, RtspTransport, RtspUrl};
use crate::check::Validator;
use crate::context::{RuleContext, file_zones};
use crate::detector::DetectorConfig;
use crate::error::{ConfigError, ConfigErrors, parse_yaml};
use crate::manifest::ModelManifest;
pub use crate::mqtt::{MqttConfig, MqttTlsFiles};
pub use crate::outputs::{ApiConfig, ApiToken, Role, Secret, WebhookConfig};
use crate::raw::RawConfig;
use crate::rules::{LoadedRuleFile, in_file, read_rule_file};
use serde_saphyr::Spanned;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;
use vigil_core::CameraId;
pub use vigil_spec::rule::Rule;
pub use vigil_spec::tracker::TrackerConfig;

/// The validated configuration.
#[derive(Clone, Debug)]
pub struct Config {
    pub path: PathBuf,
    pub cameras: Vec<CameraConfig>,
    pub detector: DetectorConfig,
    pub rules: Vec<Rule>,
    /// Falling-object rules, at most one per camera; those cameras have no detector rules.
    pub falling: Vec<crate::falling::FallRule>,
    /// `waste_left` and `bin_overflow` rules (read by each camera's static-object detector).
    pub waste: Vec<vigil_spec::waste::WasteRule>,
    /// `lane_obstructed` rules (read by each camera's static-object detector, set up for lanes).
    pub lane: Vec<vigil_spec::lane::LaneRule>,
    /// The rule files named by the config (resolved), for reloading.
    pub rule_files: Vec<PathBuf>,
    pub outputs: OutputConfig,
    pub evidence: EvidenceConfig,
    pub tracker: TrackerConfig,
    /// The HTTP API and page; off when the file has no `api` section.
    pub api: Option<ApiConfig>,
    /// What people call the cameras, zones and rules.
    pub names: crate::names::Names,
    /// Set by the command line (`--instance`, `--shard`), not the file: this instance among
    /// several running the same config.
    pub instance: Option<crate::shard::Instance>,
    /// Set by the command line (`--advertise`): where the other instances reach this one's API
    /// (`http://host:port`), kept in the shared store.
    pub advertise: Option<String>,
}

impl Config {
    /// The cameras' names, in config order.
    pub fn camera_names(&self) -> Vec<String> {
        self.cameras.iter().map(|c| c.id.to_string()).collect()
    }

    /// This instance's name in the shared store (a single box: `vigil`).
    pub fn instance_name(&self) -> &str {
        self.instance.as_ref().map_or("vigil", |i| i.id.as_str())
    }

    /// The falling-object rule of `camera`, when it watches a facade.
    pub fn fall_rule(&self, camera: &CameraId) -> Option<&crate::falling::FallRule> {
        self.falling.iter().find(|f| &f.camera == camera)
    }

    /// How `camera`'s frames are gated by motion; `None` when every sampled frame is detected
    /// (the gate is off for it, or it is a facade camera, whose frames no detector sees).
    pub fn motion_gate(&self, camera: &CameraConfig) -> Option<&vigil_spec::motion::MotionGate> {
        let gate = &self.detector.motion_gate;
        let on = camera.motion_gate.unwrap_or(gate.enabled) && self.fall_rule(&camera.id).is_none();
        on.then_some(gate)
    }

    /// Turns motion-gated detection on or off for every camera (a command-line override).
    pub fn set_motion_gate(&mut self, on: bool) {
        self.detector.motion_gate.enabled = on;
        for cam in &mut self.cameras {
            cam.motion_gate = None;
        }
    }

    /// The `waste_left` and `bin_overflow` rules of `camera`.
    pub fn waste_rules(&self, camera: &CameraId) -> Vec<vigil_spec::waste::WasteRule> {
        self.waste
            .iter()
            .filter(|w| &w.camera == camera)
            .cloned()
            .collect()
    }

    /// Whether `camera` has rules that read its frames' pixels (the static-object detector of
    /// `waste_left`, `bin_overflow` and `lane_obstructed`), so the frames keep their image.
    pub fn reads_pixels(&self, camera: &CameraId) -> bool {
        self.waste.iter().any(|w| &w.camera == camera)
            || self.lane.iter().any(|l| &l.camera == camera)
    }

    /// The `lane_obstructed` rules of `camera`.
    pub fn lane_rules(&self, camera: &CameraId) -> Vec<vigil_spec::lane::LaneRule> {
        self.lane
            .iter()
            .filter(|l| &l.camera == camera)
            .cloned()
            .collect()
    }
}

/// Clips cut from each camera's encoded stream around alerts.
#[derive(Clone, Debug, PartialEq)]
pub struct EvidenceConfig {
    pub enabled: bool,
    /// Stream time before the alert's start that every clip holds (whole GOPs; ≤ 60 s).
    pub pre_roll: Duration,
    /// Stream time after the alert that the clip continues.
    pub post_roll: Duration,
    /// Longest clip; an alert that stays open gets a clip of its start.
    pub max_clip: Duration,
    /// Cap on each camera's ring of encoded access units.
    pub max_ring_bytes: usize,
    /// Retention: clips older than this are deleted.
    pub max_age: Option<Duration>,
    /// Retention: each camera's clips are kept within this many bytes (oldest deleted first).
    pub max_bytes_per_camera: Option<u64>,
    /// Retention: all clips are kept within this many bytes (oldest deleted first).
    pub max_bytes_total: Option<u64>,
    /// Retention: budgets delete acknowledged alerts' clips before unacknowledged ones.
    pub keep_unacknowledged_longest: bool,
    /// Where and how often the chain's head is signed (`evidence.anchor`).
    pub anchor: Option<AnchorConfig>,
    /// The font for snapshot captions (`evidence.font_file`); none: looked for on the system.
    pub font_file: Option<PathBuf>,
}

impl Default for EvidenceConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            pre_roll: Duration::from_secs(5),
            post_roll: Duration::from_secs(5),
            max_clip: Duration::from_secs(60),
            max_ring_bytes: 32 << 20,
            max_age: Some(Duration::from_secs(30 * 86_400)),
            max_bytes_per_camera: None,
            max_bytes_total: None,
            keep_unacknowledged_longest: true,
            anchor: None,
            font_file: None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct OutputConfig {
    /// Folder for `alerts.jsonl` and `alerts.db`.
    pub dir: Option<PathBuf>,
    pub stdout: bool,
    pub webhooks: Vec<WebhookConfig>,
    pub mqtt: Option<MqttConfig>,
    /// The shared store (PostgreSQL), beside this instance's own SQLite store.
    pub postgres: Option<crate::outputs::SharedStoreConfig>,
    /// WeCom, DingTalk and Feishu group robots.
    pub robots: Vec<crate::robots::RobotConfig>,
}

/// Reads and validates the config at `path`.
pub fn load(path: &Path, assets: Option<&Path>) -> Result<Config, ConfigErrors> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigErrors(vec![ConfigError::new(
            path,
            0,
            0,
            format!("cannot read config: {e}"),
        )])
    })?;
    load_str(path, &text, assets)
}

/// Validates config `text` as if read from `path` (relative paths resolve beside it).
pub fn load_str(path: &Path, text: &str, assets: Option<&Path>) -> Result<Config, ConfigErrors> {
    load_edited(path, text, assets, None)
}

/// Validates config `text` read from `path`, with rule file `edit.0` read as `edit.1` instead
/// of from disk (a change not yet written: [`crate::edit`]).
pub(crate) fn load_edited(
    path: &Path,
    text: &str,
    assets: Option<&Path>,
    edit: Option<(&Path, &str)>,
) -> Result<Config, ConfigErrors> {
    let raw: RawConfig = parse_yaml(path, text).map_err(|e| ConfigErrors(vec![e]))?;
    let mut v = Validator::new(path);
    let base = path.parent().unwrap_or(Path::new("."));

    let manifest_path = resolve_asset(base, &raw.detector.manifest.value, assets, "models");
    let manifest = match ModelManifest::load(&manifest_path, assets) {
        Ok(m) => {
            if !m.file.is_file() {
                v.error(
                    &raw.detector.manifest,
                    format!(
                        "model file {} of manifest {} not found: run models/fetch, or set VIGIL_ASSETS to a folder holding models/{}",
                        m.file.display(),
                        manifest_path.display(),
                        m.file.file_name().unwrap_or_default().to_string_lossy()
                    ),
                );
            }
            Some(m)
        }
        Err(ConfigErrors(errs)) => {
            v.error(
                &raw.detector.manifest,
                format!(
                    "model manifest {} has errors (below)",
                    manifest_path.display()
                ),
            );
            v.errors.extend(errs);
            None
        }
    };

    let detector = crate::detector::detector(&mut v, &raw.detector, manifest);

    if raw.cameras.value.is_empty() {
        v.error(&raw.cameras, "at least one camera is needed");
    }
    let mut names = HashSet::new();
    let mut cameras = Vec::new();
    let default_decoder = raw.decoder.as_ref().map_or(Decoder::Auto, |d| v.decoder(d));
    for cam in &raw.cameras.value {
        if !names.insert(cam.name.value.clone()) {
            v.error(
                &cam.name,
                format!("camera \"{}\" is defined twice", cam.name.value),
            );
        }
        if let Some(c) = v.camera(cam, base, assets, default_decoder) {
            cameras.push(c);
        }
    }

    let manifest = detector.as_ref().map(|d| &d.manifest);
    if let Some(m) = manifest {
        for cam in &raw.cameras.value {
            for (from, to) in &cam.class_map {
                for label in [from, &to.value] {
                    if !m.labels.iter().any(|l| **l == **label) {
                        v.error(
                            to,
                            format!(
                                "class_map of camera \"{}\": \"{label}\" is not a label of model \"{}\"",
                                cam.name.value, m.name
                            ),
                        );
                    }
                }
                if from == &to.value {
                    v.error(
                        to,
                        format!(
                            "class_map of camera \"{}\" maps \"{from}\" to itself",
                            cam.name.value
                        ),
                    );
                }
            }
            let blur = cam.privacy.as_ref().and_then(|p| p.blur.as_ref());
            for c in blur.into_iter().flatten() {
                if !m.knows_class_or_group(&c.value) {
                    v.error(
                        c,
                        format!(
                            "class \"{}\" in privacy.blur of camera \"{}\" is neither a label nor a group of model \"{}\"",
                            c.value, cam.name.value, m.name
                        ),
                    );
                }
            }
        }
    }

    // Rules: the config's own, then each rule file's (whose zones every rule may use).
    let written = raw.cameras.value.iter().flat_map(|c| {
        c.zones
            .keys()
            .map(move |z| (c.name.value.clone(), z.clone()))
    });
    let mut ctx = RuleContext::new(&cameras, manifest, written);
    let files: Vec<LoadedRuleFile> = raw
        .rule_files
        .iter()
        .filter_map(|f| read_rule_file(&mut v, f, base, edit))
        .collect();
    for f in &files {
        in_file(&f.path, &mut v.errors, |fv| {
            file_zones(fv, &mut ctx, &f.raw)
        });
    }
    let mut set = crate::rules::RuleSet::default();
    crate::rules::rules(&mut v, &mut ctx, &raw.rules, &mut set);
    for f in &files {
        in_file(&f.path, &mut v.errors, |fv| {
            crate::rules::rules(fv, &mut ctx, &f.raw.rules, &mut set)
        });
    }
    let names = crate::names::collect(&mut v, &ctx, &raw.cameras.value, &raw.rules, &files);
    // A facade camera's every frame goes to the falling-object stage: one calibration per
    // camera, and no detector rules beside it.
    for (i, (f, file, at)) in set.falling.iter().enumerate() {
        let again = set.falling[..i].iter().any(|(g, ..)| g.camera == f.camera);
        let detector = set
            .rules
            .iter()
            .filter(|r| r.camera == f.camera)
            .map(|r| &r.id)
            .chain(
                set.waste
                    .iter()
                    .filter(|(w, ..)| w.camera == f.camera)
                    .map(|(w, ..)| &w.id),
            )
            .chain(
                set.lane
                    .iter()
                    .filter(|(l, ..)| l.camera == f.camera)
                    .map(|(l, ..)| &l.id),
            )
            .next();
        let problem = match (again, detector) {
            (true, _) => {
                Some("has two falling_object rules; one calibrated facade per camera".to_string())
            }
            (false, Some(d)) => Some(format!(
                "has falling_object rule \"{}\" and detector rule \"{}\"; a facade camera's every frame goes to the falling-object stage, so give the detector rules another camera",
                f.id, d
            )),
            _ => None,
        };
        if let Some(problem) = problem {
            v.errors.push(ConfigError::at(
                file,
                *at,
                format!("camera \"{}\" {problem}", f.camera),
            ));
        }
    }
    let crate::rules::RuleSet {
        rules,
        falling,
        waste,
        lane,
    } = set;
    let falling = falling.into_iter().map(|(f, ..)| f).collect();
    let waste = waste.into_iter().map(|(w, ..)| w).collect();
    let lane = lane.into_iter().map(|(l, ..)| l).collect();

    let mut evidence = EvidenceConfig::default();
    if let Some(e) = &raw.evidence {
        evidence.enabled = e.enabled.unwrap_or(true);
        let mut secs =
            |field: &Option<Spanned<f64>>, range: std::ops::RangeInclusive<f64>, name: &str| {
                let f = field.as_ref()?;
                let ok = f.value.is_finite() && range.contains(&f.value);
                v.check(
                    ok,
                    f,
                    &format!(
                        "{name} must be between {} and {}",
                        range.start(),
                        range.end()
                    ),
                );
                ok.then(|| Duration::from_secs_f64(f.value))
            };
        if let Some(d) = secs(&e.pre_roll_secs, 0.0..=60.0, "pre_roll_secs") {
            evidence.pre_roll = d;
        }
        if let Some(d) = secs(&e.post_roll_secs, 0.0..=300.0, "post_roll_secs") {
            evidence.post_roll = d;
        }
        if let Some(d) = secs(&e.max_clip_secs, 1.0..=3600.0, "max_clip_secs") {
            evidence.max_clip = d;
        }
        if let Some(d) = &e.max_age_days {
            let ok = d.value > 0.0 && d.value <= 36_500.0;
            v.check(
                ok,
                d,
                "max_age_days must be in (0, 36500] (a hundred years)",
            );
            if ok {
                evidence.max_age = Some(Duration::from_secs_f64(d.value * 86_400.0));
            }
        }
        let mut megabytes = |field: &Option<Spanned<f64>>, name: &str| {
            let m = field.as_ref()?;
            // Up to a petabyte: beyond it the byte count no longer fits the bookkeeping.
            let ok = (0.0..=1e9).contains(&m.value);
            v.check(
                ok,
                m,
                &format!("{name} must be a number of megabytes in [0, 1000000000]"),
            );
            ok.then_some((m.value * 1024.0 * 1024.0) as u64)
        };
        evidence.max_bytes_per_camera = megabytes(&e.max_mb_per_camera, "max_mb_per_camera");
        evidence.max_bytes_total = megabytes(&e.max_total_mb, "max_total_mb");
        if let Some(k) = e.keep_unacknowledged_longest {
            evidence.keep_unacknowledged_longest = k;
        }
        evidence.anchor = e.anchor.as_ref().and_then(|a| anchor(&mut v, a, base));
        evidence.font_file = e.font_file.as_ref().and_then(|f| {
            let path = base.join(&f.value);
            v.check(
                path.is_file(),
                f,
                &format!("font_file {}: no such file", path.display()),
            );
            path.is_file().then_some(path)
        });
        if let Some(m) = &e.max_ring_mb {
            let ok = m.value.is_finite() && (1.0..=4096.0).contains(&m.value);
            v.check(ok, m, "max_ring_mb must be between 1 and 4096");
            if ok {
                evidence.max_ring_bytes = (m.value * 1024.0 * 1024.0) as usize;
            }
        }
    }

    let mut tracker = TrackerConfig::default();
    if let Some(t) = &raw.tracker {
        let mut score = |field: &Option<Spanned<f32>>, name: &str, target: &mut f32| {
            if let Some(f) = field {
                let ok = f.value.is_finite() && (0.0..=1.0).contains(&f.value);
                v.check(ok, f, &format!("tracker.{name} must be in [0, 1]"));
                if ok {
                    *target = f.value;
                }
            }
        };
        score(&t.high_score, "high_score", &mut tracker.high_score);
        score(&t.low_score, "low_score", &mut tracker.low_score);
        score(
            &t.new_track_score,
            "new_track_score",
            &mut tracker.new_track_score,
        );
        score(&t.match_iou, "match_iou", &mut tracker.match_iou);
        score(
            &t.low_match_iou,
            "low_match_iou",
            &mut tracker.low_match_iou,
        );
        if let Some(f) = &t.max_lost_secs {
            let ok = f.value.is_finite() && f.value >= 0.0 && f.value <= 600.0;
            v.check(ok, f, "tracker.max_lost_secs must be between 0 and 600");
            if ok {
                tracker.max_lost = Duration::from_secs_f64(f.value);
            }
        }
        if let Some(h) = &t.min_hits {
            v.check(h.value >= 1, h, "tracker.min_hits must be ≥ 1");
            tracker.min_hits = h.value.max(1);
        }
        if tracker.low_score > tracker.high_score
            && let Some(f) = &t.low_score
        {
            v.error(f, "tracker.low_score must not exceed high_score");
        }
    }

    let camera_names: Vec<&str> = raw
        .cameras
        .value
        .iter()
        .map(|c| c.name.value.as_str())
        .collect();
    let webhooks = crate::outputs::webhooks(&mut v, &raw.outputs, &camera_names);
    let mqtt = raw
        .outputs
        .mqtt
        .as_ref()
        .map(|m| crate::mqtt::validate(&mut v, m, &camera_names, base));
    let postgres = raw
        .outputs
        .postgres
        .as_ref()
        .map(|p| crate::outputs::shared_store(&mut v, p, &camera_names, base));
    let robots =
        crate::robots::validate(&mut v, &raw.outputs.robots, &camera_names, evidence.enabled);
    let api = raw
        .api
        .as_ref()
        .map(|a| crate::outputs::validate_api(&mut v, a, base));

    if !v.errors.is_empty() {
        v.errors.sort_by_key(|e| (e.file.clone(), e.line, e.column));
        return Err(ConfigErrors(v.errors));
    }
    Ok(Config {
        path: path.to_path_buf(),
        cameras,
        detector: detector.expect("no errors means the manifest loaded"),
        rules,
        falling,
        waste,
        lane,
        rule_files: raw.rule_files.iter().map(|f| base.join(&f.value)).collect(),
        outputs: OutputConfig {
            dir: raw.outputs.dir.map(|d| base.join(d)),
            stdout: raw.outputs.stdout.unwrap_or(true),
            webhooks,
            mqtt,
            postgres,
            robots,
        },
        evidence,
        tracker,
        api,
        names,
        instance: None,
        advertise: None,
    })
}
