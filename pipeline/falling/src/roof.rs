//! Nothing is thrown from above a building's roof. Where the rule gives the building's highest
//! storey (`top_floor`), a fall whose path starts well above the roof — its apex beyond
//! [`ROOF_REACH_M`] over it, by two standard deviations — is rejected: a drop near the lens in a
//! downpour, followed from the frame's top edge to its bottom, that a path under gravity from
//! far above the wall explains a little better than a drift does (rendered held-out seed 4409's
//! distractors 009: a night downpour at 720p before a five-storey building; five such tracks
//! passed as falls whose origins lay 8.8–19.8 m above the roof). A fall that starts above the
//! top storey within that reach was thrown from the roof.

use crate::classify::{Fall, Reject};
use vigil_spec::facade::Facade;

/// How far above the roof a throw's path may start, metres: a person on the roof lets go up to
/// 2 m above it (an arm raised over the parapet), and a toss upwards at 5 m/s rises 1.3 m more
/// to the apex the origin is read from.
const ROOF_REACH_M: f64 = 4.0;

/// `fall` judged against a building whose highest storey is `top_floor`: rejected where its
/// origin lies more than [`ROOF_REACH_M`] above the roof, beyond two standard deviations;
/// otherwise its floor, and its range's, no higher than the roof's (`top_floor` + 1).
pub(crate) fn on_the_building(
    mut fall: Fall,
    facade: &Facade,
    top_floor: i32,
) -> Result<Fall, Reject> {
    let roof = top_floor.saturating_add(1);
    let roof_m = facade.floor_base_m(roof);
    let o = &mut fall.origin;
    if o.h_m - 2.0 * o.sigma_m > roof_m + ROOF_REACH_M {
        return Err(Reject::AboveRoof { h_m: o.h_m, roof_m });
    }
    o.floor = o.floor.min(roof);
    o.floor_range = o.floor_range.map(|f| f.min(roof));
    Ok(fall)
}
