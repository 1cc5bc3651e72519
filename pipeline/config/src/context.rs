//! What every rule kind is validated against, a module the kinds share (`rules` for the
//! detector rules, `falling`, `waste`): the [`RuleContext`] (cameras, model, names and zones seen
//! so far), claiming a rule's name and camera, its zone, the fields a kind refuses, its severity
//! and its schedule.

use crate::camera::CameraConfig;
use crate::check::Validator;
use crate::error::ConfigError;
use crate::manifest::ModelManifest;
use crate::raw::{RawRule, RawRuleFile, RawSchedule};
use serde_saphyr::Spanned;
use std::collections::HashSet;
use vigil_core::{PointNorm, PolygonNorm, Severity};
use vigil_spec::schedule::{Schedule, Window, parse_days, parse_time};

/// What rules are checked against, and what they have defined so far.
pub(crate) struct RuleContext<'a> {
    pub cameras: &'a [CameraConfig],
    pub manifest: Option<&'a ModelManifest>,
    /// Rule names seen so far (unique across the config and every rule file).
    names: HashSet<String>,
    /// Zones defined in rule files: (camera, zone, polygon).
    file_zones: Vec<(String, String, PolygonNorm)>,
    /// Every (camera, zone) written anywhere, valid or not: an invalid zone is reported once,
    /// where it is written, not again by each rule naming it.
    written: HashSet<(String, String)>,
}

impl<'a> RuleContext<'a> {
    /// Whether zone `zone` of `camera` is written anywhere (in the config or a rule file).
    pub fn zone_written(&self, camera: &str, zone: &str) -> bool {
        self.written
            .contains(&(camera.to_string(), zone.to_string()))
    }

    pub fn new(
        cameras: &'a [CameraConfig],
        manifest: Option<&'a ModelManifest>,
        camera_zones_written: impl IntoIterator<Item = (String, String)>,
    ) -> Self {
        Self {
            cameras,
            manifest,
            names: HashSet::new(),
            file_zones: Vec::new(),
            written: camera_zones_written.into_iter().collect(),
        }
    }

    fn polygon(&self, camera: &CameraConfig, zone: &str) -> Option<PolygonNorm> {
        camera
            .zones
            .iter()
            .find(|(z, _)| z.as_str() == zone)
            .map(|(_, p)| p.clone())
            .or_else(|| {
                self.file_zones
                    .iter()
                    .find(|(c, z, _)| c == camera.id.as_str() && z == zone)
                    .map(|(_, _, p)| p.clone())
            })
    }
}

/// Adds a rule file's zones to the context.
pub(crate) fn file_zones(v: &mut Validator<'_>, ctx: &mut RuleContext<'_>, file: &RawRuleFile) {
    for (camera, zones) in &file.zones {
        for (zone, pts) in zones {
            if !ctx.cameras.iter().any(|c| c.id.as_str() == camera) {
                v.error(
                    pts,
                    format!("zone \"{zone}\" is for camera \"{camera}\", which is not defined"),
                );
                continue;
            }
            if !ctx.written.insert((camera.clone(), zone.clone())) {
                v.error(
                    pts,
                    format!("zone \"{zone}\" of camera \"{camera}\" is defined twice"),
                );
                continue;
            }
            let points = pts.value.iter().map(|&[x, y]| PointNorm { x, y }).collect();
            match PolygonNorm::new(points) {
                Ok(p) => ctx.file_zones.push((camera.clone(), zone.clone(), p)),
                Err(e) => v.error(pts, format!("zone \"{zone}\" of camera \"{camera}\": {e}")),
            }
        }
    }
}

/// The rule's `severity`, `default` when left out; `None` after an error.
pub(crate) fn rule_severity(
    v: &mut Validator<'_>,
    r: &RawRule,
    default: Severity,
) -> Option<Severity> {
    match &r.severity {
        Some(s) => crate::outputs::severity(v, s),
        None => Some(default),
    }
}

/// Optional fields of the detector rules (`dwell` … `line_cross`).
pub(crate) const DETECTOR_FIELDS: &[&str] = &[
    "classes",
    "min_score",
    "dwell_secs",
    "more_than",
    "line",
    "direction",
    "anchor",
    "min_overlap",
    "exclude",
    "inertia",
    "repeat_after_secs",
    "max_gap_secs",
    "update_after_secs",
    "cooldown_secs",
    "min_area",
    "max_area",
];

/// Fields of `kind: waste` rules.
pub(crate) const WASTE_FIELDS: &[&str] = &[
    "check",
    "static_secs",
    "fill_line",
    "min_above",
    "max_fill",
    "accepts",
];

/// Fields of `kind: lane_obstructed` rules alone.
pub(crate) const LANE_FIELDS: &[&str] = &["min_fraction", "min_width_m", "ground"];

/// Where each optional field the rule sets lies, by name.
fn set_fields(r: &RawRule) -> Vec<(serde_saphyr::Location, &'static str)> {
    fn at<T>(f: &Option<Spanned<T>>) -> Option<serde_saphyr::Location> {
        f.as_ref().map(|f| f.referenced)
    }
    [
        (at(&r.zone), "zone"),
        (at(&r.classes), "classes"),
        (at(&r.dwell_secs), "dwell_secs"),
        (at(&r.more_than), "more_than"),
        (at(&r.line), "line"),
        (at(&r.direction), "direction"),
        (at(&r.anchor), "anchor"),
        (at(&r.min_overlap), "min_overlap"),
        (r.exclude.first().map(|f| f.referenced), "exclude"),
        (at(&r.inertia), "inertia"),
        (at(&r.repeat_after_secs), "repeat_after_secs"),
        (at(&r.max_gap_secs), "max_gap_secs"),
        (at(&r.update_after_secs), "update_after_secs"),
        (at(&r.cooldown_secs), "cooldown_secs"),
        (at(&r.min_area), "min_area"),
        (at(&r.max_area), "max_area"),
        (at(&r.facade), "facade"),
        (at(&r.falling), "falling"),
        (at(&r.check), "check"),
        (at(&r.static_secs), "static_secs"),
        (at(&r.fill_line), "fill_line"),
        (at(&r.min_above), "min_above"),
        (at(&r.max_fill), "max_fill"),
        (at(&r.accepts), "accepts"),
        (at(&r.min_fraction), "min_fraction"),
        (at(&r.min_width_m), "min_width_m"),
        (at(&r.ground), "ground"),
        (at(&r.min_score), "min_score"),
    ]
    .into_iter()
    .filter_map(|(at, name)| Some((at?, name)))
    .collect()
}

/// Reports each of the fields `names` the rule sets as not applying to `what` ("dwell rules");
/// true when it sets none of them.
pub(crate) fn refuse_fields(
    v: &mut Validator<'_>,
    r: &RawRule,
    names: &[&str],
    what: &str,
) -> bool {
    let mut none = true;
    for (at, field) in set_fields(r) {
        if names.contains(&field) {
            v.push(ConfigError::at(
                v.file(),
                at,
                format!("`{field}` does not apply to {what}"),
            ));
            none = false;
        }
    }
    none
}

/// Claims the rule's name (unique everywhere) and finds its camera, or reports why not.
pub(crate) fn name_and_camera<'c>(
    v: &mut Validator<'_>,
    ctx: &mut RuleContext<'c>,
    r: &RawRule,
) -> Option<&'c CameraConfig> {
    let name = &r.name.value;
    if !ctx.names.insert(name.clone()) {
        v.error(&r.name, format!("rule \"{name}\" is defined twice"));
    }
    let cameras = ctx.cameras;
    let cam = cameras.iter().find(|c| c.id.as_str() == r.camera.value);
    if cam.is_none() {
        v.error(
            &r.camera,
            format!(
                "camera \"{}\" in rule \"{name}\" is not defined",
                r.camera.value
            ),
        );
    }
    cam
}

/// The rule's `zone` (see [`zone_of`]), which its kind needs: when it is missing, an error at
/// the rule's kind saying so, `what` the zone is for ("the lane it keeps clear").
pub(crate) fn required_zone(
    v: &mut Validator<'_>,
    ctx: &RuleContext<'_>,
    cam: &CameraConfig,
    r: &RawRule,
    kind: &str,
    what: &str,
) -> Option<PolygonNorm> {
    match &r.zone {
        Some(z) => zone_of(v, ctx, cam, r, z),
        None => {
            let name = &r.name.value;
            v.error(
                &r.kind,
                format!("{kind} rule \"{name}\" needs `zone` ({what})"),
            );
            None
        }
    }
}
/// The zone a rule names: its polygon, or `None` (reported) when the camera has no such zone.
pub(crate) fn zone_of(
    v: &mut Validator<'_>,
    ctx: &RuleContext<'_>,
    cam: &CameraConfig,
    r: &RawRule,
    zone: &Spanned<String>,
) -> Option<PolygonNorm> {
    let name = &r.name.value;
    let polygon = ctx.polygon(cam, &zone.value);
    let written = ctx
        .written
        .contains(&(r.camera.value.clone(), zone.value.clone()));
    if polygon.is_none() && !written {
        let elsewhere: Vec<&str> = ctx
            .written
            .iter()
            .filter(|(_, z)| *z == zone.value)
            .map(|(c, _)| c.as_str())
            .collect();
        let hint = match elsewhere.as_slice() {
            [] => String::new(),
            cams => format!(" (it is a zone of camera \"{}\")", cams.join("\", \"")),
        };
        v.error(
            zone,
            format!(
                "zone \"{}\" in rule \"{name}\" is not defined for camera \"{}\"{hint}",
                zone.value, r.camera.value
            ),
        );
    }
    polygon
}

/// The whole frame: the (unused) zone of a `line_cross` rule.
pub(crate) fn whole_frame() -> PolygonNorm {
    PolygonNorm::new(
        [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]
            .iter()
            .map(|&(x, y)| PointNorm { x, y })
            .collect(),
    )
    .expect("the unit square is a polygon")
}

/// The rule's schedule, if it has one; `ok` turns false when it is invalid (reported).
pub(crate) fn optional_schedule(
    v: &mut Validator<'_>,
    raw: &Option<RawSchedule>,
    ok: &mut bool,
) -> Option<Schedule> {
    let s = schedule(v, raw.as_ref()?);
    *ok &= s.is_some();
    s
}

/// The default time zone of schedules: vigil's communities are in China.
pub const DEFAULT_TIMEZONE: &str = "Asia/Shanghai";

fn schedule(v: &mut Validator<'_>, raw: &RawSchedule) -> Option<Schedule> {
    let mut ok = true;
    let tz = match &raw.timezone {
        Some(name) => match name.value.parse::<chrono_tz::Tz>() {
            Ok(tz) => tz,
            Err(_) => {
                v.error(
                    name,
                    format!(
                        "unknown time zone \"{}\" (an IANA name such as {DEFAULT_TIMEZONE})",
                        name.value
                    ),
                );
                ok = false;
                chrono_tz::Asia::Shanghai
            }
        },
        None => chrono_tz::Asia::Shanghai,
    };
    if raw.windows.value.is_empty() {
        v.error(&raw.windows, "a schedule needs at least one window");
        ok = false;
    }
    let mut windows = Vec::new();
    for w in &raw.windows.value {
        let names: Vec<&str> = w.days.value.iter().map(|d| d.value.as_str()).collect();
        let days = match parse_days(&names) {
            Ok(d) if names.is_empty() => {
                v.error(&w.days, "a window needs at least one day");
                ok = false;
                d
            }
            Ok(d) => d,
            Err(e) => {
                let at = w
                    .days
                    .value
                    .iter()
                    .find(|d| parse_days(&[d.value.as_str()]).is_err())
                    .map_or(w.days.referenced, |d| d.referenced);
                v.push(ConfigError::at(v.file(), at, e));
                ok = false;
                [false; 7]
            }
        };
        let mut time = |t: &Spanned<String>| match parse_time(&t.value) {
            Ok(m) => m,
            Err(e) => {
                v.error(t, e);
                ok = false;
                0
            }
        };
        let (from_min, to_min) = (time(&w.from), time(&w.to));
        if ok && from_min == to_min {
            v.error(
                &w.to,
                "from and to are the same time (a whole day is 00:00 to 24:00)",
            );
            ok = false;
        }
        windows.push(Window {
            days,
            from_min,
            to_min,
        });
    }
    let schedule = Schedule { tz, windows };
    if ok && let Some((i, j)) = schedule.overlap() {
        v.error(
            &raw.windows.value[j].days,
            format!(
                "window {} overlaps window {} of the same schedule",
                j + 1,
                i + 1
            ),
        );
        ok = false;
    }
    ok.then_some(schedule)
}
