//! Declarative rule test cases (`rules/tests/*.yaml`): a rule file (zones and rules of one
//! camera) plus scripted objects — where they are, when they flicker out, when the tracker gives
//! them a new id — and the alerts expected, each at a time within a tolerance. [`load_case`]
//! reads and checks one into a [`Case`]; `vigil test-rules` drives the real rule engine with it
//! frame by frame and compares, so integrators can add their own cases the same way.
//!
//! ```yaml
//! camera: {name: gate, width: 1920, height: 1080}
//! fps: 5                                   # frames per second of the script (default 5)
//! start: "2026-11-30T06:50:00+08:00"       # wall time of t = 0 (for schedules; optional)
//! duration_secs: 200                       # default: the last object's end + 10 s
//! zones: {gate: {lane: [[0.1, 0.5], [0.9, 0.5], [0.9, 1.0], [0.1, 1.0]]}}
//! rules: [ … as in a rule file … ]
//! objects:
//!   - {id: 1, class: car, group: vehicle, box: [800, 700, 1000, 900], from: 0, to: 120,
//!      box_to: [810, 700, 1010, 900],      # optional: moves linearly to here by `to`
//!      score: 0.8, missing: [[40, 41.5]],  # no detection in these intervals
//!      new_id_at: [50, 80]}                # the tracker gives it a new id at these times
//! expect:
//!   - {rule: fire_lane, event: start, at: 30, tolerance: 0.5}
//! ```

use crate::context::{RuleContext, file_zones};
use crate::error::{ConfigError, ConfigErrors, parse_yaml};
use crate::raw::RawRuleFile;
use crate::rules::in_file;
use crate::runtime::{CameraConfig, CameraSource};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use vigil_core::{AlertEvent, BBoxPx, CameraId, Size, Track, TrackId};
use vigil_spec::rule::Rule;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    camera: RawCaseCamera,
    #[serde(default)]
    fps: Option<f64>,
    #[serde(default)]
    start: Option<String>,
    #[serde(default)]
    duration_secs: Option<f64>,
    #[serde(default)]
    zones: std::collections::BTreeMap<String, crate::raw::RawZones>,
    #[serde(default)]
    rules: Vec<crate::raw::RawRule>,
    #[serde(default)]
    objects: Vec<CaseObject>,
    #[serde(default)]
    expect: Vec<RawExpect>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCaseCamera {
    name: String,
    width: u32,
    height: u32,
}

/// One scripted object: a detection from `from` to `to` (seconds), its box moving linearly from
/// `bbox` to `box_to`, absent during `missing`, given a new track id at each of `new_id_at`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseObject {
    pub id: u64,
    pub class: String,
    #[serde(default)]
    pub group: Option<String>,
    #[serde(rename = "box")]
    pub bbox: [f32; 4],
    #[serde(default)]
    pub box_to: Option<[f32; 4]>,
    pub from: f64,
    pub to: f64,
    #[serde(default = "default_score")]
    pub score: f32,
    #[serde(default)]
    pub missing: Vec<[f64; 2]>,
    #[serde(default)]
    pub new_id_at: Vec<f64>,
}

fn default_score() -> f32 {
    0.8
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    rule: String,
    event: String,
    at: f64,
    #[serde(default)]
    tolerance: Option<f64>,
}

/// An alert record the case expects: of `rule`, an `event` at `at_secs` ± `tolerance_secs`.
#[derive(Clone, Debug, PartialEq)]
pub struct Expected {
    pub rule: String,
    pub event: AlertEvent,
    pub at_secs: f64,
    pub tolerance_secs: f64,
}

/// A checked case, ready to run.
#[derive(Clone, Debug)]
pub struct Case {
    pub path: PathBuf,
    pub camera: CameraId,
    pub size: Size,
    /// Frames per second of the script.
    pub fps: f64,
    /// Wall time of t = 0.
    pub start: SystemTime,
    /// Seconds of script: frames 0 ..= ⌈duration × fps⌉.
    pub duration_secs: f64,
    pub rules: Vec<Rule>,
    pub objects: Vec<CaseObject>,
    pub expect: Vec<Expected>,
}

/// Default tolerance on expected times: a second (five frames at the default rate).
const TOLERANCE_SECS: f64 = 1.0;

/// Reads and checks the case file at `path`.
pub fn load_case(path: &Path) -> Result<Case, ConfigErrors> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigErrors(vec![ConfigError::new(
            path,
            0,
            0,
            format!("cannot read: {e}"),
        )])
    })?;
    let raw: RawCase = parse_yaml(path, &text).map_err(|e| ConfigErrors(vec![e]))?;
    let problem = |m: String| ConfigErrors(vec![ConfigError::new(path, 0, 0, m)]);
    let size = Size::new(raw.camera.width, raw.camera.height);
    let fps = raw.fps.unwrap_or(5.0);
    if !(fps.is_finite() && fps > 0.0 && fps <= 120.0) {
        return Err(problem("fps must be in (0, 120]".into()));
    }
    let start = match &raw.start {
        Some(s) => chrono::DateTime::parse_from_rfc3339(s)
            .map(SystemTime::from)
            .map_err(|e| problem(format!("start: expected RFC 3339 time ({e})")))?,
        None => SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000),
    };
    let camera = CameraConfig {
        id: CameraId::new(&raw.camera.name),
        source: CameraSource::File {
            path: PathBuf::new(),
            looping: false,
        },
        detect_fps: None,
        zones: Vec::new(),
        privacy_blur: Vec::new(),
        stall: Duration::from_secs(5),
        decoder: crate::camera::Decoder::Auto,
        served_loop: None,
        record: None,
        class_map: Vec::new(),
        class_map_min_area: crate::camera::CLASS_MAP_MIN_AREA,
        motion_gate: None,
    };
    let cameras = [camera];
    let mut ctx = RuleContext::new(&cameras, None, std::iter::empty());
    let mut errors = Vec::new();
    let mut set = crate::rules::RuleSet::default();
    let rule_file = RawRuleFile {
        zones: raw.zones,
        zone_names: Default::default(),
        rules: raw.rules,
    };
    in_file(path, &mut errors, |v| {
        file_zones(v, &mut ctx, &rule_file);
        crate::rules::rules(v, &mut ctx, &rule_file.rules, &mut set);
    });
    if !errors.is_empty() {
        return Err(ConfigErrors(errors));
    }
    if let Some((f, ..)) = set.falling.first() {
        return Err(problem(format!(
            "rule \"{}\": rule cases script detector objects; falling_object rules are tested on rendered footage (vigil synth, vigil eval-falls)",
            f.id
        )));
    }
    if let Some((w, ..)) = set.waste.first() {
        return Err(problem(format!(
            "rule \"{}\": rule cases script detector objects; waste_left and bin_overflow rules read pixels and are tested on rendered footage (vigil synth-waste, vigil eval)",
            w.id
        )));
    }
    if let Some((l, ..)) = set.lane.first() {
        return Err(problem(format!(
            "rule \"{}\": rule cases script detector objects; lane_obstructed rules read pixels and are tested on rendered footage (vigil synth-lane, vigil eval)",
            l.id
        )));
    }
    let rules = set.rules;
    let mut expect = Vec::new();
    for e in &raw.expect {
        let Some(event) = AlertEvent::parse(&e.event) else {
            return Err(problem(format!("expect: unknown event \"{}\"", e.event)));
        };
        if !rules.iter().any(|r| r.id.as_str() == e.rule) {
            return Err(problem(format!(
                "expect: no rule \"{}\" in the case",
                e.rule
            )));
        }
        let tolerance_secs = e.tolerance.unwrap_or(TOLERANCE_SECS);
        if !(e.at.is_finite() && tolerance_secs.is_finite() && tolerance_secs >= 0.0) {
            return Err(problem(format!(
                "expect: rule \"{}\": `at` and `tolerance` must be finite, the tolerance not negative",
                e.rule
            )));
        }
        expect.push(Expected {
            rule: e.rule.clone(),
            event,
            at_secs: e.at,
            tolerance_secs,
        });
    }
    for o in &raw.objects {
        if !(o.from.is_finite() && o.to.is_finite() && o.from <= o.to) {
            return Err(problem(format!(
                "object {}: `from` and `to` must be finite seconds, `from` not after `to`",
                o.id
            )));
        }
    }
    let duration_secs = raw
        .duration_secs
        .unwrap_or_else(|| raw.objects.iter().map(|o| o.to).fold(0.0, f64::max) + 10.0);
    if !(duration_secs.is_finite() && (0.0..=86_400.0).contains(&duration_secs)) {
        return Err(problem("duration_secs must be in [0, 86400]".into()));
    }
    Ok(Case {
        path: path.to_path_buf(),
        camera: cameras[0].id.clone(),
        size,
        fps,
        start,
        duration_secs,
        rules,
        objects: raw.objects,
        expect,
    })
}

impl CaseObject {
    /// The track this object shows at `t`, if it is detected then.
    pub fn track_at(&self, t: f64) -> Option<Track> {
        if self.missing.iter().any(|&[a, b]| (a..b).contains(&t)) {
            return None;
        }
        self.in_scene(t)
    }

    /// The track this object would show at `t` if the detector never missed it: whether it is
    /// in the scene then, and where (what a camera's motion mask sees).
    pub fn in_scene(&self, t: f64) -> Option<Track> {
        let o = self;
        if t < o.from || t > o.to {
            return None;
        }
        let f = if o.to > o.from {
            ((t - o.from) / (o.to - o.from)) as f32
        } else {
            0.0
        };
        let to = o.box_to.unwrap_or(o.bbox);
        let lerp = |i: usize| o.bbox[i] + (to[i] - o.bbox[i]) * f;
        let switches = o.new_id_at.iter().filter(|&&s| t >= s).count() as u64;
        let class: Arc<str> = Arc::from(o.class.as_str());
        Some(Track {
            id: TrackId(o.id + 1000 * switches),
            group: o.group.as_deref().map_or(class.clone(), Arc::from),
            class,
            score: o.score,
            bbox_px: BBoxPx::new(lerp(0), lerp(1), lerp(2), lerp(3)),
            hits: 10,
            first_seen_pts: Duration::from_secs_f64(o.from),
            matched: true,
        })
    }
}
