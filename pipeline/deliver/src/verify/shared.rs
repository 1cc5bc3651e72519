//! `vigil verify --shared`: the shared store's copy of one instance's records against its store.

use super::{Finding, report_finding};
use crate::{DeliverError, store_err};
use rusqlite::{Connection, OpenFlags};
use std::collections::BTreeSet;
use std::path::Path;

/// How the shared store's copy of one instance's records compares with its store.
#[derive(Debug, Default)]
pub struct SharedCheck {
    /// Shared records compared with the instance's own.
    pub compared: usize,
    /// Records still waiting in the instance's outbox for the shared store.
    pub pending: usize,
    pub findings: Vec<Finding>,
}

/// Compares `shared` — what the shared store holds under this instance's name — with the
/// store in `dir` (whose chain [`verify`] checks): every shared record must be byte for byte one
/// of the instance's own, and every record the instance's outbox delivered there must still be
/// there. Records still pending are counted, not reported.
pub fn against_shared(
    dir: &Path,
    shared: &[crate::shared::SharedRecord],
) -> Result<SharedCheck, DeliverError> {
    let db = dir.join("alerts.db");
    let p = db.display().to_string();
    let err = store_err(&p);
    let conn = Connection::open_with_flags(&db, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(err)?;
    let own: std::collections::HashMap<(String, String), String> = conn
        .prepare("SELECT id, event, json FROM alerts")
        .and_then(|mut s| {
            s.query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))?
                .collect()
        })
        .map_err(err)?;
    let keys = |table: &str| -> Result<BTreeSet<(String, String)>, DeliverError> {
        conn.prepare(&format!(
            "SELECT a.id, a.event FROM {table} t JOIN alerts a ON a.seq = t.alert_seq
             WHERE t.sink = ?1"
        ))
        .and_then(|mut s| {
            s.query_map([crate::shared::SINK], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect()
        })
        .map_err(err)
    };
    let delivered = keys("deliveries")?;
    let pending = keys("outbox")?;
    let mut check = SharedCheck {
        compared: shared.len(),
        pending: pending.len(),
        ..Default::default()
    };
    let mut seen = BTreeSet::new();
    for s in shared {
        let key = (s.alert_id.clone(), s.event.clone());
        match own.get(&key) {
            None => report_finding(
                &mut check.findings,
                Some(&s.alert_id),
                format!(
                    "{} record in the shared store that this instance never stored",
                    s.event
                ),
            ),
            Some(json) if *json != s.record => report_finding(
                &mut check.findings,
                Some(&s.alert_id),
                format!(
                    "{} record in the shared store differs from this instance's",
                    s.event
                ),
            ),
            Some(_) => {}
        }
        seen.insert(key);
    }
    for (id, event) in delivered.difference(&seen) {
        report_finding(
            &mut check.findings,
            Some(id),
            format!("{event} record delivered to the shared store is missing there"),
        );
    }
    Ok(check)
}
