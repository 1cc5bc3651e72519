use super::*;
use crate::AlertStore;
use vigil_core::ClipRef;

fn alert(id: &str) -> Alert {
    crate::test_alert(id)
}

/// Three alerts, each with a start and an evidence record naming a clip file.
fn folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("evidence/cam")).unwrap();
    let mut store = AlertStore::open(&dir.path().join("alerts.db")).unwrap();
    for id in ["a", "b", "c"] {
        store.insert(&alert(id)).unwrap();
        let rel = format!("evidence/cam/{id}.mp4");
        let bytes = format!("clip of {id}").into_bytes();
        std::fs::write(dir.path().join(&rel), &bytes).unwrap();
        let mut ev = alert(id);
        ev.event = AlertEvent::Evidence;
        ev.evidence.clip = Some(ClipRef {
            path: rel,
            duration_secs: 1.0,
            first_pts_secs: 0.0,
            sha256: sha256_hex(&bytes),
        });
        store.insert(&ev).unwrap();
    }
    dir
}

fn messages(dir: &Path) -> Vec<String> {
    verify(dir)
        .unwrap()
        .findings
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn sql(dir: &Path, statement: &str) {
    Connection::open(dir.join("alerts.db"))
        .unwrap()
        .execute_batch(statement)
        .unwrap();
}

#[test]
fn the_shared_copy_is_compared_record_by_record() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("alerts.db");
    let mut store = AlertStore::open(&db)
        .unwrap()
        .with_routes(vec![crate::Route {
            sink: crate::shared::SINK.into(),
            filter: vigil_core::AlertFilter::default(),
        }]);
    let stored: Vec<Alert> = ["a", "b", "c"]
        .iter()
        .map(|id| store.insert(&alert(id)).unwrap())
        .collect();
    // a and b reached the shared store; c still waits in the outbox.
    let mut outbox = crate::Outbox::open(&db, crate::shared::SINK).unwrap();
    // (one camera: each is due once the one before it is delivered)
    while let Some(item) = outbox.due(i64::MAX, 1).unwrap().pop() {
        if item.alert_id == "c" {
            break;
        }
        outbox.delivered(&item).unwrap();
    }
    let json = |a: &Alert| serde_json::to_string(a).unwrap();
    let row = |id: &str, record: String| crate::shared::SharedRecord {
        alert_id: id.into(),
        event: "start".into(),
        record,
    };
    let intact = [row("a", json(&stored[0])), row("b", json(&stored[1]))];
    let check = against_shared(dir.path(), &intact).unwrap();
    assert!(check.findings.is_empty(), "{:?}", check.findings);
    assert_eq!((check.compared, check.pending), (2, 1));
    // b edited there, a deleted there, and a record this instance never stored.
    let edited = json(&stored[1]).replace("\"cam\"", "\"gate\"");
    assert_ne!(edited, json(&stored[1]));
    let tampered = [row("b", edited), row("z", json(&alert("z")))];
    let found: Vec<String> = against_shared(dir.path(), &tampered)
        .unwrap()
        .findings
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        found,
        [
            "alert b: start record in the shared store differs from this instance's",
            "alert z: start record in the shared store that this instance never stored",
            "alert a: start record delivered to the shared store is missing there",
        ]
    );
}

#[test]
fn an_untouched_folder_is_intact() {
    let dir = folder();
    let r = verify(dir.path()).unwrap();
    assert!(r.intact(), "{:?}", r.findings);
    assert_eq!((r.records, r.files), (6, 3));
}

#[test]
fn one_changed_byte_of_a_clip_is_found() {
    let dir = folder();
    let path = dir.path().join("evidence/cam/b.mp4");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[0] ^= 1;
    std::fs::write(&path, bytes).unwrap();
    assert_eq!(
        messages(dir.path()),
        ["alert b: clip evidence/cam/b.mp4 modified (sha256 differs)"]
    );
}

#[test]
fn missing_and_added_files_are_found() {
    let dir = folder();
    std::fs::remove_file(dir.path().join("evidence/cam/c.mp4")).unwrap();
    std::fs::write(dir.path().join("evidence/cam/extra.mp4"), b"x").unwrap();
    std::fs::write(dir.path().join("evidence/cam/half.mp4.part"), b"x").unwrap();
    let m = messages(dir.path());
    assert!(
        m.contains(&"alert c: clip evidence/cam/c.mp4 missing".to_string()),
        "{m:?}"
    );
    assert!(
        m.iter()
            .any(|f| f.contains("extra.mp4: file not named by any record")),
        "{m:?}"
    );
    assert!(
        m.iter()
            .any(|f| f.contains("half.mp4.part: unfinished file")),
        "{m:?}"
    );
    assert_eq!(m.len(), 3, "{m:?}");
}

#[test]
fn a_deleted_record_breaks_the_chain_there() {
    let dir = folder();
    sql(
        dir.path(),
        "DELETE FROM alerts WHERE id = 'b' AND event = 'start'",
    );
    assert_eq!(
        messages(dir.path()),
        ["alert b: chain broken before this record: a record was deleted, inserted or reordered"]
    );
}

#[test]
fn a_column_edited_without_its_record_is_found() {
    let dir = folder();
    // Hides b's start from the list and the page (they query the columns), chain untouched.
    sql(
        dir.path(),
        "UPDATE alerts SET event = 'update', camera = 'elsewhere' WHERE id = 'b' AND event = 'start'",
    );
    assert_eq!(
        messages(dir.path()),
        [
            "alert b: column event differs from the hashed record (edited in the table)",
            "alert b: column camera differs from the hashed record (edited in the table)",
        ]
    );
}

#[test]
fn reordered_records_break_the_chain() {
    let dir = folder();
    // Swap the positions of a's and c's start records.
    sql(
        dir.path(),
        "UPDATE alerts SET seq = -1 WHERE id = 'a' AND event = 'start';
         UPDATE alerts SET seq = 1 WHERE id = 'c' AND event = 'start';
         UPDATE alerts SET seq = 5 WHERE id = 'a' AND event = 'start';",
    );
    let m = messages(dir.path());
    assert!(
        m.iter().filter(|f| f.contains("chain broken")).count() >= 2,
        "{m:?}"
    );
}

#[test]
fn clips_deleted_by_retention_are_not_missing() {
    let dir = folder();
    let mut store = AlertStore::open(&dir.path().join("alerts.db")).unwrap();
    let mut b = store.get("b").unwrap().unwrap();
    std::fs::remove_file(dir.path().join("evidence/cam/b.mp4")).unwrap();
    b.event = AlertEvent::Expired;
    b.evidence.error = Some("deleted by retention".into());
    b.evidence.retention = Some(vigil_core::RetentionGrounds {
        rule: "max_mb_per_camera".into(),
        limit: 1.0,
        measured: 1.5,
        deleted_at: vigil_core::time::rfc3339(std::time::SystemTime::now()),
    });
    store.insert(&b).unwrap();
    assert!(verify(dir.path()).unwrap().intact());
    assert_eq!(
        store
            .live_clips()
            .unwrap()
            .iter()
            .map(|a| a.id.as_str())
            .collect::<Vec<_>>(),
        ["a", "c"]
    );
}

#[test]
fn a_clip_deleted_by_hand_under_a_forged_expiry_is_found() {
    let dir = folder();
    let mut store = AlertStore::open(&dir.path().join("alerts.db")).unwrap();
    let mut b = store.get("b").unwrap().unwrap();
    std::fs::remove_file(dir.path().join("evidence/cam/b.mp4")).unwrap();
    // "Older than 30 days", the moment it was stored; the chain is extended correctly.
    b.event = AlertEvent::Expired;
    b.evidence.retention = Some(vigil_core::RetentionGrounds {
        rule: "max_age_days".into(),
        limit: 30.0,
        measured: 31.0,
        deleted_at: b.wall_time.clone(),
    });
    store.insert(&b).unwrap();
    let m = messages(dir.path());
    assert_eq!(m.len(), 1, "{m:?}");
    assert!(
        m[0].starts_with(
            "alert b: clip deleted as older than 30 days, but the alert was stored 0.00 days before"
        ),
        "{m:?}"
    );
    // With the site's policy, a limit made up to fit is named too.
    let policy = expiry::RetentionPolicy {
        max_age_days: Some(90.0),
        ..Default::default()
    };
    let with_policy = verify_with(dir.path(), Some(&policy)).unwrap();
    assert!(
        with_policy.findings[0]
            .message
            .contains("but the configuration says 90"),
        "{:?}",
        with_policy.findings
    );
}

#[test]
fn an_edited_record_is_found() {
    let dir = folder();
    sql(
        dir.path(),
        r#"UPDATE alerts SET json = replace(json, '"rule":"r"', '"rule":"other"') WHERE id = 'a' AND event = 'start'"#,
    );
    let m = messages(dir.path());
    assert_eq!(
        m,
        [
            "alert a: record modified (its hash does not match its content)",
            "alert a: column rule differs from the hashed record (edited in the table)",
        ]
    );
}
