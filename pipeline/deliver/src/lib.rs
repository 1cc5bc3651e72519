//! Where alerts go once raised. Alerts never drop: every [`Alert`] record is written to the
//! durable [`AlertStore`] (SQLite in WAL mode) and appended to the [`JsonlLog`] before it is
//! reported as delivered. Webhook and MQTT delivery through an outbox in the same store come next.
//!
//! The store is tamper-evident: each record carries the hash of the one before it
//! (`prev_hash`), and its own hash is kept beside it; [`verify::verify`] recomputes the chain and
//! every evidence file's sha256.

pub mod verify;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use sha2::{Digest, Sha256};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::Path;
use vigil_core::Alert;

#[derive(Debug, thiserror::Error)]
pub enum DeliverError {
    #[error("alert store {path}: {source}")]
    Store {
        path: String,
        source: rusqlite::Error,
    },
    #[error("alert log {path}: {source}")]
    Log {
        path: String,
        source: std::io::Error,
    },
    #[error("alert encoding: {0}")]
    Encode(#[from] serde_json::Error),
}

/// `prev_hash` of the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Hex sha256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Schema version kept in `PRAGMA user_version`.
const SCHEMA_VERSION: i64 = 1;

/// SQLite alert store (WAL). One row per alert event; the full JSON is kept beside the indexed
/// columns so the record is exactly what was raised.
pub struct AlertStore {
    conn: Connection,
    path: String,
}

impl AlertStore {
    pub fn open(path: &Path) -> Result<Self, DeliverError> {
        let p = path.display().to_string();
        let err = |source| DeliverError::Store {
            path: p.clone(),
            source,
        };
        let conn = Connection::open(path).map_err(err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(err)?;
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(err)?;
        if version == 0 {
            conn.execute_batch(
                "BEGIN;
                 CREATE TABLE IF NOT EXISTS alerts (
                     seq INTEGER PRIMARY KEY AUTOINCREMENT,
                     id TEXT NOT NULL,
                     event TEXT NOT NULL,
                     camera TEXT NOT NULL,
                     rule TEXT NOT NULL,
                     kind TEXT NOT NULL,
                     started_pts_secs REAL NOT NULL,
                     raised_pts_secs REAL NOT NULL,
                     wall_time TEXT NOT NULL,
                     json TEXT NOT NULL,
                     hash TEXT NOT NULL,
                     UNIQUE (id, event)
                 );
                 CREATE INDEX IF NOT EXISTS alerts_camera_time ON alerts (camera, wall_time);
                 PRAGMA user_version = 1;
                 COMMIT;",
            )
            .map_err(err)?;
        } else if version != SCHEMA_VERSION {
            return Err(DeliverError::Store {
                path: p,
                source: rusqlite::Error::InvalidParameterName(format!(
                    "schema version {version} is newer than this vigil understands ({SCHEMA_VERSION})"
                )),
            });
        }
        Ok(Self { conn, path: p })
    }

    /// Stores one alert record, chained to the previous one, and returns it as stored (with
    /// `prev_hash` set). Storing the same (id, event) twice keeps the first.
    pub fn insert(&mut self, alert: &Alert) -> Result<Alert, DeliverError> {
        let path = self.path.clone();
        let err = |source| DeliverError::Store {
            path: path.clone(),
            source,
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        let existing: Option<String> = tx
            .query_row(
                "SELECT json FROM alerts WHERE id = ?1 AND event = ?2",
                params![alert.id, alert.event.as_str()],
                |r| r.get(0),
            )
            .optional()
            .map_err(err)?;
        if let Some(json) = existing {
            return Ok(serde_json::from_str(&json)?);
        }
        let prev: String = tx
            .query_row(
                "SELECT hash FROM alerts ORDER BY seq DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(err)?
            .unwrap_or_else(|| GENESIS.to_string());
        let mut record = alert.clone();
        record.prev_hash = Some(prev);
        let json = serde_json::to_string(&record)?;
        tx.execute(
            "INSERT INTO alerts
               (id, event, camera, rule, kind, started_pts_secs, raised_pts_secs, wall_time, json, hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                record.id,
                record.event.as_str(),
                record.camera.as_str(),
                record.rule.as_str(),
                record.kind.as_str(),
                record.started_pts_secs,
                record.raised_pts_secs,
                record.wall_time,
                json,
                sha256_hex(json.as_bytes()),
            ],
        )
        .map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(record)
    }

    /// Evidence records whose clip has not been expired, oldest first.
    pub fn live_clips(&self) -> Result<Vec<Alert>, DeliverError> {
        let mut live: Vec<Alert> = Vec::new();
        let records = self.records(
            "SELECT json FROM alerts WHERE event IN ('evidence', 'expired') ORDER BY seq",
        )?;
        for a in records {
            match a.event {
                vigil_core::AlertEvent::Expired => live.retain(|l| l.id != a.id),
                _ if a.evidence.clip.is_some() => live.push(a),
                _ => {}
            }
        }
        Ok(live)
    }

    /// All stored alerts, oldest first.
    pub fn all(&self) -> Result<Vec<Alert>, DeliverError> {
        self.records("SELECT json FROM alerts ORDER BY seq")
    }

    /// The records a `SELECT json …` query returns, in its order.
    fn records(&self, sql: &str) -> Result<Vec<Alert>, DeliverError> {
        let err = |source| DeliverError::Store {
            path: self.path.clone(),
            source,
        };
        let mut stmt = self.conn.prepare(sql).map_err(err)?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(err)?;
        let mut out = Vec::new();
        for json in rows {
            out.push(serde_json::from_str(&json.map_err(err)?)?);
        }
        Ok(out)
    }

    /// The latest record of alert `id` (its evidence record once the clip is written).
    pub fn get(&self, id: &str) -> Result<Option<Alert>, DeliverError> {
        let err = |source| DeliverError::Store {
            path: self.path.clone(),
            source,
        };
        let json: Option<String> = self
            .conn
            .query_row(
                "SELECT json FROM alerts WHERE id = ?1 ORDER BY seq DESC LIMIT 1",
                [id],
                |r| r.get(0),
            )
            .optional()
            .map_err(err)?;
        Ok(json.map(|j| serde_json::from_str(&j)).transpose()?)
    }
}

/// Append-only JSON-lines log: one alert per line, flushed per alert.
pub struct JsonlLog {
    out: BufWriter<File>,
    path: String,
}

impl JsonlLog {
    pub fn open(path: &Path) -> Result<Self, DeliverError> {
        let p = path.display().to_string();
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|source| DeliverError::Log {
                path: p.clone(),
                source,
            })?;
        Ok(Self {
            out: BufWriter::new(file),
            path: p,
        })
    }

    pub fn append(&mut self, alert: &Alert) -> Result<(), DeliverError> {
        let err = |source| DeliverError::Log {
            path: self.path.clone(),
            source,
        };
        serde_json::to_writer(&mut self.out, alert)?;
        self.out.write_all(b"\n").map_err(err)?;
        self.out.flush().map_err(err)?;
        Ok(())
    }
}

/// A plain alert record for this crate's tests.
#[cfg(test)]
pub(crate) fn test_alert(id: &str) -> Alert {
    use vigil_core::{AlertEvent, AlertKind, CameraId, RuleId};
    Alert {
        id: id.into(),
        camera: CameraId::new("cam"),
        rule: RuleId::new("r"),
        kind: AlertKind::Dwell,
        event: AlertEvent::Start,
        zone: None,
        started_pts_secs: 1.0,
        raised_pts_secs: 2.0,
        ended_pts_secs: None,
        wall_time: "2026-11-28T00:00:00.000Z".into(),
        objects: vec![],
        evidence: Default::default(),
        prev_hash: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(id: &str) -> Alert {
        test_alert(id)
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
    fn jsonl_appends_one_line_per_alert() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("alerts.jsonl");
        let mut log = JsonlLog::open(&path).unwrap();
        log.append(&alert("a")).unwrap();
        log.append(&alert("b")).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let ids: Vec<String> = text
            .lines()
            .map(|l| serde_json::from_str::<Alert>(l).unwrap().id)
            .collect();
        assert_eq!(ids, ["a", "b"]);
    }
}
