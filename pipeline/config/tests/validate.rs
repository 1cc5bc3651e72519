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
fn class_maps_name_the_model_s_labels_on_both_sides() {
    let text = GOOD.replace(
        "    zones:\n",
        "    class_map: {cell phone: car, bus: car}\n    class_map_min_area: 0.01\n    zones:\n",
    );
    let c = check(&text).unwrap();
    let lot = c.cameras.iter().find(|c| c.id.as_str() == "lot").unwrap();
    assert_eq!(
        lot.class_map,
        [
            ("bus".to_string(), "car".to_string()),
            ("cell phone".to_string(), "car".to_string())
        ]
    );
    assert_eq!(lot.class_map_min_area, 0.01);
    for (map, wrong) in [
        ("{cell phone: hovercraft}", "\"hovercraft\" is not a label"),
        ("{vehicle: car}", "\"vehicle\" is not a label"),
        ("{car: car}", "maps \"car\" to itself"),
    ] {
        let bad = GOOD.replace(
            "    zones:\n",
            &format!("    class_map: {map}\n    zones:\n"),
        );
        let errors = check(&bad).unwrap_err();
        assert!(
            errors.len() == 1 && errors[0].contains(wrong) && errors[0].contains("camera \"lot\""),
            "{errors:?}"
        );
    }
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
        "24:17: dwell_secs must be a number of seconds between 0 and 604800 (a week)",
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

#[test]
fn delivery_and_api_settings_are_read_with_secrets_kept_out_of_debug() {
    let text = format!(
        "{GOOD}outputs:
  webhooks:
    - name: office
      url: http://127.0.0.1:9000/hook
      secret: not-for-your-eyes
      timeout_secs: 2.5
      filter: {{cameras: [gate], events: [start, end], min_severity: high}}
  mqtt:
    host: 127.0.0.1
    port: 1884
api:
  listen: 127.0.0.1:8080
  tokens:
    - name: guard
      role: operator
      sha256: {}
",
        "ab".repeat(32)
    );
    let c = check(&text).unwrap();
    let w = &c.outputs.webhooks[0];
    assert_eq!(w.name, "office");
    assert_eq!(w.timeout.as_millis(), 2500);
    assert_eq!(w.secret.as_ref().unwrap().expose(), "not-for-your-eyes");
    assert!(!format!("{c:?}").contains("not-for-your-eyes"));
    assert_eq!(w.filter.cameras[0].as_str(), "gate");
    assert_eq!(w.filter.events.len(), 2);
    assert_eq!(w.filter.min_severity, Some(vigil_core::Severity::High));
    assert_eq!(
        c.rules[0].severity,
        vigil_core::Severity::Medium,
        "the default"
    );
    let m = c.outputs.mqtt.as_ref().unwrap();
    assert_eq!(
        (m.port, m.topic_prefix.as_str(), m.client_id.as_str()),
        (1884, "vigil", "vigil")
    );
    let api = c.api.as_ref().unwrap();
    assert_eq!(api.listen.port(), 8080);
    assert_eq!(api.tokens[0].role, vigil_config::Role::Operator);
    assert_eq!(api.tokens[0].sha256, [0xab; 32]);
}

#[test]
fn delivery_and_api_mistakes_are_located() {
    let text = format!(
        "{GOOD}outputs:
  webhooks:
    - name: office
      url: ftp://example/hook
      secret_env: VIGIL_TEST_SURELY_UNSET_SECRET
      filter: {{cameras: [nowhere], kinds: [fire], events: [begin], min_severity: urgent}}
    - name: office
      url: http://x/
      timeout_secs: 0
  mqtt:
    host: 127.0.0.1
    topic_prefix: vigil/#
api:
  listen: localhost
  tokens:
    - name: guard
      role: superuser
      sha256: abc
"
    );
    let errors = check(&text).unwrap_err();
    let expected = [
        "20:12: webhook url must be http://host[:port]/path or https://…",
        "21:19: environment variable VIGIL_TEST_SURELY_UNSET_SECRET is not set (it holds the secret)",
        "22:26: filter names camera \"nowhere\", which is not defined",
        "22:44: unknown alert kind \"fire\" (kinds: dwell, enter, count, line_cross, falling_object, waste_left, bin_overflow, unsorted_waste, lane_obstructed)",
        "22:60: unknown alert event \"begin\" (events: start, update, end, evidence, expired, end_evidence, end_expired)",
        "22:82: unknown severity \"urgent\" (severities: low, medium, high, critical)",
        "23:13: webhook \"office\" is defined twice",
        "24:12: alerts would cross the network in the clear: use https://, or insecure_plaintext: true on this webhook",
        "25:21: timeout_secs must be in (0, 120]",
        "28:19: topic_prefix must be a topic without wildcards or outer '/'",
        "30:11: listen must be ip:port, e.g. 127.0.0.1:8080",
        "33:13: role \"superuser\" is none of viewer, operator, admin",
        "34:15: sha256 must be 64 hex digits: the sha256 of the token (e.g. `printf %s TOKEN | sha256sum`)",
    ];
    assert_eq!(errors, expected, "got:\n{}", errors.join("\n"));
}

#[test]
fn rules_carry_a_severity() {
    let critical = GOOD.replace(
        "dwell_secs: 30\n",
        "dwell_secs: 30\n    severity: critical\n",
    );
    let c = check(&critical).unwrap();
    assert_eq!(c.rules[0].severity, vigil_core::Severity::Critical);
    let wrong = GOOD.replace("dwell_secs: 30\n", "dwell_secs: 30\n    severity: loud\n");
    assert_eq!(
        check(&wrong).unwrap_err(),
        ["17:15: unknown severity \"loud\" (severities: low, medium, high, critical)"]
    );
}

#[test]
fn a_class_in_two_groups_keeps_the_first_and_rules_on_either_take_it() {
    // The shipped manifest lists `motorcycle` in `vehicle`, then in `e-bike` with `bicycle`.
    let ebike = GOOD.replace("classes: [vehicle, person]", "classes: [e-bike]");
    let c = check(&ebike).unwrap();
    let own = |c: &vigil_config::Config, class: &str| {
        let m = &c.detector.manifest;
        let id = m.labels.iter().position(|l| &**l == class).unwrap();
        m.group_of[id].to_string()
    };
    assert_eq!(own(&c, "motorcycle"), "vehicle");
    assert_eq!(own(&c, "bicycle"), "e-bike");
    assert_eq!(c.rules[0].classes, ["e-bike", "motorcycle", "bicycle"]);
    // A `vehicle` rule still takes motorcycles, and not bicycles.
    let c = check(GOOD).unwrap();
    assert!(c.rules[0].classes.iter().any(|x| x == "motorcycle"));
    assert!(!c.rules[0].classes.iter().any(|x| x == "bicycle"));
    // With `e-bike` listed first, a motorcycle's own group is `e-bike`.
    let dir = tempfile::tempdir().unwrap();
    let manifest = std::fs::read_to_string(repo().join("models/yolox-nano.yaml")).unwrap();
    let (vehicle, ebike) = (
        "  vehicle: [car, bus, truck, motorcycle]\n",
        "  e-bike: [motorcycle, bicycle]\n",
    );
    let reordered = manifest
        .replace(vehicle, "")
        .replace(ebike, &format!("{ebike}{vehicle}"));
    assert_ne!(
        reordered, manifest,
        "the manifest lists vehicle, then e-bike"
    );
    std::fs::write(dir.path().join("yolox-nano.yaml"), reordered).unwrap();
    // The labels the manifest names, beside it (the model file is found under the assets).
    let labels = "coco80_labels.txt";
    std::fs::copy(repo().join("models").join(labels), dir.path().join(labels)).unwrap();
    let c = check(&GOOD.replace(
        "MODELS/yolox-nano.yaml",
        &dir.path().join("yolox-nano.yaml").display().to_string(),
    ))
    .unwrap();
    assert_eq!(own(&c, "motorcycle"), "e-bike");
}

#[test]
fn a_lane_kept_clear_is_read_with_its_defaults_and_its_mistakes_located() {
    let lane = GOOD.replace(
        "    classes: [vehicle, person]\n    dwell_secs: 30\n",
        "    classes: [vehicle, person]\n    dwell_secs: 30\n  - name: lane_clear\n    kind: lane_obstructed\n    camera: lot\n    zone: lane\n",
    );
    let c = check(&lane).unwrap();
    let rules = c.lane_rules(&vigil_core::CameraId::new("lot"));
    assert_eq!(rules.len(), 1);
    assert_eq!(
        (
            rules[0].dwell_secs,
            rules[0].min_fraction,
            rules[0].severity
        ),
        (60.0, 0.01, vigil_core::Severity::High)
    );
    assert!(c.reads_pixels(&vigil_core::CameraId::new("lot")));
    assert!(!c.reads_pixels(&vigil_core::CameraId::new("gate")));
    // A fraction out of range, a detector field it does not take, no zone.
    let wrong = lane.replace(
        "    kind: lane_obstructed\n    camera: lot\n    zone: lane\n",
        "    kind: lane_obstructed\n    camera: lot\n    min_fraction: 1.5\n    cooldown_secs: 30\n",
    );
    let errors = check(&wrong).unwrap_err();
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(
        errors
            .iter()
            .any(|e| e.contains("min_fraction must be a fraction of the zone in [0, 1]")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("cooldown_secs") && e.contains("lane_obstructed rules")),
        "{errors:?}"
    );
    assert!(
        errors.iter().any(|e| e.contains("needs `zone`")),
        "{errors:?}"
    );
    // Other kinds refuse its field.
    let stray = GOOD.replace(
        "dwell_secs: 30\n",
        "dwell_secs: 30\n    min_fraction: 0.2\n",
    );
    let errors = check(&stray).unwrap_err();
    assert!(
        errors
            .iter()
            .any(|e| e.contains("min_fraction") && e.contains("kind: lane_obstructed")),
        "{errors:?}"
    );
}

#[test]
fn a_lane_with_a_width_calibration_asks_for_a_passage_and_its_mistakes_are_located() {
    const RULE: &str = "    kind: lane_obstructed\n    camera: lot\n    zone: lane\n";
    let lane = GOOD.replace(
        "    classes: [vehicle, person]\n    dwell_secs: 30\n",
        &format!("    classes: [vehicle, person]\n    dwell_secs: 30\n  - name: lane_open\n{RULE}"),
    );
    let with = |fields: &str| lane.replace(RULE, &format!("{RULE}{fields}"));
    let ground = "    ground:\n      corners: [[0.2, 0.9], [0.8, 0.9], [0.6, 0.4], [0.4, 0.4]]\n      width_m: 5\n      length_m: 12\n";
    let c = check(&with(&format!("    min_width_m: 3.5\n{ground}"))).unwrap();
    let rules = c.lane_rules(&vigil_core::CameraId::new("lot"));
    let passage = rules[0].passage.as_ref().expect("a passage");
    assert_eq!(passage.min_width_m, 3.5);
    let (u, v) = passage.ground.to_ground((0.5, 0.9)).expect("on the ground");
    assert!((u - 2.5).abs() < 1e-9 && v.abs() < 1e-9, "{u}, {v}");
    // Each mistake alone, with the words its error must carry.
    let crossed = ground.replace("[0.6, 0.4], [0.4, 0.4]", "[0.4, 0.4], [0.6, 0.4]");
    for (fields, error) in [
        (
            "    min_width_m: 3.5\n".to_string(),
            "min_width_m needs `ground`",
        ),
        (ground.to_string(), "ground needs `min_width_m`"),
        (
            format!("    min_width_m: 6\n{ground}"),
            "min_width_m must be a width in metres (0, 5]",
        ),
        (
            format!("    min_width_m: 3\n    min_fraction: 0.1\n{ground}"),
            "min_fraction does not apply",
        ),
        (
            format!("    min_width_m: 3\n{crossed}"),
            "ground: the four corners must go round a rectangle",
        ),
        (
            format!(
                "    min_width_m: 3\n{}",
                ground.replace("width_m: 5", "width_m: 0")
            ),
            "width_m must be a length in metres",
        ),
        (
            "    min_score: 0.4\n".to_string(),
            "`min_score` does not apply to lane_obstructed rules",
        ),
    ] {
        let errors = check(&with(&fields)).unwrap_err();
        assert_eq!(errors.len(), 1, "{fields}: {errors:?}");
        assert!(errors[0].contains(error), "{fields}: {errors:?}");
    }
}

#[test]
fn rule_files_bring_their_zones_and_rules() {
    let site = repo().join("samples/site.yaml");
    let c = vigil_config::load(&site, assets().as_deref()).unwrap();
    let names: Vec<&str> = c.rules.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(names, ["fire_lane_blocked", "no_parking_driving_lane"]);
    let fire = &c.rules[0];
    assert_eq!(fire.camera.as_str(), "overhead");
    assert_eq!(fire.zone.as_str(), "fire_lane");
    assert_eq!(fire.severity, vigil_core::Severity::Critical);
    // Display names from the config (cameras) and the rule file (its zone and rule).
    let names = c
        .names
        .of(&alert_at("overhead", "fire_lane_blocked", "fire_lane"));
    assert_eq!(
        (
            names.camera.as_deref(),
            names.zone.as_deref(),
            names.rule.as_deref()
        ),
        (Some("北区消防通道"), Some("消防通道"), Some("消防通道占用"))
    );
    assert_eq!(fire.update_after, Some(std::time::Duration::from_secs(300)));
    assert_eq!(fire.cooldown, std::time::Duration::from_secs(60));
    assert_eq!(fire.max_gap, std::time::Duration::from_secs(3));
    assert!((fire.min_area - 0.002).abs() < 1e-12);
}

#[test]
fn execution_provider_is_cpu_unless_a_gpu_is_named() {
    let c = check(GOOD).unwrap();
    assert_eq!(
        c.detector.execution_provider,
        vigil_config::ExecutionProvider::Cpu
    );
    let cuda = GOOD.replace(
        "  manifest: MODELS/yolox-nano.yaml\n",
        "  manifest: MODELS/yolox-nano.yaml\n  execution_provider: cuda:1\n",
    );
    assert_eq!(
        check(&cuda).unwrap().detector.execution_provider,
        vigil_config::ExecutionProvider::Cuda { device_id: 1 }
    );
    let trt = cuda.replace("cuda:1", "tensorrt");
    assert_eq!(
        check(&trt).unwrap().detector.execution_provider,
        vigil_config::ExecutionProvider::TensorRt { device_id: 0 }
    );
    for bad in ["gpu", "cuda:-1", "cpu:0", "tensorrt:x"] {
        let wrong = cuda.replace("cuda:1", bad);
        assert_eq!(
            check(&wrong).unwrap_err(),
            [format!(
                "10:23: execution_provider \"{bad}\" is none of cpu, cuda, cuda:N, tensorrt, tensorrt:N"
            )]
        );
    }
}

#[test]
fn stall_secs_is_set_per_camera_within_bounds() {
    let c = check(GOOD).unwrap();
    assert_eq!(c.cameras[1].stall, std::time::Duration::from_secs(5));
    let set = GOOD.replace(
        "    rtsp: rtsp://admin:hunter2@10.0.0.2:554/stream1\n",
        "    rtsp: rtsp://admin:hunter2@10.0.0.2:554/stream1\n    stall_secs: 2.5\n",
    );
    assert_eq!(
        check(&set).unwrap().cameras[1].stall,
        std::time::Duration::from_millis(2500)
    );
    let bad = set.replace("stall_secs: 2.5", "stall_secs: 0.1");
    assert_eq!(
        check(&bad).unwrap_err(),
        ["8:17: stall_secs must be in [0.5, 600]"]
    );
}

#[test]
fn the_decoder_is_chosen_per_camera_or_for_all_and_checked() {
    use vigil_config::Decoder;
    let c = check(GOOD).unwrap();
    assert!(c.cameras.iter().all(|c| c.decoder == Decoder::Auto));
    let per_camera = GOOD.replace(
        "    rtsp: rtsp://admin:hunter2@10.0.0.2:554/stream1\n",
        "    rtsp: rtsp://admin:hunter2@10.0.0.2:554/stream1\n    decoder: vaapi\n",
    );
    let all = format!("decoder: software\n{per_camera}");
    let c = check(&all).unwrap();
    assert_eq!(
        c.cameras.iter().map(|c| c.decoder).collect::<Vec<_>>(),
        [Decoder::Software, Decoder::Vaapi]
    );
    let bad = per_camera.replace("decoder: vaapi", "decoder: gpu");
    assert_eq!(
        check(&bad).unwrap_err(),
        ["8:14: decoder \"gpu\": expected auto, software, vaapi or nvdec"]
    );
}

#[test]
fn the_shared_store_and_camera_passwords_from_the_environment() {
    let base = GOOD.replace(
        "rtsp: rtsp://admin:hunter2@10.0.0.2:554/stream1",
        "rtsp: rtsp://10.0.0.2:554/stream1\n    username: admin\n    password_env: VIGIL_TEST_CAMERA_SECRET_UNSET",
    );
    let with = |postgres: &str| format!("{base}outputs:\n  postgres:\n{postgres}");
    // A camera password from an unset variable is located; a good shared store loads.
    let errors = check(&with("    url: postgres://vigil@db.local:5432/vigil\n")).unwrap_err();
    assert_eq!(
        errors,
        [
            "9:19: environment variable VIGIL_TEST_CAMERA_SECRET_UNSET is not set (it holds the secret)"
        ]
    );
    let ok = base.replace("VIGIL_TEST_CAMERA_SECRET_UNSET", "PATH");
    let config = check(&format!(
        "{ok}outputs:\n  postgres:\n    url: postgres://vigil@db.local:5432/vigil\n    filter: {{ events: [start, end] }}\n"
    ))
    .unwrap();
    let shared = config.outputs.postgres.unwrap();
    assert_eq!(shared.url, "postgres://vigil@db.local:5432/vigil");
    assert_eq!(shared.filter.events.len(), 2);
    // A bad url, a password in the url.
    for (url, message) in [
        (
            "mysql://db/vigil",
            "postgres url must be postgres://user@host[:port]/database",
        ),
        (
            "postgres://vigil@db:port/vigil",
            "postgres url must be postgres://user@host[:port]/database",
        ),
        (
            "postgres://vigil@db",
            "postgres url must be postgres://user@host[:port]/database",
        ),
        (
            "postgres://vigil:secret@db/vigil",
            "keep the password out of the url: give it as password_env",
        ),
        (
            "postgres://vigil@db/vigil?sslmode=require",
            "TLS is set with ca_file (required and verified), not sslmode in the url",
        ),
    ] {
        let errors = check(&format!("{ok}outputs:\n  postgres:\n    url: {url}\n")).unwrap_err();
        assert!(
            errors.iter().any(|e| e.ends_with(message)),
            "{url}: {errors:?}"
        );
    }
    // TLS: the CA file must hold certificates; it is then kept for the connection.
    let ca_dir = tempfile::tempdir().unwrap();
    let ca = ca_dir.path().join("ca.pem");
    std::fs::write(
        &ca,
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let tls = |file: &std::path::Path| {
        check(&format!(
            "{ok}outputs:\n  postgres:\n    url: postgres://vigil@db.local/vigil\n    ca_file: {}\n",
            file.display()
        ))
    };
    let config = tls(&ca).unwrap();
    assert_eq!(
        config.outputs.postgres.unwrap().ca_file.as_deref(),
        Some(ca.as_path())
    );
    let missing = ca_dir.path().join("missing.pem");
    let errors = tls(&missing).unwrap_err();
    assert_eq!(
        errors,
        [format!(
            "22:14: ca_file {}: not a readable PEM file of CA certificates",
            missing.display()
        )]
    );
}

#[test]
fn an_api_on_the_network_needs_tls_or_an_explicit_plaintext() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let config = |api: &str| {
        format!(
            "cameras:\n  - name: lot\n    file: footage/person-bicycle-car-detection.gif\ndetector:\n  manifest: {}\napi:\n{api}",
            repo.join("models/yolox-nano.yaml").display()
        )
    };
    let assets = std::env::var_os("VIGIL_ASSETS").map(PathBuf::from);
    let load =
        |text: &str| vigil_config::load_str(&repo.join("site.yaml"), text, assets.as_deref());
    let open = load(&config("  listen: 0.0.0.0:8080\n"))
        .unwrap_err()
        .to_string();
    assert!(
        open.contains("site.yaml:7:11: the API would take tokens and serve footage in the clear"),
        "{open}"
    );
    assert!(
        load(&config(
            "  listen: 0.0.0.0:8080\n  insecure_plaintext: true\n"
        ))
        .is_ok()
    );
    assert!(
        load(&config("  listen: 127.0.0.1:8080\n")).is_ok(),
        "loopback is not a network"
    );
    let missing = load(&config(
        "  listen: 0.0.0.0:8443\n  tls: {cert_file: nope.pem, key_file: nope.key}\n",
    ))
    .unwrap_err()
    .to_string();
    assert!(
        missing.contains("not a readable PEM file of certificates"),
        "{missing}"
    );
    assert!(
        missing.contains("not a readable PEM file of a private key"),
        "{missing}"
    );
}

#[test]
fn a_plaintext_webhook_beyond_this_machine_must_be_meant() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let config = |hook: &str| {
        format!(
            "cameras:\n  - name: lot\n    file: footage/person-bicycle-car-detection.gif\ndetector:\n  manifest: {}\noutputs:\n  webhooks:\n    - name: office\n{hook}",
            repo.join("models/yolox-nano.yaml").display()
        )
    };
    let assets = std::env::var_os("VIGIL_ASSETS").map(PathBuf::from);
    let load =
        |text: &str| vigil_config::load_str(&repo.join("site.yaml"), text, assets.as_deref());
    let open = load(&config("      url: http://10.0.0.9/hook\n"))
        .unwrap_err()
        .to_string();
    assert!(
        open.contains("site.yaml:9:12: alerts would cross the network in the clear"),
        "{open}"
    );
    for ok in [
        "      url: http://10.0.0.9/hook\n      insecure_plaintext: true\n",
        "      url: https://10.0.0.9/hook\n",
        "      url: http://127.0.0.1:9000/hook\n",
        "      url: http://localhost/hook\n",
        "      url: http://[::1]:9000/hook\n",
    ] {
        assert!(load(&config(ok)).is_ok(), "{ok}");
    }
}

#[test]
fn a_broker_beyond_this_machine_needs_tls_or_an_explicit_plaintext() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(
        &ca,
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let key = dir.path().join("vigil.key");
    std::fs::write(
        &key,
        "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let config = |mqtt: &str| {
        format!(
            "cameras:\n  - name: lot\n    file: footage/person-bicycle-car-detection.gif\ndetector:\n  manifest: {}\noutputs:\n  mqtt:\n{mqtt}",
            repo.join("models/yolox-nano.yaml").display()
        )
    };
    let assets = std::env::var_os("VIGIL_ASSETS").map(PathBuf::from);
    let load =
        |text: &str| vigil_config::load_str(&dir.path().join("site.yaml"), text, assets.as_deref());
    let open = load(&config("    host: broker.local\n"))
        .unwrap_err()
        .to_string();
    assert!(
        open.contains(
            "site.yaml:8:11: alerts and the broker password would cross the network in the clear"
        ),
        "{open}"
    );
    let half = load(&config("    host: 127.0.0.1\n    username: vigil\n"))
        .unwrap_err()
        .to_string();
    assert!(
        half.contains("give username and password_env together"),
        "{half}"
    );
    let lone_cert = load(&config(
        "    host: broker.local\n    tls: {ca_file: ca.pem, cert_file: ca.pem}\n",
    ))
    .unwrap_err()
    .to_string();
    assert!(
        lone_cert.contains("site.yaml:9:39: give cert_file and key_file together"),
        "{lone_cert}"
    );
    let missing = load(&config(
        "    host: broker.local\n    tls: {ca_file: nope.pem}\n",
    ))
    .unwrap_err()
    .to_string();
    assert!(
        missing.contains("nope.pem: not a readable PEM file of CA certificates"),
        "{missing}"
    );

    // TLS (the port then 8883 unless given), with and without a client certificate.
    let tls = load(&config(
        "    host: broker.local\n    tls: {ca_file: ca.pem, cert_file: ca.pem, key_file: vigil.key}\n",
    ))
    .unwrap();
    let m = tls.outputs.mqtt.unwrap();
    assert_eq!(m.port, 8883);
    let files = m.tls.unwrap();
    assert_eq!(files.ca_file, ca);
    assert_eq!(files.client, Some((ca.clone(), key.clone())));
    for ok in [
        "    host: broker.local\n    tls: {ca_file: ca.pem}\n",
        "    host: broker.local\n    insecure_plaintext: true\n",
        "    host: 127.0.0.1\n",
        "    host: localhost\n",
    ] {
        assert!(load(&config(ok)).is_ok(), "{ok}");
    }
}

#[test]
fn the_accounts_database_must_be_in_a_folder_that_exists() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = tempfile::tempdir().unwrap();
    let config = |users: &str| {
        format!(
            "cameras:\n  - name: lot\n    file: footage/person-bicycle-car-detection.gif\ndetector:\n  manifest: {}\napi:\n  listen: 127.0.0.1:8080\n  users: {users}\n",
            repo.join("models/yolox-nano.yaml").display()
        )
    };
    let assets = std::env::var_os("VIGIL_ASSETS").map(PathBuf::from);
    let load =
        |text: &str| vigil_config::load_str(&dir.path().join("site.yaml"), text, assets.as_deref());
    let c = load(&config("users.db")).unwrap();
    assert_eq!(c.api.unwrap().users, Some(dir.path().join("users.db")));
    let missing = load(&config("no/such/folder/users.db"))
        .unwrap_err()
        .to_string();
    assert!(
        missing.contains("site.yaml:8:10: users") && missing.contains("no such folder"),
        "{missing}"
    );
}

#[test]
fn robots_are_checked_and_push_the_evidence_record_by_default() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let config = |robots: &str| {
        format!(
            "cameras:\n  - name: lot\n    file: footage/person-bicycle-car-detection.gif\ndetector:\n  manifest: {}\noutputs:\n  robots:\n{robots}",
            repo.join("models/yolox-nano.yaml").display()
        )
    };
    let assets = std::env::var_os("VIGIL_ASSETS").map(PathBuf::from);
    let load =
        |text: &str| vigil_config::load_str(&repo.join("site.yaml"), text, assets.as_deref());
    let good = load(&config(
        "    - name: office\n      kind: wecom\n      url: https://robots.example/send?key=k\n      link_base: https://vigil.example/\n",
    ))
    .unwrap();
    let r = &good.outputs.robots[0];
    assert_eq!(r.kind, vigil_config::robots::RobotKind::WeCom);
    assert_eq!(r.link_base.as_deref(), Some("https://vigil.example"));
    assert_eq!(r.filter.events, [vigil_core::AlertEvent::Evidence]);
    assert!(
        !format!("{r:?}").contains("key=k"),
        "the url holds a key: {r:?}"
    );
    for (robot, message) in [
        (
            "    - name: a\n      kind: qq\n      url: https://x/\n",
            "9:13: robot kind \"qq\" is none of wecom, dingtalk, feishu",
        ),
        (
            "    - name: a\n      kind: feishu\n",
            "8:13: give the robot's webhook URL as url_env (or url), once",
        ),
        (
            "    - name: a\n      kind: dingtalk\n      url: http://10.0.0.9/send\n",
            "10:12: the robot's key and the alert would cross the network in the clear",
        ),
        (
            "    - name: a\n      kind: wecom\n      url: https://x/\n      secret_env: HOME\n",
            "11:19: a WeCom robot signs nothing: its key is in the url",
        ),
        (
            "    - name: a\n      kind: wecom\n      url: https://x/\n      link_base: vigil.example\n",
            "11:18: link_base is the page's address",
        ),
    ] {
        let errors = load(&config(robot)).unwrap_err().to_string();
        assert!(
            errors.contains(&format!("site.yaml:{message}")),
            "{robot}: {errors}"
        );
    }
}

#[test]
fn the_alarm_severity_is_read_and_checked_at_its_line() {
    let api = |alarm: &str| format!("{GOOD}api:\n  listen: 127.0.0.1:8080\n{alarm}");
    let default = check(&api("")).unwrap();
    assert_eq!(
        default.api.unwrap().alarm.min_severity,
        vigil_core::Severity::High
    );
    let critical = check(&api("  alarm:\n    min_severity: critical\n")).unwrap();
    assert_eq!(
        critical.api.unwrap().alarm.min_severity,
        vigil_core::Severity::Critical
    );
    let errors = check(&api("  alarm:\n    min_severity: loud\n")).unwrap_err();
    assert_eq!(
        errors,
        ["20:19: unknown severity \"loud\" (severities: low, medium, high, critical)"]
    );
}

#[test]
fn display_names_take_any_script_and_are_checked_where_written() {
    let named = GOOD
        .replace(
            "  - name: lot\n",
            "  - name: lot\n    display_name: \" 3号楼东门 \"\n    zone_names: {lane: 消防通道}\n",
        )
        .replace(
            "  - name: lane_blocked\n",
            "  - name: lane_blocked\n    display_name: 消防通道占用\n",
        );
    let c = check(&named).unwrap();
    let names = c.names.of(&alert_at("lot", "lane_blocked", "lane"));
    assert_eq!(
        (
            names.camera.as_deref(),
            names.zone.as_deref(),
            names.rule.as_deref()
        ),
        (Some("3号楼东门"), Some("消防通道"), Some("消防通道占用")),
        "trimmed"
    );
    assert!(c.names.beyond_ascii());
    // The other camera has none: its id is shown.
    assert_eq!(c.names.camera("gate"), None);

    let wrong = GOOD
        .replace(
            "  - name: lot\n",
            &format!(
                "  - name: lot\n    display_name: \"{}\"\n    zone_names: {{lawn: 草坪, lane: \"\"}}\n",
                "长".repeat(41)
            ),
        )
        .replace(
            "  - name: lane_blocked\n",
            "  - name: lane_blocked\n    display_name: \"a\\tb\"\n",
        );
    assert_eq!(
        check(&wrong).unwrap_err(),
        [
            "3:19: display_name must be 1 to 40 characters without control characters (any script: 3号楼东门)",
            "4:24: zone_names names zone \"lawn\" of camera \"lot\", which is not defined",
            "4:34: display_name must be 1 to 40 characters without control characters (any script: 3号楼东门)",
            "14:19: display_name must be 1 to 40 characters without control characters (any script: 3号楼东门)",
        ]
    );
}

/// A `start` record of `rule` on `camera` in `zone`.
fn alert_at(camera: &str, rule: &str, zone: &str) -> vigil_core::Alert {
    serde_json::from_value(serde_json::json!({
        "id": "a", "camera": camera, "rule": rule, "kind": "dwell", "event": "start",
        "zone": zone, "started_pts_secs": 0.0, "raised_pts_secs": 1.0,
        "wall_time": "2026-12-03T08:00:00.000Z", "objects": [], "evidence": {}
    }))
    .unwrap()
}

#[test]
fn a_camera_records_its_main_stream_with_the_sub_stream_s_credentials() {
    use vigil_config::CameraSource;
    let two = GOOD.replace(
        "    rtsp: rtsp://admin:hunter2@10.0.0.2:554/stream1\n",
        "    rtsp: rtsp://admin:hunter2@10.0.0.2:554/stream2\n    record: rtsp://10.0.0.2:554/stream1\n    transport: udp\n",
    );
    let c = check(&two).unwrap();
    let gate = &c.cameras[1];
    let Some(CameraSource::Rtsp { url, transport, .. }) = &gate.record else {
        panic!("no record stream: {:?}", gate.record);
    };
    assert_eq!(url.url_without_credentials(), "rtsp://10.0.0.2:554/stream1");
    assert_eq!(
        (url.username(), url.password()),
        (Some("admin"), Some("hunter2"))
    );
    assert_eq!(*transport, vigil_config::RtspTransport::Udp);
    assert!(format!("{gate:?}").contains("rtsp://***@10.0.0.2:554/stream1"));
    assert!(c.cameras[0].record.is_none());
    let own = two.replace("record: rtsp://10.0.0.2", "record: rtsp://nvr:pw@10.0.0.2");
    let Some(CameraSource::Rtsp { url, .. }) = &check(&own).unwrap().cameras[1].record else {
        panic!("no record stream");
    };
    assert_eq!((url.username(), url.password()), (Some("nvr"), Some("pw")));
    // A file camera records itself; a bad URL is located.
    let on_file = GOOD.replace(
        "    file: footage/person-bicycle-car-detection.gif\n",
        "    file: footage/person-bicycle-car-detection.gif\n    record: rtsp://10.0.0.2/main\n",
    );
    let errors = check(&on_file).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("4:13: camera \"lot\": `record:`"),
        "{errors:?}"
    );
    let bad = two.replace("record: rtsp://10.0.0.2", "record: http://10.0.0.2");
    assert_eq!(
        check(&bad).unwrap_err(),
        ["8:13: camera \"gate\": unsupported URL scheme \"http\": expected rtsp, rtsps or rtspt"]
    );
}

/// A falling-object rule over camera `lot` whose facade (floors 9–20: 36 m of 3 m storeys from
/// the 9th) ends with `extra` (indented as a facade key).
fn throwing(extra: &str) -> String {
    format!(
        "{GOOD}  - name: throws
    kind: falling_object
    camera: gate
    facade:
      corners: [[0.3, 0.97], [0.7, 0.97], [0.63, 0.37], [0.37, 0.37]]
      width_m: 25.2
      height_m: 36
      first_floor: 9
      columns: 7
{extra}"
    )
}

#[test]
fn a_building_s_top_floor_is_read_and_may_not_lie_below_the_calibrated_rectangle() {
    let c = check(&throwing("")).unwrap();
    assert_eq!(c.falling[0].detector.top_floor, None);
    let c = check(&throwing("      top_floor: 24\n")).unwrap();
    assert_eq!(c.falling[0].detector.top_floor, Some(24));
    // The rectangle's top edge is the 20th storey's ceiling: the roof can be no lower.
    assert!(check(&throwing("      top_floor: 20\n")).is_ok());
    let errors = check(&throwing("      top_floor: 19\n")).unwrap_err();
    assert_eq!(
        errors,
        ["26:18: top_floor must be between 20 and 300"],
        "{errors:?}"
    );
    let errors = check(&throwing("      first_floor: 400\n")).unwrap_err();
    assert!(
        errors.iter().any(|e| e.contains("first_floor")),
        "{errors:?}"
    );
}
