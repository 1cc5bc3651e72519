//! Validation of rules — written in the config itself or in rule files (`rule_files:`), which
//! may also define zones per camera — into [`DwellRule`]s. Errors in a rule file name that file.

use crate::error::{ConfigError, parse_yaml};
use crate::manifest::ModelManifest;
use crate::raw::{RawRule, RawRuleFile, RawRuleKind, RawSchedule};
use crate::runtime::{CameraConfig, Validator};
use serde_saphyr::Spanned;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;
use vigil_core::{PointNorm, PolygonNorm, RuleId, Severity, ZoneId};
use vigil_rules::DwellRule;
use vigil_rules::schedule::{Schedule, Window, parse_days, parse_time};

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

/// Seconds at `field` in `range`, or an error there.
fn seconds(
    v: &mut Validator<'_>,
    field: &Option<Spanned<f64>>,
    name: &str,
    min: f64,
) -> Result<Option<Duration>, ()> {
    let Some(f) = field else { return Ok(None) };
    if f.value.is_finite() && f.value >= min && f.value <= 7.0 * 86_400.0 {
        Ok(Some(Duration::from_secs_f64(f.value)))
    } else {
        v.error(
            f,
            format!("{name} must be a number of seconds between {min} and 604800 (a week)"),
        );
        Err(())
    }
}

/// Validates `raw` rules into `out`.
pub(crate) fn rules(
    v: &mut Validator<'_>,
    ctx: &mut RuleContext<'_>,
    raw: &[RawRule],
    out: &mut Vec<DwellRule>,
) {
    for r in raw {
        if let Some(rule) = rule(v, ctx, r) {
            out.push(rule);
        }
    }
}

fn rule(v: &mut Validator<'_>, ctx: &mut RuleContext<'_>, r: &RawRule) -> Option<DwellRule> {
    let RawRuleKind::Dwell = r.kind;
    let name = &r.name.value;
    if !ctx.names.insert(name.clone()) {
        v.error(&r.name, format!("rule \"{name}\" is defined twice"));
    }
    let Some(cam) = ctx.cameras.iter().find(|c| c.id.as_str() == r.camera.value) else {
        v.error(
            &r.camera,
            format!(
                "camera \"{}\" in rule \"{name}\" is not defined",
                r.camera.value
            ),
        );
        return None;
    };
    let polygon = ctx.polygon(cam, &r.zone.value);
    let written = ctx
        .written
        .contains(&(r.camera.value.clone(), r.zone.value.clone()));
    if polygon.is_none() && !written {
        let elsewhere: Vec<&str> = ctx
            .written
            .iter()
            .filter(|(_, z)| *z == r.zone.value)
            .map(|(c, _)| c.as_str())
            .collect();
        let hint = match elsewhere.as_slice() {
            [] => String::new(),
            cams => format!(" (it is a zone of camera \"{}\")", cams.join("\", \"")),
        };
        v.error(
            &r.zone,
            format!(
                "zone \"{}\" in rule \"{name}\" is not defined for camera \"{}\"{hint}",
                r.zone.value, r.camera.value
            ),
        );
    }
    if r.classes.value.is_empty() {
        v.error(&r.classes, format!("rule \"{name}\" names no classes"));
    }
    if let Some(m) = ctx.manifest {
        for c in &r.classes.value {
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
    let mut ok = true;
    let dwell_ok = r.dwell_secs.value.is_finite() && r.dwell_secs.value >= 0.0;
    v.check(
        dwell_ok,
        &r.dwell_secs,
        "dwell_secs must be a number of seconds ≥ 0",
    );
    ok &= dwell_ok;
    let max_gap = seconds(v, &r.max_gap_secs, "max_gap_secs", 0.0);
    let update_after = seconds(v, &r.update_after_secs, "update_after_secs", 1.0);
    let cooldown = seconds(v, &r.cooldown_secs, "cooldown_secs", 0.0);
    let mut fraction = |f: &Option<Spanned<f64>>, name: &str, default: f64| -> f64 {
        let Some(f) = f else { return default };
        if f.value.is_finite() && (0.0..=1.0).contains(&f.value) {
            f.value
        } else {
            v.error(
                f,
                format!("{name} must be a fraction of the frame in [0, 1]"),
            );
            ok = false;
            default
        }
    };
    let min_area = fraction(&r.min_area, "min_area", 0.0);
    let max_area = fraction(&r.max_area, "max_area", 1.0);
    if min_area > max_area
        && let Some(f) = &r.max_area
    {
        v.error(f, "max_area must not be below min_area");
        ok = false;
    }
    let schedule = match &r.schedule {
        Some(s) => match schedule(v, s) {
            Some(s) => Some(s),
            None => {
                ok = false;
                None
            }
        },
        None => None,
    };
    let severity = match &r.severity {
        Some(s) => crate::outputs::severity(v, s),
        None => Some(Severity::Medium),
    };
    let (Ok(max_gap), Ok(update_after), Ok(cooldown), Some(severity), Some(polygon), true) =
        (max_gap, update_after, cooldown, severity, polygon, ok)
    else {
        return None;
    };
    let mut rule = DwellRule::new(
        RuleId::new(name),
        cam.id.clone(),
        ZoneId::new(&r.zone.value),
        polygon,
        r.classes.value.iter().map(|c| c.value.clone()).collect(),
        Duration::from_secs_f64(r.dwell_secs.value),
    );
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
