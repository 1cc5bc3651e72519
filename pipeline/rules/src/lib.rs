//! The rule engine: [`RuleEngine`] watches one camera's [`Track`]s and raises [`Alert`]s.
//!
//! One rule kind now, [`DwellRule`]: a track of a listed class or class group whose anchor (the
//! bottom-centre of its box, where a vehicle meets the ground) stays inside a zone for at least
//! `dwell` of stream time raises **one** alert for that stay. A stay survives short gaps — a
//! frame or two without a detection, a box that wobbles out of the zone — up to `max_gap`, and
//! survives the tracker losing and re-finding the object under a new id at the same place, so a
//! parked car is one alert, not one per flicker. When the stay ends (the object gone or outside
//! for `max_gap`) the alert's `end` record follows under the same id, with `ended_pts_secs`, so
//! staff see how long a fire lane was blocked. Time is the frames' PTS: no clock is read.

pub mod schedule;

use chrono::{DateTime, SecondsFormat, Utc};
use std::collections::HashMap;
use std::time::{Duration, SystemTime};
use vigil_core::{
    Alert, AlertEvent, AlertKind, AlertObject, BBoxPx, CameraId, FrameMeta, PolygonNorm, RuleId,
    Size, Track, TrackId, ZoneId,
};

/// Minimum IoU between a new track and the last box of a stay whose track vanished, for the new
/// track to continue that stay.
const REBIND_IOU: f32 = 0.3;

/// "An object of `classes` in `zone` for at least `dwell`."
#[derive(Clone, Debug, PartialEq)]
pub struct DwellRule {
    pub id: RuleId,
    pub camera: CameraId,
    pub zone: ZoneId,
    pub polygon: PolygonNorm,
    /// Class labels or group names (`vehicle`, `car`).
    pub classes: Vec<String>,
    pub dwell: Duration,
    pub min_score: f32,
    /// How long the object may be unseen or outside before its stay ends.
    pub max_gap: Duration,
    /// Carried by its alerts.
    pub severity: vigil_core::Severity,
    /// An `update` record when the stay still holds this long after its alert.
    pub update_after: Option<Duration>,
    /// After an alert of this rule ends, no new alert for this long (the stay may still raise
    /// one once the cooldown is over).
    pub cooldown: Duration,
    /// Object box area as a fraction of the frame: smaller or larger boxes are ignored.
    pub min_area: f64,
    pub max_area: f64,
    /// When the rule is in force (always without one). Out of schedule no stay starts and no
    /// alert is raised; alerts already raised still report their update and end.
    pub schedule: Option<schedule::Schedule>,
}

impl DwellRule {
    /// A rule with the defaults for everything but what names and times it.
    pub fn new(
        id: RuleId,
        camera: CameraId,
        zone: ZoneId,
        polygon: PolygonNorm,
        classes: Vec<String>,
        dwell: Duration,
    ) -> Self {
        Self {
            id,
            camera,
            zone,
            polygon,
            classes,
            dwell,
            min_score: 0.0,
            max_gap: Duration::from_secs(1),
            severity: vigil_core::Severity::Medium,
            update_after: None,
            cooldown: Duration::ZERO,
            min_area: 0.0,
            max_area: 1.0,
            schedule: None,
        }
    }

    fn applies_to(&self, t: &Track, frame: Size) -> bool {
        let frame_area = f64::from(frame.width) * f64::from(frame.height);
        let b = t.bbox_px;
        let area = f64::from((b.x2 - b.x1).max(0.0)) * f64::from((b.y2 - b.y1).max(0.0));
        let fraction = if frame_area > 0.0 {
            area / frame_area
        } else {
            0.0
        };
        t.score >= self.min_score
            && (self.min_area..=self.max_area).contains(&fraction)
            && self
                .classes
                .iter()
                .any(|c| *c == *t.group || *c == *t.class)
    }
}

#[derive(Debug)]
struct Stay {
    track: TrackId,
    entered: Duration,
    last_inside: Duration,
    last_bbox: BBoxPx,
    /// The alert raised for this stay, kept to report its end under the same id.
    alert: Option<Alert>,
    /// Its `update` record was sent.
    updated: bool,
}

/// Evaluates one camera's rules frame by frame. Per-stay state is dropped when the stay ends.
#[derive(Debug)]
pub struct RuleEngine {
    rules: Vec<DwellRule>,
    /// Per rule, the open stays.
    stays: Vec<Vec<Stay>>,
    /// Per rule, when its last alert ended (for `cooldown`).
    last_end: Vec<Option<Duration>>,
}

impl RuleEngine {
    pub fn new(rules: Vec<DwellRule>) -> Self {
        let stays = rules.iter().map(|_| Vec::new()).collect();
        let last_end = rules.iter().map(|_| None).collect();
        Self {
            rules,
            stays,
            last_end,
        }
    }

    /// The rules in force.
    pub fn rules(&self) -> &[DwellRule] {
        &self.rules
    }

    /// Puts `rules` in force (a reload). A rule kept under the same name keeps its open stays
    /// and cooldown — a car already standing in the zone is not counted again from zero, and an
    /// alert already raised still gets its update and end. An alerted stay of a rule that is
    /// gone is ended now: its `end` records are returned, stamped with `meta`.
    pub fn replace_rules(&mut self, rules: Vec<DwellRule>, meta: &FrameMeta) -> Vec<Alert> {
        let mut old: HashMap<RuleId, (Vec<Stay>, Option<Duration>)> =
            std::mem::take(&mut self.rules)
                .into_iter()
                .zip(std::mem::take(&mut self.stays))
                .zip(std::mem::take(&mut self.last_end))
                .map(|((r, s), e)| (r.id, (s, e)))
                .collect();
        for rule in &rules {
            let (stays, last_end) = old.remove(&rule.id).unwrap_or_default();
            self.stays.push(stays);
            self.last_end.push(last_end);
        }
        self.rules = rules;
        let mut ends = Vec::new();
        for (stays, _) in old.into_values() {
            for stay in stays {
                if let Some(alert) = stay.alert {
                    ends.push(end_record(alert, &stay.last_bbox, stay.last_inside, meta));
                }
            }
        }
        ends
    }

    /// Open stays over all rules (bounded by the objects in view).
    pub fn open_stays(&self) -> usize {
        self.stays.iter().map(Vec::len).sum()
    }

    /// Evaluates the frame's tracks; returns the alert records of this frame (`start` for alerts
    /// raised, `end` for alerted stays that ended).
    pub fn step(&mut self, meta: &FrameMeta, tracks: &[Track]) -> Vec<Alert> {
        let pts = meta.pts;
        let mut alerts = Vec::new();
        for ((rule, stays), last_end) in self
            .rules
            .iter()
            .zip(&mut self.stays)
            .zip(&mut self.last_end)
        {
            let cooled = last_end.is_none_or(|e| pts >= e + rule.cooldown);
            let active = rule
                .schedule
                .as_ref()
                .is_none_or(|s| s.active(meta.wall_time));
            if !active {
                // Out of schedule: only stays already alerted are followed (to their end).
                stays.retain(|s| s.alert.is_some());
            }
            let inside: Vec<&Track> = tracks
                .iter()
                .filter(|t| t.matched && rule.applies_to(t, meta.source_size))
                .filter(|t| {
                    rule.polygon
                        .contains_px(t.bbox_px.bottom_centre(), meta.source_size)
                })
                .collect();
            let mut by_track: HashMap<TrackId, usize> = stays
                .iter()
                .enumerate()
                .map(|(i, s)| (s.track, i))
                .collect();
            for t in &inside {
                let idx = match by_track.get(&t.id) {
                    Some(&i) => i,
                    None => {
                        // A stay whose track is not in view now, at the same place: the tracker
                        // lost the object and found it again under a new id.
                        let present: Vec<TrackId> = tracks.iter().map(|t| t.id).collect();
                        let orphan = stays
                            .iter()
                            .enumerate()
                            .filter(|(_, s)| !present.contains(&s.track))
                            .map(|(i, s)| (i, s.last_bbox.iou(&t.bbox_px)))
                            .filter(|&(_, iou)| iou >= REBIND_IOU)
                            .max_by(|a, b| a.1.total_cmp(&b.1));
                        match orphan {
                            Some((i, _)) => {
                                by_track.remove(&stays[i].track);
                                stays[i].track = t.id;
                                i
                            }
                            None if !active => continue,
                            None => {
                                stays.push(Stay {
                                    track: t.id,
                                    entered: pts,
                                    last_inside: pts,
                                    last_bbox: t.bbox_px,
                                    alert: None,
                                    updated: false,
                                });
                                stays.len() - 1
                            }
                        }
                    }
                };
                by_track.insert(t.id, idx);
                let stay = &mut stays[idx];
                stay.last_inside = pts;
                stay.last_bbox = t.bbox_px;
                if stay.alert.is_none()
                    && active
                    && cooled
                    && pts.saturating_sub(stay.entered) >= rule.dwell
                {
                    let alert = dwell_alert(rule, meta, stay, t);
                    stay.alert = Some(alert.clone());
                    alerts.push(alert);
                }
                if let (Some(alert), Some(after), false) =
                    (&stay.alert, rule.update_after, stay.updated)
                    && pts.saturating_sub(Duration::from_secs_f64(alert.raised_pts_secs)) >= after
                {
                    let mut update = alert.clone();
                    update.event = AlertEvent::Update;
                    update.updated_pts_secs = Some(pts.as_secs_f64());
                    update.wall_time = rfc3339(meta.wall_time);
                    if let Some(o) = update.objects.first_mut() {
                        o.track_id = t.id;
                        o.score = t.score;
                        o.bbox_px = t.bbox_px.clamp_to(meta.source_size);
                    }
                    stay.updated = true;
                    alerts.push(update);
                }
            }
            // A stay ends once its object has been gone (or outside) for max_gap; an alerted
            // stay reports its end.
            let (ended, open): (Vec<Stay>, Vec<Stay>) = std::mem::take(stays)
                .into_iter()
                .partition(|s| pts.saturating_sub(s.last_inside) > rule.max_gap);
            *stays = open;
            for stay in ended {
                if let Some(alert) = stay.alert {
                    *last_end = Some(pts);
                    alerts.push(end_record(alert, &stay.last_bbox, stay.last_inside, meta));
                }
            }
        }
        alerts
    }
}

/// The `end` record of `alert`, its object last seen at `last_bbox` at `last_inside`.
fn end_record(
    mut end: Alert,
    last_bbox: &BBoxPx,
    last_inside: Duration,
    meta: &FrameMeta,
) -> Alert {
    end.event = AlertEvent::End;
    end.ended_pts_secs = Some(last_inside.as_secs_f64());
    end.updated_pts_secs = None;
    end.wall_time = rfc3339(meta.wall_time);
    if let Some(o) = end.objects.first_mut() {
        o.bbox_px = last_bbox.clamp_to(meta.source_size);
    }
    end
}

fn dwell_alert(rule: &DwellRule, meta: &FrameMeta, stay: &Stay, t: &Track) -> Alert {
    Alert {
        id: uuid::Uuid::now_v7().to_string(),
        camera: rule.camera.clone(),
        rule: rule.id.clone(),
        kind: AlertKind::Dwell,
        event: AlertEvent::Start,
        severity: rule.severity,
        zone: Some(rule.zone.clone()),
        started_pts_secs: stay.entered.as_secs_f64(),
        raised_pts_secs: meta.pts.as_secs_f64(),
        ended_pts_secs: None,
        updated_pts_secs: None,
        wall_time: rfc3339(meta.wall_time),
        objects: vec![AlertObject {
            track_id: t.id,
            class: t.class.to_string(),
            score: t.score,
            bbox_px: t.bbox_px.clamp_to(meta.source_size),
        }],
        evidence: Default::default(),
        prev_hash: None,
    }
}

/// RFC 3339 with milliseconds, UTC.
pub fn rfc3339(t: SystemTime) -> String {
    DateTime::<Utc>::from(t).to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Frame metadata for tests and declarative cases: camera `camera`, source `size`, time `pts`.
pub fn test_meta(camera: &CameraId, size: Size, pts: Duration) -> FrameMeta {
    FrameMeta {
        camera: camera.clone(),
        seq: 0,
        pts,
        source_size: size,
        wall_time: SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000) + pts,
        arrived: std::time::Instant::now(),
    }
}

#[cfg(test)]
mod tests;
