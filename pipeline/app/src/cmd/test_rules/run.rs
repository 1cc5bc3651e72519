//! The runner of declarative rule cases: a [`Case`] (read by `vigil_config::cases`) drives the
//! real [`RuleEngine`] frame by frame, and what it raised is matched against what the case
//! expects — twice: every frame detected, and with motion-gated detection (`gated`), which
//! must raise the same.

use super::gated::GatedScene;
use std::path::Path;
use std::time::Duration;
use vigil_config::ConfigErrors;
use vigil_config::cases::{Case, Expected, load_case};
use vigil_core::{AlertEvent, FrameMeta, Track};
use vigil_motion::MotionGate;
use vigil_rules::RuleEngine;

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
    pub produced: Vec<Produced>,
    /// Every mismatch with `expect`, in words (with the motion gate: said so); empty when the
    /// case passes.
    pub problems: Vec<String>,
    /// With the motion gate on (default settings): the share of frames it kept from the detector.
    pub gate_skipped: f64,
}

impl CaseOutcome {
    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Reads the case file at `path` and runs it.
pub fn run_case(path: &Path) -> Result<CaseOutcome, ConfigErrors> {
    Ok(run(load_case(path)?))
}

/// Runs a case: every frame of its script through the rule engine, without and with the
/// motion gate.
pub fn run(case: Case) -> CaseOutcome {
    let produced = drive(&case, |t| {
        case.objects.iter().filter_map(|o| o.track_at(t)).collect()
    });
    let mut problems = compare(&case.expect, &produced);
    let mut gated = GatedScene::new(&case, &MotionGate::default());
    let with_gate = drive(&case, |t| gated.tracks_at(t));
    let mut gate_problems = compare(&case.expect, &with_gate);
    if gate_problems.is_empty() && with_gate != produced {
        gate_problems.push(format!(
            "records differ from those without the gate: {with_gate:?}"
        ));
    }
    problems.extend(
        gate_problems
            .into_iter()
            .map(|p| format!("with the motion gate: {p}")),
    );
    CaseOutcome {
        produced,
        problems,
        gate_skipped: gated.skipped_share(),
    }
}

/// Every frame of the case's script through a fresh rule engine, with the tracks `tracks_at`
/// gives for each frame's time: the records it raised.
fn drive(case: &Case, mut tracks_at: impl FnMut(f64) -> Vec<Track>) -> Vec<Produced> {
    let mut engine = RuleEngine::new(case.rules.clone());
    let mut produced = Vec::new();
    let frames = (case.duration_secs * case.fps).ceil() as u64;
    for n in 0..=frames {
        let t = n as f64 / case.fps;
        let tracks = tracks_at(t);
        let pts = Duration::from_secs_f64(t);
        let meta = FrameMeta {
            camera: case.camera.clone(),
            seq: n,
            pts,
            pass: 0,
            source_size: case.size,
            wall_time: case.start + pts,
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
    produced
}

/// Expected and produced records, matched in order of time.
fn compare(expect: &[Expected], produced: &[Produced]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut unmatched: Vec<&Produced> = produced.iter().collect();
    for e in expect {
        let tol = e.tolerance_secs;
        let found = unmatched.iter().position(|p| {
            p.rule == e.rule && p.event == e.event && (p.at_secs - e.at_secs).abs() <= tol
        });
        match found {
            Some(i) => {
                unmatched.remove(i);
            }
            None => {
                let near: Vec<String> = unmatched
                    .iter()
                    .filter(|p| p.rule == e.rule && p.event == e.event)
                    .map(|p| format!("{:.2} s", p.at_secs))
                    .collect();
                problems.push(format!(
                    "expected {} of rule \"{}\" at {:.2} s (± {tol} s); {}",
                    e.event.as_str(),
                    e.rule,
                    e.at_secs,
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
        // A car standing still for 30 s: the gate looks until its finds settle, then every
        // stationary check (10 s), and at the car's end.
        assert!(out.gate_skipped > 0.9, "{}", out.gate_skipped);
    }

    /// A detector that misses a parked car for 2 s (nothing moved: the gate must look through
    /// the miss, or it would carry "nothing" until the next heartbeat and end the stay).
    #[test]
    fn a_miss_without_motion_gives_the_same_records_with_the_gate() {
        let case = CASE.replace(
            "from: 0, to: 30}",
            "from: 0, to: 30, missing: [[20.4, 22.4]]}",
        );
        let case = case
            .replace("dwell_secs: 10}", "dwell_secs: 10, max_gap_secs: 3}")
            .replace("event: end, at: 31}", "event: end, at: 33.2}");
        let out = run(&case);
        assert!(out.passed(), "{:?}", out.problems);
    }

    #[test]
    fn a_wrong_expectation_fails_and_says_what_came_instead() {
        let out = run(&CASE.replace("event: start, at: 10", "event: start, at: 20"));
        let wrong = [
            "expected start of rule \"r\" at 20.00 s (± 1 s); got one at 10.00 s",
            "unexpected start of rule \"r\" at 10.00 s",
        ];
        let gated = wrong.map(|p| format!("with the motion gate: {p}"));
        let expected: Vec<String> = wrong.map(String::from).into_iter().chain(gated).collect();
        assert_eq!(out.problems, expected);
        let out = run(&CASE.replace("  - {rule: r, event: end, at: 31}\n", ""));
        assert_eq!(
            out.problems,
            [
                "unexpected end of rule \"r\" at 31.20 s",
                "with the motion gate: unexpected end of rule \"r\" at 31.20 s"
            ]
        );
    }
}
