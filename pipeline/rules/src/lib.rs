//! The rule engine: [`RuleEngine`] watches one camera's [`Track`]s and raises [`Alert`]s.
//!
//! A [`Rule`] is one of five kinds ([`RuleKind`]: `dwell`, `enter`, `count`, `line_cross`,
//! `unsorted_waste`). The first and commonest, `dwell`: a track of a listed class or class group
//! whose anchor (the bottom-centre of its box, where a vehicle meets the ground) stays inside a
//! zone for at least `dwell` of stream time raises **one** alert for that stay. A stay survives
//! short gaps — a frame or two without a detection, a box that wobbles out of the zone — up to
//! `max_gap`, and survives the tracker losing and re-finding the object under a new id at the
//! same place, so a parked car is one alert, not one per flicker. A stay open when looping
//! footage starts over ([`FrameMeta::pass`]) is continued by the first such object inside after
//! the jump. When the stay ends (the object gone or outside for `max_gap`) the alert's `end`
//! record follows under the same id, with `ended_pts_secs`, so
//! staff see how long a fire lane was blocked. Time is the frames' PTS: no clock is read.

mod rule;

pub use rule::{Crossed, crossing};
pub use vigil_spec::rule::{Anchor, Direction, Rule, RuleKind};
pub use vigil_spec::schedule;

use std::collections::HashMap;
use std::time::{Duration, SystemTime};
use vigil_core::{
    Alert, AlertObject, BBoxPx, CameraId, FrameMeta, ObjectRef, PointNorm, Raiser, RuleId, Size,
    Track, TrackId,
};

/// Minimum IoU between a new track and the last box of a stay whose track vanished, for the new
/// track to continue that stay.
const REBIND_IOU: f32 = 0.3;

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
    /// Alerts raised earlier in this stay (`repeat_after`), ended with it.
    earlier: Vec<Alert>,
}

/// Evaluates one camera's rules frame by frame. Per-stay state is dropped when the stay ends.
#[derive(Debug)]
pub struct RuleEngine {
    rules: Vec<Rule>,
    /// Per rule, what it remembers.
    state: Vec<RuleState>,
    /// The looping source's pass of the last frame ([`FrameMeta::pass`]).
    pass: u32,
    /// When the latest pass began (stream time): stays open then continue across it.
    looped_at: Option<Duration>,
}

impl RuleEngine {
    pub fn new(rules: Vec<Rule>) -> Self {
        let state = rules.iter().map(|_| RuleState::default()).collect();
        Self {
            rules,
            state,
            pass: 0,
            looped_at: None,
        }
    }

    /// The rules in force.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Puts `rules` in force (a reload). A rule kept under the same name keeps its state — open
    /// stays and cooldown: a car already standing in the zone is not counted again from zero,
    /// and an alert already raised still gets its update and end. An open alert of a rule that
    /// is gone is ended now: its `end` records are returned, stamped with `meta`.
    pub fn replace_rules(&mut self, rules: Vec<Rule>, meta: &FrameMeta) -> Vec<Alert> {
        let mut old: HashMap<RuleId, RuleState> = std::mem::take(&mut self.rules)
            .into_iter()
            .zip(std::mem::take(&mut self.state))
            .map(|(r, s)| (r.id, s))
            .collect();
        for rule in &rules {
            self.state.push(old.remove(&rule.id).unwrap_or_default());
        }
        self.rules = rules;
        let mut ends = Vec::new();
        for state in old.into_values() {
            for stay in state.stays {
                ends.extend(stay.ends(meta));
            }
            ends.extend(state.crowd.and_then(|c| c.end(meta)));
        }
        ends
    }

    /// Open stays over all rules (bounded by the objects in view).
    pub fn open_stays(&self) -> usize {
        self.state.iter().map(|s| s.stays.len()).sum()
    }

    /// Evaluates the frame's tracks; returns the alert records of this frame (`start` for alerts
    /// raised, `update`, `end` for alerts whose situation is over).
    pub fn step(&mut self, meta: &FrameMeta, tracks: &[Track]) -> Vec<Alert> {
        let mut alerts = Vec::new();
        if meta.pass != self.pass {
            self.pass = meta.pass;
            self.looped_at = Some(meta.pts);
        }
        for (rule, state) in self.rules.iter().zip(&mut self.state) {
            let cooled = state.last_end.is_none_or(|e| meta.pts >= e + rule.cooldown);
            let active = rule
                .schedule
                .as_ref()
                .is_none_or(|s| s.active(meta.wall_time));
            let ctx = Step {
                rule,
                meta,
                tracks,
                allowed: active && cooled,
                active,
                looped_at: self.looped_at,
            };
            match &rule.kind {
                RuleKind::Dwell => ctx.stays(state, rule.dwell, &mut alerts),
                RuleKind::Enter => ctx.stays(state, Duration::ZERO, &mut alerts),
                RuleKind::Unsorted { .. } => ctx.stays(state, rule.dwell, &mut alerts),
                RuleKind::Count { more_than } => ctx.count(state, *more_than, &mut alerts),
                RuleKind::LineCross {
                    from,
                    to,
                    direction,
                } => ctx.line(state, (*from, *to), *direction, &mut alerts),
            }
        }
        alerts
    }
}

/// One rule's evaluation of one frame.
struct Step<'a> {
    rule: &'a Rule,
    meta: &'a FrameMeta,
    tracks: &'a [Track],
    /// In schedule and out of cooldown: a new alert may be raised.
    allowed: bool,
    /// In schedule: new stays may start.
    active: bool,
    /// When the looping source last started over.
    looped_at: Option<Duration>,
}

impl Step<'_> {
    /// The tracks this rule counts that are inside its zone now.
    fn inside(&self, state: &mut RuleState) -> Vec<&Track> {
        let (rule, size) = (self.rule, self.meta.source_size);
        let now: Vec<&Track> = self
            .tracks
            .iter()
            .filter(|t| t.matched && rule::applies_to(rule, t, size))
            .filter(|t| rule.anchor.inside(&rule.polygon, &t.bbox_px, size))
            .filter(|t| {
                let p = rule.anchor.of(&t.bbox_px);
                !rule.exclude.iter().any(|m| m.contains_px(p, size))
            })
            .collect();
        if rule.inertia <= 1 {
            return now;
        }
        // Consecutive frames inside, per track; a frame outside (or undetected) starts over.
        let runs: HashMap<TrackId, u32> = now
            .iter()
            .map(|t| (t.id, state.runs.get(&t.id).copied().unwrap_or(0) + 1))
            .collect();
        state.runs = runs;
        now.into_iter()
            .filter(|t| state.runs[&t.id] >= rule.inertia)
            .collect()
    }

    /// `dwell` and `enter`: one alert per object's stay in the zone.
    fn stays(&self, state: &mut RuleState, dwell: Duration, alerts: &mut Vec<Alert>) {
        let (rule, meta) = (self.rule, self.meta);
        let pts = meta.pts;
        if !self.active {
            // Out of schedule: only stays already alerted are followed (to their end).
            state.stays.retain(|s| s.alert.is_some());
        }
        let mut by_track: HashMap<TrackId, usize> = state
            .stays
            .iter()
            .enumerate()
            .map(|(i, s)| (s.track, i))
            .collect();
        // Tracks in view (coasting included), and those seen in this frame: for rebinding.
        let present: Vec<TrackId> = self.tracks.iter().map(|t| t.id).collect();
        let seen: Vec<TrackId> = self
            .tracks
            .iter()
            .filter(|t| t.matched)
            .map(|t| t.id)
            .collect();
        for t in self.inside(state) {
            let stays = &mut state.stays;
            let idx = match by_track.get(&t.id) {
                Some(&i) => i,
                None => {
                    // A stay whose track is not in view now, at the same place: the tracker
                    // lost the object and found it again under a new id. Or a stay open when
                    // the looping footage started over: its object is back where the footage
                    // begins, wherever that is (and its old track may still be coasting).
                    let across_loop = |s: &Stay| {
                        self.looped_at.is_some_and(|at| {
                            s.last_inside < at && pts.saturating_sub(at) <= rule.max_gap
                        })
                    };
                    let orphan = stays
                        .iter()
                        .enumerate()
                        .filter(|(_, s)| match across_loop(s) {
                            true => !seen.contains(&s.track),
                            false => !present.contains(&s.track),
                        })
                        .map(|(i, s)| (i, s.last_bbox.iou(&t.bbox_px), across_loop(s)))
                        .filter(|&(_, iou, across)| across || iou >= REBIND_IOU)
                        .max_by(|a, b| a.1.total_cmp(&b.1));
                    match orphan {
                        Some((i, ..)) => {
                            by_track.remove(&stays[i].track);
                            stays[i].track = t.id;
                            i
                        }
                        None if !self.active => continue,
                        None => {
                            stays.push(Stay {
                                track: t.id,
                                entered: pts,
                                last_inside: pts,
                                last_bbox: t.bbox_px,
                                alert: None,
                                updated: false,
                                earlier: Vec::new(),
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
            if stay.alert.is_none() && self.allowed && pts.saturating_sub(stay.entered) >= dwell {
                let alert = new_alert(rule, meta, stay.entered, vec![t]);
                stay.alert = Some(alert.clone());
                alerts.push(alert);
            }
            if let (Some(alert), Some(after), false) =
                (&stay.alert, rule.update_after, stay.updated)
                && pts.saturating_sub(Duration::from_secs_f64(alert.raised_pts_secs)) >= after
            {
                alerts.push(update_record(alert, meta, &[t]));
                stay.updated = true;
            }
            if let (Some(alert), Some(every)) = (&stay.alert, rule.repeat_after)
                && self.active
                && pts.saturating_sub(Duration::from_secs_f64(alert.raised_pts_secs)) >= every
            {
                let again = new_alert(rule, meta, stay.entered, vec![t]);
                if let Some(previous) = stay.alert.replace(again.clone()) {
                    stay.earlier.push(previous);
                }
                stay.updated = false;
                alerts.push(again);
            }
        }
        let stays = &mut state.stays;
        // A stay ends once its object has been gone (or outside) for max_gap; an alerted stay
        // reports its end.
        let (ended, open): (Vec<Stay>, Vec<Stay>) = std::mem::take(stays)
            .into_iter()
            .partition(|s| pts.saturating_sub(s.last_inside) > rule.max_gap);
        *stays = open;
        for stay in ended {
            let ends: Vec<Alert> = stay.ends(meta).collect();
            if !ends.is_empty() {
                state.last_end = Some(pts);
            }
            alerts.extend(ends);
        }
    }

    /// `count`: more than `more_than` objects in the zone at once for `dwell`: one alert per
    /// crowded spell.
    fn count(&self, state: &mut RuleState, more_than: usize, alerts: &mut Vec<Alert>) {
        let (rule, meta) = (self.rule, self.meta);
        let pts = meta.pts;
        let inside = self.inside(state);
        if inside.len() > more_than {
            if state.crowd.is_none() && self.active {
                state.crowd = Some(Crowd {
                    since: pts,
                    last_over: pts,
                    alert: None,
                    updated: false,
                });
            }
            if let Some(crowd) = state.crowd.as_mut() {
                crowd.last_over = pts;
                if crowd.alert.is_none()
                    && self.allowed
                    && pts.saturating_sub(crowd.since) >= rule.dwell
                {
                    let alert = new_alert(rule, meta, crowd.since, inside.clone());
                    crowd.alert = Some(alert.clone());
                    alerts.push(alert);
                }
                if let (Some(alert), Some(after), false) =
                    (&crowd.alert, rule.update_after, crowd.updated)
                    && pts.saturating_sub(Duration::from_secs_f64(alert.raised_pts_secs)) >= after
                {
                    alerts.push(update_record(alert, meta, &inside));
                    crowd.updated = true;
                }
            }
        }
        let over = state.crowd.as_ref().is_some_and(|c| {
            pts.saturating_sub(c.last_over) > rule.max_gap || (!self.active && c.alert.is_none())
        });
        if over && let Some(end) = state.crowd.take().and_then(|c| c.end(meta)) {
            state.last_end = Some(pts);
            alerts.push(end);
        }
    }

    /// `line_cross`: an object's anchor crossing the line (in `direction`): one alert per
    /// crossing, at once; it has no end.
    fn line(
        &self,
        state: &mut RuleState,
        (from, to): (PointNorm, PointNorm),
        direction: Direction,
        alerts: &mut Vec<Alert>,
    ) {
        let (rule, meta) = (self.rule, self.meta);
        let size = meta.source_size;
        let px = |p: PointNorm| {
            (
                (p.x * f64::from(size.width)) as f32,
                (p.y * f64::from(size.height)) as f32,
            )
        };
        let (a, b) = (px(from), px(to));
        let mut seen: HashMap<TrackId, (f32, f32)> = HashMap::new();
        for t in self
            .tracks
            .iter()
            .filter(|t| t.matched && rule::applies_to(rule, t, size))
        {
            let now = rule.anchor.of(&t.bbox_px);
            if let Some(&before) = state.last_anchor.get(&t.id)
                && let Some(crossed) = crossing(a, b, before, now)
                && rule::accepts(direction, crossed)
                && self.allowed
            {
                state.last_end = Some(meta.pts);
                alerts.push(new_alert(rule, meta, meta.pts, vec![t]));
            }
            seen.insert(t.id, now);
        }
        // Tracks not matched this frame keep their last anchor while the tracker keeps them.
        for t in self.tracks.iter().filter(|t| !t.matched) {
            if let Some(&p) = state.last_anchor.get(&t.id) {
                seen.insert(t.id, p);
            }
        }
        state.last_anchor = seen;
    }
}

/// A crowded spell of a `count` rule.
#[derive(Debug)]
struct Crowd {
    since: Duration,
    last_over: Duration,
    alert: Option<Alert>,
    updated: bool,
}

impl Stay {
    /// The `end` records of every alert this stay raised.
    fn ends(self, meta: &FrameMeta) -> impl Iterator<Item = Alert> + '_ {
        let (bbox, last) = (self.last_bbox, self.last_inside);
        self.earlier
            .into_iter()
            .chain(self.alert)
            .map(move |alert| end_record(alert, &bbox, last, meta))
    }
}

impl Crowd {
    /// The `end` record of the spell's alert, if it raised one (boxes as when it was raised).
    fn end(self, meta: &FrameMeta) -> Option<Alert> {
        let alert = self.alert?;
        let first = alert.objects.first().map(|o| o.bbox_px);
        let first = first.unwrap_or(BBoxPx::new(0.0, 0.0, 0.0, 0.0));
        Some(end_record(alert, &first, self.last_over, meta))
    }
}

/// What one rule remembers between frames.
#[derive(Debug, Default)]
struct RuleState {
    /// `dwell`, `enter`: open stays.
    stays: Vec<Stay>,
    /// `count`: the crowded spell, if any.
    crowd: Option<Crowd>,
    /// `line_cross`: each track's last anchor (tracks that are gone are forgotten).
    last_anchor: HashMap<TrackId, (f32, f32)>,
    /// `inertia`: consecutive frames each track has been inside.
    runs: HashMap<TrackId, u32>,
    /// When its last alert ended (or, for `line_cross`, was raised): for `cooldown`.
    last_end: Option<Duration>,
}

/// The `update` record of `alert`, showing `objects` where they are now.
fn update_record(alert: &Alert, meta: &FrameMeta, objects: &[&Track]) -> Alert {
    alert.update(meta, objects_at(objects, meta.source_size))
}

fn object(t: &Track, size: Size) -> AlertObject {
    AlertObject {
        object: ObjectRef::Track(t.id),
        class: t.class.to_string(),
        score: t.score,
        bbox_px: t.bbox_px.clamp_to(size),
    }
}

fn objects_at(tracks: &[&Track], size: Size) -> Vec<AlertObject> {
    tracks.iter().map(|t| object(t, size)).collect()
}

/// The `end` record of `alert`, its object last seen at `last_bbox` at `last_inside`.
fn end_record(alert: Alert, last_bbox: &BBoxPx, last_inside: Duration, meta: &FrameMeta) -> Alert {
    let mut objects = alert.objects.clone();
    if let Some(o) = objects.first_mut() {
        o.bbox_px = last_bbox.clamp_to(meta.source_size);
    }
    alert.end(meta, last_inside, Some(objects))
}

fn new_alert(rule: &Rule, meta: &FrameMeta, started: Duration, objects: Vec<&Track>) -> Alert {
    let by = Raiser {
        camera: &rule.camera,
        rule: &rule.id,
        kind: rule.kind.alert_kind(),
        severity: rule.severity,
        // A line is not a zone.
        zone: (!matches!(rule.kind, RuleKind::LineCross { .. })).then_some(&rule.zone),
    };
    Alert::start(by, meta, started, objects_at(&objects, meta.source_size))
}

/// Frame metadata for tests and declarative cases: camera `camera`, source `size`, time `pts`.
pub fn test_meta(camera: &CameraId, size: Size, pts: Duration) -> FrameMeta {
    FrameMeta {
        camera: camera.clone(),
        seq: 0,
        pts,
        pass: 0,
        source_size: size,
        wall_time: SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000) + pts,
        arrived: std::time::Instant::now(),
    }
}

#[cfg(test)]
mod tests;
