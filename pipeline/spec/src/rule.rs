//! What a rule over tracks is: [`Rule`] with its [`RuleKind`], the [`Anchor`] that places an
//! object in its zone, and a line's [`Direction`]. `vigil-rules` runs them.

use crate::schedule;
use std::time::Duration;
use vigil_core::{AlertKind, BBoxPx, CameraId, PointNorm, PolygonNorm, RuleId, Size, ZoneId};

/// What a rule watches for.
#[derive(Clone, Debug, PartialEq)]
pub enum RuleKind {
    /// An object in the zone for at least `dwell`: one alert per stay, ended when it leaves.
    Dwell,
    /// An object entering the zone: one alert per stay, at once, ended when it leaves.
    Enter,
    /// More than `more_than` objects in the zone at once for at least `dwell`: one alert per
    /// crowded spell, ended when the count has been at or below it for `max_gap`.
    Count { more_than: usize },
    /// An object's anchor crossing the line `from` → `to` in `direction`: one alert per
    /// crossing, at once, without an end.
    LineCross {
        from: PointNorm,
        to: PointNorm,
        direction: Direction,
    },
    /// An item of one of `classes` that is none of `accepts` (the categories the bin takes) in
    /// the zone for at least `dwell`: one alert per stay, ended when it leaves.
    Unsorted { accepts: Vec<String> },
}

impl RuleKind {
    pub fn alert_kind(&self) -> AlertKind {
        match self {
            RuleKind::Dwell => AlertKind::Dwell,
            RuleKind::Enter => AlertKind::Enter,
            RuleKind::Count { .. } => AlertKind::Count,
            RuleKind::LineCross { .. } => AlertKind::LineCross,
            RuleKind::Unsorted { .. } => AlertKind::UnsortedWaste,
        }
    }
}

/// Which crossings of a line count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Any,
    /// From the left to the right of someone walking the line from its first point to its second.
    LeftToRight,
    RightToLeft,
}

/// What of an object's box must be inside a zone (a point of it also crosses lines and meets
/// exclusion masks).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum Anchor {
    /// Where a vehicle or a person meets the ground in an angled view (the default).
    #[default]
    BottomCentre,
    /// The middle of the box (top-down views, objects in the air).
    Centre,
    /// At least this fraction of the box's area inside the zone (large objects, top-down views).
    Overlap { min_fraction: f64 },
}

impl Anchor {
    /// The point that stands for the box (the centre for `Overlap`).
    pub fn of(self, b: &BBoxPx) -> (f32, f32) {
        match self {
            Anchor::BottomCentre => b.bottom_centre(),
            Anchor::Centre | Anchor::Overlap { .. } => b.centre(),
        }
    }

    /// Whether box `b` counts as inside `zone`.
    pub fn inside(self, zone: &PolygonNorm, b: &BBoxPx, size: Size) -> bool {
        match self {
            Anchor::Overlap { min_fraction } => {
                zone.fraction_of_box_inside(*b, size) >= min_fraction
            }
            _ => zone.contains_px(self.of(b), size),
        }
    }
}

/// "An object of `classes` in `zone` for at least `dwell`" — or entering it, crowding it, or
/// crossing a line (`kind`).
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    pub id: RuleId,
    pub kind: RuleKind,
    pub anchor: Anchor,
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
    /// Areas inside the zone where objects do not count (a parking bay in a lane, a tree).
    pub exclude: Vec<PolygonNorm>,
    /// Consecutive frames an object must be inside before it counts (1: at once).
    pub inertia: u32,
    /// A stay that goes on this long after its alert raises a new alert (its earlier ones end
    /// with it). Without it, one stay is one alert however long it lasts.
    pub repeat_after: Option<Duration>,
}

impl Rule {
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
            kind: RuleKind::Dwell,
            anchor: Anchor::BottomCentre,
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
            exclude: Vec::new(),
            inertia: 1,
            repeat_after: None,
        }
    }

    /// What the snapshot draws for this rule: its zone, or its line.
    pub fn outline(&self) -> Vec<(f64, f64)> {
        match &self.kind {
            RuleKind::LineCross { from, to, .. } => vec![(from.x, from.y), (to.x, to.y)],
            _ => self.polygon.points().iter().map(|p| (p.x, p.y)).collect(),
        }
    }
}
