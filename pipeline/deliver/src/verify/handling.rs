//! The handling part of `vigil verify` ([`crate::handling`]): each alert's row in `handling` must
//! be what the access chain's steps for it make of it, replayed in order — a row edited, written
//! without its steps, or deleted while its steps remain is found.

use super::{Finding, report_finding};
use crate::handling::{Handling, Step};
use crate::store::acks::handling_in;
use rusqlite::Connection;
use std::collections::{BTreeMap, BTreeSet};

/// Per alert, its steps in chain order: (step, who, at_ms).
pub(super) type Steps = BTreeMap<String, Vec<(Step, String, i64)>>;

pub(super) fn check(
    conn: &Connection,
    steps: &Steps,
    findings: &mut Vec<Finding>,
) -> Result<(), rusqlite::Error> {
    let mut stmt = conn.prepare("SELECT alert_id FROM handling")?;
    let rows: BTreeSet<String> = stmt
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for id in rows.iter().chain(steps.keys()).collect::<BTreeSet<_>>() {
        let stored = handling_in(conn, id)?;
        let replayed = steps.get(id).map(|list| {
            list.iter().fold(Handling::default(), |h, (step, who, at)| {
                // A refused step is never recorded: one that does not apply is a finding below.
                h.apply(step, who, *at).unwrap_or(h)
            })
        });
        let why = match (&stored, &replayed) {
            (Some(_), None) => {
                "handling row without its steps in the access chain (written into the table)"
            }
            (None, Some(_)) => "handling steps in the access chain but no handling row (deleted)",
            (Some(s), Some(r)) if s != r => {
                "handling row differs from what its steps in the access chain make of it (edited)"
            }
            _ => continue,
        };
        report_finding(findings, Some(id), why.to_string());
    }
    Ok(())
}
