//! Validation reports every error at once, each at its file:line:col.

use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn assets() -> Option<PathBuf> {
    std::env::var_os("VIGIL_ASSETS").map(PathBuf::from)
}

/// Writes `text` as a config inside the repo's samples folder context (so `../models/...`
/// resolves) and validates it.
fn check(text: &str) -> Result<vigil_config::Config, Vec<String>> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.yaml");
    std::fs::write(
        &path,
        text.replace("MODELS", &repo().join("models").display().to_string()),
    )
    .unwrap();
    vigil_config::load(&path, assets().as_deref()).map_err(|e| {
        e.0.iter()
            .map(|e| format!("{}:{}: {}", e.line, e.column, e.message))
            .collect()
    })
}

const GOOD: &str = "\
cameras:
  - name: lot
    file: footage/person-bicycle-car-detection.gif
    zones:
      lane: [[0.0, 0.3], [0.45, 0.3], [0.45, 1.0], [0.0, 1.0]]
  - name: gate
    rtsp: rtsp://admin:hunter2@10.0.0.2:554/stream1
detector:
  manifest: MODELS/yolox-nano.yaml
rules:
  - name: lane_blocked
    kind: dwell
    camera: lot
    zone: lane
    classes: [vehicle, person]
    dwell_secs: 30
";

#[test]
fn good_config_loads_with_redacted_credentials() {
    let c = check(GOOD).unwrap();
    assert_eq!(c.cameras.len(), 2);
    assert_eq!(c.rules.len(), 1);
    assert_eq!(c.rules[0].dwell.as_secs(), 30);
    let vigil_config::CameraSource::Rtsp { url, .. } = &c.cameras[1].source else {
        panic!()
    };
    assert_eq!(url.to_string(), "rtsp://***@10.0.0.2:554/stream1");
    assert!(!format!("{:?}", c.cameras[1]).contains("hunter2"));
    assert_eq!(url.password(), Some("hunter2"));
    assert_eq!(url.url_without_credentials(), "rtsp://10.0.0.2:554/stream1");
}

#[test]
fn views_facing_windows_blur_people_by_default() {
    let text = GOOD.replace(
        "    rtsp: rtsp://admin:hunter2@10.0.0.2:554/stream1\n",
        "    rtsp: rtsp://admin:hunter2@10.0.0.2:554/stream1\n    privacy: { faces_windows: true }\n",
    );
    let c = check(&text).unwrap();
    assert!(c.cameras[0].privacy_blur.is_empty());
    assert_eq!(c.cameras[1].privacy_blur, ["person"]);
    let bad = GOOD.replace(
        "    zones:\n",
        "    privacy: { blur: [ghost] }\n    zones:\n",
    );
    let errors = check(&bad).unwrap_err();
    assert!(
        errors[0].contains("class \"ghost\" in privacy.blur of camera \"lot\""),
        "{errors:?}"
    );
}

#[test]
fn tracker_settings_are_read_and_checked() {
    let c = check(&format!(
        "{GOOD}tracker:\n  high_score: 0.5\n  max_lost_secs: 3\n"
    ))
    .unwrap();
    assert_eq!(c.tracker.high_score, 0.5);
    assert_eq!(c.tracker.max_lost.as_secs(), 3);
    let errors = check(&format!(
        "{GOOD}tracker:\n  high_score: 0.3\n  low_score: 0.4\n"
    ))
    .unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("19:14: tracker.low_score must not exceed high_score"),
        "{errors:?}"
    );
}

#[test]
fn every_error_is_reported_with_its_position() {
    let bad = "\
cameras:
  - name: lot
    file: footage/person-bicycle-car-detection.gif
    detect_fps: 0
    zones:
      lane: [[0.1, 0.1], [0.9, 0.9], [0.9, 0.1], [0.1, 0.9]]
      off: [[0.0, 0.0], [1.5, 0.0], [0.5, 0.5]]
  - name: lot
    rtsp: http://example/stream
detector:
  manifest: MODELS/yolox-nano.yaml
rules:
  - name: r1
    kind: dwell
    camera: gate_2
    zone: lane
    classes: [vehicle]
    dwell_secs: 5
  - name: r2
    kind: dwell
    camera: lot
    zone: lane_a
    classes: [vehicle, spaceship]
    dwell_secs: -1
";
    let errors = check(bad).unwrap_err();
    let expect = [
        "4:17: detect_fps must be in (0, 240]",
        "6:13: zone \"lane\" of camera \"lot\": polygon edges 0 and 2 cross: the polygon is self-intersecting",
        "7:12: zone \"off\" of camera \"lot\": point 1 (1.5, 0) is outside [0,1]",
        "8:11: camera \"lot\" is defined twice",
        "9:11: camera \"lot\": unsupported URL scheme \"http\"",
        "15:13: camera \"gate_2\" in rule \"r1\" is not defined",
        "22:11: zone \"lane_a\" in rule \"r2\" is not defined for camera \"lot\"",
        "23:24: class \"spaceship\" in rule \"r2\" is neither a label nor a group of model \"yolox-nano\"",
        "24:17: dwell_secs must be a number of seconds ≥ 0",
    ];
    for e in expect {
        assert!(
            errors.iter().any(|got| got.starts_with(e)),
            "missing {e:?} in:\n{}",
            errors.join("\n")
        );
    }
    assert_eq!(errors.len(), expect.len(), "{}", errors.join("\n"));
}

#[test]
fn unknown_keys_and_wrong_types_are_located() {
    let unknown = GOOD.replace("    zone: lane\n", "    zone: lane\n    dwel_secs: 3\n");
    let errors = check(&unknown).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("15:5:") && errors[0].contains("dwel_secs"),
        "{errors:?}"
    );

    let wrong_type = GOOD.replace("dwell_secs: 30", "dwell_secs: soon");
    let errors = check(&wrong_type).unwrap_err();
    assert!(errors[0].starts_with("16:17:"), "{errors:?}");
}

#[test]
fn missing_files_name_where_they_were_looked_for() {
    let text = GOOD.replace(
        "footage/person-bicycle-car-detection.gif",
        "footage/nope.mp4",
    );
    let errors = check(&text).unwrap_err();
    assert!(
        errors[0].starts_with("3:11:")
            && errors[0].contains("nope.mp4")
            && errors[0].contains("VIGIL_ASSETS"),
        "{errors:?}"
    );
    let _ = Path::new("");
}
