//! What a `kind: lane_obstructed` rule is; `vigil-lane` runs it over the camera's static-object
//! scene.

use crate::schedule::Schedule;
use vigil_core::{CameraId, PolygonNorm, RuleId, Severity, ZoneId};

/// A validated `kind: lane_obstructed` rule: a zone that must stay clear.
#[derive(Clone, Debug, PartialEq)]
pub struct LaneRule {
    pub id: RuleId,
    pub camera: CameraId,
    pub zone: ZoneId,
    pub polygon: PolygonNorm,
    /// How long something new must stand in the lane before it alerts.
    pub dwell_secs: f64,
    /// The smallest part of the zone an obstruction covers (a fraction of the zone's area).
    pub min_fraction: f64,
    pub severity: Severity,
    pub schedule: Option<Schedule>,
}

impl LaneRule {
    pub fn outline(&self) -> Vec<(f64, f64)> {
        self.polygon.points().iter().map(|p| (p.x, p.y)).collect()
    }
}
