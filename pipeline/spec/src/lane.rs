//! What a `kind: lane_obstructed` rule is; `vigil-lane` runs it over the camera's static-object
//! scene.

use crate::facade::Homography;
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
    /// The smallest part of the zone an obstruction covers (a fraction of the zone's area);
    /// unused with a [`Passage`].
    pub min_fraction: f64,
    /// With a width calibration: the lane is obstructed when what stands in it leaves less than
    /// a passage this wide, whatever share of the zone it covers.
    pub passage: Option<Passage>,
    pub severity: Severity,
    pub schedule: Option<Schedule>,
}

impl LaneRule {
    pub fn outline(&self) -> Vec<(f64, f64)> {
        self.polygon.points().iter().map(|p| (p.x, p.y)).collect()
    }
}

/// The passage a lane must leave open, on its ground calibration.
#[derive(Clone, Debug, PartialEq)]
pub struct Passage {
    pub ground: Ground,
    /// The narrowest passage that still lets the lane's traffic (a fire engine) through.
    pub min_width_m: f64,
}

/// The lane's ground plane: a homography from image coordinates (normalised, `[0, 1]²`) to
/// metres on the ground, `u` across the lane from its first kerb and `v` along it, from four
/// image points of a rectangle on the ground whose first two corners lie across the lane, kerb
/// to kerb (`width_m` apart), and whose second and third lie along it (`length_m` apart).
#[derive(Clone, Debug, PartialEq)]
pub struct Ground {
    /// Normalised image points: first kerb, second kerb across from it, then along the second
    /// kerb, and back across to the first.
    pub corners: [(f64, f64); 4],
    pub width_m: f64,
    pub length_m: f64,
    to_ground: Homography,
    /// The sign of the projective scale on the rectangle's side of the horizon.
    side: f64,
}

impl Ground {
    pub fn new(corners: [(f64, f64); 4], width_m: f64, length_m: f64) -> Result<Self, String> {
        let positive = |v: f64| v.is_finite() && v > 0.0;
        if !(positive(width_m) && positive(length_m)) {
            return Err("width_m and length_m must be positive".into());
        }
        // Round the quadrilateral: every turn the same way, or it is no rectangle seen in
        // perspective (crossed, or folded over).
        let turn = |a: (f64, f64), b: (f64, f64), c: (f64, f64)| {
            (b.0 - a.0) * (c.1 - b.1) - (b.1 - a.1) * (c.0 - b.0)
        };
        let turns: Vec<f64> = (0..4)
            .map(|i| turn(corners[i], corners[(i + 1) % 4], corners[(i + 2) % 4]))
            .collect();
        let convex = turns.iter().all(|t| *t > 1e-9) || turns.iter().all(|t| *t < -1e-9);
        let metres = [
            (0.0, 0.0),
            (width_m, 0.0),
            (width_m, length_m),
            (0.0, length_m),
        ];
        match (convex, Homography::from_points(corners, metres)) {
            (true, Some(to_ground)) => {
                let n = corners.len() as f64;
                let centre = (
                    corners.iter().map(|c| c.0).sum::<f64>() / n,
                    corners.iter().map(|c| c.1).sum::<f64>() / n,
                );
                Ok(Self {
                    corners,
                    width_m,
                    length_m,
                    side: to_ground.scale(centre).signum(),
                    to_ground,
                })
            }
            _ => Err(
                "the four corners must go round a rectangle on the ground (no three on one line, the sides not crossing)"
                    .into(),
            ),
        }
    }

    /// Ground metres `(u, v)` of a normalised image point; `None` on or beyond the horizon
    /// (where the projection's scale turns from the rectangle's sign to the other).
    pub fn to_ground(&self, p: (f64, f64)) -> Option<(f64, f64)> {
        let same_side = self.to_ground.scale(p) * self.side > 0.0;
        same_side.then(|| self.to_ground.apply(p)).flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ground_rectangle_maps_its_corners_to_metres_and_refuses_a_crossed_one() {
        // A 4 × 10 m stretch seen in perspective: the far edge shorter and higher.
        let corners = [(0.2, 0.9), (0.8, 0.9), (0.6, 0.4), (0.4, 0.4)];
        let g = Ground::new(corners, 4.0, 10.0).expect("a valid rectangle");
        let want = [(0.0, 0.0), (4.0, 0.0), (4.0, 10.0), (0.0, 10.0)];
        for (c, w) in corners.iter().zip(want) {
            let (u, v) = g.to_ground(*c).expect("on the ground");
            assert!(
                (u - w.0).abs() < 1e-9 && (v - w.1).abs() < 1e-9,
                "{c:?} → {u},{v}"
            );
        }
        // Half-way across the near edge is 2 m from the first kerb.
        let (u, _) = g.to_ground((0.5, 0.9)).expect("on the ground");
        assert!((u - 2.0).abs() < 1e-9, "{u}");
        // The kerbs meet at the horizon, y = 0.15: the sky above it is no ground.
        assert!(g.to_ground((0.5, 0.05)).is_none());
        assert!(g.to_ground((0.5, 0.2)).is_some());
        let crossed = [(0.2, 0.9), (0.8, 0.9), (0.4, 0.4), (0.6, 0.4)];
        assert!(Ground::new(crossed, 4.0, 10.0).is_err());
        assert!(Ground::new(corners, 0.0, 10.0).is_err());
    }
}
