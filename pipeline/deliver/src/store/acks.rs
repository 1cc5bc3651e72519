//! The store's acknowledgements and handling steps — each with its record in the access chain —
//! and the access chain's appends and lists ([`crate::access`], [`crate::handling`]).

use super::{Ack, AlertStore, now_ms};
use crate::access::{Access, AccessQuery, Accessor, Action};
use crate::handling::{Handling, State, Step};
use crate::{DeliverError, store_err};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

impl AlertStore {
    /// Records that `by` acknowledged alert `id` (through no request: [`Self::acknowledge_as`]).
    pub fn acknowledge(
        &mut self,
        id: &str,
        by: &str,
        comment: &str,
    ) -> Result<Option<Ack>, DeliverError> {
        let who = Accessor {
            who: by.to_string(),
            role: "operator".into(),
            from: String::new(),
        };
        self.acknowledge_as(id, &who, comment)
    }

    /// Records that `by` acknowledged alert `id`, with its record in the access chain, in one
    /// transaction. The first acknowledgement stands: a second one returns the first unchanged
    /// (and records nothing). `None` when no such alert exists.
    pub fn acknowledge_as(
        &mut self,
        id: &str,
        by: &Accessor,
        comment: &str,
    ) -> Result<Option<Ack>, DeliverError> {
        let err = store_err(&self.path);
        let tx = immediate(&mut self.conn).map_err(err)?;
        if !alert_exists(&tx, id).map_err(err)? {
            return Ok(None);
        }
        ack_once(&tx, id, by, comment, now_ms()).map_err(err)?;
        let ack = ack_in(&tx, id).map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(ack)
    }

    /// Takes `step` in alert `id`'s handling as `by`: the step's record in the access chain, the
    /// `handling` row, and — when nobody had acknowledged the alert — an acknowledgement with
    /// its record, in one transaction. `None` when no such alert exists; the inner error says
    /// why the step does not fit where the handling stands (nothing is written then).
    #[allow(clippy::type_complexity)]
    pub fn handle_as(
        &mut self,
        id: &str,
        by: &Accessor,
        step: &Step,
    ) -> Result<Option<Result<(Handling, Option<Ack>), String>>, DeliverError> {
        let err = store_err(&self.path);
        let tx = immediate(&mut self.conn).map_err(err)?;
        if !alert_exists(&tx, id).map_err(err)? {
            return Ok(None);
        }
        let now = handling_in(&tx, id).map_err(err)?.unwrap_or_default();
        // One time for the step's record and the row, so `vigil verify` replays it exactly.
        let at_ms = now_ms();
        let next = match now.apply(step, &by.who, at_ms) {
            Ok(next) => next,
            Err(why) => return Ok(Some(Err(why))),
        };
        let mut acked = None;
        if !matches!(step, Step::Comment { .. })
            && ack_once(&tx, id, by, step.detail(), at_ms).map_err(err)?
        {
            acked = ack_in(&tx, id).map_err(err)?;
        }
        crate::access::append_at(&tx, by, step.action(), id, step.detail(), at_ms).map_err(err)?;
        tx.execute(
            "INSERT OR REPLACE INTO handling (alert_id, state, assignee, false_alarm, updated_ms, done_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                id,
                next.state.as_str(),
                next.assignee,
                next.false_alarm,
                next.updated_ms,
                next.done_ms
            ],
        )
        .map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(Some(Ok((next, acked))))
    }

    /// Where alert `id`'s handling stands; `None`: nobody has taken a step (pending).
    pub fn handling(&self, id: &str) -> Result<Option<Handling>, DeliverError> {
        handling_in(&self.conn, id).map_err(self.err())
    }

    /// Appends `by`'s `action` on alert `id` to the access chain.
    pub fn record_access(
        &mut self,
        by: &Accessor,
        action: Action,
        id: &str,
    ) -> Result<(), DeliverError> {
        self.append_access(by, action, id, "")
    }

    /// Appends `by`'s `action` on no alert (a report exported, a live view, a zone edit:
    /// `detail` says what) to the access chain.
    pub fn record_event(
        &mut self,
        by: &Accessor,
        action: Action,
        detail: &str,
    ) -> Result<(), DeliverError> {
        self.append_access(by, action, "", detail)
    }

    /// One access record, in a transaction of its own.
    fn append_access(
        &mut self,
        by: &Accessor,
        action: Action,
        id: &str,
        detail: &str,
    ) -> Result<(), DeliverError> {
        let err = store_err(&self.path);
        let tx = immediate(&mut self.conn).map_err(err)?;
        crate::access::append(&tx, by, action, id, detail).map_err(err)?;
        tx.commit().map_err(err)
    }

    /// The access records `q` selects, oldest first.
    pub fn accesses(&self, q: &AccessQuery) -> Result<Vec<Access>, DeliverError> {
        crate::access::list(&self.conn, q)
    }

    /// The acknowledgement of alert `id`, if any.
    pub fn ack(&self, id: &str) -> Result<Option<Ack>, DeliverError> {
        ack_in(&self.conn, id).map_err(self.err())
    }

    /// Up to `limit` acknowledgements not yet in the shared store, oldest first.
    pub fn unshared_acks(&self, limit: usize) -> Result<Vec<(String, Ack)>, DeliverError> {
        let err = self.err();
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT alert_id, by, at_ms, comment FROM acks WHERE shared_ms IS NULL
                 ORDER BY at_ms LIMIT ?1",
            )
            .map_err(&err)?;
        let rows = stmt
            .query_map([limit as i64], |r| {
                Ok((
                    r.get(0)?,
                    Ack {
                        by: r.get(1)?,
                        at_ms: r.get(2)?,
                        comment: r.get(3)?,
                    },
                ))
            })
            .map_err(&err)?;
        rows.collect::<Result<_, _>>().map_err(&err)
    }

    /// The acknowledgements of `ids` reached the shared store.
    pub fn acks_shared(&mut self, ids: &[String]) -> Result<(), DeliverError> {
        let err = store_err(&self.path);
        let tx = self.conn.transaction().map_err(err)?;
        for id in ids {
            tx.execute(
                "UPDATE acks SET shared_ms = ?2 WHERE alert_id = ?1",
                params![id, now_ms()],
            )
            .map_err(err)?;
        }
        tx.commit().map_err(err)
    }

    /// The ids of every acknowledged alert, in one query.
    pub fn acknowledged_ids(&self) -> Result<std::collections::HashSet<String>, DeliverError> {
        let err = self.err();
        let mut stmt = self
            .conn
            .prepare_cached("SELECT alert_id FROM acks")
            .map_err(&err)?;
        let ids = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(&err)?
            .collect::<Result<_, _>>()
            .map_err(&err)?;
        Ok(ids)
    }
}

/// A write transaction that holds the store's lock from its start (no upgrade deadlock).
fn immediate(conn: &mut Connection) -> rusqlite::Result<Transaction<'_>> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
}

/// `by` acknowledges alert `id` unless someone already has: the row and its access record.
/// Whether this was the first acknowledgement.
fn ack_once(
    tx: &Transaction<'_>,
    id: &str,
    by: &Accessor,
    comment: &str,
    at_ms: i64,
) -> rusqlite::Result<bool> {
    let added = tx.execute(
        "INSERT OR IGNORE INTO acks (alert_id, by, at_ms, comment) VALUES (?1, ?2, ?3, ?4)",
        params![id, by.who, at_ms, comment],
    )?;
    if added == 1 {
        crate::access::append_at(tx, by, Action::Ack, id, comment, at_ms)?;
    }
    Ok(added == 1)
}

fn alert_exists(conn: &Connection, id: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM alerts WHERE id = ?1)",
        [id],
        |r| r.get(0),
    )
}

pub(crate) fn handling_in(conn: &Connection, id: &str) -> rusqlite::Result<Option<Handling>> {
    conn.query_row(
        "SELECT state, assignee, false_alarm, updated_ms, done_ms FROM handling WHERE alert_id = ?1",
        [id],
        |r| {
            Ok(Handling {
                state: State::parse(&r.get::<_, String>(0)?).unwrap_or_default(),
                assignee: r.get(1)?,
                false_alarm: r.get(2)?,
                updated_ms: r.get(3)?,
                done_ms: r.get(4)?,
            })
        },
    )
    .optional()
}

fn ack_in(conn: &Connection, id: &str) -> rusqlite::Result<Option<Ack>> {
    conn.query_row(
        "SELECT by, at_ms, comment FROM acks WHERE alert_id = ?1",
        [id],
        |r| {
            Ok(Ack {
                by: r.get(0)?,
                at_ms: r.get(1)?,
                comment: r.get(2)?,
            })
        },
    )
    .optional()
}
