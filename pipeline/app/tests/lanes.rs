//! Fire lanes kept clear, end to end through the `vigil` binary and the real pipeline (GStreamer
//! decoding, ONNX Runtime, the track stage's static-object engine, SQLite, evidence):
//!
//! - rendered lane scenes (`vigil synth-lanes`): a car parks for 100 s by day, and another in
//!   the rain at night — scored by `vigil eval`: one alert each, in time, ended when it drives
//!   off, with its clip and snapshot;
//! - real overhead footage where four cars drive through (`car-detection.mp4`): every frame
//!   reaches the lane engine and nothing is an obstruction.

mod common;

use common::{alerts, assets, repo, run_ok, synth_and_eval, vigil};
use vigil_core::{Alert, AlertEvent, AlertKind};

fn json(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn a_parked_car_is_one_alert_through_the_whole_pipeline() {
    let tmp = tempfile::tempdir().unwrap();
    let (text, report, eval, [tp, fp, missed]) =
        synth_and_eval(tmp.path(), "synth-lanes", "car-parks", "lanes.yaml");
    // "car-parks" and "car-parks-in-rain-at-night".
    assert_eq!((tp, fp, missed), (2, 0, 0), "{text}\n{report:#}");
    for s in report["rules"].as_object().unwrap().values() {
        // Raised once the car has stood dwell_secs (30 s), give or take the short-term model.
        let delay = s["raise_delay_secs"].as_f64().unwrap();
        assert!((25.0..=35.0).contains(&delay), "{s}");
    }
    let all = alerts(&eval);
    for a in all.iter().filter(|a| a.event == AlertEvent::Start) {
        assert_eq!(a.kind, AlertKind::LaneObstructed, "{a:?}");
    }
    // Each ends when its car drives off (at 120 s and 140 s), within 5 s.
    let ends: Vec<f64> = all
        .iter()
        .filter(|a| a.event == AlertEvent::End)
        .filter_map(|a| a.ended_pts_secs)
        .collect();
    assert_eq!(ends.len(), 2, "{all:#?}");
    for want in [120.0, 140.0] {
        assert!(
            ends.iter().any(|e| (e - want).abs() <= 5.0),
            "{want}: {ends:?}"
        );
    }
    // With evidence, as every alert.
    let evidence: Vec<&Alert> = all
        .iter()
        .filter(|a| a.event == AlertEvent::Evidence)
        .collect();
    assert_eq!(evidence.len(), 2, "{all:#?}");
    for e in evidence {
        assert!(
            e.evidence.clip.is_some() && e.evidence.snapshot.is_some(),
            "{e:?}"
        );
    }
    // The lane engine's own account: every frame of both scenes went through it.
    let summary = json(&eval.join("summary.json"));
    for camera in ["car-parks", "car-parks-in-rain-at-night"] {
        let lane = &summary["lane"][camera];
        assert!(lane["frames"].as_u64().unwrap() >= 790, "{camera}: {lane}");
    }
}

#[test]
fn cars_driving_through_a_real_lane_raise_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let assets = assets();
    let config = tmp.path().join("lane.yaml");
    std::fs::write(
        &config,
        format!(
            "cameras:\n  - name: overhead\n    file: {}\n    zones:\n      all: [[0, 0], [1, 0], [1, 1], [0, 1]]\n\
             detector:\n  manifest: {}\nevidence:\n  enabled: false\n\
             rules:\n  - {{ name: lane_clear, kind: lane_obstructed, camera: overhead, zone: all, dwell_secs: 2 }}\n",
            assets.join("footage/car-detection.mp4").display(),
            repo().join("models/yolox-nano.yaml").display()
        ),
    )
    .unwrap();
    let out = tmp.path().join("out");
    let text = run_ok(
        vigil()
            .arg("replay")
            .arg("-c")
            .arg(&config)
            .arg("--out")
            .arg(&out),
    );
    let summary = json(&out.join("summary.json"));
    let frames = summary["lane"]["overhead"]["frames"].as_u64().unwrap();
    assert_eq!(
        frames,
        summary["track"]["received"].as_u64().unwrap(),
        "every frame the track stage received went through the lane engine\n{text}"
    );
    assert!(frames >= 150, "30 s at detect_fps: {frames}\n{text}");
    let raised: Vec<Alert> = alerts(&out)
        .into_iter()
        .filter(|a| a.event == AlertEvent::Start)
        .collect();
    assert!(raised.is_empty(), "{text}\n{raised:#?}");
}
