//! Nothing is thrown from above a building's roof. Where the rule gives the building's highest
//! storey (`top_floor`), a fall whose path starts well above the roof — its apex beyond
//! [`ROOF_REACH_M`] over it, by two standard deviations — is rejected: a drop near the lens in a
//! downpour, followed from the frame's top edge to its bottom, that a path under gravity from
//! far above the wall explains a little better than a drift does (rendered held-out seed 4409's
//! distractors 009: a night downpour at 720p before a five-storey building, the roof 15 m up;
//! five such tracks passed as falls from 17.8–28.8 m, four of them 7–10 m above the roof
//! beyond two standard deviations).

use crate::classify::{Fall, Reject};
use vigil_spec::facade::Facade;

/// How far above the roof a throw's path may start, metres: a person on the roof lets go up to
/// 2 m above it (an arm raised over the parapet), and a toss upwards at 5 m/s rises 1.3 m more
/// to the apex the origin is read from.
pub const ROOF_REACH_M: f64 = 4.0;

/// Why `fall` is not a throw from a building whose highest storey is `top_floor`: its origin
/// lies more than [`ROOF_REACH_M`] above the roof, beyond two standard deviations.
pub(crate) fn above_roof(fall: &Fall, facade: &Facade, top_floor: i32) -> Option<Reject> {
    let roof_m = f64::from(top_floor + 1 - facade.first_floor) * facade.floor_height_m;
    let o = &fall.origin;
    (o.h_m - 2.0 * o.sigma_m > roof_m + ROOF_REACH_M)
        .then_some(Reject::AboveRoof { h_m: o.h_m, roof_m })
}

/// `fall` thrown from the roof of a building whose highest storey is `top_floor`, where its
/// origin lies above that storey (within reach: [`above_roof`] passed it): its floor, and its
/// range's, no higher than the roof's (`top_floor` + 1).
pub(crate) fn from_the_roof(mut fall: Fall, top_floor: i32) -> Fall {
    let roof = top_floor.saturating_add(1);
    let o = &mut fall.origin;
    o.floor = o.floor.min(roof);
    o.floor_range = o.floor_range.map(|f| f.min(roof));
    fall
}
