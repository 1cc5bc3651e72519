//! `kind: lane_obstructed` rules, validated into a [`LaneRule`] for the camera's static-object
//! detector (set up for lanes by `vigil-lane`).

use crate::check::{Validator, corners, fraction, metres, seconds};
use crate::context::{
    DETECTOR_FIELDS, RuleContext, name_and_camera, optional_schedule, refuse_fields, required_zone,
    rule_severity,
};
use crate::raw::RawRule;
use vigil_core::{RuleId, Severity, ZoneId};
use vigil_spec::lane::{Ground, LaneRule, Passage};

/// `dwell_secs` when not set: a minute (a delivery stop is shorter; a parked car is longer).
const DWELL_SECS: f64 = 60.0;

/// `min_fraction` when not set: a hundredth of the zone. Under perspective a far object covers
/// little of a long lane (an e-bike 20 m down a 14 m stretch seen at 20° is under 1 %), so the
/// static-object detector's own smallest object is the real floor.
const MIN_FRACTION: f64 = 0.01;

pub(crate) fn rule(
    v: &mut Validator<'_>,
    ctx: &mut RuleContext<'_>,
    r: &RawRule,
) -> Option<LaneRule> {
    let name = &r.name.value;
    let cam = name_and_camera(v, ctx, r);
    // Anything standing counts, named or not: no classes, scores or object sizes.
    let refused: Vec<&str> = DETECTOR_FIELDS
        .iter()
        .copied()
        .filter(|f| *f != "dwell_secs")
        .chain(["facade", "falling"])
        .collect();
    let mut ok = refuse_fields(v, r, &refused, "lane_obstructed rules");
    let cam = cam?;
    let polygon = required_zone(v, ctx, cam, r, "lane_obstructed", "the lane it keeps clear");
    let dwell_secs = seconds(v, &r.dwell_secs, "dwell_secs", 1.0)
        .map(|s| s.map_or(DWELL_SECS, |d| d.as_secs_f64()));
    let min_fraction = fraction(
        v,
        &r.min_fraction,
        "min_fraction must be a fraction of the zone in [0, 1]",
        MIN_FRACTION,
        &mut ok,
    );
    let passage = passage(v, r, &mut ok);
    let schedule = optional_schedule(v, &r.schedule, &mut ok);
    let severity = rule_severity(v, r, Severity::High);
    let (Some(polygon), Ok(dwell_secs), Some(severity), true) = (polygon, dwell_secs, severity, ok)
    else {
        return None;
    };
    Some(LaneRule {
        id: RuleId::new(name),
        camera: cam.id.clone(),
        zone: ZoneId::new(&r.zone.as_ref()?.value),
        polygon,
        dwell_secs,
        min_fraction,
        passage,
        severity,
        schedule,
    })
}

/// The passage a lane with a width calibration must leave open: `min_width_m` and `ground`
/// together (then `min_fraction` does not apply), or neither.
fn passage(v: &mut Validator<'_>, r: &RawRule, ok: &mut bool) -> Option<Passage> {
    let (min_width, ground) = match (&r.min_width_m, &r.ground) {
        (None, None) => return None,
        (Some(m), None) => {
            v.error(
                m,
                "min_width_m needs `ground` (the lane's width calibration: corners, width_m, length_m)",
            );
            *ok = false;
            return None;
        }
        (None, Some(g)) => {
            v.error(
                g,
                "ground needs `min_width_m` (the narrowest passage the lane must leave open)",
            );
            *ok = false;
            return None;
        }
        (Some(m), Some(g)) => (m, &g.value),
    };
    if let Some(f) = &r.min_fraction {
        v.error(
            f,
            "min_fraction does not apply to a lane with `ground` and `min_width_m` (it is judged by the passage left open)",
        );
        *ok = false;
    }
    let corners = corners(v, &ground.corners, "ground");
    let width_m = metres(v, &ground.width_m, "width_m");
    let length_m = metres(v, &ground.length_m, "length_m");
    let (Some(corners), Some(width_m), Some(length_m)) = (corners, width_m, length_m) else {
        *ok = false;
        return None;
    };
    let in_lane =
        min_width.value.is_finite() && min_width.value > 0.0 && min_width.value <= width_m;
    if !in_lane {
        v.error(
            min_width,
            format!(
                "min_width_m must be a width in metres (0, {width_m}], within the lane's width_m"
            ),
        );
        *ok = false;
        return None;
    }
    match Ground::new(corners, width_m, length_m) {
        Ok(ground) => Some(Passage {
            ground,
            min_width_m: min_width.value,
        }),
        Err(e) => {
            v.error(&ground.corners, format!("ground: {e}"));
            *ok = false;
            None
        }
    }
}
