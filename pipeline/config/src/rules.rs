//! Validation of rules — written in the config itself or in rule files (`rule_files:`), which
//! may also define zones per camera — into [`Rule`]s. Errors in a rule file name that file.

use crate::check::{Validator, area_range, fraction, seconds, two_points};
use crate::context::{
    LANE_FIELDS, RuleContext, WASTE_FIELDS, name_and_camera, optional_schedule, refuse_fields,
    rule_severity, whole_frame, zone_of,
};
use crate::error::{ConfigError, parse_yaml};
use crate::raw::{RawRule, RawRuleFile, RawRuleKind};
use serde_saphyr::Spanned;
use std::path::{Path, PathBuf};
use std::time::Duration;
use vigil_core::{RuleId, Severity, ZoneId};
use vigil_spec::rule::{Anchor, Direction, Rule, RuleKind};

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
    edit: Option<(&Path, &str)>,
) -> Option<LoadedRuleFile> {
    let path = base.join(&named.value);
    let read = match edit {
        Some((edited, text)) if edited == path => Ok(text.to_string()),
        _ => std::fs::read_to_string(&path),
    };
    let text = match read {
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

/// Every validated rule: the detector's, the falling-object stage's and the waste stage's.
#[derive(Default)]
pub(crate) struct RuleSet {
    pub rules: Vec<Rule>,
    /// With where each names its camera (file, position), for errors found once all are read.
    pub falling: Vec<(crate::falling::FallRule, PathBuf, serde_saphyr::Location)>,
    /// `waste_left` and `bin_overflow` rules, with where each names its camera.
    pub waste: Vec<(
        vigil_spec::waste::WasteRule,
        PathBuf,
        serde_saphyr::Location,
    )>,
    /// `lane_obstructed` rules, with where each names its camera.
    pub lane: Vec<(vigil_spec::lane::LaneRule, PathBuf, serde_saphyr::Location)>,
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
        if r.kind.value != RawRuleKind::LaneObstructed {
            let what = format!(
                "{} rules (it is for kind: lane_obstructed)",
                r.kind.value.name()
            );
            refuse_fields(v, r, LANE_FIELDS, &what);
        }
        if r.kind.value == RawRuleKind::LaneObstructed {
            if let Some(rule) = crate::lane::rule(v, ctx, r) {
                out.lane
                    .push((rule, v.file().to_path_buf(), r.camera.referenced));
            }
        } else if crate::waste::is_static(r) {
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
        // Validated by `falling::rule` and `lane::rule`; never reach here.
        RawRuleKind::FallingObject | RawRuleKind::LaneObstructed => None,
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
    let dwell = match seconds(v, &r.dwell_secs, "dwell_secs", 0.0) {
        Ok(d) => d.unwrap_or(Duration::ZERO),
        Err(()) => {
            ok = false;
            Duration::ZERO
        }
    };
    let min_score = fraction(
        v,
        &r.min_score,
        "min_score must be a detector score in [0, 1]",
        0.0,
        &mut ok,
    ) as f32;
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
    let classes: Vec<String> = classes.iter().map(|c| c.value.clone()).collect();
    let classes = match ctx.manifest {
        Some(m) => m.with_group_classes(&classes),
        None => classes,
    };
    let mut rule = Rule::new(
        RuleId::new(name),
        cam.id.clone(),
        zone_id,
        polygon,
        classes,
        dwell,
    );
    rule.kind = kind;
    rule.anchor = anchor;
    rule.exclude = exclude;
    rule.inertia = inertia;
    rule.repeat_after = repeat_after;
    rule.min_score = min_score;
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
