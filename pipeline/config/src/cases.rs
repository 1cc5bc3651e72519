//! Declarative rule test cases (`rules/tests/*.yaml`): a rule file (zones and rules of one
//! camera) plus scripted objects — where they are, when they flicker out, when the tracker gives
//! them a new id — and the alerts expected, each at a time within a tolerance. [`run_case`]
//! drives the real [`RuleEngine`] frame by frame and compares; `vigil test-rules` and the test
//! suite both run them, so integrators can add their own cases the same way.
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
use vigil_core::{AlertEvent, BBoxPx, CameraId, FrameMeta, Size, Track, TrackId};
use vigil_rules::RuleEngine;

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
    objects: Vec<RawObject>,
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawObject {
    id: u64,
    class: String,
    #[serde(default)]
    group: Option<String>,
    #[serde(rename = "box")]
    bbox: [f32; 4],
    #[serde(default)]
    box_to: Option<[f32; 4]>,
    from: f64,
    to: f64,
    #[serde(default = "default_score")]
    score: f32,
    #[serde(default)]
    missing: Vec<[f64; 2]>,
    #[serde(default)]
    new_id_at: Vec<f64>,
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

/// One alert record the rules produced: rule, event, stream time (s).
#[derive(Clone, Debug, PartialEq)]
pub struct Produced {
    pub rule: String,
    pub event: AlertEvent,
    pub at_secs: f64,
}

/// What a case did.
#[derive(Clone, Debug)]
pub struct CaseOutcome {
    pub path: PathBuf,
    pub produced: Vec<Produced>,
    /// Every mismatch with `expect`, in words; empty when the case passes.
    pub problems: Vec<String>,
}

impl CaseOutcome {
    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Default tolerance on expected times: a second (five frames at the default rate).
const TOLERANCE_SECS: f64 = 1.0;

/// Runs the case file at `path`.
pub fn run_case(path: &Path) -> Result<CaseOutcome, ConfigErrors> {
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
    };
    let cameras = [camera];
    let mut ctx = RuleContext::new(&cameras, None, std::iter::empty());
    let mut errors = Vec::new();
    let mut set = crate::rules::RuleSet::default();
    let rule_file = RawRuleFile {
        zones: raw.zones,
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
    let rules = set.rules;
    for e in &raw.expect {
        if AlertEvent::parse(&e.event).is_none() {
            return Err(problem(format!("expect: unknown event \"{}\"", e.event)));
        }
        if !rules.iter().any(|r| r.id.as_str() == e.rule) {
            return Err(problem(format!(
                "expect: no rule \"{}\" in the case",
                e.rule
            )));
        }
    }

    let duration = raw
        .duration_secs
        .unwrap_or_else(|| raw.objects.iter().map(|o| o.to).fold(0.0, f64::max) + 10.0);
    let mut engine = RuleEngine::new(rules);
    let mut produced = Vec::new();
    let frames = (duration * fps).ceil() as u64;
    for n in 0..=frames {
        let t = n as f64 / fps;
        let tracks: Vec<Track> = raw.objects.iter().filter_map(|o| track_at(o, t)).collect();
        let pts = Duration::from_secs_f64(t);
        let meta = FrameMeta {
            camera: cameras[0].id.clone(),
            seq: n,
            pts,
            source_size: size,
            wall_time: start + pts,
            arrived: std::time::Instant::now(),
        };
        for a in engine.step(&meta, &tracks) {
            produced.push(Produced {
                rule: a.rule.to_string(),
                event: a.event,
                at_secs: t,
            });
        }
    }
    let problems = compare(&raw.expect, &produced);
    Ok(CaseOutcome {
        path: path.to_path_buf(),
        produced,
        problems,
    })
}

/// The track an object shows at `t`, if it is detected then.
fn track_at(o: &RawObject, t: f64) -> Option<Track> {
    if t < o.from || t > o.to || o.missing.iter().any(|&[a, b]| (a..b).contains(&t)) {
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

/// Expected and produced records, matched in order of time.
fn compare(expect: &[RawExpect], produced: &[Produced]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut unmatched: Vec<&Produced> = produced.iter().collect();
    for e in expect {
        let tol = e.tolerance.unwrap_or(TOLERANCE_SECS);
        let found = unmatched.iter().position(|p| {
            p.rule == e.rule && p.event.as_str() == e.event && (p.at_secs - e.at).abs() <= tol
        });
        match found {
            Some(i) => {
                unmatched.remove(i);
            }
            None => {
                let near: Vec<String> = unmatched
                    .iter()
                    .filter(|p| p.rule == e.rule && p.event.as_str() == e.event)
                    .map(|p| format!("{:.2} s", p.at_secs))
                    .collect();
                problems.push(format!(
                    "expected {} of rule \"{}\" at {:.2} s (± {tol} s); {}",
                    e.event,
                    e.rule,
                    e.at,
                    if near.is_empty() {
                        "there was none".to_string()
                    } else {
                        format!("got one at {}", near.join(", "))
                    }
                ));
            }
        }
    }
    for p in unmatched {
        problems.push(format!(
            "unexpected {} of rule \"{}\" at {:.2} s",
            p.event.as_str(),
            p.rule,
            p.at_secs
        ));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    const CASE: &str = "
camera: {name: cam, width: 400, height: 200}
zones: {cam: {left: [[0, 0], [0.5, 0], [0.5, 1], [0, 1]]}}
rules:
  - {name: r, kind: dwell, camera: cam, zone: left, classes: [vehicle], dwell_secs: 10}
objects:
  - {id: 1, class: car, group: vehicle, box: [50, 50, 90, 90], from: 0, to: 30}
expect:
  - {rule: r, event: start, at: 10}
  - {rule: r, event: end, at: 31}
";

    fn run(text: &str) -> CaseOutcome {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("case.yaml");
        std::fs::write(&path, text).unwrap();
        run_case(&path).unwrap()
    }

    #[test]
    fn a_case_passes_when_its_alerts_come_at_the_expected_times() {
        let out = run(CASE);
        assert!(out.passed(), "{:?}", out.problems);
        assert_eq!(out.produced.len(), 2);
    }

    #[test]
    fn a_wrong_expectation_fails_and_says_what_came_instead() {
        let out = run(&CASE.replace("event: start, at: 10", "event: start, at: 20"));
        assert_eq!(
            out.problems,
            [
                "expected start of rule \"r\" at 20.00 s (± 1 s); got one at 10.00 s",
                "unexpected start of rule \"r\" at 10.00 s"
            ]
        );
        let out = run(&CASE.replace("  - {rule: r, event: end, at: 31}\n", ""));
        assert_eq!(out.problems, ["unexpected end of rule \"r\" at 31.20 s"]);
    }
}
