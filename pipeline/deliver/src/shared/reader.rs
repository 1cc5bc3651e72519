//! Reading the shared store: the district's alerts, who holds one, and which instances there are.

use super::{Connection, ONLINE_WITHIN_MS};
use crate::{Ack, AlertQuery, AlertView};

/// An alert as the shared table has it: folded from its records and its acknowledgement, with
/// the instance that stored it (which holds its evidence files).
#[derive(Clone, Debug, serde::Serialize)]
pub struct SharedAlert {
    pub instance: String,
    #[serde(flatten)]
    pub view: AlertView,
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
    /// The alert's camera.
    pub camera: String,
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

    /// The newest alerts `q` selects (its `before` a position in the shared table), each folded
    /// from all its records, with its acknowledgement.
    pub fn recent(&mut self, q: &AlertQuery) -> Result<Vec<SharedAlert>, String> {
        let limit = q.limit.clamp(1, 500) as i64;
        let camera = q.camera.as_ref().map(|c| c.as_str());
        let kind = q.kind.map(|k| k.as_str());
        // `*` patterns as LIKE patterns (`_` is LIKE's one-character wildcard: escaped).
        let patterns: Option<Vec<String>> = q.cameras.as_ref().map(|c| {
            c.iter()
                .map(|p| {
                    p.replace('\\', "\\\\")
                        .replace('_', "\\_")
                        .replace('%', "\\%")
                        .replace('*', "%")
                })
                .collect()
        });
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
                         AND ($8::text[] IS NULL OR camera LIKE ANY($8)) \
                       ORDER BY seq DESC LIMIT $5) s ON s.alert_id = r.alert_id \
                 LEFT JOIN vigil_acks k ON k.alert_id = r.alert_id \
                 ORDER BY s.seq DESC, r.seq",
                &[
                    &camera,
                    &kind,
                    &q.acknowledged,
                    &q.before,
                    &limit,
                    &q.since,
                    &q.until,
                    &patterns,
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

    /// Who holds alert `id`, if the shared store has it — with what that instance last said of
    /// itself, in the same query (it is asked for every forwarded request).
    pub fn owner(&mut self, id: &str) -> Result<Option<Owner>, String> {
        let row = self.connection.with(|c| {
            c.query_opt(
                &format!(
                    "SELECT r.instance, r.camera, {INSTANCE_COLUMNS} FROM vigil_records r \
                     LEFT JOIN vigil_instances i ON i.instance = r.instance \
                     WHERE r.alert_id = $2 LIMIT 1"
                ),
                &[&ONLINE_WITHIN_MS, &id],
            )
        })?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(Owner {
            instance: row.get(0),
            camera: row.get(1),
            info: instance_at(&row, 2)?,
        }))
    }

    /// Every instance that ever said where it is, by name.
    pub fn instances(&mut self) -> Result<Vec<InstanceInfo>, String> {
        let rows = self.connection.with(|c| {
            c.query(
                &format!("SELECT {INSTANCE_COLUMNS} FROM vigil_instances i ORDER BY i.instance"),
                &[&ONLINE_WITHIN_MS],
            )
        })?;
        rows.iter()
            .filter_map(|row| instance_at(row, 0).transpose())
            .collect()
    }
}

/// An instance row's columns (table alias `i`); `$1` is how recently it must have been seen to be
/// online, by the database's clock — the one clock every instance's `seen_ms` is written by.
const INSTANCE_COLUMNS: &str = concat!(
    "i.instance, i.url, i.shard, i.cameras, i.started_ms, i.seen_ms, i.stopped_ms, \
     (i.stopped_ms IS NULL AND i.seen_ms > ",
    db_now_ms!(),
    " - $1::bigint)"
);

/// The instance whose [`INSTANCE_COLUMNS`] start at column `at` (`None`: no such row joined).
fn instance_at(row: &postgres::Row, at: usize) -> Result<Option<InstanceInfo>, String> {
    let Some(instance) = row.get::<_, Option<String>>(at) else {
        return Ok(None);
    };
    let cameras: Vec<String> = serde_json::from_str(row.get(at + 3))
        .map_err(|e| format!("cameras of instance {instance}: {e}"))?;
    Ok(Some(InstanceInfo {
        url: row.get(at + 1),
        shard: row.get(at + 2),
        cameras,
        started_ms: row.get(at + 4),
        seen_ms: row.get(at + 5),
        stopped_ms: row.get(at + 6),
        online: row.get(at + 7),
        instance,
    }))
}
