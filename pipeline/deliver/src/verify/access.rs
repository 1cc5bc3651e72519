//! The access chain's part of `vigil verify` ([`crate::access`]): each record's hash, its indexed
//! columns against the hashed record, the chain's links and its start record; and every
//! acknowledgement in the `acks` table made since the chain began must have its record in the
//! chain — one written into the table directly has none; and each alert's handling must be what
//! the chain's steps make of it ([`super::handling`]).

use super::{Finding, report_finding};
use crate::GENESIS;
use crate::access::{Access, Action};
use crate::sha256_hex;
use rusqlite::Connection;
use std::collections::HashSet;

/// Checks the access chain of the store `conn`; how many records it holds.
pub(super) fn check(
    conn: &Connection,
    findings: &mut Vec<Finding>,
) -> Result<usize, rusqlite::Error> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version < 4 {
        // A store from before the access chain (and from before anything wrote one).
        return Ok(0);
    }
    let mut stmt = conn
        .prepare("SELECT seq, alert_id, who, action, at_ms, json, hash FROM access ORDER BY seq")?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            [r.get::<_, String>(1)?, r.get(2)?, r.get(3)?],
            r.get::<_, i64>(4)?,
            r.get::<_, String>(5)?,
            r.get::<_, String>(6)?,
        ))
    })?;
    let mut found = |message: String| report_finding(findings, None, message);
    let mut expected_prev = GENESIS.to_string();
    let mut count = 0;
    let mut started_ms: Option<i64> = None;
    let mut acks: HashSet<(String, String, String)> = HashSet::new();
    let mut steps = super::handling::Steps::new();
    for row in rows {
        let (seq, [alert_id, who, action], at_ms, json, hash) = row?;
        count += 1;
        if sha256_hex(json.as_bytes()) != hash {
            found(format!(
                "access record {seq} modified (its hash does not match its content)"
            ));
        }
        let access: Access = match serde_json::from_str(&json) {
            Ok(a) => a,
            Err(e) => {
                found(format!("access record {seq} unreadable: {e}"));
                expected_prev = hash;
                continue;
            }
        };
        let columns_match = access.alert_id == alert_id
            && access.who == who
            && access.action.as_str() == action
            && access.at_ms == at_ms;
        if !columns_match {
            found(format!(
                "access record {seq}: its columns differ from the hashed record (edited in the table)"
            ));
        }
        if access.prev_hash != expected_prev {
            found(format!(
                "access chain broken before record {seq}: a record was deleted, inserted or reordered"
            ));
        }
        if count == 1 {
            if access.action == Action::Start {
                started_ms = Some(access.at_ms);
            } else {
                found("the access chain does not begin with its start record".into());
            }
        }
        if let Some(step) = crate::handling::Step::from_record(access.action, &access.detail) {
            steps.entry(access.alert_id.clone()).or_default().push((
                step,
                access.who.clone(),
                access.at_ms,
            ));
        }
        if access.action == Action::Ack {
            acks.insert((access.alert_id, access.who, access.detail));
        }
        expected_prev = hash;
    }
    if count == 0 {
        found("the access chain is empty: its start record was deleted".into());
    }
    let mut stmt = conn.prepare("SELECT alert_id, by, at_ms, comment FROM acks ORDER BY at_ms")?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, String>(3)?,
        ))
    })?;
    for row in rows {
        let (id, by, at_ms, comment) = row?;
        // Acknowledgements from before the chain began have no record in it.
        let chained = started_ms.is_some_and(|s| at_ms >= s);
        if chained && !acks.contains(&(id.clone(), by.clone(), comment)) {
            report_finding(
                findings,
                Some(&id),
                format!(
                    "acknowledgement by {by} is not in the access chain (written into the table)"
                ),
            );
        }
    }
    if version >= 5 {
        super::handling::check(conn, &steps, findings)?;
    }
    Ok(count)
}
