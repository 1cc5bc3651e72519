//! The access chain: who opened, played, downloaded or acknowledged which alert, when, and from
//! where. Each access is a record in the store's `access` table, hash-chained like the alert
//! records (a chain of its own: `prev_hash`, `hash`), so a record deleted, edited or inserted
//! afterwards is found by `vigil verify`. The API writes the record *before* it serves what was
//! asked for — an access that cannot be recorded is refused — and an acknowledgement and its
//! record are written in one transaction. The chain begins with a `start` record written when
//! the table is made, so a chain emptied whole is found too.

use crate::{DeliverError, GENESIS, sha256_hex};
use rusqlite::{OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};

/// Version 4 of the store: the access chain and its first record.
pub(crate) const SCHEMA_V4: &str = "
    CREATE TABLE access (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        alert_id TEXT NOT NULL,
        who TEXT NOT NULL,
        action TEXT NOT NULL,
        at_ms INTEGER NOT NULL,
        json TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE INDEX access_alert ON access (alert_id, seq);";

/// What was done.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// The chain's first record.
    Start,
    /// The alert's record opened (`GET /api/alerts/{id}`).
    View,
    /// Its clip played or downloaded.
    Clip,
    /// Its snapshot shown or downloaded.
    Snapshot,
    /// Acknowledged (the comment in `detail`).
    Ack,
    /// Handling steps ([`crate::handling`]): taken, assigned (to `detail`), commented, done,
    /// closed as a false alarm (the reason in `detail`), reopened.
    Take,
    Assign,
    Comment,
    Done,
    FalseAlarm,
    Reopen,
    /// A report downloaded (no alert; the request in `detail`).
    Export,
    /// A camera's live view watched (no alert; the camera in `detail`).
    Live,
    /// A rule file changed or restored from the page's zone editor (no alert; the file and
    /// what changed in `detail`).
    EditZones,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Start => "start",
            Action::View => "view",
            Action::Clip => "clip",
            Action::Snapshot => "snapshot",
            Action::Ack => "ack",
            Action::Take => "take",
            Action::Assign => "assign",
            Action::Comment => "comment",
            Action::Done => "done",
            Action::FalseAlarm => "false_alarm",
            Action::Reopen => "reopen",
            Action::Export => "export",
            Action::Live => "live",
            Action::EditZones => "edit_zones",
        }
    }
}

/// Who accessed: the caller's name (`guard`, or `guard@box-a` through another instance), role,
/// and where the request came from (the peer's address).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accessor {
    pub who: String,
    pub role: String,
    pub from: String,
}

/// One record of the chain, as hashed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Access {
    pub at_ms: i64,
    pub who: String,
    pub role: String,
    pub from: String,
    pub action: Action,
    /// Empty for [`Action::Start`].
    pub alert_id: String,
    /// The acknowledgement's comment; empty otherwise.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
    pub prev_hash: String,
}

/// Appends one record to the chain inside `tx`, made now.
pub(crate) fn append(
    tx: &Transaction<'_>,
    by: &Accessor,
    action: Action,
    alert_id: &str,
    detail: &str,
) -> Result<Access, rusqlite::Error> {
    append_at(tx, by, action, alert_id, detail, crate::now_ms())
}

/// Appends one record made at `at_ms` (a handling step: the time its handling row says).
pub(crate) fn append_at(
    tx: &Transaction<'_>,
    by: &Accessor,
    action: Action,
    alert_id: &str,
    detail: &str,
    at_ms: i64,
) -> Result<Access, rusqlite::Error> {
    let prev: Option<String> = tx
        .query_row(
            "SELECT hash FROM access ORDER BY seq DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()?;
    let access = Access {
        at_ms,
        who: by.who.clone(),
        role: by.role.clone(),
        from: by.from.clone(),
        action,
        alert_id: alert_id.to_string(),
        detail: detail.to_string(),
        prev_hash: prev.unwrap_or_else(|| GENESIS.to_string()),
    };
    let json = serde_json::to_string(&access).expect("an access record serialises");
    tx.execute(
        "INSERT INTO access (alert_id, who, action, at_ms, json, hash) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            access.alert_id,
            access.who,
            access.action.as_str(),
            access.at_ms,
            json,
            sha256_hex(json.as_bytes())
        ],
    )?;
    Ok(access)
}

/// The chain's first record, written with the table.
pub(crate) fn start(tx: &Transaction<'_>) -> Result<(), rusqlite::Error> {
    let vigil = Accessor {
        who: "vigil".into(),
        role: "system".into(),
        from: String::new(),
    };
    append(tx, &vigil, Action::Start, "", "").map(|_| ())
}

/// Which records to list.
#[derive(Clone, Debug, Default)]
pub struct AccessQuery {
    pub alert_id: Option<String>,
    pub who: Option<String>,
    /// The newest this many (at most 10 000).
    pub limit: usize,
}

/// The records `q` selects, oldest first.
pub(crate) fn list(
    conn: &rusqlite::Connection,
    q: &AccessQuery,
) -> Result<Vec<Access>, DeliverError> {
    let limit = q.limit.clamp(1, 10_000) as i64;
    let mut stmt = conn
        .prepare(
            "SELECT json FROM (SELECT seq, json FROM access \
             WHERE (?1 IS NULL OR alert_id = ?1) AND (?2 IS NULL OR who = ?2) \
             AND action != 'start' ORDER BY seq DESC LIMIT ?3) ORDER BY seq",
        )
        .map_err(crate::store_err("access"))?;
    let rows = stmt
        .query_map(params![q.alert_id, q.who, limit], |r| r.get::<_, String>(0))
        .map_err(crate::store_err("access"))?;
    let mut out = Vec::new();
    for json in rows {
        let json = json.map_err(crate::store_err("access"))?;
        out.push(serde_json::from_str(&json)?);
    }
    Ok(out)
}
