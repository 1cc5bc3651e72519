//! Where alerts go once raised. Alerts never drop: every [`Alert`] record is written to the
//! durable [`AlertStore`] (SQLite in WAL mode) and appended to the [`JsonlLog`]; in the same
//! transaction it is queued in the [`outbox`] of every receiver whose filter it matches. A
//! [`worker`] thread per receiver drains its outbox through a [`worker::Transport`] —
//! [`webhook::Webhook`] (signed HTTP POST) or [`mqtt::Mqtt`] (QoS 1) — retrying with backoff
//! until the receiver acknowledges; a record leaves the outbox only then, so a crash or a
//! receiver that is down delays delivery but loses nothing.
//!
//! The store is tamper-evident: each record carries the hash of the one before it
//! (`prev_hash`), and its own hash is kept beside it; [`verify::verify`] recomputes the chain and
//! every evidence file's sha256, and [`anchor`] signs the chain's head off the box so that a cut
//! or rewritten chain is found too.

pub mod access;
pub mod anchor;
pub mod handling;
pub mod keys;
pub mod mqtt;
pub mod outbox;
pub mod query;
pub mod report;
pub mod robots;
pub mod shared;
pub mod store;
pub mod tls;
pub mod verify;
pub mod webhook;
pub mod worker;

pub use outbox::{Outbox, OutboxItem};
pub use query::{AlertQuery, AlertView};
pub use store::{Ack, AlertStore, CameraStatusEntry, DETECT, RECORD, Route, now_ms};

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

/// Wraps a SQLite error of the store at `path`.
pub(crate) fn store_err(path: &str) -> impl Fn(rusqlite::Error) -> DeliverError + Copy + '_ {
    move |source| DeliverError::Store {
        path: path.to_string(),
        source,
    }
}

/// `prev_hash` of the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Hex sha256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    vigil_core::hex::encode(&Sha256::digest(bytes))
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
    Alert {
        rule: vigil_core::RuleId::new("r"),
        ..vigil_testkit::alert(id, "cam")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(id: &str) -> Alert {
        test_alert(id)
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
            .map(|l| serde_json::from_str::<Alert>(l).unwrap().id.to_string())
            .collect();
        assert_eq!(ids, ["a", "b"]);
    }
}
