//! [`Outbox`]: one receiver's view of the delivery queue in the store.
//!
//! A row is queued in the same transaction as its alert record and deleted only once the receiver
//! acknowledged it (moving to `deliveries`), so a crash at any point delivers it after restart —
//! at least once; receivers drop duplicates by the idempotency key `<alert id>:<event>`.
//! Per camera, records go out in the order they were stored: only the oldest pending row of each
//! camera is ever due, so a failing record holds back the later ones of its camera but not other
//! cameras'.

pub use crate::store::Depth;
use crate::store::{now_ms, open_connection};
use crate::{DeliverError, store_err};
use rusqlite::{Connection, params};
use std::path::Path;

/// One record waiting for one receiver.
#[derive(Clone, Debug)]
pub struct OutboxItem {
    /// The outbox row.
    pub seq: i64,
    pub alert_seq: i64,
    pub camera: String,
    pub alert_id: String,
    pub event: String,
    /// The stored record, exactly as hashed into the chain.
    pub json: String,
    /// Failed attempts so far.
    pub attempts: u32,
    pub created_ms: i64,
}

impl OutboxItem {
    /// What receivers deduplicate on: the same key is the same record.
    pub fn idempotency_key(&self) -> String {
        format!("{}:{}", self.alert_id, self.event)
    }
}

/// The outbox of one receiver (`sink`), on its own connection to the store.
pub struct Outbox {
    conn: Connection,
    path: String,
    sink: String,
}

impl Outbox {
    pub fn open(path: &Path, sink: &str) -> Result<Self, DeliverError> {
        Ok(Self {
            conn: open_connection(path)?,
            path: path.display().to_string(),
            sink: sink.to_string(),
        })
    }

    pub fn sink(&self) -> &str {
        &self.sink
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> DeliverError + Copy + '_ {
        store_err(&self.path)
    }

    /// The records due at `now_ms`: each camera's oldest pending one, if its retry time has come.
    pub fn due(&self, now_ms: i64, limit: usize) -> Result<Vec<OutboxItem>, DeliverError> {
        let err = self.err();
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT o.seq, o.alert_seq, o.camera, a.id, a.event, a.json, o.attempts, o.created_ms
                 FROM outbox o JOIN alerts a ON a.seq = o.alert_seq
                 WHERE o.seq IN (SELECT MIN(seq) FROM outbox WHERE sink = ?1 GROUP BY camera)
                   AND o.next_attempt_ms <= ?2
                 ORDER BY o.seq LIMIT ?3",
            )
            .map_err(&err)?;
        let rows = stmt
            .query_map(params![self.sink, now_ms, limit as i64], |r| {
                Ok(OutboxItem {
                    seq: r.get(0)?,
                    alert_seq: r.get(1)?,
                    camera: r.get(2)?,
                    alert_id: r.get(3)?,
                    event: r.get(4)?,
                    json: r.get(5)?,
                    attempts: r.get(6)?,
                    created_ms: r.get(7)?,
                })
            })
            .map_err(&err)?;
        rows.collect::<Result<_, _>>().map_err(&err)
    }

    /// When the next pending record is due (ms since the epoch), if any is pending.
    pub fn next_due_ms(&self) -> Result<Option<i64>, DeliverError> {
        self.conn
            .query_row(
                "SELECT MIN(next_attempt_ms) FROM outbox
                 WHERE seq IN (SELECT MIN(seq) FROM outbox WHERE sink = ?1 GROUP BY camera)",
                [&self.sink],
                |r| r.get::<_, Option<i64>>(0),
            )
            .map_err(self.err())
    }

    /// The receiver acknowledged `item`: it leaves the outbox for the deliveries log.
    pub fn delivered(&mut self, item: &OutboxItem) -> Result<(), DeliverError> {
        let err = store_err(&self.path);
        let tx = self.conn.transaction().map_err(err)?;
        tx.execute(
            "INSERT OR IGNORE INTO deliveries (sink, alert_seq, created_ms, delivered_ms, attempts)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                self.sink,
                item.alert_seq,
                item.created_ms,
                now_ms(),
                item.attempts + 1
            ],
        )
        .map_err(err)?;
        tx.execute("DELETE FROM outbox WHERE seq = ?1", [item.seq])
            .map_err(err)?;
        tx.commit().map_err(err)
    }

    /// An attempt at `item` failed; it is tried again at `retry_at_ms`.
    pub fn failed(
        &mut self,
        item: &OutboxItem,
        error: &str,
        retry_at_ms: i64,
    ) -> Result<(), DeliverError> {
        self.conn
            .execute(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_ms = ?2, last_error = ?3
                 WHERE seq = ?1",
                params![item.seq, retry_at_ms, error],
            )
            .map_err(self.err())?;
        Ok(())
    }

    /// Records waiting for this receiver.
    pub fn depth(&self) -> Result<Depth, DeliverError> {
        self.conn
            .query_row(
                "SELECT COUNT(*), MIN(created_ms) FROM outbox WHERE sink = ?1",
                [&self.sink],
                |r| {
                    Ok(Depth {
                        pending: r.get::<_, i64>(0)? as u64,
                        oldest_created_ms: r.get(1)?,
                    })
                },
            )
            .map_err(self.err())
    }

    /// The connection, for transports that read more of the store (camera status).
    pub(crate) fn connection(&self) -> &Connection {
        &self.conn
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{AlertStore, Route};
    use crate::test_alert;
    use vigil_core::{AlertFilter, CameraId};

    fn store(path: &Path) -> AlertStore {
        AlertStore::open(path).unwrap().with_routes(vec![Route {
            sink: "hook".into(),
            filter: AlertFilter::default(),
        }])
    }

    fn alert(id: &str, camera: &str) -> vigil_core::Alert {
        let mut a = test_alert(id);
        a.camera = CameraId::new(camera);
        a
    }

    #[test]
    fn only_each_cameras_oldest_pending_record_is_due() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("alerts.db");
        let mut s = store(&path);
        for (id, cam) in [("a1", "a"), ("a2", "a"), ("b1", "b")] {
            s.insert(&alert(id, cam)).unwrap();
        }
        let mut outbox = Outbox::open(&path, "hook").unwrap();
        let now = now_ms();
        let due = outbox.due(now, 10).unwrap();
        let ids: Vec<_> = due.iter().map(|i| i.alert_id.as_str()).collect();
        assert_eq!(ids, ["a1", "b1"]);
        assert_eq!(due[0].idempotency_key(), "a1:start");

        // a1 fails: camera a waits (a2 is not overtaken), b goes on.
        outbox.failed(&due[0], "HTTP 503", now + 60_000).unwrap();
        outbox.delivered(&due[1]).unwrap();
        assert!(outbox.due(now, 10).unwrap().is_empty());
        assert_eq!(outbox.next_due_ms().unwrap(), Some(now + 60_000));
        let later = outbox.due(now + 60_000, 10).unwrap();
        assert_eq!(later.len(), 1);
        assert_eq!((later[0].alert_id.as_str(), later[0].attempts), ("a1", 1));
        outbox.delivered(&later[0]).unwrap();
        let next = outbox.due(now + 60_000, 10).unwrap();
        assert_eq!(next[0].alert_id, "a2");
        assert_eq!(outbox.depth().unwrap().pending, 1);

        // Another receiver's outbox is its own.
        assert!(
            Outbox::open(&path, "mqtt")
                .unwrap()
                .due(now, 10)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn pending_records_survive_reopening_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("alerts.db");
        store(&path).insert(&alert("x", "a")).unwrap();
        let outbox = Outbox::open(&path, "hook").unwrap();
        let due = outbox.due(now_ms(), 10).unwrap();
        assert_eq!(due.len(), 1);
        let stored: vigil_core::Alert = serde_json::from_str(&due[0].json).unwrap();
        assert_eq!(stored.id, "x");
        assert!(
            stored.prev_hash.is_some(),
            "the record as stored, chain and all"
        );
    }
}
