//! The shared store: every record an instance stores is also written, through its own outbox,
//! into one PostgreSQL table, so the alerts of all instances (a district's boxes) are in one
//! place. Each instance keeps its SQLite store as the source of truth — it works while the
//! database is down, and its hash chain is what `vigil verify` checks — and the outbox gives the
//! shared table the same guarantees as any receiver: each record at least once, in order per
//! camera, retried with backoff through outages; the table's key (`alert_id`, `event`) — the
//! records' idempotency key — makes the repeats land once.
//!
//! The table (created if missing):
//!
//! ```sql
//! vigil_records (seq bigserial primary key, alert_id text, event text, instance text,
//!                camera text, instance_seq bigint, record text, received_ms bigint,
//!                unique (alert_id, event))
//! ```
//!
//! `record` is the stored JSON exactly as hashed into the instance's chain (with its
//! `prev_hash`); `instance_seq` its position in that instance's store.

use crate::outbox::OutboxItem;
use crate::worker::Transport;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS vigil_records (
    seq bigserial PRIMARY KEY,
    alert_id text NOT NULL,
    event text NOT NULL,
    instance text NOT NULL,
    camera text NOT NULL,
    instance_seq bigint NOT NULL,
    record text NOT NULL,
    received_ms bigint NOT NULL,
    UNIQUE (alert_id, event)
);
CREATE INDEX IF NOT EXISTS vigil_records_camera ON vigil_records (camera, seq);
";

/// One connection to the shared database, opened (and the table created) on first use and again
/// after an error.
struct Connection {
    config: postgres::Config,
    client: Option<postgres::Client>,
    /// What the connection string says, without the password (for logs).
    target: String,
}

impl Clone for Connection {
    /// The same settings, not yet connected.
    fn clone(&self) -> Self {
        Self {
            config: self.config.clone(),
            client: None,
            target: self.target.clone(),
        }
    }
}

impl Drop for Connection {
    /// The sync client closes its connection by blocking on its own runtime, which panics when
    /// the drop happens on an async runtime's thread (the HTTP server's state): close it on a
    /// thread of its own.
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            let spawned = std::thread::Builder::new()
                .name("pg-close".into())
                .spawn(move || drop(client.close()));
            if let Err(e) = spawned {
                tracing::warn!(error = %e, "cannot close the shared store connection");
            }
        }
    }
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The target never holds the password.
        f.debug_struct("Connection")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// `url`: `postgres://user@host:port/db` (a password in it is allowed, `password` wins);
    /// `role` names the connection in the server's view (`application_name`).
    fn new(url: &str, password: Option<&str>, role: &str) -> Result<Self, String> {
        let mut config: postgres::Config = url.parse().map_err(|e| format!("postgres url: {e}"))?;
        if let Some(p) = password {
            config.password(p);
        }
        config.connect_timeout(std::time::Duration::from_secs(5));
        config.application_name(role);
        let target = format!(
            "{}@{:?}:{:?}/{}",
            config.get_user().unwrap_or("?"),
            config.get_hosts().first(),
            config.get_ports().first(),
            config.get_dbname().unwrap_or("?")
        );
        Ok(Self {
            config,
            client: None,
            target,
        })
    }

    fn client(&mut self) -> Result<&mut postgres::Client, String> {
        if self.client.as_ref().is_none_or(|c| c.is_closed()) {
            let mut client = self
                .config
                .connect(postgres::NoTls)
                .map_err(|e| format!("cannot connect to {}: {e}", self.target))?;
            client
                .batch_execute(SCHEMA)
                .map_err(|e| format!("cannot create vigil_records: {e}"))?;
            tracing::info!(target = %self.target, "shared store connected");
            self.client = Some(client);
        }
        Ok(self.client.as_mut().expect("connected above"))
    }

    /// Runs `f` on the connection; an error drops it (the next call reconnects).
    fn with<T>(
        &mut self,
        f: impl FnOnce(&mut postgres::Client) -> Result<T, postgres::Error>,
    ) -> Result<T, String> {
        let result = f(self.client()?);
        result.map_err(|e| {
            self.client = None;
            e.to_string()
        })
    }
}

/// Writes records into the shared table of one PostgreSQL database.
pub struct SharedStore {
    connection: Connection,
    /// Names the instance in every row.
    instance: String,
}

impl SharedStore {
    /// `url`: `postgres://user@host:port/db` (a password in it is allowed, `password` wins).
    pub fn new(url: &str, password: Option<&str>, instance: &str) -> Result<Self, String> {
        Ok(Self {
            connection: Connection::new(url, password, &format!("vigil-{instance}"))?,
            instance: instance.to_string(),
        })
    }
}

/// An alert as the shared table has it: folded from its records, with the instance that stored
/// it (which holds its evidence files).
#[derive(Clone, Debug, serde::Serialize)]
pub struct SharedAlert {
    pub instance: String,
    #[serde(flatten)]
    pub view: crate::AlertView,
}

/// Reads the shared table: the alerts of every instance.
#[derive(Clone, Debug)]
pub struct SharedReader {
    connection: Connection,
}

impl SharedReader {
    pub fn new(url: &str, password: Option<&str>) -> Result<Self, String> {
        Ok(Self {
            connection: Connection::new(url, password, "vigil-reader")?,
        })
    }

    /// The newest `limit` alerts (by when their start record arrived), of `camera` if given,
    /// each folded from all its records.
    pub fn recent(
        &mut self,
        camera: Option<&str>,
        limit: usize,
    ) -> Result<Vec<SharedAlert>, String> {
        let limit = limit.clamp(1, 500) as i64;
        let rows = self.connection.with(|c| {
            c.query(
                "SELECT r.alert_id, r.instance, r.record, s.seq FROM vigil_records r \
                 JOIN (SELECT alert_id, seq FROM vigil_records \
                       WHERE event = 'start' AND ($1::text IS NULL OR camera = $1) \
                       ORDER BY seq DESC LIMIT $2) s ON s.alert_id = r.alert_id \
                 ORDER BY s.seq DESC, r.seq",
                &[&camera, &limit],
            )
        })?;
        let mut out: Vec<(String, i64, Vec<vigil_core::Alert>)> = Vec::new();
        for row in rows {
            let (id, instance, record, seq): (String, String, String, i64) =
                (row.get(0), row.get(1), row.get(2), row.get(3));
            let alert: vigil_core::Alert = serde_json::from_str(&record)
                .map_err(|e| format!("record {id} in the shared store: {e}"))?;
            match out.last_mut() {
                Some((_, s, records)) if *s == seq => records.push(alert),
                _ => out.push((instance, seq, vec![alert])),
            }
        }
        Ok(out
            .into_iter()
            .filter_map(|(instance, seq, records)| {
                crate::AlertView::fold(seq, records, None)
                    .map(|view| SharedAlert { instance, view })
            })
            .collect())
    }
}

impl Transport for SharedStore {
    fn send(&mut self, item: &OutboxItem) -> Result<(), String> {
        let instance = &self.instance;
        self.connection
            .with(|c| {
                c.execute(
                    "INSERT INTO vigil_records \
                     (alert_id, event, instance, camera, instance_seq, record, received_ms) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (alert_id, event) DO NOTHING",
                    &[
                        &item.alert_id,
                        &item.event,
                        instance,
                        &item.camera,
                        &item.alert_seq,
                        &item.json,
                        &crate::now_ms(),
                    ],
                )
            })
            .map(|_| ())
    }

    fn close(&mut self) {
        if let Some(c) = self.connection.client.take() {
            let _ = c.close();
        }
    }
}
