//! `kind: waste` rules. `waste_left` and `bin_overflow` are validated here into a
//! [`WasteRule`] for the camera's static-object detector; `unsorted_waste` is a rule over
//! tracks (validated with the detector rules, see `rules::rule`).

use crate::check::Validator;
use crate::check::{area_range, fraction, seconds, two_points};
use crate::context::{
    DETECTOR_FIELDS, RuleContext, name_and_camera, optional_schedule, refuse_fields, required_zone,
    rule_severity,
};
use crate::raw::RawRule;
use vigil_core::{RuleId, Severity, ZoneId};
use vigil_spec::waste::{WasteCheck, WasteRule};

/// The checks a waste rule can make.
pub(crate) const CHECKS: &str = "waste_left, bin_overflow or unsorted_waste";

/// Whether the rule is a `kind: waste` rule checked by the static-object detector (not
/// `unsorted_waste`, which watches tracks).
pub(crate) fn is_static(r: &RawRule) -> bool {
    r.kind.value == crate::raw::RawRuleKind::Waste
        && r.check.as_ref().is_none_or(|c| c.value != "unsorted_waste")
}

pub(crate) fn rule(
    v: &mut Validator<'_>,
    ctx: &mut RuleContext<'_>,
    r: &RawRule,
) -> Option<WasteRule> {
    let name = &r.name.value;
    let cam = name_and_camera(v, ctx, r);
    let check = match r.check.as_ref().map(|c| (c, c.value.as_str())) {
        Some((_, "waste_left")) => Some(false),
        Some((_, "bin_overflow")) => Some(true),
        Some((at, other)) => {
            v.error(at, format!("check \"{other}\" is none of {CHECKS}"));
            None
        }
        None => {
            v.error(
                &r.kind,
                format!("waste rule \"{name}\" needs `check` ({CHECKS})"),
            );
            None
        }
    };
    let overflow = check == Some(true);
    // Object size applies to left objects; the fill line and its fractions to overflows.
    let mut refused: Vec<&str> = DETECTOR_FIELDS
        .iter()
        .copied()
        .filter(|f| overflow || !matches!(*f, "min_area" | "max_area"))
        .chain(["facade", "falling", "accepts"])
        .collect();
    if !overflow {
        refused.extend(["fill_line", "min_above", "max_fill"]);
    }
    let what = r.check.as_ref().map_or("waste", |c| c.value.as_str());
    let mut ok = refuse_fields(v, r, &refused, &format!("{what} rules"));
    let cam = cam?;
    let polygon = required_zone(v, ctx, cam, r, "waste", "the bin point it watches");
    let static_secs =
        seconds(v, &r.static_secs, "static_secs", 1.0).map(|s| s.map_or(60.0, |d| d.as_secs_f64()));
    let (min_area, max_area) = area_range(v, r, 0.25, &mut ok);
    let min_above = fraction(
        v,
        &r.min_above,
        "min_above must be a fraction of the zone above the fill line in [0, 1]",
        0.15,
        &mut ok,
    );
    let max_fill = fraction(
        v,
        &r.max_fill,
        "max_fill must be a fraction of the zone in [0, 1]",
        0.6,
        &mut ok,
    );
    let fill_line = match &r.fill_line {
        Some(l) => match two_points(v, l, "fill_line") {
            Some(p) => Some(p),
            None => {
                ok = false;
                None
            }
        },
        None => None,
    };
    let schedule = optional_schedule(v, &r.schedule, &mut ok);
    let severity = rule_severity(v, r, Severity::Medium);
    let (Some(overflow), Some(polygon), Ok(static_secs), Some(severity), true) =
        (check, polygon, static_secs, severity, ok)
    else {
        return None;
    };
    Some(WasteRule {
        id: RuleId::new(name),
        camera: cam.id.clone(),
        zone: ZoneId::new(&r.zone.as_ref()?.value),
        polygon,
        check: match overflow {
            true => WasteCheck::Overflow {
                fill_line,
                min_above,
                max_fill,
            },
            false => WasteCheck::Left,
        },
        static_secs,
        severity,
        schedule,
        min_area,
        max_area,
    })
}
