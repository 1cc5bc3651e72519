//! The shared store: every record an instance stores is also written, through its own outbox,
//! into one PostgreSQL table, so the alerts of all instances (a district's boxes) are in one
//! place. Each instance keeps its SQLite store as the source of truth — it works while the
//! database is down, and its hash chain is what `vigil verify` checks — and the outbox gives the
//! shared table the same guarantees as any receiver: each record at least once, in order per
//! camera, retried with backoff through outages; the table's key (`alert_id`, `event`) — the
//! records' idempotency key — makes the repeats land once.
//!
//! Beside the records, each instance keeps two more things there ([`presence`]): where it can be
//! reached (`vigil_instances`, refreshed every few seconds — another instance's page fetches an
//! alert's evidence and sends its acknowledgement there, see `vigil_serve`) and the
//! acknowledgements its operators made (`vigil_acks`, from its store, at least once). Inserts
//! notify `vigil_records` / `vigil_acks` with the new row's key, which [`listen`] turns into live
//! events.
//!
//! The tables (created if missing):
//!
//! ```sql
//! vigil_records (seq bigserial primary key, alert_id text, event text, instance text,
//!                camera text, instance_seq bigint, record text, received_ms bigint,
//!                unique (alert_id, event))
//! vigil_acks (alert_id text primary key, instance text, by text, at_ms bigint, comment text,
//!             received_ms bigint)
//! vigil_instances (instance text primary key, url text, shard text, cameras text,
//!                  started_ms bigint, seen_ms bigint, stopped_ms bigint)
//! ```
//!
//! `record` is the stored JSON exactly as hashed into the instance's chain (with its
//! `prev_hash`); `instance_seq` its position in that instance's store; `cameras` a JSON list.

/// The database's clock in milliseconds since the epoch, as SQL. Times compared across instances
/// (when one was last seen) are all taken by it, so the boxes' own clocks may drift.
macro_rules! db_now_ms {
    () => {
        "(extract(epoch from clock_timestamp()) * 1000)::bigint"
    };
}

pub mod listen;
pub mod presence;
mod reader;
pub mod setup;

pub use reader::{InstanceInfo, Owner, SharedAlert, SharedReader, SharedRecord};

/// The shared store's outbox name (the `sink` of its rows in an instance's store).
pub const SINK: &str = "postgres";

use crate::outbox::OutboxItem;
use crate::worker::Transport;

/// The tables and index, created by the first instance that finds them missing (under an
/// advisory lock: instances starting together would otherwise race on `CREATE TABLE IF NOT
/// EXISTS`, which is not atomic in PostgreSQL) — or by `vigil district setup`, which also keeps
/// the instances apart ([`setup`]).
const TABLES: &str = "
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
CREATE TABLE IF NOT EXISTS vigil_acks (
    alert_id text PRIMARY KEY,
    instance text NOT NULL,
    by text NOT NULL,
    at_ms bigint NOT NULL,
    comment text NOT NULL,
    received_ms bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS vigil_instances (
    instance text PRIMARY KEY,
    url text,
    shard text,
    cameras text NOT NULL,
    started_ms bigint NOT NULL,
    seen_ms bigint NOT NULL,
    stopped_ms bigint
);
";

/// Whether every object [`TABLES`] makes is there.
const TABLES_EXIST: &str = "SELECT to_regclass('vigil_records') IS NOT NULL \
    AND to_regclass('vigil_records_camera') IS NOT NULL \
    AND to_regclass('vigil_acks') IS NOT NULL AND to_regclass('vigil_instances') IS NOT NULL";

/// Creates the tables where they are missing.
fn create_tables(client: &mut postgres::Client) -> Result<(), postgres::Error> {
    if client.query_one(TABLES_EXIST, &[])?.get::<_, bool>(0) {
        // Nothing to do — and an instance of a district set up by `vigil district setup` may
        // not create anything.
        return Ok(());
    }
    client.batch_execute(&format!(
        "BEGIN; SELECT pg_advisory_xact_lock({SCHEMA_LOCK}); {TABLES} COMMIT;"
    ))
}

/// The advisory lock schema changes are made under.
const SCHEMA_LOCK: i64 = 7146329801;

/// The channels inserts notify (`pg_notify`, the name a parameter), with the new row's key as
/// the payload.
const RECORDS_CHANNEL: &str = "vigil_records";
const ACKS_CHANNEL: &str = "vigil_acks";

/// An instance is online while it refreshed its row within this long (3 heartbeats).
pub const ONLINE_WITHIN_MS: i64 = 3 * presence::HEARTBEAT.as_millis() as i64;

/// Where the shared store is and how to reach it.
#[derive(Clone)]
pub struct Database {
    /// `postgres://user@host:port/db` (a password in it is allowed, `password` wins).
    pub url: String,
    pub password: Option<String>,
    /// The CA certificate(s), PEM, that signed the server's certificate: TLS is then required and
    /// the server's certificate checked against them and the URL's host. Without: plain TCP.
    pub ca_file: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("url", &self.url)
            .field("ca_file", &self.ca_file)
            .finish_non_exhaustive()
    }
}

/// TLS to the server, trusting the CA certificates in `ca_file` only.
fn tls(ca_file: &std::path::Path) -> Result<tokio_postgres_rustls::MakeRustlsConnect, String> {
    let config = crate::tls::client_config(ca_file, None).map_err(|e| format!("ca_file {e}"))?;
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

/// One connection to the shared database, opened (and the table created) on first use and again
/// after an error.
pub(crate) struct Connection {
    config: postgres::Config,
    tls: Option<tokio_postgres_rustls::MakeRustlsConnect>,
    client: Option<postgres::Client>,
    /// What the connection string says, without the password (for logs).
    target: String,
    /// The instance whose rows this connection writes, if it writes any: checked against the
    /// database role it connects as ([`setup::check_writer`]).
    writer: Option<String>,
}

impl Clone for Connection {
    /// The same settings, not yet connected.
    fn clone(&self) -> Self {
        Self {
            config: self.config.clone(),
            tls: self.tls.clone(),
            client: None,
            target: self.target.clone(),
            writer: self.writer.clone(),
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
    /// `role` names the connection in the server's view (`application_name`).
    pub(crate) fn new(db: &Database, role: &str) -> Result<Self, String> {
        let mut config: postgres::Config =
            db.url.parse().map_err(|e| format!("postgres url: {e}"))?;
        if let Some(p) = &db.password {
            config.password(p);
        }
        let tls = db.ca_file.as_deref().map(tls).transpose()?;
        if tls.is_some() {
            config.ssl_mode(postgres::config::SslMode::Require);
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
            tls,
            client: None,
            target,
            writer: None,
        })
    }

    /// A connection that writes `instance`'s rows.
    pub(crate) fn writer(db: &Database, instance: &str) -> Result<Self, String> {
        let mut connection = Self::new(db, &format!("vigil-{instance}"))?;
        connection.writer = Some(instance.to_string());
        Ok(connection)
    }

    pub(crate) fn client(&mut self) -> Result<&mut postgres::Client, String> {
        if self.client.as_ref().is_none_or(|c| c.is_closed()) {
            let connected = match &self.tls {
                Some(tls) => self.config.connect(tls.clone()),
                None => self.config.connect(postgres::NoTls),
            };
            let mut client = connected
                .map_err(|e| format!("cannot connect to {}: {}", self.target, describe(&e)))?;
            create_tables(&mut client)
                .map_err(|e| format!("cannot create the shared tables: {}", describe(&e)))?;
            if let Some(instance) = &self.writer {
                setup::check_writer(&mut client, instance)?;
            }
            tracing::info!(target = %self.target, "shared store connected");
            self.client = Some(client);
        }
        Ok(self.client.as_mut().expect("connected above"))
    }

    /// Drops the connection (the next call reconnects).
    pub(crate) fn reset(&mut self) {
        self.client = None;
    }

    /// Runs `f` on the connection; an error drops it (the next call reconnects).
    pub(crate) fn with<T>(
        &mut self,
        f: impl FnOnce(&mut postgres::Client) -> Result<T, postgres::Error>,
    ) -> Result<T, String> {
        let result = f(self.client()?);
        result.map_err(|e| {
            self.client = None;
            describe(&e)
        })
    }
}

/// What went wrong, with the server's own message when it sent one (the error's `Display` says
/// only "db error" then), else with the errors beneath it.
pub(crate) fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => {
            // "error performing TLS handshake" says little; what the handshake found is below it.
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                text.push_str(&format!(": {s}"));
                source = s.source();
            }
            text
        }
    }
}

/// Writes records into the shared table of one PostgreSQL database.
pub struct SharedStore {
    connection: Connection,
    /// Names the instance in every row.
    instance: String,
}

impl SharedStore {
    pub fn new(db: &Database, instance: &str) -> Result<Self, String> {
        Ok(Self {
            connection: Connection::writer(db, instance)?,
            instance: instance.to_string(),
        })
    }
}

impl Transport for SharedStore {
    fn send(&mut self, item: &OutboxItem) -> Result<(), String> {
        let instance = &self.instance;
        self.connection
            .with(|c| {
                // A repeat inserts nothing and so notifies nothing.
                c.execute(
                    "WITH ins AS (INSERT INTO vigil_records \
                     (alert_id, event, instance, camera, instance_seq, record, received_ms) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (alert_id, event) DO NOTHING \
                     RETURNING seq) SELECT pg_notify($8, seq::text) FROM ins",
                    &[
                        &item.alert_id,
                        &item.event,
                        instance,
                        &item.camera,
                        &item.alert_seq,
                        &item.json,
                        &crate::now_ms(),
                        &RECORDS_CHANNEL,
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
