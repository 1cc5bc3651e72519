//! The `vigil` binary end to end: replay of real footage, config checking, and the demo (an
//! embedded RTSP server on 127.0.0.1, the live pipeline, Ctrl-C).

mod common;

use common::{replay, repo, vigil};

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use vigil_core::{Alert, AlertEvent, AlertKind, BBoxPx};

/// `samples/parking-lot.yaml` with its model path made absolute and `extra` appended, written to
/// `path`.
fn write_parking_lot_config(path: &std::path::Path, extra: &str) {
    let text = std::fs::read_to_string(repo().join("samples/parking-lot.yaml"))
        .unwrap()
        .replace(
            "../models/",
            &format!("{}/", repo().join("models").display()),
        )
        + extra;
    std::fs::write(path, text).unwrap();
}

fn read_alerts(dir: &std::path::Path) -> Vec<Alert> {
    std::fs::read_to_string(dir.join("alerts.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn replay_of_the_parking_lot_raises_one_dwell_alert_on_the_car() {
    let out = tempfile::tempdir().unwrap();
    let run = vigil()
        .args([
            "replay",
            "-c",
            "samples/parking-lot.yaml",
            "--dump-tracks",
            "--out",
        ])
        .arg(out.path())
        .output()
        .unwrap();
    assert!(run.status.success());
    // Not a terminal: plain progress lines, and the last one.
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("replay: done · 41 frames"), "{stderr}");

    let records = read_alerts(out.path());
    let alerts: Vec<&Alert> = records
        .iter()
        .filter(|a| a.event == AlertEvent::Start)
        .collect();
    assert_eq!(alerts.len(), 1, "{records:#?}");
    let a = alerts[0];
    assert_eq!(
        (a.kind, a.camera.as_str(), a.rule.as_str()),
        (AlertKind::Dwell, "lot", "lane_blocked")
    );
    assert!(a.raised_pts_secs - a.started_pts_secs >= 1.0);
    assert!(
        a.raised_pts_secs < 2.0,
        "raised {} s into the clip",
        a.raised_pts_secs
    );
    // The car around the alert (frame 13, 1.04 s), boxed by hand on the footage.
    let car = BBoxPx::new(90.0, 88.0, 176.0, 210.0);
    let b = a.objects[0].bbox_px;
    assert!(
        b.iou(&car) > 0.6,
        "alert box {:?} vs the car {:?}: IoU {}",
        b,
        car,
        b.iou(&car)
    );
    assert_eq!(a.objects[0].class, "car");

    // Its evidence: a clip from the start of the footage (pre-roll reaches before it) to its end
    // (post-roll reaches past it), with a sha256 that matches the file.
    let evidence: Vec<&Alert> = records
        .iter()
        .filter(|r| r.event == AlertEvent::Evidence)
        .collect();
    assert_eq!(evidence.len(), 1, "{records:#?}");
    assert_eq!(evidence[0].id, a.id);
    let clip = evidence[0].evidence.clip.as_ref().expect("a clip");
    assert_eq!(clip.first_pts_secs, 0.0);
    assert!(
        clip.duration_secs > 3.0 && clip.duration_secs < 3.6,
        "{clip:?}"
    );
    let clip_path = out.path().join(&clip.path);
    let sum = Command::new("sha256sum").arg(&clip_path).output().unwrap();
    assert!(
        String::from_utf8_lossy(&sum.stdout).starts_with(&clip.sha256),
        "{clip:?}"
    );

    // A snapshot at the alert, clean and annotated: the box is drawn in red where the car is.
    let snap = evidence[0].evidence.snapshot.as_ref().expect("a snapshot");
    let annotated = image::open(out.path().join(&snap.path)).unwrap().to_rgb8();
    let clean = image::open(out.path().join(&snap.clean_path))
        .unwrap()
        .to_rgb8();
    assert_eq!(annotated.dimensions(), (480, 270));
    let b = a.objects[0].bbox_px;
    let (x, y) = (((b.x1 + b.x2) / 2.0) as u32, (b.y2 as u32).min(269));
    let [r, g, _] = annotated.get_pixel(x, y).0;
    assert!(
        r > 150 && g < 100,
        "box edge at ({x}, {y}) is {:?}",
        annotated.get_pixel(x, y)
    );
    let [r, g, _] = clean.get_pixel(x, y).0;
    assert!(!(r > 150 && g < 100), "the clean snapshot has no overlay");

    // `vigil verify` accepts the folder as written, and names the alert once a byte changes.
    let verify = || vigil().arg("verify").arg(out.path()).output().unwrap();
    let ok = verify();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    let mut bytes = std::fs::read(&clip_path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(&clip_path, bytes).unwrap();
    let tampered = verify();
    assert_eq!(tampered.status.code(), Some(1));
    let report = String::from_utf8_lossy(&tampered.stdout);
    assert!(
        report.contains(&format!("alert {}: clip", a.id)) && report.contains("modified"),
        "{report}"
    );

    // The same records are in the SQLite store; the latest record of the alert has the clip.
    let store = vigil_deliver::AlertStore::open(&out.path().join("alerts.db")).unwrap();
    assert_eq!(store.all().unwrap(), records);
    assert_eq!(
        store
            .get(a.id.as_str())
            .unwrap()
            .unwrap()
            .evidence
            .clip
            .as_ref(),
        Some(clip)
    );

    // The car keeps one track id over most of the clip's 41 frames.
    let mut ids = std::collections::HashMap::<u64, usize>::new();
    let mut frames = 0;
    for line in std::fs::read_to_string(out.path().join("tracks.jsonl"))
        .unwrap()
        .lines()
    {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        frames += 1;
        for t in v["tracks"].as_array().unwrap() {
            if t["group"] == "vehicle" && t["matched"] == true {
                *ids.entry(t["id"].as_u64().unwrap()).or_default() += 1;
            }
        }
    }
    assert_eq!(frames, 41);
    let (id, n) = ids.iter().max_by_key(|(_, n)| **n).unwrap();
    assert!(
        *n >= 35,
        "vehicle track {id} matched in {n} of 41 frames; all: {ids:?}"
    );
    assert_eq!(
        a.objects[0].object,
        vigil_core::ObjectRef::Track(vigil_core::TrackId(*id))
    );
    // The cyclist is sometimes scored "motorcycle" (a vehicle) near the threshold; such a track
    // stays short and never raises an alert (it is outside the lane).
    for (other, m) in ids.iter().filter(|(o, _)| *o != id) {
        assert!(
            *m <= 10,
            "a second vehicle track {other} lasted {m} frames: {ids:?}"
        );
    }
}

#[test]
fn check_accepts_the_samples_and_lists_every_error() {
    for sample in [
        "samples/parking-lot.yaml",
        "samples/demo.yaml",
        "samples/site.yaml",
        "samples/bins.yaml",
    ] {
        let out = vigil().args(["check", "-c", sample]).output().unwrap();
        assert!(
            out.status.success(),
            "{sample}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    let text = std::fs::read_to_string(repo().join("samples/parking-lot.yaml"))
        .unwrap()
        .replace(
            "../models/picodet-s.yaml",
            &repo().join("models/picodet-s.yaml").display().to_string(),
        )
        .replace("zone: lane", "zone: lane_a")
        .replace("dwell_secs: 1.0", "dwell_secs: -2");
    std::fs::write(&bad, text).unwrap();
    let out = vigil().args(["check", "-c"]).arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let located: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with(&*bad.to_string_lossy()))
        .collect();
    assert_eq!(located.len(), 2, "{stderr}");
    assert!(
        located.iter().any(|l| l.contains("zone \"lane_a\"")),
        "{stderr}"
    );
    assert!(located.iter().any(|l| l.contains("dwell_secs")), "{stderr}");
}

/// Runs `vigil ARGS --out OUT` until `after` has passed since its first alert line of camera
/// `lot` (at most 90 s for that line), then Ctrl-C; returns that line once vigil has stopped
/// (within 10 s, successfully).
fn run_past_first_lot_alert(args: &[&str], out: &std::path::Path, after: Duration) -> String {
    let mut child = vigil()
        .args(args)
        .arg("--out")
        .arg(out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let rx = common::lines(child.stdout.take().unwrap());
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut first: Option<(String, Instant)> = None;
    while Instant::now() < first.as_ref().map_or(deadline, |(_, at)| *at + after) {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200))
            && line.starts_with("ALERT")
            && line.contains("camera=lot")
            && first.is_none()
        {
            first = Some((line, Instant::now()));
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("vigil exited early: {status}");
        }
    }
    let stopped_at = Instant::now();
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            stopped_at.elapsed() < Duration::from_secs(10),
            "vigil did not stop within 10 s of Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status {status}");
    first.expect("no alert of camera lot within 90 s").0
}

/// The lot's GIF loops every 3.3 s with the car in the lane throughout, jumping back to where
/// it entered at each loop: still one stay, so one alert (it was one per loop).
fn assert_one_lane_alert(out: &std::path::Path) {
    let starts: Vec<Alert> = read_alerts(out)
        .into_iter()
        .filter(|a| a.rule.as_str() == "lane_blocked" && a.event == AlertEvent::Start)
        .collect();
    assert_eq!(starts.len(), 1, "{starts:#?}");
}

#[test]
fn demo_serves_rtsp_cameras_prints_alerts_and_stops_on_ctrl_c() {
    let out = tempfile::tempdir().unwrap();
    // Four loops of the lot's footage after its first alert.
    let args = ["demo", "-c", "samples/demo.yaml"];
    let line = run_past_first_lot_alert(&args, out.path(), Duration::from_secs(14));
    assert!(line.contains("rule=lane_blocked"), "{line}");
    assert_one_lane_alert(out.path());
}

#[test]
fn a_looping_file_camera_raises_one_alert_per_stay_however_many_loops() {
    let out = tempfile::tempdir().unwrap();
    let args = ["run", "-c", "samples/demo.yaml"];
    run_past_first_lot_alert(&args, out.path(), Duration::from_secs(14));
    assert_one_lane_alert(out.path());
}

/// Unmounts on drop, so a failing test does not leave a mount behind.
struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_evidence_disk_still_stores_the_alert_with_the_reason() {
    let out = tempfile::tempdir().unwrap();
    let evidence = out.path().join("evidence");
    std::fs::create_dir_all(&evidence).unwrap();
    // A 64 KiB filesystem: the parking-lot clip (~180 KB) cannot fit.
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
        .arg(&evidence)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    // The test needs root (CI runs as root): without the mount it fails, it never skips.
    assert!(
        mounted,
        "cannot mount a size-limited tmpfs on {} (needs root)",
        evidence.display()
    );
    let _mount = Mount(evidence.clone());
    let status = vigil()
        .args(["replay", "-c", "samples/parking-lot.yaml", "--out"])
        .arg(out.path())
        .status()
        .unwrap();
    assert!(status.success());
    let records = read_alerts(out.path());
    assert_eq!(records.len(), 2, "{records:#?}");
    assert_eq!(records[0].event, AlertEvent::Start);
    let ev = &records[1];
    assert_eq!(
        (ev.event, ev.id.as_str()),
        (AlertEvent::Evidence, records[0].id.as_str())
    );
    assert!(ev.evidence.clip.is_none());
    let reason = ev
        .evidence
        .error
        .as_deref()
        .expect("evidence.error says why");
    assert!(reason.contains("cannot write clip"), "{reason}");
    // No half-written file is left, and the folder verifies.
    let mut left = Vec::new();
    for e in walk(&evidence) {
        left.push(e.display().to_string());
    }
    assert!(left.is_empty(), "files left on the full disk: {left:?}");
    let verify = vigil().arg("verify").arg(out.path()).output().unwrap();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
}

fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn retention_deletes_clips_over_budget_and_records_it() {
    let out = tempfile::tempdir().unwrap();
    let config = out.path().join("lot.yaml");
    // 100 KB in all: the ~180 KB clip goes as soon as it is written.
    write_parking_lot_config(&config, "\nevidence:\n  max_total_mb: 0.1\n");
    let status = replay(&config, out.path()).status;
    assert!(status.success());
    let records = read_alerts(out.path());
    let events: Vec<AlertEvent> = records.iter().map(|r| r.event).collect();
    assert_eq!(
        events,
        [AlertEvent::Start, AlertEvent::Evidence, AlertEvent::Expired],
        "{records:#?}"
    );
    let clip = records[2]
        .evidence
        .clip
        .as_ref()
        .expect("the expired record names the clip");
    assert!(
        !out.path().join(&clip.path).exists(),
        "the clip was deleted"
    );
    assert!(
        records[2]
            .evidence
            .error
            .as_deref()
            .unwrap()
            .contains("max_total_mb")
    );
    // The record carries the rule, its limit and what exceeded it, which verify checks — also
    // against the config's own limit.
    let grounds = records[2].evidence.retention.as_ref().expect("grounds");
    assert_eq!(grounds.rule, "max_total_mb");
    // 0.1 MB as whole bytes.
    assert!((grounds.limit - 0.1).abs() < 1e-5, "{grounds:?}");
    assert!(grounds.measured > 0.1, "{grounds:?}");
    let verify = vigil()
        .arg("verify")
        .arg(out.path())
        .arg("-c")
        .arg(&config)
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
    // Against a site whose budget is larger, the deletion is not justified.
    std::fs::write(
        &config,
        std::fs::read_to_string(&config)
            .unwrap()
            .replace("max_total_mb: 0.1", "max_total_mb: 500"),
    )
    .unwrap();
    let stricter = vigil()
        .arg("verify")
        .arg(out.path())
        .arg("-c")
        .arg(&config)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&stricter.stdout);
    assert_eq!(stricter.status.code(), Some(1), "{report}");
    assert!(
        report.contains("but the configuration says 500"),
        "{report}"
    );
}

#[test]
fn a_stay_that_outlasts_its_first_clip_gets_a_clip_of_its_end() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.yaml");
    let extra = "evidence:\n  pre_roll_secs: 2\n  post_roll_secs: 1\n";
    std::fs::write(
        &config,
        vigil_testkit::overhead_config(&repo().join("models"), extra),
    )
    .unwrap();
    let out = dir.path().join("out");
    let status = vigil()
        .args(["replay", "-c"])
        .arg(&config)
        .arg("--out")
        .arg(&out)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let records = read_alerts(&out);
    let ends: Vec<&Alert> = records
        .iter()
        .filter(|r| r.event == AlertEvent::End)
        .collect();
    assert!(!ends.is_empty());
    let mut end_clips = 0;
    for end in ends {
        let ended = end.ended_pts_secs.unwrap();
        let end_evidence = records
            .iter()
            .find(|r| r.id == end.id && r.event == AlertEvent::EndEvidence);
        if ended <= end.raised_pts_secs + 1.0 {
            assert!(
                end_evidence.is_none(),
                "the first clip already shows the end of {}",
                end.id
            );
            continue;
        }
        let ev = end_evidence.unwrap_or_else(|| panic!("no end clip for {}: {records:#?}", end.id));
        let clip = ev.evidence.clip.as_ref().expect("an end clip");
        assert!(clip.path.ends_with("-end.mp4"), "{}", clip.path);
        assert!(out.join(&clip.path).is_file());
        assert!(
            clip.first_pts_secs <= ended && ended <= clip.first_pts_secs + clip.duration_secs,
            "the end clip {clip:?} shows the end at {ended}"
        );
        assert!(ev.evidence.snapshot.is_some());
        end_clips += 1;
    }
    assert!(end_clips >= 1, "{records:#?}");
    let verify = vigil().arg("verify").arg(&out).status().unwrap();
    assert!(verify.success(), "verify accepts end clips");
}

#[test]
fn test_rules_runs_the_cases_and_fails_on_a_wrong_expectation() {
    let out = vigil().arg("test-rules").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("0 failed"), "{stdout}");
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("wrong.yaml");
    let text = std::fs::read_to_string(repo().join("rules/tests/parked-car-flickers.yaml"))
        .unwrap()
        .replace("event: start, at: 30}", "event: start, at: 60}");
    std::fs::write(&case, text).unwrap();
    let out = vigil().arg("test-rules").arg(&case).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("expected start of rule \"fire_lane_blocked\" at 60.00 s"),
        "{stdout}"
    );
}

/// car-detection.mp4 seen from straight above, with the camera's class map (cars there come out
/// as "cell phone" or "bus"): every one of the four labelled cars, nothing else (without the map,
/// one of four: README).
#[test]
fn eval_scores_a_replay_against_labelled_events() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("eval");
    let run = vigil()
        .args([
            "eval",
            "-c",
            "benches/eval-car-detection-mapped.yaml",
            "--labels",
            "benches/labels/car-detection.yaml",
            "--out",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(stdout.contains("overhead/vehicle_in_view"), "{stdout}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("eval.json")).unwrap()).unwrap();
    let s = &report["rules"]["overhead/vehicle_in_view"];
    let (tp, missed) = (
        s["true_positives"].as_u64().unwrap(),
        s["missed"].as_u64().unwrap(),
    );
    assert_eq!(tp + missed, 4, "four labelled cars: {report:#}");
    assert_eq!(tp, 4, "{report:#}");
    assert_eq!(s["false_positives"], 0, "{report:#}");
    assert_eq!(
        report["matches"].as_array().unwrap().len() as u64,
        tp,
        "{report:#}"
    );
    // A second eval into the same folder is refused rather than mixing runs.
    let again = vigil()
        .args(["eval", "-c", "benches/eval-car-detection.yaml", "--labels"])
        .arg("benches/labels/car-detection.yaml")
        .arg("--out")
        .arg(&dir)
        .output()
        .unwrap();
    assert!(!again.status.success());
}

#[test]
fn token_mints_a_fresh_secret_and_prints_its_sha256_for_the_config() {
    let mint = || {
        let out = vigil()
            .args(["token", "--name", "desk", "--role", "operator"])
            .output()
            .unwrap();
        assert!(out.status.success());
        let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
        let stderr = String::from_utf8(out.stderr).unwrap();
        let hash = stderr
            .lines()
            .find_map(|l| l.trim().strip_prefix("sha256: "))
            .unwrap()
            .to_string();
        (token, hash)
    };
    let (token, hash) = mint();
    assert_eq!(token.len(), 64);
    assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(vigil_deliver::sha256_hex(token.as_bytes()), hash);
    assert_ne!(mint().0, token, "every token is new");
}

#[test]
fn a_replay_anchors_its_chain_off_the_box_and_verify_finds_a_cut_tail() {
    let out = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let key = elsewhere.path().join("anchor.key");
    let made = vigil()
        .args(["keygen", "--out"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(made.status.success());
    let public = String::from_utf8_lossy(&made.stdout).trim().to_string();
    assert_eq!(public.len(), 64, "{public}");
    let anchors = elsewhere.path().join("anchors.jsonl");
    let config = elsewhere.path().join("lot.yaml");
    write_parking_lot_config(
        &config,
        &format!(
            "evidence:\n  anchor:\n    key_file: {}\n    file: {}\n    every_records: 1\n",
            key.display(),
            anchors.display()
        ),
    );
    let run = replay(&config, out.path());
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let records = read_alerts(out.path()).len();
    let lines = std::fs::read_to_string(&anchors).unwrap().lines().count();
    assert!(lines >= 1, "no anchor written");
    let verify = || {
        vigil()
            .arg("verify")
            .arg(out.path())
            .arg("--anchors")
            .arg(&anchors)
            .args(["--public-key", &public])
            .output()
            .unwrap()
    };
    let ok = verify();
    let report = String::from_utf8_lossy(&ok.stdout).to_string();
    assert!(ok.status.success(), "{report}");
    assert!(
        report.contains(&format!(
            "the newest names record {records} of instance vigil"
        )),
        "the final head ({records} records) is anchored: {report}"
    );

    // The last record cut from the store (the chain alone cannot tell: pipeline/deliver/tests/
    // anchors.rs) is named as a cut tail.
    let db = rusqlite::Connection::open(out.path().join("alerts.db")).unwrap();
    db.execute(
        "DELETE FROM alerts WHERE seq = (SELECT MAX(seq) FROM alerts)",
        [],
    )
    .unwrap();
    drop(db);
    let cut = verify();
    let report = String::from_utf8_lossy(&cut.stdout).to_string();
    assert_eq!(cut.status.code(), Some(1), "{report}");
    assert!(report.contains("its tail was cut"), "{report}");

    // A key inside the output folder is refused: whoever rewrites the folder could re-sign.
    let inside = out.path().join("anchor.key");
    std::fs::copy(&key, &inside).unwrap();
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace(&key.display().to_string(), &inside.display().to_string());
    std::fs::write(&config, text).unwrap();
    let refused = replay(&config, out.path());
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("lies inside the output folder"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}

#[test]
fn audit_lists_who_accessed_which_alert_and_verify_checks_that_chain() {
    use vigil_deliver::access::{Accessor, Action};
    let out = tempfile::tempdir().unwrap();
    std::fs::create_dir(out.path().join("evidence")).unwrap();
    let (a1, a2) = (
        "01a2240a-0000-7000-8000-0000000000c1",
        "01a2240a-0000-7000-8000-0000000000c2",
    );
    {
        let mut store = vigil_deliver::AlertStore::open(&out.path().join("alerts.db")).unwrap();
        store.insert(&vigil_testkit::alert(a1, "gate")).unwrap();
        store.insert(&vigil_testkit::alert(a2, "lot")).unwrap();
        let guard = Accessor {
            who: "guard".into(),
            role: "operator".into(),
            from: "10.0.0.7:51000".into(),
        };
        store.record_access(&guard, Action::Clip, a1).unwrap();
        store.acknowledge_as(a1, &guard, "seen").unwrap();
        store.record_access(&guard, Action::View, a2).unwrap();
    }
    let run = |args: &[&str]| {
        let o = vigil().args(args).arg(out.path()).output().unwrap();
        (
            o.status.success(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
        )
    };
    let (ok, text) = run(&["audit", "--alert", a1]);
    assert!(ok, "{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].contains(&format!(
            "clip      {a1}  guard (operator) from 10.0.0.7:51000"
        )),
        "{text}"
    );
    assert!(
        lines[1].contains("ack") && lines[1].ends_with("\"seen\""),
        "{text}"
    );
    let (ok, json) = run(&["audit", "--json"]);
    assert!(ok);
    let records: Vec<serde_json::Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 3);
    assert_eq!(records[2]["alert_id"], a2);
    assert!(records[2]["prev_hash"].as_str().unwrap().len() == 64);

    let (ok, text) = run(&["verify"]);
    assert!(ok, "{text}");
    assert!(text.contains("4 access record(s): intact"), "{text}");
    // An acknowledgement written into the table, with no record of who made it.
    let c = rusqlite::Connection::open(out.path().join("alerts.db")).unwrap();
    c.execute(
        "INSERT INTO acks (alert_id, by, at_ms, comment) VALUES (?1, 'mallory', 9999999999999, '')",
        [a2],
    )
    .unwrap();
    drop(c);
    let (ok, text) = run(&["verify"]);
    assert!(!ok);
    assert!(
        text.contains(&format!(
            "alert {a2}: acknowledgement by mallory is not in the access chain"
        )),
        "{text}"
    );
}
