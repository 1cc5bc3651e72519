//! Display names in any script: a replay whose camera, zone and rule are named in Chinese stores
//! alerts carrying those names, and the annotated snapshot's caption draws them with the CJK
//! font found at start (the clean snapshot has none). A configured font that is not a font
//! stops the run with a clear error. Leaves the snapshot at
//! `$CARGO_TARGET_TMPDIR/snapshot-names.jpg` (docs/snapshot-names.jpg is one).

mod common;

use common::{replay, repo};
use std::path::PathBuf;
use vigil_core::{Alert, AlertEvent};

/// `samples/parking-lot.yaml` with display names (and `extra` appended), its model path absolute.
fn named_config(dir: &std::path::Path, extra: &str) -> PathBuf {
    let text = std::fs::read_to_string(repo().join("samples/parking-lot.yaml"))
        .unwrap()
        .replace(
            "../models/",
            &format!("{}/", repo().join("models").display()),
        )
        .replace(
            "  - name: lot\n",
            "  - name: lot\n    display_name: 3号楼东门\n    zone_names: {lane: 消防通道}\n",
        )
        .replace(
            "  - name: lane_blocked\n",
            "  - name: lane_blocked\n    display_name: 消防通道占用\n",
        )
        + extra;
    let path = dir.join("named.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn chinese_names_reach_the_records_and_the_snapshot_caption() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let run = replay(&named_config(dir.path(), ""), &out);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let records: Vec<Alert> = std::fs::read_to_string(out.join("alerts.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let evidence = records
        .iter()
        .find(|r| r.event == AlertEvent::Evidence)
        .expect("an evidence record");
    for r in &records {
        assert_eq!(
            (
                r.names.camera.as_deref(),
                r.names.zone.as_deref(),
                r.names.rule.as_deref()
            ),
            (Some("3号楼东门"), Some("消防通道"), Some("消防通道占用")),
            "{r:?}"
        );
        // The ids the config refers to things by are unchanged.
        assert_eq!(
            (r.camera.as_str(), r.rule.as_str()),
            ("lot", "lane_blocked")
        );
    }
    let snap = evidence.evidence.snapshot.as_ref().expect("a snapshot");
    let annotated = image::open(out.join(&snap.path)).unwrap().to_rgb8();
    let clean = image::open(out.join(&snap.clean_path)).unwrap().to_rgb8();
    // The caption's band (top-left, two lines of 14 px on this 270-line frame): darkened under
    // it, with white strokes of text; the clean snapshot has neither.
    let (mut dark, mut strokes, mut clean_strokes) = (0, 0, 0);
    for y in 0..40 {
        for x in 0..150 {
            let a = annotated.get_pixel(x, y).0;
            let c = clean.get_pixel(x, y).0;
            let luma = |p: [u8; 3]| p.iter().map(|&v| u32::from(v)).sum::<u32>() / 3;
            dark += usize::from(luma(a) + 20 < luma(c));
            strokes += usize::from(luma(a) > 200 && luma(c) < 200);
            clean_strokes += usize::from(a == c);
        }
    }
    assert!(dark > 2000, "caption band darkens {dark} pixels");
    assert!(strokes > 150, "caption text has {strokes} white pixels");
    assert!(
        clean_strokes < 3000,
        "{clean_strokes} pixels of the band unchanged"
    );
    let kept = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("snapshot-names.jpg");
    std::fs::copy(out.join(&snap.path), &kept).unwrap();
    eprintln!("snapshot: {}", kept.display());
}

#[test]
fn a_font_file_that_is_no_font_stops_the_run_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bogus.ttf"), b"not a font").unwrap();
    let config = named_config(dir.path(), "evidence:\n  font_file: bogus.ttf\n");
    let run = replay(&config, &dir.path().join("out"));
    assert!(!run.status.success());
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("evidence.font_file") && stderr.contains("not a TrueType/OpenType font"),
        "{stderr}"
    );
}
