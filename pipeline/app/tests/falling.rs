//! Objects thrown from height, end to end through the `vigil` binary: `vigil synth` renders
//! facade sequences to H.264, `vigil eval-falls` replays them through the pipeline and scores
//! the alerts, and a replay with the example rule file (rules/throwing.yaml) raises one alert
//! with the thrower's floor, a trajectory composite and an explanation of every other track.

mod common;

use common::run_ok;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use vigil_core::{Alert, AlertEvent, AlertKind};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn vigil() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vigil"));
    c.current_dir(repo()).env("RUST_LOG", "warn");
    c
}

/// Two throws and 20 s of distractors at 640×360 (the benchmark renders 720p and 1080p).
fn synth(dir: &Path) {
    run_ok(
        vigil()
            .args([
                "synth",
                "--seed",
                "1",
                "--throws",
                "2",
                "--distractors",
                "1",
            ])
            .args(["--distractor-secs", "20", "--size", "640x360", "--out"])
            .arg(dir),
    );
}

#[test]
fn synthetic_throws_are_found_with_their_floor_and_distractors_raise_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let set = tmp.path().join("set");
    synth(&set);
    for f in [
        "set.json",
        "throw-000.mp4",
        "throw-000.truth.json",
        "throw-001.yaml",
        "distractors-000.mp4",
    ] {
        assert!(set.join(f).is_file(), "{f}");
    }
    let out = tmp.path().join("eval");
    let text = run_ok(vigil().arg("eval-falls").arg(&set).arg("--out").arg(&out));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("eval-falls.json")).unwrap())
            .unwrap();
    let s = &report["summary"];
    assert_eq!(s["throws"], 2, "{text}");
    assert_eq!(s["found"], 2, "{text}");
    assert_eq!(s["floor_within_1"], 1.0, "{text}");
    assert_eq!(s["false_alerts_distractor_seqs"], 0, "{text}");
    assert_eq!(s["false_alerts_throw_seqs"], 0, "{text}");
    // Raised within a second of the object landing or leaving the frame.
    assert!(s["latency_max_secs"].as_f64().unwrap() <= 1.0, "{text}");

    // The example rule file's calibration fits sequence throw-000 of seed 1.
    let config = tmp.path().join("facade.yaml");
    std::fs::write(
        &config,
        format!(
            "cameras:\n  - name: tower_3_up\n    file: {}\ndetector:\n  manifest: {}\nrule_files:\n  - {}\n",
            set.join("throw-000.mp4").display(),
            repo().join("models/yolox-nano.yaml").display(),
            repo().join("rules/throwing.yaml").display()
        ),
    )
    .unwrap();
    let replay = tmp.path().join("replay");
    let text = run_ok(
        vigil()
            .args(["replay", "--explain", "-c"])
            .arg(&config)
            .arg("--out")
            .arg(&replay),
    );
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(set.join("throw-000.truth.json")).unwrap())
            .unwrap();
    let records: Vec<Alert> = std::fs::read_to_string(replay.join("alerts.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let starts: Vec<&Alert> = records
        .iter()
        .filter(|a| a.event == AlertEvent::Start)
        .collect();
    assert_eq!(starts.len(), 1, "{text}");
    let a = starts[0];
    assert_eq!(a.kind, AlertKind::FallingObject);
    assert_eq!(a.rule.as_str(), "tower_3_throws");
    let t = a.trajectory.as_ref().expect("a trajectory");
    let floor = truth["throws"][0]["floor"].as_i64().unwrap();
    assert!(
        (i64::from(t.origin.floor) - floor).abs() <= 1,
        "floor {} vs {floor}",
        t.origin.floor
    );
    assert!(t.origin.floor_range[0] <= t.origin.floor && t.origin.floor <= t.origin.floor_range[1]);
    assert!(t.points.len() >= 8 && t.drop_m >= 2.0);
    assert!((3.9..=15.7).contains(&t.acceleration_mps2), "{t:?}");
    assert!(
        text.contains("ALERT falling_object")
            && text.contains(&format!("from floor {}", t.origin.floor)),
        "{text}"
    );
    // The evidence record: a clip and the trajectory composite.
    let evidence = records
        .iter()
        .find(|r| r.event == AlertEvent::Evidence && r.id == a.id)
        .expect("an evidence record");
    let snap = evidence.evidence.snapshot.as_ref().expect("a snapshot");
    assert!(replay.join(&snap.path).is_file() && replay.join(&snap.clean_path).is_file());
    assert!(evidence.evidence.clip.is_some());
    // --explain: one line per verdict, the fall among them, rejections with their reason.
    let explain = std::fs::read_to_string(replay.join("explain.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = explain
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.iter().filter(|l| l["verdict"] == "fall").count(), 1);
    assert!(
        lines
            .iter()
            .filter(|l| l["verdict"] == "rejected")
            .all(|l| l["reason"].as_str().is_some_and(|r| !r.is_empty())
                && l["detail"]["reason"].is_string())
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(replay.join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["falling"]["tower_3_up"]["detector"]["falls"], 1);
    assert_eq!(summary["detect"]["received"], 0, "no detector ran");

    // Live: the same sequence served over RTSP on 127.0.0.1 (`vigil demo`), decoded at its real
    // rate, raises the same alert.
    let live = tmp.path().join("live");
    let mut child = vigil()
        .args(["demo", "-c"])
        .arg(&config)
        .arg("--out")
        .arg(&live)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let rx = common::lines(child.stdout.take().unwrap());
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut alert = None;
    while alert.is_none() && Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200))
            && line.starts_with("ALERT falling_object")
        {
            alert = Some(line);
        }
        assert!(child.try_wait().unwrap().is_none(), "demo exited early");
    }
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    let line = alert.expect("no falling-object alert from the live camera within 60 s");
    assert!(status.success(), "{status}");
    assert!(
        line.contains(&format!("from floor {}", t.origin.floor)),
        "{line}"
    );
}

#[test]
fn falling_rules_are_checked_like_any_other() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("site.yaml");
    // `check` validates the config, not the media: the file only has to exist.
    std::fs::write(tmp.path().join("facade.mp4"), b"").unwrap();
    std::fs::write(
        &config,
        format!(
            "cameras:\n  - name: tower_3_up\n    file: facade.mp4\ndetector:\n  manifest: {}\nrule_files:\n  - {}\n",
            repo().join("models/yolox-nano.yaml").display(),
            repo().join("rules/throwing.yaml").display()
        ),
    )
    .unwrap();
    let text = run_ok(vigil().args(["check", "-c"]).arg(&config));
    assert!(text.contains("ok (1 camera(s), 1 rule(s)"), "{text}");
}

/// `--only` traces one sequence of a set, rendered as it is in the whole set; a name the set
/// does not have is an error that says what it has.
#[test]
fn eval_falls_in_memory_traces_only_the_sequence_asked_for() {
    let set = [
        "eval-falls",
        "--in-memory",
        "--placement",
        "close",
        "--seed",
        "2",
        "--throws",
        "20",
        "--distractors",
        "0",
        "--size",
        "640x360",
        "--explain",
    ];
    let text = run_ok(vigil().args(set).args(["--only", "throw-019"]));
    let named: Vec<&str> = text.lines().filter(|l| l.starts_with("throw-")).collect();
    assert!(!named.is_empty(), "{text}");
    assert!(named.iter().all(|l| l.starts_with("throw-019:")), "{text}");
    assert!(text.contains("/1 found"), "{text}");
    let out = vigil()
        .args(set)
        .args(["--only", "throw-020"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("--only throw-020"), "{err}");
    assert!(err.contains("20 from throw-000 to throw-019"), "{err}");
}
