//! What a `kind: waste` rule is (`waste_left`, `bin_overflow`); `vigil-waste` runs them over
//! its static-object scene.

use crate::schedule::Schedule;
use vigil_core::{AlertKind, CameraId, PointNorm, PolygonNorm, RuleId, Severity, ZoneId};

/// What a waste rule watches for.
#[derive(Clone, Debug, PartialEq)]
pub enum WasteCheck {
    /// A new static object in the zone for `static_secs`.
    Left,
    /// Static foreground over at least `min_above` of the zone's part above `fill_line`, or
    /// over `max_fill` of the whole zone, for `static_secs`.
    Overflow {
        fill_line: Option<(PointNorm, PointNorm)>,
        min_above: f64,
        max_fill: f64,
    },
}

impl WasteCheck {
    pub fn alert_kind(&self) -> AlertKind {
        match self {
            WasteCheck::Left => AlertKind::WasteLeft,
            WasteCheck::Overflow { .. } => AlertKind::BinOverflow,
        }
    }
}

/// A validated `kind: waste` rule (`waste_left` or `bin_overflow`).
#[derive(Clone, Debug, PartialEq)]
pub struct WasteRule {
    pub id: RuleId,
    pub camera: CameraId,
    pub zone: ZoneId,
    pub polygon: PolygonNorm,
    pub check: WasteCheck,
    /// How long something must stay before it alerts.
    pub static_secs: f64,
    pub severity: Severity,
    pub schedule: Option<Schedule>,
    /// Object size as a fraction of the frame (`waste_left`).
    pub min_area: f64,
    pub max_area: f64,
}

impl WasteRule {
    pub fn outline(&self) -> Vec<(f64, f64)> {
        self.polygon.points().iter().map(|p| (p.x, p.y)).collect()
    }
}
