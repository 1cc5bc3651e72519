//! `vigil verify DIR`: is everything in an output folder as vigil wrote it?
//!
//! Recomputes the store's hash chain (a record edited, deleted, inserted or moved breaks it at
//! that point), checks the indexed columns the list and the page query by (`id`, `event`,
//! `camera`, `rule`, `kind`, times) against the hashed record (an `UPDATE` of a column alone would
//! otherwise hide an alert while the chain stays intact), every evidence file's sha256 (a file
//! modified or missing), that each `expired` record is what retention would have written
//! ([`expiry`]), and lists files in `evidence/` that no record names (added) or that were never
//! finished (`.part`).

pub mod expiry;

use crate::{DeliverError, GENESIS, sha256_hex, store_err};
use rusqlite::{Connection, OpenFlags};
use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};
use vigil_core::{Alert, AlertEvent};

/// One thing that is not as it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The alert the finding is about, when there is one.
    pub alert_id: Option<String>,
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.alert_id {
            Some(id) => write!(f, "alert {id}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// What was checked and what was found.
#[derive(Debug, Default)]
pub struct Report {
    pub records: usize,
    pub files: usize,
    pub findings: Vec<Finding>,
}

impl Report {
    pub fn intact(&self) -> bool {
        self.findings.is_empty()
    }
}

/// Verifies the output folder `dir` (holding `alerts.db` and `evidence/`).
pub fn verify(dir: &Path) -> Result<Report, DeliverError> {
    verify_with(dir, None)
}

/// [`verify`], with the site's retention policy: each `expired` record's limit must be the one
/// configured.
pub fn verify_with(
    dir: &Path,
    policy: Option<&expiry::RetentionPolicy>,
) -> Result<Report, DeliverError> {
    let db = dir.join("alerts.db");
    let p = db.display().to_string();
    let err = store_err(&p);
    if !db.is_file() {
        return Err(DeliverError::Store {
            path: p.clone(),
            source: rusqlite::Error::InvalidPath(db.clone()),
        });
    }
    let conn = Connection::open_with_flags(&db, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(err)?;
    let mut stmt = conn
        .prepare(
            "SELECT id, json, hash, event, camera, rule, kind, started_pts_secs, \
             raised_pts_secs, wall_time FROM alerts ORDER BY seq",
        )
        .map_err(err)?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                Columns {
                    event: r.get(3)?,
                    camera: r.get(4)?,
                    rule: r.get(5)?,
                    kind: r.get(6)?,
                    started_pts_secs: r.get(7)?,
                    raised_pts_secs: r.get(8)?,
                    wall_time: r.get(9)?,
                },
            ))
        })
        .map_err(err)?;

    let mut report = Report::default();
    let mut expected_prev = GENESIS.to_string();
    let mut referenced = BTreeSet::new();
    // Clips deleted by retention (recorded in the chain) are not missing.
    let mut expired = BTreeSet::new();
    let mut named = Vec::new();
    let mut found = |id: &str, message: String| {
        report_finding(&mut report.findings, Some(id), message);
    };
    let mut records = 0;
    // When each alert was first stored: an expiry's age is measured from it.
    let mut stored_at: std::collections::HashMap<String, String> = Default::default();
    for row in rows {
        let (id, json, hash, columns) = row.map_err(err)?;
        records += 1;
        if sha256_hex(json.as_bytes()) != hash {
            found(
                &id,
                "record modified (its hash does not match its content)".into(),
            );
        }
        let alert: Alert = match serde_json::from_str(&json) {
            Ok(a) => a,
            Err(e) => {
                found(&id, format!("record unreadable: {e}"));
                expected_prev = hash;
                continue;
            }
        };
        for column in columns.differing_from(&id, &alert) {
            found(
                &id,
                format!("column {column} differs from the hashed record (edited in the table)"),
            );
        }
        if alert.prev_hash.as_deref() != Some(expected_prev.as_str()) {
            found(
                &id,
                "chain broken before this record: a record was deleted, inserted or reordered"
                    .into(),
            );
        }
        expected_prev = hash;
        let first = stored_at
            .entry(id.clone())
            .or_insert_with(|| alert.wall_time.clone());
        if matches!(alert.event, AlertEvent::Expired | AlertEvent::EndExpired)
            && let Some(problem) = expiry::check(&alert, first, policy)
        {
            found(&id, problem);
        }
        let mut files: Vec<(&str, &str, &str)> = Vec::new();
        if let Some(clip) = &alert.evidence.clip {
            files.push(("clip", &clip.path, &clip.sha256));
        }
        if let Some(snap) = &alert.evidence.snapshot {
            files.push(("snapshot", &snap.path, &snap.sha256));
            files.push(("snapshot", &snap.clean_path, &snap.clean_sha256));
        }
        for (kind, rel, sha) in files {
            let path = resolve(dir, rel);
            referenced.insert(path.clone());
            if matches!(alert.event, AlertEvent::Expired | AlertEvent::EndExpired) {
                expired.insert(path);
            } else {
                named.push((id.clone(), kind, rel.to_string(), sha.to_string(), path));
            }
        }
    }
    for (id, kind, rel, sha, path) in named.iter().filter(|n| !expired.contains(&n.4)) {
        match std::fs::read(path) {
            Ok(bytes) if sha256_hex(&bytes) == *sha => {}
            Ok(_) => found(id, format!("{kind} {rel} modified (sha256 differs)")),
            Err(_) => found(id, format!("{kind} {rel} missing")),
        }
    }
    report.records = records;
    let mut files = Vec::new();
    collect_files(&dir.join("evidence"), &mut files);
    report.files = files.len();
    for f in files {
        let shown = f.strip_prefix(dir).unwrap_or(&f).display().to_string();
        if f.extension().is_some_and(|e| e == "part") {
            report_finding(
                &mut report.findings,
                None,
                format!("{shown}: unfinished file (never completed)"),
            );
        } else if !referenced.contains(&f) {
            report_finding(
                &mut report.findings,
                None,
                format!("{shown}: file not named by any record (added)"),
            );
        }
    }
    Ok(report)
}

/// The indexed columns of one row, as the table holds them.
struct Columns {
    event: String,
    camera: String,
    rule: String,
    kind: String,
    started_pts_secs: f64,
    raised_pts_secs: f64,
    wall_time: String,
}

impl Columns {
    /// The columns (by name) that are not what record `alert`, stored under `id`, says.
    fn differing_from(&self, id: &str, alert: &Alert) -> Vec<&'static str> {
        [
            ("id", id == alert.id.as_str()),
            ("event", self.event == alert.event.as_str()),
            ("camera", self.camera == alert.camera.as_str()),
            ("rule", self.rule == alert.rule.as_str()),
            ("kind", self.kind == alert.kind.as_str()),
            (
                "started_pts_secs",
                self.started_pts_secs == alert.started_pts_secs,
            ),
            (
                "raised_pts_secs",
                self.raised_pts_secs == alert.raised_pts_secs,
            ),
            ("wall_time", self.wall_time == alert.wall_time),
        ]
        .into_iter()
        .filter_map(|(name, same)| (!same).then_some(name))
        .collect()
    }
}

/// How the shared store's copy of one instance's records compares with its store.
#[derive(Debug, Default)]
pub struct SharedCheck {
    /// Shared records compared with the instance's own.
    pub compared: usize,
    /// Records still waiting in the instance's outbox for the shared store.
    pub pending: usize,
    pub findings: Vec<Finding>,
}

/// Compares `shared` — what the shared store holds under this instance's name — with the
/// store in `dir` (whose chain [`verify`] checks): every shared record must be byte for byte one
/// of the instance's own, and every record the instance's outbox delivered there must still be
/// there. Records still pending are counted, not reported.
pub fn against_shared(
    dir: &Path,
    shared: &[crate::shared::SharedRecord],
) -> Result<SharedCheck, DeliverError> {
    let db = dir.join("alerts.db");
    let p = db.display().to_string();
    let err = store_err(&p);
    let conn = Connection::open_with_flags(&db, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(err)?;
    let own: std::collections::HashMap<(String, String), String> = conn
        .prepare("SELECT id, event, json FROM alerts")
        .and_then(|mut s| {
            s.query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))?
                .collect()
        })
        .map_err(err)?;
    let keys = |table: &str| -> Result<BTreeSet<(String, String)>, DeliverError> {
        conn.prepare(&format!(
            "SELECT a.id, a.event FROM {table} t JOIN alerts a ON a.seq = t.alert_seq
             WHERE t.sink = ?1"
        ))
        .and_then(|mut s| {
            s.query_map([crate::shared::SINK], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect()
        })
        .map_err(err)
    };
    let delivered = keys("deliveries")?;
    let pending = keys("outbox")?;
    let mut check = SharedCheck {
        compared: shared.len(),
        pending: pending.len(),
        ..Default::default()
    };
    let mut seen = BTreeSet::new();
    for s in shared {
        let key = (s.alert_id.clone(), s.event.clone());
        match own.get(&key) {
            None => report_finding(
                &mut check.findings,
                Some(&s.alert_id),
                format!(
                    "{} record in the shared store that this instance never stored",
                    s.event
                ),
            ),
            Some(json) if *json != s.record => report_finding(
                &mut check.findings,
                Some(&s.alert_id),
                format!(
                    "{} record in the shared store differs from this instance's",
                    s.event
                ),
            ),
            Some(_) => {}
        }
        seen.insert(key);
    }
    for (id, event) in delivered.difference(&seen) {
        report_finding(
            &mut check.findings,
            Some(id),
            format!("{event} record delivered to the shared store is missing there"),
        );
    }
    Ok(check)
}

fn report_finding(findings: &mut Vec<Finding>, id: Option<&str>, message: String) {
    findings.push(Finding {
        alert_id: id.map(str::to_string),
        message,
    });
}

/// Evidence paths are stored relative to the output folder.
fn resolve(dir: &Path, path: &str) -> PathBuf {
    let p = Path::new(path);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        dir.join(p)
    }
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        if path.is_dir() {
            collect_files(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[cfg(test)]
mod tests {
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
            [
                "alert b: chain broken before this record: a record was deleted, inserted or reordered"
            ]
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
            m[0].starts_with("alert b: clip deleted as older than 30 days, but the alert was stored 0.00 days before"),
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
}
