//! Motion-gated detection (`detector.motion_gate`, on by default) changes no alert: footage
//! replayed with the gate on and off gives the same records — camera, rule, event and stream
//! times — while the gate kept the detector from the frames in which nothing moved near the
//! zones.

mod common;

use common::{run_ok, vigil};
use std::path::Path;

/// One alert record as the comparison sees it.
type Record = (
    String,
    String,
    String,
    Option<f64>,
    Option<f64>,
    Option<f64>,
);

/// `vigil replay -c config` with the gate `on`/`off` into `out`: its records and its summary.
fn replay(config: &Path, gate: &str, out: &Path) -> (Vec<Record>, serde_json::Value) {
    run_ok(
        vigil()
            .args(["replay", "--drain-secs", "0", "--motion-gate", gate, "-c"])
            .arg(config)
            .arg("--out")
            .arg(out),
    );
    let text = std::fs::read_to_string(out.join("alerts.jsonl")).unwrap_or_default();
    let records = text
        .lines()
        .map(|l| {
            let a: serde_json::Value = serde_json::from_str(l).unwrap();
            let s = |k: &str| a[k].as_str().unwrap().to_string();
            let t = |k: &str| a[k].as_f64();
            (
                s("camera"),
                s("rule"),
                s("event"),
                t("started_pts_secs"),
                t("raised_pts_secs"),
                t("ended_pts_secs"),
            )
        })
        .collect();
    let summary = std::fs::read_to_string(out.join("summary.json")).unwrap();
    (records, serde_json::from_str(&summary).unwrap())
}

/// Replays `config` with the gate on and off; asserts the same records; returns them and, per
/// camera, the share of frames the gate skipped.
fn same_with_and_without(config: &Path) -> (Vec<Record>, Vec<(String, f64)>) {
    let tmp = tempfile::tempdir().unwrap();
    let (on, summary) = replay(config, "on", &tmp.path().join("on"));
    let (off, off_summary) = replay(config, "off", &tmp.path().join("off"));
    assert_eq!(
        on,
        off,
        "{}: records with the gate on, then off",
        config.display()
    );
    assert!(
        off_summary.get("gate").is_none(),
        "the gate is off: {off_summary:#}"
    );
    let skipped = summary["gate"]
        .as_object()
        .unwrap_or_else(|| panic!("{}: no gate counts: {summary:#}", config.display()))
        .iter()
        .map(|(camera, g)| {
            let (n, skipped) = (
                g["received"].as_f64().unwrap(),
                g["dropped_sampling"].as_f64().unwrap(),
            );
            (camera.clone(), skipped / n.max(1.0))
        })
        .collect();
    (on, skipped)
}

#[test]
fn labelled_and_sample_footage_raise_the_same_alerts_with_the_gate_on_and_off() {
    let root = common::repo();
    // Four cars through an overhead view: stretches of empty road between them.
    let (records, skipped) =
        same_with_and_without(&root.join("benches/eval-car-detection-mapped.yaml"));
    let starts = records.iter().filter(|r| r.2 == "start").count();
    assert_eq!(starts, 4, "{records:?}");
    let overhead = skipped.iter().find(|(c, _)| c == "overhead").unwrap().1;
    // 41 % measured; 29 % when the mask learnt passing cars into its background.
    assert!(
        overhead > 0.35,
        "skipped {overhead} of the overhead camera's frames"
    );
    // A car along the parking lot's lane (one alert), the site's cameras, the bins.
    for sample in ["parking-lot", "site", "bins"] {
        let (records, _) = same_with_and_without(&root.join(format!("samples/{sample}.yaml")));
        if sample == "parking-lot" {
            assert!(records.iter().any(|r| r.2 == "start"), "{records:?}");
        }
    }
}

/// A bag dropped among a person standing by the bins for a minute, a car parked beside them for
/// two, and dusk falling: long stretches where nothing moves but objects stand in view (the
/// detector looks every `stationary_check`), and a lighting change (the background relearnt).
#[test]
fn a_bin_scene_with_standing_people_parked_cars_and_dusk_gives_the_same_alert() {
    let tmp = tempfile::tempdir().unwrap();
    let set = tmp.path().join("set");
    run_ok(
        vigil()
            .args(["synth-waste", "--only", "everything-at-once", "--out"])
            .arg(&set),
    );
    let (records, skipped) = same_with_and_without(&set.join("waste.yaml"));
    assert!(
        records
            .iter()
            .any(|r| r.2 == "start" && r.1.ends_with("-left")),
        "{records:?}"
    );
    assert!(
        skipped.iter().all(|(_, s)| *s > 0.3),
        "skipped shares: {skipped:?}"
    );
}
