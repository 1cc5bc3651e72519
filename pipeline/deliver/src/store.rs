//! [`AlertStore`]: the SQLite file (WAL) every alert record goes to before anything else sees it.
//!
//! Tables: `alerts` (one row per alert event, hash-chained), `outbox` (one row per record and
//! receiver still to be delivered; written in the same transaction as the record),
//! `deliveries` (what each receiver acknowledged, and when), `acks` (a person's acknowledgement
//! of an alert), `camera_status` (each camera's online/offline history) and `access` (who
//! opened, played or acknowledged which alert: [`crate::access`], a hash chain of its own).

use crate::{DeliverError, GENESIS, sha256_hex, store_err};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use vigil_core::{Alert, AlertEvent, AlertFilter, CameraId};

/// Schema version kept in `PRAGMA user_version`.
const SCHEMA_VERSION: i64 = 6;

/// Version 1: the alerts table.
const SCHEMA_V1: &str = "
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
    CREATE INDEX IF NOT EXISTS alerts_camera_time ON alerts (camera, wall_time);";

/// Version 2: delivery outbox, deliveries, acknowledgements, camera status history.
const SCHEMA_V2: &str = "
    CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        sink TEXT NOT NULL,
        alert_seq INTEGER NOT NULL REFERENCES alerts (seq),
        camera TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_ms INTEGER NOT NULL,
        last_error TEXT
    );
    CREATE INDEX outbox_sink_camera ON outbox (sink, camera, seq);
    CREATE TABLE deliveries (
        sink TEXT NOT NULL,
        alert_seq INTEGER NOT NULL REFERENCES alerts (seq),
        created_ms INTEGER NOT NULL,
        delivered_ms INTEGER NOT NULL,
        attempts INTEGER NOT NULL,
        PRIMARY KEY (sink, alert_seq)
    );
    CREATE TABLE acks (
        alert_id TEXT PRIMARY KEY,
        by TEXT NOT NULL,
        at_ms INTEGER NOT NULL,
        comment TEXT NOT NULL
    );
    CREATE TABLE camera_status (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        camera TEXT NOT NULL,
        online INTEGER NOT NULL,
        at_ms INTEGER NOT NULL,
        detail TEXT NOT NULL
    );
    CREATE INDEX camera_status_camera ON camera_status (camera, seq);";

/// Version 3: when each acknowledgement reached the shared store (NULL: not yet).
const SCHEMA_V3: &str = "ALTER TABLE acks ADD COLUMN shared_ms INTEGER;";

/// Version 6: which stream of a camera a status is about (`detect`, or `record`: its main
/// stream); earlier rows are the detect stream's.
const SCHEMA_V6: &str =
    "ALTER TABLE camera_status ADD COLUMN stream TEXT NOT NULL DEFAULT 'detect';";

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_millis() as i64
}

/// A receiver of alert records and the records it wants.
#[derive(Clone, Debug)]
pub struct Route {
    /// The receiver's name (`webhook:office`, `mqtt`): the outbox's `sink` column.
    pub sink: String,
    pub filter: AlertFilter,
}

/// A person's acknowledgement of an alert.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Ack {
    pub by: String,
    pub at_ms: i64,
    pub comment: String,
}

/// One entry of a camera's status history.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CameraStatusEntry {
    pub camera: String,
    pub online: bool,
    pub at_ms: i64,
    pub detail: String,
    /// `detect` (the camera itself) or `record` (its main stream).
    pub stream: String,
}

/// How many records wait and for how long the oldest has.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Depth {
    pub pending: u64,
    pub oldest_created_ms: Option<i64>,
}

/// SQLite alert store (WAL). One row per alert event; the full JSON is kept beside the indexed
/// columns so the record is exactly what was raised.
pub struct AlertStore {
    pub(crate) conn: Connection,
    path: String,
    routes: Vec<Route>,
}

/// Opens `path` in WAL mode, creating or migrating the schema.
pub(crate) fn open_connection(path: &Path) -> Result<Connection, DeliverError> {
    let p = path.display().to_string();
    let err = store_err(&p);
    let mut conn = Connection::open(path).map_err(err)?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(err)?;
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(err)?;
    conn.busy_timeout(Duration::from_secs(5)).map_err(err)?;
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(err)?;
    let version: i64 = tx
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(err)?;
    if version > SCHEMA_VERSION {
        return Err(DeliverError::Store {
            path: p.clone(),
            source: rusqlite::Error::InvalidParameterName(format!(
                "schema version {version} is newer than this vigil understands ({SCHEMA_VERSION})"
            )),
        });
    }
    if version < 1 {
        tx.execute_batch(SCHEMA_V1).map_err(err)?;
    }
    if version < 2 {
        tx.execute_batch(SCHEMA_V2).map_err(err)?;
    }
    if version < 3 {
        tx.execute_batch(SCHEMA_V3).map_err(err)?;
    }
    if version < 4 {
        tx.execute_batch(crate::access::SCHEMA_V4).map_err(err)?;
        crate::access::start(&tx).map_err(err)?;
    }
    if version < 5 {
        tx.execute_batch(crate::handling::SCHEMA_V5).map_err(err)?;
    }
    // A store whose version was set back by hand may have the column already.
    if version < 6 && !has_column(&tx, "camera_status", "stream").map_err(err)? {
        tx.execute_batch(SCHEMA_V6).map_err(err)?;
    }
    if version < SCHEMA_VERSION {
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(err)?;
    }
    tx.commit().map_err(err)?;
    Ok(conn)
}

impl AlertStore {
    pub fn open(path: &Path) -> Result<Self, DeliverError> {
        Ok(Self {
            conn: open_connection(path)?,
            path: path.display().to_string(),
            routes: Vec::new(),
        })
    }

    /// Every record stored from now on is also queued for each route whose filter it matches.
    pub fn with_routes(mut self, routes: Vec<Route>) -> Self {
        self.routes = routes;
        self
    }

    /// The store's file.
    pub fn path(&self) -> &str {
        &self.path
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> DeliverError + Copy + '_ {
        store_err(&self.path)
    }

    /// Stores one alert record, chained to the previous one, and queues it in the outbox for
    /// every matching route, in one transaction. Returns the record as stored (with `prev_hash`
    /// set). Storing the same (id, event) twice keeps the first and queues nothing.
    pub fn insert(&mut self, alert: &Alert) -> Result<Alert, DeliverError> {
        let err = store_err(&self.path);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        let existing: Option<String> = tx
            .query_row(
                "SELECT json FROM alerts WHERE id = ?1 AND event = ?2",
                params![alert.id.as_str(), alert.event.as_str()],
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
                record.id.as_str(),
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
        let alert_seq = tx.last_insert_rowid();
        let now = now_ms();
        for route in self.routes.iter().filter(|r| r.filter.matches(&record)) {
            tx.execute(
                "INSERT INTO outbox (sink, alert_seq, camera, created_ms, next_attempt_ms)
                 VALUES (?1, ?2, ?3, ?4, ?4)",
                params![route.sink, alert_seq, record.camera.as_str(), now],
            )
            .map_err(err)?;
        }
        tx.commit().map_err(err)?;
        Ok(record)
    }

    /// Evidence records (`evidence`, `end_evidence`) whose clip has not been expired, oldest
    /// first.
    pub fn live_clips(&self) -> Result<Vec<Alert>, DeliverError> {
        let records = self.records(
            "SELECT json FROM alerts
             WHERE event IN ('evidence', 'expired', 'end_evidence', 'end_expired') ORDER BY seq",
            [],
        )?;
        // A clip is live unless its alert has the matching expiry record (one pass for the
        // expiries, one for the clips: not a scan of the list per expiry).
        let expired: std::collections::HashSet<(vigil_core::AlertId, AlertEvent)> = records
            .iter()
            .filter(|a| !a.event.has_evidence())
            .map(|a| (a.id.clone(), a.event))
            .collect();
        Ok(records
            .into_iter()
            .filter(|a| a.event.has_evidence() && a.evidence.clip.is_some())
            .filter(|a| !expired.contains(&(a.id.clone(), a.event.expiry())))
            .collect())
    }

    /// All stored alerts, oldest first.
    pub fn all(&self) -> Result<Vec<Alert>, DeliverError> {
        self.records("SELECT json FROM alerts ORDER BY seq", [])
    }

    /// Every record of alert `id`, oldest first.
    pub fn records_of(&self, id: &str) -> Result<Vec<Alert>, DeliverError> {
        self.records("SELECT json FROM alerts WHERE id = ?1 ORDER BY seq", [id])
    }

    /// The records a `SELECT json …` query returns, in its order.
    pub(crate) fn records(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<Alert>, DeliverError> {
        let err = self.err();
        let mut stmt = self.conn.prepare(sql).map_err(&err)?;
        let rows = stmt
            .query_map(params, |r| r.get::<_, String>(0))
            .map_err(&err)?;
        let mut out = Vec::new();
        for json in rows {
            out.push(serde_json::from_str(&json.map_err(&err)?)?);
        }
        Ok(out)
    }

    /// The latest record of alert `id` (its evidence record once the clip is written).
    pub fn get(&self, id: &str) -> Result<Option<Alert>, DeliverError> {
        let json: Option<String> = self
            .conn
            .query_row(
                "SELECT json FROM alerts WHERE id = ?1 ORDER BY seq DESC LIMIT 1",
                [id],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.err())?;
        Ok(json.map(|j| serde_json::from_str(&j)).transpose()?)
    }

    /// Forgets delivery log entries and camera status changes older than `cutoff_ms` (each
    /// camera's latest status is kept); the alert records themselves are never pruned here.
    /// Returns the rows deleted.
    pub fn prune_history(&mut self, cutoff_ms: i64) -> Result<usize, DeliverError> {
        let err = self.err();
        let deliveries = self
            .conn
            .execute(
                "DELETE FROM deliveries WHERE delivered_ms < ?1",
                [cutoff_ms],
            )
            .map_err(&err)?;
        let statuses = self
            .conn
            .execute(
                "DELETE FROM camera_status WHERE at_ms < ?1
                   AND seq NOT IN (SELECT MAX(seq) FROM camera_status GROUP BY camera, stream)",
                [cutoff_ms],
            )
            .map_err(&err)?;
        Ok(deliveries + statuses)
    }

    /// Appends a camera status change (its detect stream's: the camera's) to the history.
    pub fn record_camera_status(
        &mut self,
        camera: &CameraId,
        online: bool,
        detail: &str,
    ) -> Result<(), DeliverError> {
        self.record_stream_status(camera, DETECT, online, detail)
    }

    /// Appends a status change of one of a camera's streams (`detect`, `record`) to the history.
    pub fn record_stream_status(
        &mut self,
        camera: &CameraId,
        stream: &str,
        online: bool,
        detail: &str,
    ) -> Result<(), DeliverError> {
        self.conn
            .execute(
                "INSERT INTO camera_status (camera, online, at_ms, detail, stream) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![camera.as_str(), online, now_ms(), detail, stream],
            )
            .map_err(self.err())?;
        Ok(())
    }
}

/// Whether `table` has a column `column`.
fn has_column(conn: &Connection, table: &str, column: &str) -> rusqlite::Result<bool> {
    let mut stmt = conn.prepare(&format!("PRAGMA table_info({table})"))?;
    let names = stmt.query_map([], |r| r.get::<_, String>(1))?;
    for name in names {
        if name? == column {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The stream a camera's status is about unless it says otherwise.
pub const DETECT: &str = "detect";
/// A camera's main stream, recorded as its evidence (`record:`).
pub const RECORD: &str = "record";

/// Each camera's latest status (its detect stream's), by camera name.
pub(crate) fn latest_camera_status(conn: &Connection) -> rusqlite::Result<Vec<CameraStatusEntry>> {
    latest_stream_status(conn, DETECT)
}

/// Each camera's latest status of its stream `stream`, by camera name.
pub(crate) fn latest_stream_status(
    conn: &Connection,
    stream: &str,
) -> rusqlite::Result<Vec<CameraStatusEntry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.camera, s.online, s.at_ms, s.detail, s.stream FROM camera_status s
         JOIN (SELECT camera, MAX(seq) AS seq FROM camera_status WHERE stream = ?1 GROUP BY camera) l
           ON l.seq = s.seq
         ORDER BY s.camera",
    )?;
    let rows = stmt.query_map([stream], |r| {
        Ok(CameraStatusEntry {
            camera: r.get(0)?,
            online: r.get(1)?,
            at_ms: r.get(2)?,
            detail: r.get(3)?,
            stream: r.get(4)?,
        })
    })?;
    rows.collect()
}

/// Alerts raised, by camera and kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertCount {
    pub camera: String,
    pub kind: String,
    pub count: u64,
}

impl AlertStore {
    /// Alerts raised (start records), by camera and kind.
    pub fn alert_counts(&self) -> Result<Vec<AlertCount>, DeliverError> {
        let err = self.err();
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT camera, kind, COUNT(*) FROM alerts WHERE event = 'start'
                 GROUP BY camera, kind ORDER BY camera, kind",
            )
            .map_err(&err)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(AlertCount {
                    camera: r.get(0)?,
                    kind: r.get(1)?,
                    count: r.get::<_, i64>(2)? as u64,
                })
            })
            .map_err(&err)?;
        rows.collect::<Result<_, _>>().map_err(&err)
    }

    /// Milliseconds from storing to acknowledgement of each record `sink` took since
    /// `since_ms`, ascending.
    pub fn delivery_latencies_ms(
        &self,
        sink: &str,
        since_ms: i64,
    ) -> Result<Vec<i64>, DeliverError> {
        let err = self.err();
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT delivered_ms - created_ms AS l FROM deliveries
                 WHERE sink = ?1 AND delivered_ms >= ?2 ORDER BY l",
            )
            .map_err(err)?;
        let rows = stmt
            .query_map(params![sink, since_ms], |r| r.get(0))
            .map_err(err)?;
        rows.collect::<Result<_, _>>().map_err(err)
    }

    /// Every receiver's outbox: records waiting and the oldest one's age.
    pub fn outbox_depths(&self) -> Result<Vec<(String, Depth)>, DeliverError> {
        let err = self.err();
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT sink, COUNT(*), MIN(created_ms) FROM outbox GROUP BY sink ORDER BY sink",
            )
            .map_err(&err)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    Depth {
                        pending: r.get::<_, i64>(1)? as u64,
                        oldest_created_ms: r.get(2)?,
                    },
                ))
            })
            .map_err(&err)?;
        rows.collect::<Result<_, _>>().map_err(&err)
    }

    /// Each camera's latest status.
    pub fn camera_status(&self) -> Result<Vec<CameraStatusEntry>, DeliverError> {
        latest_camera_status(&self.conn).map_err(self.err())
    }

    /// Each camera's latest status of its stream `stream` (`record`: a main stream).
    pub fn stream_status(&self, stream: &str) -> Result<Vec<CameraStatusEntry>, DeliverError> {
        latest_stream_status(&self.conn, stream).map_err(self.err())
    }
}

pub(crate) mod acks;
#[cfg(test)]
mod tests;
