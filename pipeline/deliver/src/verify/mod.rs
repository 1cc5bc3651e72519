//! `vigil verify DIR`: is everything in an output folder as vigil wrote it?
//!
//! Recomputes the store's hash chain (a record edited, deleted, inserted or moved breaks it at
//! that point), checks the indexed columns the list and the page query by (`id`, `event`,
//! `camera`, `rule`, `kind`, times) against the hashed record (an `UPDATE` of a column alone would
//! otherwise hide an alert while the chain stays intact), every evidence file's sha256 (a file
//! modified or missing), that each `expired` record is what retention would have written
//! ([`expiry`]), and lists files in `evidence/` that no record names (added) or that were never
//! finished (`.part`). The access chain ([`crate::access`]) is checked the same way, and every
//! acknowledgement must have its record there.

mod access;
pub mod expiry;
mod handling;
mod shared;

pub use shared::{SharedCheck, against_shared};

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
    /// Records of the access chain (its start included).
    pub accesses: usize,
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
    report.accesses = access::check(&conn, &mut report.findings).map_err(err)?;
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
mod tests;
