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

/// Writes records into the shared table of one PostgreSQL database.
pub struct SharedStore {
    config: postgres::Config,
    /// Names the instance in every row.
    instance: String,
    client: Option<postgres::Client>,
    /// What the connection string says, without the password (for logs).
    target: String,
}

impl SharedStore {
    /// `url`: `postgres://user@host:port/db` (a password in it is allowed, `password` wins).
    pub fn new(url: &str, password: Option<&str>, instance: &str) -> Result<Self, String> {
        let mut config: postgres::Config = url.parse().map_err(|e| format!("postgres url: {e}"))?;
        if let Some(p) = password {
            config.password(p);
        }
        config.connect_timeout(std::time::Duration::from_secs(5));
        config.application_name(&format!("vigil-{instance}"));
        let target = format!(
            "{}@{:?}:{:?}/{}",
            config.get_user().unwrap_or("?"),
            config.get_hosts().first(),
            config.get_ports().first(),
            config.get_dbname().unwrap_or("?")
        );
        Ok(Self {
            config,
            instance: instance.to_string(),
            client: None,
            target,
        })
    }

    /// The connection, opened (and the table created) when there is none.
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
}

impl Transport for SharedStore {
    fn send(&mut self, item: &OutboxItem) -> Result<(), String> {
        let instance = self.instance.clone();
        let result = self.client()?.execute(
            "INSERT INTO vigil_records \
             (alert_id, event, instance, camera, instance_seq, record, received_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (alert_id, event) DO NOTHING",
            &[
                &item.alert_id,
                &item.event,
                &instance,
                &item.camera,
                &item.alert_seq,
                &item.json,
                &crate::now_ms(),
            ],
        );
        match result {
            Ok(_) => Ok(()),
            Err(e) => {
                // The next attempt reconnects.
                self.client = None;
                Err(e.to_string())
            }
        }
    }

    fn close(&mut self) {
        if let Some(c) = self.client.take() {
            let _ = c.close();
        }
    }
}
