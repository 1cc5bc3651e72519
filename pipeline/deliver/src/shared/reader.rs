//! Reading the shared store: the district's alerts, who holds one, and which instances there are.

use super::{Connection, ONLINE_WITHIN_MS};
use crate::{Ack, AlertView};

/// An alert as the shared table has it: folded from its records and its acknowledgement, with
/// the instance that stored it (which holds its evidence files).
#[derive(Clone, Debug, serde::Serialize)]
pub struct SharedAlert {
    pub instance: String,
    #[serde(flatten)]
    pub view: AlertView,
}

/// Which of the district's alerts to list, newest first. `seq` is the shared table's position of
/// an alert's start record (the cursor, like the local list's).
#[derive(Clone, Debug, Default)]
pub struct DistrictQuery {
    pub camera: Option<String>,
    /// An alert kind as records spell it (`dwell`).
    pub kind: Option<String>,
    /// Raised at or after / before this wall time, as records write it
    /// (`2026-11-28T12:00:00.000Z`, UTC: such strings sort by time).
    pub since: Option<String>,
    pub until: Option<String>,
    pub acknowledged: Option<bool>,
    /// Only alerts whose start record is older than this position.
    pub before: Option<i64>,
    /// 1–500.
    pub limit: usize,
}

/// An instance as it last described itself.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct InstanceInfo {
    pub instance: String,
    /// Where its API can be reached by the other instances.
    pub url: Option<String>,
    pub shard: Option<String>,
    pub cameras: Vec<String>,
    pub started_ms: i64,
    pub seen_ms: i64,
    /// When it stopped, if it stopped cleanly (a killed one just stops being seen).
    pub stopped_ms: Option<i64>,
    /// Seen within the last three heartbeats and not stopped.
    pub online: bool,
}

/// Who holds an alert: the instance named in its records, and what that instance last said of
/// itself (`None`: it never did — it has no API, or runs a vigil that does not say).
#[derive(Clone, Debug)]
pub struct Owner {
    pub instance: String,
    pub info: Option<InstanceInfo>,
}

/// One record of one instance as the shared table holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SharedRecord {
    pub alert_id: String,
    pub event: String,
    /// The JSON as the instance stored (and hashed) it.
    pub record: String,
}

/// Reads the shared tables.
#[derive(Clone, Debug)]
pub struct SharedReader {
    connection: Connection,
}

impl SharedReader {
    pub fn new(db: &super::Database) -> Result<Self, String> {
        Ok(Self {
            connection: Connection::new(db, "vigil-reader")?,
        })
    }

    /// The newest alerts `q` selects, each folded from all its records, with its
    /// acknowledgement.
    pub fn recent(&mut self, q: &DistrictQuery) -> Result<Vec<SharedAlert>, String> {
        let limit = q.limit.clamp(1, 500) as i64;
        let rows = self.connection.with(|c| {
            c.query(
                "SELECT r.alert_id, r.instance, r.record, s.seq, k.by, k.at_ms, k.comment \
                 FROM vigil_records r \
                 JOIN (SELECT alert_id, seq FROM vigil_records x \
                       WHERE event = 'start' AND ($1::text IS NULL OR camera = $1) \
                         AND ($2::text IS NULL OR x.record::jsonb ->> 'kind' = $2) \
                         AND ($3::bool IS NULL OR EXISTS \
                              (SELECT 1 FROM vigil_acks a WHERE a.alert_id = x.alert_id) = $3) \
                         AND ($4::bigint IS NULL OR seq < $4) \
                         AND ($6::text IS NULL OR x.record::jsonb ->> 'wall_time' >= $6) \
                         AND ($7::text IS NULL OR x.record::jsonb ->> 'wall_time' < $7) \
                       ORDER BY seq DESC LIMIT $5) s ON s.alert_id = r.alert_id \
                 LEFT JOIN vigil_acks k ON k.alert_id = r.alert_id \
                 ORDER BY s.seq DESC, r.seq",
                &[
                    &q.camera,
                    &q.kind,
                    &q.acknowledged,
                    &q.before,
                    &limit,
                    &q.since,
                    &q.until,
                ],
            )
        })?;
        type Folding = (String, i64, Option<Ack>, Vec<vigil_core::Alert>);
        let mut out: Vec<Folding> = Vec::new();
        for row in rows {
            let (id, instance, record, seq): (String, String, String, i64) =
                (row.get(0), row.get(1), row.get(2), row.get(3));
            // One unreadable row is skipped, not the whole list lost.
            let alert: vigil_core::Alert = match serde_json::from_str(&record) {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(alert = %id, error = %e, "unreadable record in the shared store");
                    continue;
                }
            };
            match out.last_mut() {
                Some((_, s, _, records)) if *s == seq => records.push(alert),
                _ => {
                    let ack = row.get::<_, Option<String>>(4).map(|by| Ack {
                        by,
                        at_ms: row.get(5),
                        comment: row.get(6),
                    });
                    out.push((instance, seq, ack, vec![alert]))
                }
            }
        }
        Ok(out
            .into_iter()
            .filter_map(|(instance, seq, ack, records)| {
                AlertView::fold(seq, records, ack).map(|view| SharedAlert { instance, view })
            })
            .collect())
    }

    /// Every record the shared table holds under `instance`'s name.
    pub fn records_of_instance(&mut self, instance: &str) -> Result<Vec<SharedRecord>, String> {
        let rows = self.connection.with(|c| {
            c.query(
                "SELECT alert_id, event, record FROM vigil_records WHERE instance = $1 \
                 ORDER BY instance_seq",
                &[&instance],
            )
        })?;
        Ok(rows
            .into_iter()
            .map(|r| SharedRecord {
                alert_id: r.get(0),
                event: r.get(1),
                record: r.get(2),
            })
            .collect())
    }

    /// Who holds alert `id`, if the shared store has it.
    pub fn owner(&mut self, id: &str) -> Result<Option<Owner>, String> {
        let row = self.connection.with(|c| {
            c.query_opt(
                "SELECT instance FROM vigil_records WHERE alert_id = $1 LIMIT 1",
                &[&id],
            )
        })?;
        let Some(row) = row else { return Ok(None) };
        let instance: String = row.get(0);
        let info = self.instance(&instance)?;
        Ok(Some(Owner { instance, info }))
    }

    /// What instance `name` last said of itself.
    pub fn instance(&mut self, name: &str) -> Result<Option<InstanceInfo>, String> {
        Ok(self.instances_where(Some(name))?.pop())
    }

    /// Every instance that ever said where it is, by name.
    pub fn instances(&mut self) -> Result<Vec<InstanceInfo>, String> {
        self.instances_where(None)
    }

    fn instances_where(&mut self, name: Option<&str>) -> Result<Vec<InstanceInfo>, String> {
        let rows = self.connection.with(|c| {
            c.query(
                "SELECT instance, url, shard, cameras, started_ms, seen_ms, stopped_ms \
                 FROM vigil_instances WHERE $1::text IS NULL OR instance = $1 ORDER BY instance",
                &[&name],
            )
        })?;
        let now = crate::now_ms();
        rows.into_iter()
            .map(|row| {
                let instance: String = row.get(0);
                let cameras: Vec<String> = serde_json::from_str(row.get(3))
                    .map_err(|e| format!("cameras of instance {instance}: {e}"))?;
                let seen_ms: i64 = row.get(5);
                let stopped_ms: Option<i64> = row.get(6);
                Ok(InstanceInfo {
                    url: row.get(1),
                    shard: row.get(2),
                    cameras,
                    started_ms: row.get(4),
                    seen_ms,
                    online: stopped_ms.is_none() && now - seen_ms < ONLINE_WITHIN_MS,
                    stopped_ms,
                    instance,
                })
            })
            .collect()
    }
}
