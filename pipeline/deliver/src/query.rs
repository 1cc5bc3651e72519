//! Reading alerts back as people see them: one [`AlertView`] per alert, folding its lifecycle
//! records (start, evidence, end, expired) and its acknowledgement together, and listing them
//! newest first with filters and a cursor ([`AlertQuery`]).

use crate::store::{Ack, AlertStore};
use crate::{DeliverError, store_err};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use vigil_core::{Alert, AlertEvent, AlertKind, CameraId};

/// An alert with everything known about it so far.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AlertView {
    /// Position in the store: the list's cursor (`before`).
    pub seq: i64,
    /// The start record, with `ended_pts_secs` from the end record, `evidence` from the latest
    /// evidence or expiry record, and `event` the latest lifecycle event.
    pub alert: Alert,
    pub ended: bool,
    /// The clip and snapshots of a long alert's end (`end_evidence`), once written.
    pub end_evidence: Option<vigil_core::Evidence>,
    pub ack: Option<Ack>,
    /// Where its handling stands; none: nobody has taken a step (待处理).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handling: Option<crate::handling::Handling>,
}

impl AlertView {
    /// Folds an alert's records (oldest first, the start record among them).
    pub fn fold(seq: i64, records: Vec<Alert>, ack: Option<Ack>) -> Option<Self> {
        let mut alert = records
            .iter()
            .find(|r| r.event == AlertEvent::Start)?
            .clone();
        alert.prev_hash = None;
        // A fall is over when it is raised.
        let mut ended = alert.kind.is_instant();
        let mut end_evidence = None;
        for r in &records {
            match r.event {
                AlertEvent::Start => {}
                AlertEvent::Update => {
                    // Where the object is now.
                    alert.objects = r.objects.clone();
                }
                AlertEvent::End => {
                    ended = true;
                    alert.ended_pts_secs = r.ended_pts_secs;
                }
                AlertEvent::Evidence | AlertEvent::Expired => alert.evidence = r.evidence.clone(),
                AlertEvent::EndEvidence | AlertEvent::EndExpired => {
                    end_evidence = Some(r.evidence.clone())
                }
            }
            alert.event = r.event;
        }
        Some(Self {
            seq,
            alert,
            ended,
            end_evidence,
            ack,
            handling: None,
        })
    }
}

/// Which alerts to list: every field left `None` matches all.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AlertQuery {
    pub camera: Option<CameraId>,
    pub kind: Option<AlertKind>,
    /// Raised at or after this wall time (RFC 3339, UTC, as stored: `2026-11-28T12:00:00.000Z`).
    pub since: Option<String>,
    /// Raised before this wall time.
    pub until: Option<String>,
    pub acknowledged: Option<bool>,
    /// Only alerts older than this cursor (a previous page's last `seq`).
    pub before: Option<i64>,
    pub limit: usize,
    /// Only these cameras: names or `*` patterns (a caller's scope); none: every camera.
    pub cameras: Option<Vec<String>>,
    /// Only alerts whose handling is `pending`, `in_progress`, `done` or `false_alarm` (done as
    /// a false alarm); this box's store only ([`crate::handling::FILTERS`]).
    pub handling: Option<String>,
}

impl AlertStore {
    /// Alerts matching `q`, newest first.
    pub fn list(&self, q: &AlertQuery) -> Result<Vec<AlertView>, DeliverError> {
        let err = store_err(self.path());
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT a.seq, a.id FROM alerts a LEFT JOIN acks k ON k.alert_id = a.id
                 LEFT JOIN handling h ON h.alert_id = a.id
                 WHERE a.event = 'start'
                   AND (?1 IS NULL OR a.camera = ?1)
                   AND (?2 IS NULL OR a.kind = ?2)
                   AND (?3 IS NULL OR a.wall_time >= ?3)
                   AND (?4 IS NULL OR a.wall_time < ?4)
                   AND (?5 IS NULL OR (k.alert_id IS NOT NULL) = ?5)
                   AND (?6 IS NULL OR a.seq < ?6)
                   AND (?8 IS NULL OR EXISTS
                        (SELECT 1 FROM json_each(?8) p WHERE a.camera GLOB p.value))
                   AND (?9 IS NULL
                        OR (?9 = 'false_alarm' AND h.false_alarm IS NOT NULL)
                        OR (?9 <> 'false_alarm' AND COALESCE(h.state, 'pending') = ?9))
                 ORDER BY a.seq DESC LIMIT ?7",
            )
            .map_err(err)?;
        let ids: Vec<(i64, String)> = stmt
            .query_map(
                params![
                    q.camera.as_ref().map(|c| c.as_str()),
                    q.kind.map(|k| k.as_str()),
                    q.since,
                    q.until,
                    q.acknowledged,
                    q.before,
                    q.limit.clamp(1, 500) as i64,
                    q.cameras
                        .as_ref()
                        .map(|c| serde_json::to_string(c).expect("strings serialise")),
                    q.handling,
                ],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(err)?
            .collect::<Result<_, _>>()
            .map_err(err)?;
        let mut out = Vec::with_capacity(ids.len());
        for (seq, id) in ids {
            if let Some(mut v) = AlertView::fold(seq, self.records_of(&id)?, self.ack(&id)?) {
                v.handling = self.handling(&id)?;
                out.push(v);
            }
        }
        Ok(out)
    }

    /// One alert, if it exists.
    pub fn view(&self, id: &str) -> Result<Option<AlertView>, DeliverError> {
        let seq: Option<i64> = self
            .conn
            .query_row(
                "SELECT seq FROM alerts WHERE id = ?1 AND event = 'start'",
                [id],
                |r| r.get(0),
            )
            .optional()
            .map_err(store_err(self.path()))?;
        let Some(seq) = seq else {
            return Ok(None);
        };
        let handling = self.handling(id)?;
        Ok(AlertView::fold(seq, self.records_of(id)?, self.ack(id)?)
            .map(|v| AlertView { handling, ..v }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_alert;

    fn alert(id: &str, camera: &str, wall: &str) -> Alert {
        let mut a = test_alert(id);
        a.camera = CameraId::new(camera);
        a.wall_time = wall.into();
        a
    }

    #[test]
    fn views_fold_the_lifecycle_and_lists_filter_and_page() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = AlertStore::open(&dir.path().join("alerts.db")).unwrap();
        s.insert(&alert("a", "gate", "2026-11-28T10:00:00.000Z"))
            .unwrap();
        s.insert(&alert("b", "lot", "2026-11-28T11:00:00.000Z"))
            .unwrap();
        s.insert(&alert("c", "gate", "2026-11-28T12:00:00.000Z"))
            .unwrap();
        let mut end = alert("a", "gate", "2026-11-28T10:05:00.000Z");
        end.event = AlertEvent::End;
        end.ended_pts_secs = Some(9.0);
        s.insert(&end).unwrap();
        let mut ev = alert("a", "gate", "2026-11-28T10:00:00.000Z");
        ev.event = AlertEvent::Evidence;
        ev.evidence.error = Some("disk full".into());
        s.insert(&ev).unwrap();
        s.acknowledge("b", "guard", "ok").unwrap();
        assert_eq!(
            s.acknowledged_ids().unwrap(),
            std::collections::HashSet::from(["b".to_string()])
        );

        let a = s.view("a").unwrap().unwrap();
        assert!(a.ended);

        assert_eq!(a.alert.ended_pts_secs, Some(9.0));
        assert_eq!(a.alert.evidence.error.as_deref(), Some("disk full"));
        assert_eq!(a.alert.event, AlertEvent::Evidence);
        assert_eq!(
            a.alert.wall_time, "2026-11-28T10:00:00.000Z",
            "the start's time"
        );
        assert!(s.view("nope").unwrap().is_none());
        assert!(!s.view("b").unwrap().unwrap().ended, "no end yet");

        let ids = |q: AlertQuery| -> Vec<String> {
            s.list(&AlertQuery { limit: 10, ..q })
                .unwrap()
                .into_iter()
                .map(|v| v.alert.id.to_string())
                .collect()
        };
        assert_eq!(ids(AlertQuery::default()), ["c", "b", "a"]);
        let gate = AlertQuery {
            camera: Some(CameraId::new("gate")),
            ..Default::default()
        };
        assert_eq!(ids(gate.clone()), ["c", "a"]);
        assert_eq!(
            ids(AlertQuery {
                acknowledged: Some(true),
                ..Default::default()
            }),
            ["b"]
        );
        assert_eq!(
            ids(AlertQuery {
                acknowledged: Some(false),
                ..gate.clone()
            }),
            ["c", "a"]
        );
        assert_eq!(
            ids(AlertQuery {
                since: Some("2026-11-28T10:30:00.000Z".into()),
                until: Some("2026-11-28T12:00:00.000Z".into()),
                ..Default::default()
            }),
            ["b"]
        );
        // Paging: one at a time, by cursor.
        let first = s
            .list(&AlertQuery {
                limit: 1,
                ..Default::default()
            })
            .unwrap();
        let second = s
            .list(&AlertQuery {
                limit: 1,
                before: Some(first[0].seq),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(
            (first[0].alert.id.as_str(), second[0].alert.id.as_str()),
            ("c", "b")
        );
    }

    #[test]
    fn a_fall_is_over_once_raised() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = AlertStore::open(&dir.path().join("alerts.db")).unwrap();
        let mut fall = alert("f", "tower", "2026-11-28T13:00:00.000Z");
        fall.kind = vigil_core::AlertKind::FallingObject;
        s.insert(&fall).unwrap();
        assert!(
            s.view("f").unwrap().unwrap().ended,
            "no end record follows a fall"
        );
    }
}
