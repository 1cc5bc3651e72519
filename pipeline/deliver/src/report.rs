//! The handling report: per day or month (Beijing time), camera and kind — how many alerts, how
//! many acknowledged, done and closed as false alarms, and the median minutes from the alert to
//! its acknowledgement and to done. Written as CSV (UTF-8 with a byte-order mark, so Excel reads
//! the Chinese headers) or XLSX ([`xlsx`]).

pub mod xlsx;

use crate::{AlertStore, DeliverError, store_err};
use rusqlite::params;
use std::collections::BTreeMap;

/// How rows are grouped in time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Period {
    Day,
    Month,
}

impl Period {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "day" => Some(Period::Day),
            "month" => Some(Period::Month),
            _ => None,
        }
    }
}

/// One row of the report.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Row {
    /// `2026-12-03` or `2026-12`.
    pub period: String,
    pub camera: String,
    pub kind: String,
    pub alerts: u64,
    pub acknowledged: u64,
    pub done: u64,
    pub false_alarms: u64,
    /// Median minutes from the alert to its acknowledgement; none when nothing was.
    pub median_minutes_to_ack: Option<f64>,
    /// Median minutes from the alert to done.
    pub median_minutes_to_done: Option<f64>,
}

/// The column headers, as the sites' staff read them.
pub const HEADERS: [&str; 9] = [
    "日期",
    "摄像头",
    "告警类型",
    "告警数",
    "已确认",
    "已办结",
    "误报",
    "确认用时中位数（分钟）",
    "办结用时中位数（分钟）",
];

impl Row {
    /// The row's cells, in [`HEADERS`]' order.
    pub fn cells(&self) -> [String; 9] {
        let minutes = |m: Option<f64>| m.map_or(String::new(), |m| format!("{m:.1}"));
        [
            self.period.clone(),
            self.camera.clone(),
            self.kind.clone(),
            self.alerts.to_string(),
            self.acknowledged.to_string(),
            self.done.to_string(),
            self.false_alarms.to_string(),
            minutes(self.median_minutes_to_ack),
            minutes(self.median_minutes_to_done),
        ]
    }
}

impl AlertStore {
    /// The report of alerts raised in `[since, until)` (RFC 3339 wall times) on the cameras
    /// `sees` lets through, grouped by `period`, camera and kind.
    pub fn report(
        &self,
        since: &str,
        until: &str,
        period: Period,
        sees: impl Fn(&str) -> bool,
    ) -> Result<Vec<Row>, DeliverError> {
        let err = store_err(self.path());
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT a.camera, a.kind, a.wall_time, k.at_ms, h.state, h.false_alarm, h.done_ms
                 FROM alerts a LEFT JOIN acks k ON k.alert_id = a.id
                 LEFT JOIN handling h ON h.alert_id = a.id
                 WHERE a.event = 'start' AND a.wall_time >= ?1 AND a.wall_time < ?2",
            )
            .map_err(err)?;
        type Raw = (
            String,
            String,
            String,
            Option<i64>,
            Option<String>,
            Option<String>,
            Option<i64>,
        );
        let raw: Vec<Raw> = stmt
            .query_map(params![since, until], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                ))
            })
            .map_err(err)?
            .collect::<Result<_, _>>()
            .map_err(err)?;
        // (period, camera, kind) → the row, minutes to acknowledge, minutes to done.
        type Group = (Row, Vec<f64>, Vec<f64>);
        let mut groups: BTreeMap<(String, String, String), Group> = BTreeMap::new();
        for (camera, kind, wall, acked_ms, state, false_alarm, done_ms) in raw {
            if !sees(&camera) {
                continue;
            }
            let local = vigil_core::time::beijing(&wall);
            let key = match period {
                Period::Day => local.get(..10),
                Period::Month => local.get(..7),
            }
            .unwrap_or(&local)
            .to_string();
            let raised_ms = vigil_core::time::parse_rfc3339(&wall)
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_millis() as i64);
            let (row, to_ack, to_done) = groups
                .entry((key.clone(), camera.clone(), kind.clone()))
                .or_insert_with(|| {
                    let row = Row {
                        period: key,
                        camera,
                        kind,
                        ..Row::default()
                    };
                    (row, Vec::new(), Vec::new())
                });
            row.alerts += 1;
            let minutes = |at: i64| raised_ms.map(|r| (at - r).max(0) as f64 / 60_000.0);
            if let Some(at) = acked_ms {
                row.acknowledged += 1;
                to_ack.extend(minutes(at));
            }
            if state.as_deref() == Some("done") {
                row.done += 1;
                row.false_alarms += u64::from(false_alarm.is_some());
                to_done.extend(done_ms.and_then(minutes));
            }
        }
        Ok(groups
            .into_values()
            .map(|(mut row, mut to_ack, mut to_done)| {
                row.median_minutes_to_ack = median(&mut to_ack);
                row.median_minutes_to_done = median(&mut to_done);
                row
            })
            .collect())
    }
}

fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// The report as CSV: a byte-order mark, [`HEADERS`], then the rows (fields quoted where
/// needed).
pub fn csv(rows: &[Row]) -> String {
    let field = |s: &str| {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    let mut out = String::from("\u{feff}");
    out.push_str(&HEADERS.join(","));
    out.push_str("\r\n");
    for r in rows {
        let cells: Vec<String> = r.cells().iter().map(|c| field(c)).collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_of_odd_and_even_counts() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), Some(2.5));
    }

    #[test]
    fn csv_quotes_what_needs_it() {
        let row = Row {
            period: "2026-12-03".into(),
            camera: "gate,2".into(),
            kind: "dwell".into(),
            alerts: 2,
            median_minutes_to_ack: Some(1.25),
            ..Row::default()
        };
        let text = csv(&[row]);
        assert!(text.starts_with("\u{feff}日期,摄像头,"));
        assert!(
            text.ends_with("2026-12-03,\"gate,2\",dwell,2,0,0,0,1.2,\r\n"),
            "{text}"
        );
    }
}
