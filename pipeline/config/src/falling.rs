//! `kind: falling_object` rules: a facade calibration and the detector's tuning, validated into
//! a [`FallRule`] for the camera's falling-object stage.

use crate::check::{Validator, corners, metres};
use crate::context::{DETECTOR_FIELDS, RuleContext, name_and_camera, refuse_fields, zone_of};
use crate::raw::RawRule;
use crate::raw_falling::{RawFacade, RawFalling};
use serde_saphyr::Spanned;
use vigil_core::{CameraId, RuleId, Severity, ZoneId};
use vigil_spec::facade::Facade;
use vigil_spec::falling::{ClassifyParams, FallConfig, ForegroundParams, TrackerParams};
use vigil_spec::schedule::Schedule;

/// A validated falling-object rule.
#[derive(Clone, Debug, PartialEq)]
pub struct FallRule {
    pub id: RuleId,
    pub camera: CameraId,
    /// The zone watched, when the rule names one (else the whole frame).
    pub zone: Option<ZoneId>,
    pub severity: Severity,
    pub schedule: Option<Schedule>,
    /// Frames are processed at this width (aspect kept); `None`: as decoded.
    pub process_width: Option<u32>,
    pub detector: FallConfig,
}

pub(crate) fn rule(
    v: &mut Validator<'_>,
    ctx: &mut RuleContext<'_>,
    r: &RawRule,
) -> Option<FallRule> {
    let name = &r.name.value;
    let cam = name_and_camera(v, ctx, r);
    let mut ok = refuse_fields(v, r, DETECTOR_FIELDS, "falling_object rules");
    let cam = cam?;
    let facade = match &r.facade {
        Some(f) => facade(v, f),
        None => {
            v.error(
                &r.kind,
                format!(
                    "falling_object rule \"{name}\" needs `facade` (the calibration: corners, width_m, height_m, columns)"
                ),
            );
            None
        }
    };
    let zone = match &r.zone {
        Some(z) => match zone_of(v, ctx, cam, r, z) {
            Some(p) => Some((ZoneId::new(&z.value), p)),
            None => {
                ok = false;
                None
            }
        },
        None => None,
    };
    // Something falling from a building can kill: it is urgent unless the rule says not.
    let severity = crate::context::rule_severity(v, r, Severity::Critical);
    let schedule = crate::context::optional_schedule(v, &r.schedule, &mut ok);
    let tuning = tuning(v, r.falling.as_ref());
    let hfov_deg = r
        .facade
        .as_ref()
        .and_then(|f| within(v, &f.value.hfov_deg, 20.0..=170.0, "hfov_deg", &mut ok));
    let top_floor = match (&facade, &r.facade) {
        (Some(facade), Some(raw)) => top_floor(v, facade, &raw.value, &mut ok),
        _ => None,
    };
    let (Some(facade), Some(severity), Some((process_width, foreground, tracker, classify)), true) =
        (facade, severity, tuning, ok)
    else {
        return None;
    };
    let (zone_id, polygon) = zone.unzip();
    Some(FallRule {
        id: RuleId::new(name),
        camera: cam.id.clone(),
        zone: zone_id,
        severity,
        schedule,
        process_width,
        detector: FallConfig {
            facade,
            hfov_deg,
            top_floor,
            zone: polygon
                .map(|p| p.points().iter().map(|q| (q.x, q.y)).collect())
                .unwrap_or_default(),
            foreground,
            tracker,
            classify,
        },
    })
}

fn facade(v: &mut Validator<'_>, f: &Spanned<RawFacade>) -> Option<Facade> {
    let raw = &f.value;
    let corners = corners(v, &raw.corners, "facade")?;
    let lengths = [
        metres(v, &raw.width_m, "width_m"),
        metres(v, &raw.height_m, "height_m"),
        raw.floor_height_m
            .as_ref()
            .map_or(Some(3.0), |h| metres(v, h, "floor_height_m")),
    ];
    if !(1..=200).contains(&raw.columns.value) {
        v.error(&raw.columns, "columns must be between 1 and 200");
        return None;
    }
    let mut ok = true;
    let first_floor = within(v, &raw.first_floor, -10..=300, "first_floor", &mut ok).unwrap_or(1);
    if !ok {
        return None;
    }
    let [Some(width_m), Some(height_m), Some(floor_height_m)] = lengths else {
        return None;
    };
    match Facade::new(
        corners,
        width_m,
        height_m,
        floor_height_m,
        first_floor,
        raw.columns.value,
    ) {
        Ok(f) => Some(f),
        Err(e) => {
            v.error(&raw.corners, format!("facade: {e}"));
            None
        }
    }
}

/// The facade's `top_floor`, when given: no lower than the storey at the calibrated
/// rectangle's top edge (the rectangle lies on the building), nor than 300.
fn top_floor(
    v: &mut Validator<'_>,
    facade: &Facade,
    raw: &RawFacade,
    ok: &mut bool,
) -> Option<i32> {
    let lowest = facade.floor_at(facade.height_m) - 1;
    within(v, &raw.top_floor, lowest.min(300)..=300, "top_floor", ok)
}

type Tuning = (Option<u32>, ForegroundParams, TrackerParams, ClassifyParams);

fn tuning(v: &mut Validator<'_>, raw: Option<&Spanned<RawFalling>>) -> Option<Tuning> {
    let mut fg = ForegroundParams::default();
    let tracker = TrackerParams::default();
    let mut cl = ClassifyParams::default();
    let Some(raw) = raw.map(|r| &r.value) else {
        return Some((None, fg, tracker, cl));
    };
    let mut ok = true;
    let mut num = |f: &Option<Spanned<f64>>, range, name| within(v, f, range, name, &mut ok);
    if let Some(x) = num(&raw.min_drop_m, 0.5..=100.0, "min_drop_m") {
        cl.min_drop_m = x;
    }
    if let Some(x) = num(&raw.k_sigma, 1.0..=10.0, "k_sigma") {
        fg.k_sigma = x as f32;
    }
    if let Some(x) = num(&raw.min_diff, 1.0..=128.0, "min_diff") {
        fg.min_diff = x as f32;
    }
    if let Some(x) = num(&raw.faint_diff, 0.0..=128.0, "faint_diff") {
        fg.faint_diff = x as f32;
    }
    if let Some(x) = num(&raw.guard_fraction, 0.001..=1.0, "guard_fraction") {
        fg.guard_fraction = x;
    }
    let mut int = |f: &Option<Spanned<u32>>, range, name| within(v, f, range, name, &mut ok);
    let process_width = int(&raw.process_width, 160..=7680, "process_width");
    if let Some(x) = int(&raw.min_frames, 4..=250, "min_frames") {
        cl.min_frames = x as usize;
    }
    if let Some(x) = int(&raw.min_area_px, 1..=10_000, "min_area_px") {
        fg.min_area = x;
    }
    if let Some(x) = int(&raw.max_area_px, 1..=1_000_000, "max_area_px") {
        fg.max_area = x;
    }
    if fg.min_area > fg.max_area
        && let Some(f) = &raw.max_area_px
    {
        v.error(f, "max_area_px must not be below min_area_px");
        ok = false;
    }
    if let Some(range) = &raw.accel_range {
        let [lo, hi] = range.value;
        if lo.is_finite() && hi.is_finite() && 0.0 < lo && lo < hi && hi <= 50.0 {
            (cl.accel_min, cl.accel_max) = (lo, hi);
        } else {
            v.error(
                range,
                "accel_range must be [min, max] in m/s² with 0 < min < max ≤ 50 (gravity is 9.81)",
            );
            ok = false;
        }
    }
    ok.then_some((process_width, fg, tracker, cl))
}

/// The value at `f` when it lies in `range` (NaN never does); otherwise reported there.
fn within<T: PartialOrd + Copy + std::fmt::Display>(
    v: &mut Validator<'_>,
    f: &Option<Spanned<T>>,
    range: std::ops::RangeInclusive<T>,
    name: &str,
    ok: &mut bool,
) -> Option<T> {
    let f = f.as_ref()?;
    let good = range.contains(&f.value);
    v.check(
        good,
        f,
        &format!(
            "{name} must be between {} and {}",
            range.start(),
            range.end()
        ),
    );
    *ok &= good;
    good.then_some(f.value)
}
