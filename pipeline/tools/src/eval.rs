//! `vigil eval`: replays a config's footage and scores the alerts against labelled events.
//!
//! Labels (YAML):
//!
//! ```yaml
//! tolerance_secs: 2        # slack around each labelled interval (default 2)
//! events:
//!   - {camera: overhead, rule: vehicle_in_view, start: 5.1, end: 8.0}   # or kind: dwell
//! ```
//!
//! An alert matches a label of its camera and rule (or kind) when its interval — `started_pts`
//! to `ended_pts` (or the end of the footage) — overlaps the label's, widened by the tolerance;
//! each alert and each label is matched at most once, best overlap first. Per rule: true
//! positives, false positives, missed events, precision, recall, and timing (the alert's start
//! against the label's start, and the delay from the label's start to the alert being raised).

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use vigil_core::{Alert, AlertEvent};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Labels {
    #[serde(default = "default_tolerance")]
    pub tolerance_secs: f64,
    pub events: Vec<Label>,
    /// Alerts the guards closed as false alarms (`vigil labels export`): no event there; an
    /// alert raised over one again is counted apart, as a false alarm the rules still make.
    #[serde(default)]
    pub false_alarms: Vec<Label>,
}

fn default_tolerance() -> f64 {
    2.0
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Label {
    pub camera: String,
    #[serde(default)]
    pub rule: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
    pub start: f64,
    pub end: f64,
    /// Why a guard closed it as a false alarm (`false_alarms` entries).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

impl Labels {
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read labels {}", path.display()))?;
        let labels: Labels = serde_saphyr::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        for (i, l) in labels.events.iter().enumerate() {
            if l.rule.is_none() && l.kind.is_none() {
                anyhow::bail!(
                    "{}: event {} names neither rule nor kind",
                    path.display(),
                    i + 1
                );
            }
            if !(l.start.is_finite() && l.end.is_finite() && l.end >= l.start) {
                anyhow::bail!("{}: event {} ends before it starts", path.display(), i + 1);
            }
        }
        Ok(labels)
    }
}

/// An alert as scored: one per alert id, from its start and end records.
#[derive(Clone, Debug, Serialize)]
pub struct Scored {
    pub id: String,
    pub camera: String,
    pub rule: String,
    pub kind: String,
    pub started: f64,
    pub raised: f64,
    pub ended: Option<f64>,
}

/// The result for one rule (or kind) of one camera.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RuleScore {
    pub true_positives: usize,
    pub false_positives: usize,
    pub missed: usize,
    pub precision: Option<f64>,
    pub recall: Option<f64>,
    /// Mean |alert start − label start|, seconds, over matches.
    pub start_error_secs: Option<f64>,
    /// Mean (alert raised − label start), seconds, over matches.
    pub raise_delay_secs: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub tolerance_secs: f64,
    /// `camera/rule` → score.
    pub rules: BTreeMap<String, RuleScore>,
    pub matches: Vec<(Label, Scored)>,
    pub false_positives: Vec<Scored>,
    pub missed: Vec<Label>,
    /// How many false alarms the labels mark, and the alerts raised over them again.
    pub false_alarms_marked: usize,
    pub false_alarms_raised: Vec<(Label, Scored)>,
}

/// Folds stored records into one scored alert per id.
pub fn alerts_of(records: &[Alert]) -> Vec<Scored> {
    let mut out: Vec<Scored> = Vec::new();
    for r in records {
        match r.event {
            AlertEvent::Start => out.push(Scored {
                id: r.id.to_string(),
                camera: r.camera.to_string(),
                rule: r.rule.to_string(),
                kind: r.kind.as_str().to_string(),
                started: r.started_pts_secs,
                raised: r.raised_pts_secs,
                ended: None,
            }),
            AlertEvent::End => {
                if let Some(a) = out.iter_mut().find(|a| r.id == a.id.as_str()) {
                    a.ended = r.ended_pts_secs;
                }
            }
            _ => {}
        }
    }
    out
}

fn key(camera: &str, rule: &str) -> String {
    format!("{camera}/{rule}")
}

/// Scores `alerts` against `labels`; `footage_end` closes alerts that never ended.
pub fn score(labels: &Labels, alerts: &[Scored], footage_end: f64) -> Report {
    let tol = labels.tolerance_secs;
    let fits = |l: &Label, a: &Scored| {
        l.camera == a.camera
            && l.rule.as_ref().is_none_or(|r| *r == a.rule)
            && l.kind.as_ref().is_none_or(|k| *k == a.kind)
    };
    let overlap = |l: &Label, a: &Scored| {
        let (a0, a1) = (a.started, a.ended.unwrap_or(footage_end).max(a.raised));
        let (l0, l1) = (l.start - tol, l.end + tol);
        (a1.min(l1) - a0.max(l0)).max(-1.0)
    };
    // Every candidate pair, best overlap first; each side used once.
    let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
    for (li, l) in labels.events.iter().enumerate() {
        for (ai, a) in alerts.iter().enumerate() {
            let o = overlap(l, a);
            if fits(l, a) && o >= 0.0 {
                pairs.push((o, li, ai));
            }
        }
    }
    pairs.sort_by(|x, y| y.0.total_cmp(&x.0));
    let (mut label_used, mut alert_used) =
        (vec![false; labels.events.len()], vec![false; alerts.len()]);
    let mut matches = Vec::new();
    for (_, li, ai) in pairs {
        if !label_used[li] && !alert_used[ai] {
            label_used[li] = true;
            alert_used[ai] = true;
            matches.push((labels.events[li].clone(), alerts[ai].clone()));
        }
    }
    let false_positives: Vec<Scored> = alerts
        .iter()
        .zip(&alert_used)
        .filter(|(_, used)| !**used)
        .map(|(a, _)| a.clone())
        .collect();
    let missed: Vec<Label> = labels
        .events
        .iter()
        .zip(&label_used)
        .filter(|(_, used)| !**used)
        .map(|(l, _)| l.clone())
        .collect();

    let label_key = |l: &Label| {
        key(
            &l.camera,
            l.rule.as_deref().or(l.kind.as_deref()).unwrap_or("-"),
        )
    };
    let mut rules: BTreeMap<String, RuleScore> = BTreeMap::new();
    let mut errors: BTreeMap<String, (Vec<f64>, Vec<f64>)> = BTreeMap::new();
    for (l, a) in &matches {
        let k = label_key(l);
        rules.entry(k.clone()).or_default().true_positives += 1;
        let e = errors.entry(k).or_default();
        e.0.push((a.started - l.start).abs());
        e.1.push(a.raised - l.start);
    }
    for a in &false_positives {
        // Charged to the label key that would have named it: its rule.
        rules
            .entry(key(&a.camera, &a.rule))
            .or_default()
            .false_positives += 1;
    }
    for l in &missed {
        rules.entry(label_key(l)).or_default().missed += 1;
    }
    let mean = |v: &[f64]| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
    for (k, s) in rules.iter_mut() {
        let tp = s.true_positives as f64;
        s.precision = (s.true_positives + s.false_positives > 0)
            .then(|| tp / (s.true_positives + s.false_positives) as f64);
        s.recall =
            (s.true_positives + s.missed > 0).then(|| tp / (s.true_positives + s.missed) as f64);
        if let Some((start, delay)) = errors.get(k) {
            s.start_error_secs = mean(start);
            s.raise_delay_secs = mean(delay);
        }
    }
    // A marked false alarm is raised again by an unmatched alert that fits it as a label would.
    let false_alarms_raised = labels
        .false_alarms
        .iter()
        .filter_map(|f| {
            false_positives
                .iter()
                .find(|a| fits(f, a) && overlap(f, a) >= 0.0)
                .map(|a| (f.clone(), a.clone()))
        })
        .collect();
    Report {
        tolerance_secs: tol,
        rules,
        matches,
        false_positives,
        missed,
        false_alarms_marked: labels.false_alarms.len(),
        false_alarms_raised,
    }
}

/// The table `vigil eval` prints.
pub fn table(report: &Report) -> String {
    let pct = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{:.0} %", v * 100.0));
    let secs = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.2}"));
    let mut out = String::from(
        "camera/rule                      TP  FP  missed  precision  recall  start err s  raise delay s\n",
    );
    for (k, s) in &report.rules {
        out.push_str(&format!(
            "{k:<32} {:>2}  {:>2}  {:>6}  {:>9}  {:>6}  {:>11}  {:>13}\n",
            s.true_positives,
            s.false_positives,
            s.missed,
            pct(s.precision),
            pct(s.recall),
            secs(s.start_error_secs),
            secs(s.raise_delay_secs)
        ));
    }
    if report.false_alarms_marked > 0 {
        out.push_str(&format!(
            "false alarms marked by guards: {}, raised again: {}\n",
            report.false_alarms_marked,
            report.false_alarms_raised.len()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(start: f64, end: f64) -> Label {
        Label {
            camera: "c".into(),
            rule: Some("r".into()),
            kind: None,
            start,
            end,
            reason: String::new(),
        }
    }

    fn alert(id: &str, started: f64, ended: Option<f64>) -> Scored {
        Scored {
            id: id.into(),
            camera: "c".into(),
            rule: "r".into(),
            kind: "dwell".into(),
            started,
            raised: started + 1.0,
            ended,
        }
    }

    #[test]
    fn overlapping_alerts_match_labels_once_and_the_rest_count_against() {
        let labels = Labels {
            tolerance_secs: 1.0,
            events: vec![label(5.0, 8.0), label(15.0, 19.0), label(25.0, 27.0)],
            // d's place was closed as a false alarm before: raised again; 50 s is quiet now.
            false_alarms: [(39.0, 40.5), (50.0, 52.0)]
                .map(|(start, end)| Label {
                    reason: "树影".into(),
                    ..label(start, end)
                })
                .to_vec(),
        };
        let alerts = vec![
            alert("a", 5.5, Some(8.2)),   // matches the first
            alert("b", 6.0, Some(7.0)),   // a second alert for the same event: false positive
            alert("c", 15.2, None),       // open until the end of the footage: matches
            alert("d", 40.0, Some(41.0)), // nothing there
        ];
        let r = score(&labels, &alerts, 30.0);
        let s = &r.rules["c/r"];
        assert_eq!((s.true_positives, s.false_positives, s.missed), (2, 2, 1));
        assert_eq!(s.precision, Some(0.5));
        assert!((s.recall.unwrap() - 2.0 / 3.0).abs() < 1e-9);
        assert!((s.start_error_secs.unwrap() - 0.35).abs() < 1e-9);
        assert_eq!(r.missed[0].start, 25.0);
        assert!(table(&r).contains("c/r"));
        assert_eq!(r.false_alarms_marked, 2);
        let again: Vec<&str> = r
            .false_alarms_raised
            .iter()
            .map(|(_, a)| a.id.as_str())
            .collect();
        assert_eq!(again, ["d"]);
        assert!(table(&r).contains("false alarms marked by guards: 2, raised again: 1"));
    }
}
