use super::*;
use crate::test_alert as alert;

#[test]
fn a_version_2_store_gains_the_shared_mark_and_acks_are_shared_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("alerts.db");
    {
        // A store written by the version before: acknowledged, not yet shared.
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(SCHEMA_V1).unwrap();
        conn.execute_batch(SCHEMA_V2).unwrap();
        conn.pragma_update(None, "user_version", 2).unwrap();
        conn.execute(
            "INSERT INTO acks (alert_id, by, at_ms, comment) VALUES ('old', 'guard', 1, '')",
            [],
        )
        .unwrap();
    }
    let mut s = AlertStore::open(&path).unwrap();
    s.insert(&alert("a")).unwrap();
    s.acknowledge("a", "desk", "seen").unwrap().unwrap();
    let pending = s.unshared_acks(10).unwrap();
    assert_eq!(
        pending
            .iter()
            .map(|(id, a)| (id.as_str(), a.by.as_str()))
            .collect::<Vec<_>>(),
        [("old", "guard"), ("a", "desk")]
    );
    s.acks_shared(&["old".into()]).unwrap();
    assert_eq!(s.unshared_acks(10).unwrap().len(), 1);
    s.acks_shared(&["a".into()]).unwrap();
    drop(s);
    let s = AlertStore::open(&path).unwrap();
    assert!(s.unshared_acks(10).unwrap().is_empty());
    assert_eq!(s.ack("a").unwrap().unwrap().comment, "seen");
}

#[test]
fn store_round_trips_survives_reopen_and_ignores_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("alerts.db");
    {
        let mut s = AlertStore::open(&path).unwrap();
        s.insert(&alert("a")).unwrap();
        s.insert(&alert("b")).unwrap();
        s.insert(&alert("a")).unwrap();
    }
    let s = AlertStore::open(&path).unwrap();
    let all = s.all().unwrap();
    assert_eq!(
        all.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
        ["a", "b"]
    );
    let b = s.get("b").unwrap().unwrap();
    assert_eq!(
        Alert {
            trajectory: None,
            prev_hash: None,
            ..b.clone()
        },
        alert("b")
    );
    // Chained: b's prev_hash is the hash of a's record, a's is the genesis.
    assert_eq!(all[0].prev_hash.as_deref(), Some(GENESIS));
    let a_json = serde_json::to_string(&all[0]).unwrap();
    assert_eq!(b.prev_hash, Some(sha256_hex(a_json.as_bytes())));
    let mode: String = s
        .conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn version_1_store_is_migrated_and_keeps_its_records() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("alerts.db");
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(SCHEMA_V1).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute(
            "INSERT INTO alerts (id, event, camera, rule, kind, started_pts_secs,
               raised_pts_secs, wall_time, json, hash)
             VALUES ('old', 'start', 'cam', 'r', 'dwell', 1, 2, 't', ?1, 'h')",
            [serde_json::to_string(&alert("old")).unwrap()],
        )
        .unwrap();
    }
    let mut s = AlertStore::open(&path).unwrap();
    assert_eq!(s.all().unwrap()[0].id, "old");
    assert!(s.acknowledge("old", "guard", "seen").unwrap().is_some());
    let version: i64 = s
        .conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
}

#[test]
fn record_and_its_outbox_rows_are_written_together_for_matching_routes_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("alerts.db");
    let routes = vec![
        Route {
            sink: "all".into(),
            filter: AlertFilter::default(),
        },
        Route {
            sink: "gate_only".into(),
            filter: AlertFilter {
                cameras: vec![CameraId::new("gate")],
                ..Default::default()
            },
        },
    ];
    let mut s = AlertStore::open(&path).unwrap().with_routes(routes);
    s.insert(&alert("a")).unwrap();
    s.insert(&alert("a")).unwrap(); // duplicate: nothing more queued
    let rows: Vec<(String, String)> = s
        .conn
        .prepare("SELECT sink, camera FROM outbox ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows, [("all".to_string(), "cam".to_string())]);
}

#[test]
fn first_acknowledgement_stands_and_unknown_alerts_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = AlertStore::open(&dir.path().join("alerts.db")).unwrap();
    s.insert(&alert("a")).unwrap();
    assert_eq!(s.acknowledge("nope", "guard", "").unwrap(), None);
    let first = s.acknowledge("a", "guard", "car moved").unwrap().unwrap();
    assert_eq!(
        (first.by.as_str(), first.comment.as_str()),
        ("guard", "car moved")
    );
    let second = s.acknowledge("a", "other", "again").unwrap().unwrap();
    assert_eq!(second, first);
    assert_eq!(s.ack("a").unwrap(), Some(first));
}

#[test]
fn live_clips_track_start_and_end_clips_separately() {
    use vigil_core::{AlertEvent, ClipRef};
    let dir = tempfile::tempdir().unwrap();
    let mut s = AlertStore::open(&dir.path().join("alerts.db")).unwrap();
    let with = |event: AlertEvent, path: &str| {
        let mut a = alert("a");
        a.event = event;
        a.evidence.clip = Some(ClipRef {
            path: path.into(),
            duration_secs: 1.0,
            first_pts_secs: 0.0,
            sha256: String::new(),
        });
        a
    };
    s.insert(&with(AlertEvent::Evidence, "a.mp4")).unwrap();
    s.insert(&with(AlertEvent::EndEvidence, "a-end.mp4"))
        .unwrap();
    let paths = |s: &AlertStore| -> Vec<String> {
        s.live_clips()
            .unwrap()
            .into_iter()
            .map(|a| a.evidence.clip.unwrap().path)
            .collect()
    };
    assert_eq!(paths(&s), ["a.mp4", "a-end.mp4"]);
    s.insert(&with(AlertEvent::EndExpired, "a-end.mp4"))
        .unwrap();
    assert_eq!(paths(&s), ["a.mp4"]);
    s.insert(&with(AlertEvent::Expired, "a.mp4")).unwrap();
    assert!(paths(&s).is_empty());
}

#[test]
fn pruning_history_keeps_each_cameras_latest_status() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = AlertStore::open(&dir.path().join("alerts.db")).unwrap();
    let gate = CameraId::new("gate");
    s.record_camera_status(&gate, true, "").unwrap();
    s.record_camera_status(&gate, false, "gone").unwrap();
    let pruned = s.prune_history(now_ms() + 1000).unwrap();
    assert_eq!(pruned, 1);
    let latest = s.camera_status().unwrap();
    assert_eq!((latest.len(), latest[0].online), (1, false));
}

#[test]
fn camera_status_keeps_history_and_reports_the_latest() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = AlertStore::open(&dir.path().join("alerts.db")).unwrap();
    let gate = CameraId::new("gate");
    s.record_camera_status(&gate, true, "").unwrap();
    s.record_camera_status(&gate, false, "connection refused")
        .unwrap();
    s.record_camera_status(&CameraId::new("lot"), true, "")
        .unwrap();
    let latest = s.camera_status().unwrap();
    assert_eq!(latest.len(), 2);
    assert_eq!(
        (
            latest[0].camera.as_str(),
            latest[0].online,
            latest[0].detail.as_str()
        ),
        ("gate", false, "connection refused")
    );
    assert!(latest[1].online);
    let history: i64 = s
        .conn
        .query_row("SELECT COUNT(*) FROM camera_status", [], |r| r.get(0))
        .unwrap();
    assert_eq!(history, 3);
}

#[test]
fn a_main_stream_s_status_is_kept_apart_from_the_camera_s() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = AlertStore::open(&dir.path().join("alerts.db")).unwrap();
    let gate = CameraId::new("gate");
    s.record_camera_status(&gate, true, "").unwrap();
    s.record_stream_status(&gate, RECORD, true, "").unwrap();
    s.record_stream_status(&gate, RECORD, false, "stall watchdog")
        .unwrap();
    let camera = s.camera_status().unwrap();
    assert_eq!(camera.len(), 1);
    assert_eq!(
        (camera[0].online, camera[0].stream.as_str()),
        (true, DETECT)
    );
    let record = s.stream_status(RECORD).unwrap();
    assert_eq!(
        (
            record[0].online,
            record[0].detail.as_str(),
            record[0].stream.as_str()
        ),
        (false, "stall watchdog", RECORD)
    );
    // Pruning keeps each stream's latest.
    s.prune_history(now_ms() + 1000).unwrap();
    assert_eq!(s.camera_status().unwrap().len(), 1);
    assert!(!s.stream_status(RECORD).unwrap()[0].online);
}
