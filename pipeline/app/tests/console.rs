//! The console's live view and zone editor in a real headless Chromium, against `vigil run` on
//! a looping file camera (`pipeline/serve/tests/browser/console.mjs` drives the page): the
//! live grid shows a picture within 2 s and a camera whose server is down as offline, the big
//! view's boxes update; a self-crossing zone is
//! refused at the drawing and leaves the rule file untouched; the lane drawn with the mouse is
//! written into the rule file (only that value changes: comments and layout stay), is put in
//! force by the hot reload and raises an alert on the footage that follows; undo puts the file
//! back byte for byte. The access chain records the live view and both edits, and verifies.

mod common;

use std::process::{Command, Stdio};
use vigil_testkit::{free_port, looping_lot_config};

const TOKEN: &str = "console-test-operator-token";

/// The rule file as an integrator wrote it: comments, a zone far from any car.
const RULES: &str = "# Fire lane of the lot (console test).
zones:
  lot:
    # Drawn on the page later; here first a corner no car reaches.
    fire_lane: [[0.9, 0.0], [1.0, 0.0], [1.0, 0.06], [0.9, 0.06]]   # top right
rules:
  - name: lane_blocked
    kind: dwell
    camera: lot
    zone: fire_lane
    classes: [vehicle]
    min_score: 0.3
    dwell_secs: 1.0   # quick, for the test
";

#[test]
fn live_view_updates_and_zones_drawn_on_it_are_written_validated_reloaded_and_undone() {
    let browser = common::browser();
    let dir = tempfile::tempdir().unwrap();
    let rule_file = dir.path().join("lane.yaml");
    std::fs::write(&rule_file, RULES).unwrap();
    let port = free_port();
    let hash = vigil_deliver::sha256_hex(TOKEN.as_bytes());
    let extra = format!(
        "evidence:
  enabled: false
rule_files: [lane.yaml]
api:
  listen: 127.0.0.1:{port}
  live:
    fps: 8
  tokens:
    - name: guard
      role: operator
      sha256: {hash}
"
    );
    // A second camera whose RTSP server is down: its tile says so.
    let dead = free_port();
    let config = dir.path().join("site.yaml");
    std::fs::write(
        &config,
        looping_lot_config(&common::repo().join("models"), &extra).replacen(
            "detector:",
            &format!("  - name: gate\n    rtsp: rtsp://127.0.0.1:{dead}/gate\ndetector:"),
            1,
        ),
    )
    .unwrap();
    let out = dir.path().join("out");
    let vigil = common::run_serving(&config, &out, port);
    let result = Command::new("timeout")
        .arg("240")
        .arg("node")
        .arg(browser.join("console.mjs"))
        .arg(format!("http://127.0.0.1:{port}"))
        .arg(TOKEN)
        .arg(&rule_file)
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    common::interrupt(vigil);
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(result.status.success(), "console test failed: {stdout}");
    let seen: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();

    // Live: the first picture within 2 s, boxes that change, the zone drawn over it.
    assert!(seen["gridFirstMs"].as_u64().unwrap() < 2000, "{seen}");
    assert!(seen["live"]["changes"].as_u64().unwrap() >= 3, "{seen}");
    // The camera that cannot connect: offline in the grid, with why.
    let gate = seen["gate"].as_str().unwrap();
    assert!(
        gate.starts_with("gate — ") && gate.contains("Failed to connect") && !gate.contains(".c("),
        "{seen}"
    );
    // The camera's own zone (in the config) and the rule file's.
    assert_eq!(
        seen["live"]["zones"],
        serde_json::json!(["lane", "fire_lane"])
    );

    // The invalid drawing: the error at the drawing, the file untouched.
    let invalid = &seen["invalid"];
    assert!(
        invalid["at"].as_str().unwrap().contains("intersect"),
        "{invalid}"
    );
    assert!(
        invalid["errors"][0]
            .as_str()
            .unwrap()
            .starts_with("lane.yaml:5:"),
        "{invalid}"
    );
    assert_eq!(invalid["untouched"], true);

    // The saved lane: only the zone's value changed (the mouse lands within a pixel).
    let saved = seen["saved"]["text"].as_str().unwrap();
    let (head, tail) = RULES.split_once("[[0.9, 0.0]").unwrap();
    let tail = &tail[tail.find("]]").unwrap() + 2..];
    assert!(saved.starts_with(head) && saved.ends_with(tail), "{saved}");
    let value = &saved[head.len()..saved.len() - tail.len()];
    let points: Vec<[f64; 2]> = serde_json::from_str(value).unwrap();
    let drawn = [[0.0, 0.3], [0.45, 0.3], [0.45, 0.995], [0.0, 0.995]];
    assert_eq!(points.len(), 4, "{value}");
    for (p, d) in points.iter().zip(drawn) {
        assert!(
            (p[0] - d[0]).abs() < 0.01 && (p[1] - d[1]).abs() < 0.01,
            "{value}"
        );
    }
    assert_eq!(
        seen["saved"]["stillFrozen"], true,
        "drawn on a frozen frame"
    );

    // In force without a restart: an alert of the rule in the redrawn zone (none before).
    assert_eq!(seen["alertsBefore"], 0, "{seen}");
    assert_eq!(seen["alert"]["zone"], "fire_lane", "{seen}");
    // Undo: byte for byte.
    assert_eq!(seen["undone"], true);
    assert_eq!(std::fs::read_to_string(&rule_file).unwrap(), RULES);
    assert_eq!(seen["liveAgain"], true);

    // The access chain: each camera's live view once (coalesced; the grid asked for both), both edits and the undo; it verifies.
    let audit = common::run_ok(common::vigil().args(["audit", "--json"]).arg(&out));
    let records: Vec<serde_json::Value> = audit
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let of = |action: &str| -> Vec<String> {
        records
            .iter()
            .filter(|r| r["action"] == action)
            .map(|r| format!("{} {}", r["who"], r["detail"]))
            .collect()
    };
    // The grid asks for both at once: either may be recorded first.
    let mut live = of("live");
    live.sort();
    assert_eq!(live, ["\"guard\" \"gate\"", "\"guard\" \"lot\""], "{audit}");
    let edits = of("edit_zones");
    assert_eq!(edits.len(), 2, "{audit}");
    assert!(
        edits[0].contains("lane.yaml: Zone fire_lane of lot"),
        "{audit}"
    );
    assert!(edits[1].contains("lane.yaml: undo"), "{audit}");
    common::run_ok(common::vigil().arg("verify").arg(&out));
}
