//! Validation of rules — written in the config itself or in rule files (`rule_files:`), which
//! may also define zones per camera — into [`Rule`]s. Errors in a rule file name that file.

use crate::check::{Validator, area_range, seconds, two_points};
use crate::error::{ConfigError, parse_yaml};
use crate::manifest::ModelManifest;
use crate::raw::{RawRule, RawRuleFile, RawRuleKind, RawSchedule};
use crate::runtime::CameraConfig;
use serde_saphyr::Spanned;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;
use vigil_core::{PointNorm, PolygonNorm, RuleId, Severity, ZoneId};
use vigil_rules::schedule::{Schedule, Window, parse_days, parse_time};
use vigil_rules::{Anchor, Direction, Rule, RuleKind};

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

/// A rule file as read: its path and content, or the error that stopped reading it.
pub(crate) struct LoadedRuleFile {
    pub path: PathBuf,
    pub raw: RawRuleFile,
}

/// Reads and parses the rule file named at `named` (relative to `base`); a missing or
/// unparsable file is reported (at the reference, or in the file) and yields `None`.
pub(crate) fn read_rule_file(
    v: &mut Validator<'_>,
    named: &Spanned<String>,
    base: &Path,
) -> Option<LoadedRuleFile> {
    let path = base.join(&named.value);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            v.error(
                named,
                format!("rule file {} cannot be read: {e}", path.display()),
            );
            return None;
        }
    };
    match parse_yaml::<RawRuleFile>(&path, &text) {
        Ok(raw) => Some(LoadedRuleFile { path, raw }),
        Err(e) => {
            v.push(e);
            None
        }
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

/// Every validated rule: the detector's, the falling-object stage's and the waste stage's.
#[derive(Default)]
pub(crate) struct RuleSet {
    pub rules: Vec<Rule>,
    /// With where each names its camera (file, position), for errors found once all are read.
    pub falling: Vec<(crate::falling::FallRule, PathBuf, serde_saphyr::Location)>,
    /// `waste_left` and `bin_overflow` rules, with where each names its camera.
    pub waste: Vec<(vigil_waste::WasteRule, PathBuf, serde_saphyr::Location)>,
}

/// Validates `raw` rules into `out`.
pub(crate) fn rules(
    v: &mut Validator<'_>,
    ctx: &mut RuleContext<'_>,
    raw: &[RawRule],
    out: &mut RuleSet,
) {
    for r in raw {
        if r.kind.value != RawRuleKind::Waste {
            let what = format!("{} rules (it is for kind: waste)", r.kind.value.name());
            refuse_fields(v, r, WASTE_FIELDS, &what);
        }
        if crate::waste::is_static(r) {
            if let Some(rule) = crate::waste::rule(v, ctx, r) {
                out.waste
                    .push((rule, v.file().to_path_buf(), r.camera.referenced));
            }
        } else if r.kind.value == RawRuleKind::FallingObject {
            if let Some(rule) = crate::falling::rule(v, ctx, r) {
                out.falling
                    .push((rule, v.file().to_path_buf(), r.camera.referenced));
            }
        } else if let Some(rule) = rule(v, ctx, r) {
            out.rules.push(rule);
        }
    }
}

/// Optional fields of the detector rules (`dwell` … `line_cross`).
pub(crate) const DETECTOR_FIELDS: &[&str] = &[
    "classes",
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
fn whole_frame() -> PolygonNorm {
    PolygonNorm::new(
        [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]
            .iter()
            .map(|&(x, y)| PointNorm { x, y })
            .collect(),
    )
    .expect("the unit square is a polygon")
}

fn rule(v: &mut Validator<'_>, ctx: &mut RuleContext<'_>, r: &RawRule) -> Option<Rule> {
    let name = &r.name.value;
    let cam = name_and_camera(v, ctx, r)?;
    let mut ok = true;
    let kind_name = r.kind.value.name();
    let mut needs = |v: &mut Validator<'_>, present: bool, field: &str, why: &str| {
        if !present {
            v.error(
                &r.kind,
                format!("{kind_name} rule \"{name}\" needs `{field}` ({why})"),
            );
            ok = false;
        }
    };
    let line_cross = r.kind.value == RawRuleKind::LineCross;
    // What this kind does not take.
    let mut refused = vec!["facade", "falling"];
    if line_cross {
        refused.extend(["zone", "exclude", "inertia"]);
    } else {
        refused.extend(["line", "direction"]);
    }
    if matches!(r.kind.value, RawRuleKind::Enter | RawRuleKind::LineCross) {
        refused.extend(["dwell_secs", "update_after_secs"]);
    }
    if r.kind.value != RawRuleKind::Count {
        refused.push("more_than");
    }
    if matches!(r.kind.value, RawRuleKind::LineCross | RawRuleKind::Count) {
        refused.push("repeat_after_secs");
    }
    refuse_fields(v, r, &refused, &format!("{kind_name} rules"));
    needs(
        v,
        line_cross || r.zone.is_some(),
        "zone",
        "the zone it watches",
    );
    needs(
        v,
        r.kind.value != RawRuleKind::Dwell || r.dwell_secs.is_some(),
        "dwell_secs",
        "how long before it alerts",
    );
    needs(
        v,
        r.kind.value != RawRuleKind::Count || r.more_than.is_some(),
        "more_than",
        "the most objects allowed in the zone",
    );
    needs(
        v,
        r.classes.is_some(),
        "classes",
        "the classes or groups it counts",
    );
    needs(
        v,
        !line_cross || r.line.is_some(),
        "line",
        "[[x, y], [x, y]], normalised",
    );
    let kind = match r.kind.value {
        // Validated by `falling::rule`; never reaches here.
        RawRuleKind::FallingObject => None,
        // `unsorted_waste` (the other checks are validated by `waste::rule`).
        RawRuleKind::Waste => unsorted(v, ctx, r),
        RawRuleKind::Dwell => Some(RuleKind::Dwell),
        RawRuleKind::Enter => Some(RuleKind::Enter),
        RawRuleKind::Count => r
            .more_than
            .as_ref()
            .map(|m| RuleKind::Count { more_than: m.value }),
        RawRuleKind::LineCross => {
            let direction = match r.direction.as_ref().map(|d| d.value.as_str()) {
                None | Some("any") => Some(Direction::Any),
                Some("left_to_right") => Some(Direction::LeftToRight),
                Some("right_to_left") => Some(Direction::RightToLeft),
                Some(other) => {
                    let at = r.direction.as_ref().expect("matched Some");
                    v.error(
                        at,
                        format!(
                            "direction \"{other}\" is none of any, left_to_right, right_to_left"
                        ),
                    );
                    None
                }
            };
            let line = r.line.as_ref().and_then(|l| two_points(v, l, "line"));
            match (line, direction) {
                (Some((from, to)), Some(direction)) => Some(RuleKind::LineCross {
                    from,
                    to,
                    direction,
                }),
                _ => None,
            }
        }
    };
    let min_overlap = match &r.min_overlap {
        Some(m) if m.value.is_finite() && m.value > 0.0 && m.value <= 1.0 => Some(m.value),
        Some(m) => {
            v.error(m, "min_overlap must be a fraction in (0, 1]");
            None
        }
        None => Some(0.5),
    };
    let anchor = match r.anchor.as_ref().map(|a| a.value.as_str()) {
        None | Some("bottom_centre") => Some(Anchor::BottomCentre),
        Some("centre") => Some(Anchor::Centre),
        Some("overlap") => min_overlap.map(|min_fraction| Anchor::Overlap { min_fraction }),
        Some(other) => {
            v.error(
                r.anchor.as_ref().expect("matched Some"),
                format!("anchor \"{other}\" is none of bottom_centre, centre, overlap"),
            );
            None
        }
    };
    if r.anchor.as_ref().is_none_or(|a| a.value != "overlap")
        && let Some(m) = &r.min_overlap
    {
        v.error(m, "`min_overlap` goes with `anchor: overlap`");
    }
    let mut exclude = Vec::new();
    for z in &r.exclude {
        match zone_of(v, ctx, cam, r, z) {
            Some(p) => exclude.push(p),
            None => ok = false,
        }
    }
    let inertia = match &r.inertia {
        Some(i) if (1..=1000).contains(&i.value) => i.value,
        Some(i) => {
            v.error(i, "inertia must be between 1 and 1000 frames");
            ok = false;
            1
        }
        None => 1,
    };
    let repeat_after = seconds(v, &r.repeat_after_secs, "repeat_after_secs", 1.0);
    let (zone_id, polygon) = match (&r.zone, line_cross) {
        (Some(zone), false) => (ZoneId::new(&zone.value), zone_of(v, ctx, cam, r, zone)),
        _ => (ZoneId::new("line"), Some(whole_frame())),
    };
    let classes: &[Spanned<String>] = r.classes.as_ref().map_or(&[], |c| &c.value);
    if let Some(c) = &r.classes
        && c.value.is_empty()
    {
        v.error(c, format!("rule \"{name}\" names no classes"));
    }
    if let Some(m) = ctx.manifest {
        for c in classes {
            if !m.knows_class_or_group(&c.value) {
                v.error(
                    c,
                    format!(
                        "class \"{}\" in rule \"{name}\" is neither a label nor a group of model \"{}\"",
                        c.value, m.name
                    ),
                );
            }
        }
    }
    let dwell = match &r.dwell_secs {
        Some(d) if d.value.is_finite() && d.value >= 0.0 => Duration::from_secs_f64(d.value),
        Some(d) => {
            v.error(d, "dwell_secs must be a number of seconds ≥ 0");
            ok = false;
            Duration::ZERO
        }
        None => Duration::ZERO,
    };
    let max_gap = seconds(v, &r.max_gap_secs, "max_gap_secs", 0.0);
    let update_after = seconds(v, &r.update_after_secs, "update_after_secs", 1.0);
    let cooldown = seconds(v, &r.cooldown_secs, "cooldown_secs", 0.0);
    let (min_area, max_area) = area_range(v, r, 1.0, &mut ok);
    let schedule = optional_schedule(v, &r.schedule, &mut ok);
    let severity = rule_severity(v, r, Severity::Medium);
    let (
        Ok(repeat_after),
        Ok(max_gap),
        Ok(update_after),
        Ok(cooldown),
        Some(severity),
        Some(polygon),
        Some(kind),
        Some(anchor),
        true,
    ) = (
        repeat_after,
        max_gap,
        update_after,
        cooldown,
        severity,
        polygon,
        kind,
        anchor,
        ok,
    )
    else {
        return None;
    };
    let mut rule = Rule::new(
        RuleId::new(name),
        cam.id.clone(),
        zone_id,
        polygon,
        classes.iter().map(|c| c.value.clone()).collect(),
        dwell,
    );
    rule.kind = kind;
    rule.anchor = anchor;
    rule.exclude = exclude;
    rule.inertia = inertia;
    rule.repeat_after = repeat_after;
    rule.min_score = r.min_score;
    if let Some(g) = max_gap {
        rule.max_gap = g;
    }
    rule.severity = severity;
    rule.update_after = update_after;
    rule.cooldown = cooldown.unwrap_or_default();
    rule.min_area = min_area;
    rule.max_area = max_area;
    rule.schedule = schedule;
    Some(rule)
}

/// The kind of an `unsorted_waste` rule: the categories its bin `accepts` (groups or classes of
/// the model), which must leave some of its `classes` unaccepted.
fn unsorted(v: &mut Validator<'_>, ctx: &RuleContext<'_>, r: &RawRule) -> Option<RuleKind> {
    let name = &r.name.value;
    let static_only = ["static_secs", "fill_line", "min_above", "max_fill"];
    let mut ok = refuse_fields(v, r, &static_only, "unsorted_waste rules");
    let Some(accepts) = &r.accepts else {
        v.error(
            &r.kind,
            format!(
                "unsorted_waste rule \"{name}\" needs `accepts` (the categories its bin takes, e.g. [recyclable])"
            ),
        );
        return None;
    };
    if accepts.value.is_empty() {
        v.error(accepts, format!("rule \"{name}\" accepts no category"));
        ok = false;
    }
    if let Some(m) = ctx.manifest {
        for a in &accepts.value {
            if !m.knows_class_or_group(&a.value) {
                v.error(
                    a,
                    format!(
                        "category \"{}\" in rule \"{name}\" is neither a label nor a group of model \"{}\"",
                        a.value, m.name
                    ),
                );
                ok = false;
            }
        }
    }
    let accepts: Vec<String> = accepts.value.iter().map(|a| a.value.clone()).collect();
    if let Some(classes) = &r.classes
        && !classes.value.is_empty()
        && classes.value.iter().all(|c| accepts.contains(&c.value))
    {
        v.error(
            classes,
            format!("rule \"{name}\" accepts every class it watches: it can never alert"),
        );
        ok = false;
    }
    ok.then_some(RuleKind::Unsorted { accepts })
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

/// Errors of one file, collected by its own validator, joining the config's.
pub(crate) fn in_file<T>(
    file: &Path,
    errors: &mut Vec<ConfigError>,
    f: impl FnOnce(&mut Validator<'_>) -> T,
) -> T {
    let mut v = Validator::new(file);
    let out = f(&mut v);
    errors.extend(v.into_errors());
    out
}
