//! The store's acknowledgements — each with its record in the access chain — and the access
//! chain's appends and lists ([`crate::access`]).

use super::{Ack, AlertStore, now_ms};
use crate::access::{Access, AccessQuery, Accessor, Action};
use crate::{DeliverError, store_err};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

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
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        let exists: bool = tx
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM alerts WHERE id = ?1)",
                [id],
                |r| r.get(0),
            )
            .map_err(err)?;
        if !exists {
            return Ok(None);
        }
        let added = tx
            .execute(
                "INSERT OR IGNORE INTO acks (alert_id, by, at_ms, comment) VALUES (?1, ?2, ?3, ?4)",
                params![id, by.who, now_ms(), comment],
            )
            .map_err(err)?;
        if added == 1 {
            crate::access::append(&tx, by, Action::Ack, id, comment).map_err(err)?;
        }
        let ack = ack_in(&tx, id).map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(ack)
    }

    /// Appends `by`'s `action` on alert `id` to the access chain.
    pub fn record_access(
        &mut self,
        by: &Accessor,
        action: Action,
        id: &str,
    ) -> Result<(), DeliverError> {
        let err = store_err(&self.path);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        crate::access::append(&tx, by, action, id, "").map_err(err)?;
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
