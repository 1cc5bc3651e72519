//! One alert per car when a `dwell` rule and a `lane_obstructed` rule watch the same zone.
//!
//! The detector's track of a parked car raises the `dwell` alert, and the static-object detector
//! sees the same car standing in the lane and raises `lane_obstructed`: two alerts for one car, two
//! people sent to look. [`OneAlert`] sits after both engines of a camera and makes them one:
//!
//! - the first `start` about an object goes out; a later `start` of a partner rule (same camera,
//!   same zone, the other kind) whose object overlaps it joins it and raises nothing;
//! - the first `update` of any member (a rule's `update_after`) goes out as the alert's one
//!   `update` (an alert has at most one: the store keeps one record per alert and event), with
//!   every member's objects;
//! - the alert ends when every member has ended, at the latest member's end (the detector may
//!   lose a parked car at night while the lane is still blocked, or the static object may be
//!   gone a second before the track leaves the zone), with every member's objects as last seen
//!   (the detector's box names what the static object is).
//!
//! Alerts of rules without a partner pass through untouched.

use std::collections::HashMap;
use std::time::Duration;
use vigil_core::{Alert, AlertEvent, AlertId, AlertObject, BBoxPx, FrameMeta, RuleId};
use vigil_spec::lane::LaneRule;
use vigil_spec::rule::{Rule, RuleKind};

/// Two objects are the same when this share of the smaller box lies inside the other: the
/// static object's outline is often part of the car (its roof, where the ground differs most),
/// and the detector's box includes the car's surroundings.
const SAME_OBJECT: f32 = 0.5;

/// Merges the alerts of partner rules about the same object (module docs).
#[derive(Default)]
pub struct OneAlert {
    /// Each rule that has partners → them.
    partners: HashMap<RuleId, Vec<RuleId>>,
    open: Vec<Merged>,
}

/// An alert that went out and the members that make it up.
struct Merged {
    /// Its `start` record.
    first: Alert,
    members: Vec<Member>,
    /// Whether its `update` went out.
    updated: bool,
}

struct Member {
    rule: RuleId,
    id: AlertId,
    /// Its objects as last reported.
    objects: Vec<AlertObject>,
    /// Its end (stream seconds), once it has ended.
    ended: Option<f64>,
}

impl Merged {
    fn objects(&self) -> Vec<AlertObject> {
        self.members
            .iter()
            .flat_map(|m| m.objects.iter().cloned())
            .collect()
    }
}

impl OneAlert {
    /// Partners: each `dwell` rule and each lane rule of the same camera and zone.
    pub fn new(rules: &[Rule], lanes: &[LaneRule]) -> Self {
        let mut out = Self::default();
        out.set_rules(rules, lanes);
        out
    }

    /// Whether any rules are partners (else the camera needs no merging).
    pub fn has_partners(&self) -> bool {
        !self.partners.is_empty()
    }

    /// New partners after the rules were edited; alerts already merged stay merged.
    pub fn set_rules(&mut self, rules: &[Rule], lanes: &[LaneRule]) {
        self.partners.clear();
        for r in rules.iter().filter(|r| r.kind == RuleKind::Dwell) {
            for l in lanes
                .iter()
                .filter(|l| l.camera == r.camera && l.zone == r.zone)
            {
                self.partners
                    .entry(r.id.clone())
                    .or_default()
                    .push(l.id.clone());
                self.partners
                    .entry(l.id.clone())
                    .or_default()
                    .push(r.id.clone());
            }
        }
    }

    /// One frame's alert records of the camera's engines, merged.
    pub fn pass(&mut self, meta: &FrameMeta, alerts: Vec<Alert>) -> Vec<Alert> {
        let mut out = Vec::with_capacity(alerts.len());
        for a in alerts {
            // (The first alert is its own first member.)
            let member = self
                .open
                .iter()
                .position(|m| m.members.iter().any(|member| member.id == a.id));
            match (a.event, member) {
                (AlertEvent::Start, _) => out.extend(self.start(a)),
                (AlertEvent::Update, Some(i)) => {
                    let merged = &mut self.open[i];
                    if let Some(m) = merged.members.iter_mut().find(|m| m.id == a.id) {
                        m.objects = a.objects;
                    }
                    if !merged.updated {
                        merged.updated = true;
                        out.push(merged.first.update(meta, merged.objects()));
                    }
                }
                (AlertEvent::End, Some(i)) => {
                    let merged = &mut self.open[i];
                    let ended = a.ended_pts_secs.unwrap_or(a.raised_pts_secs);
                    if let Some(m) = merged.members.iter_mut().find(|m| m.id == a.id) {
                        m.objects = a.objects;
                        m.ended = Some(ended);
                    }
                    if merged.members.iter().all(|m| m.ended.is_some()) {
                        let merged = self.open.swap_remove(i);
                        let last = merged
                            .members
                            .iter()
                            .filter_map(|m| m.ended)
                            .fold(ended, f64::max);
                        let objects = merged.objects();
                        let end = Duration::from_secs_f64(last.max(0.0));
                        out.push(merged.first.end(meta, end, Some(objects)));
                    }
                }
                _ => out.push(a),
            }
        }
        out
    }

    /// A `start`: joins an open alert of a partner rule about the same object (nothing goes
    /// out), or goes out itself.
    fn start(&mut self, a: Alert) -> Option<Alert> {
        let Some(partners) = self.partners.get(&a.rule) else {
            return Some(a);
        };
        let joins = self.open.iter().position(|merged| {
            merged.members.iter().any(|m| {
                m.ended.is_none()
                    && partners.contains(&m.rule)
                    && same_object(&m.objects, &a.objects)
            })
        });
        let member = Member {
            rule: a.rule.clone(),
            id: a.id.clone(),
            objects: a.objects.clone(),
            ended: None,
        };
        match joins {
            Some(i) => {
                let merged = &mut self.open[i];
                tracing::info!(camera = %a.camera, rule = %a.rule, joined = %merged.first.id, "the same object as an open alert: joined it");
                merged.members.push(member);
                None
            }
            None => {
                self.open.push(Merged {
                    first: a.clone(),
                    members: vec![member],
                    updated: false,
                });
                Some(a)
            }
        }
    }
}

fn same_object(a: &[AlertObject], b: &[AlertObject]) -> bool {
    a.iter().any(|x| {
        b.iter()
            .any(|y| overlap(&x.bbox_px, &y.bbox_px) >= SAME_OBJECT)
    })
}

/// The share of the smaller box inside the other.
fn overlap(a: &BBoxPx, b: &BBoxPx) -> f32 {
    let smaller = a.area().min(b.area());
    if smaller <= 0.0 {
        return 0.0;
    }
    a.intersection(b) / smaller
}

#[cfg(test)]
#[path = "merge_tests.rs"]
mod tests;
