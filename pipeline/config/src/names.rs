//! Display names: what people call a camera, a zone and a rule (`3号楼东门`, `消防通道`,
//! `消防通道占用`) — any Unicode, shown on the page, in pushes and in snapshot captions. The
//! names the config uses to refer to things stay ASCII: they name MQTT topics, folders and
//! records.
//!
//! ```yaml
//! cameras:
//!   - name: gate_2
//!     display_name: 3号楼东门
//!     zones: {fire_lane: [[0.1, 0.5], …]}
//!     zone_names: {fire_lane: 消防通道}
//! rules:
//!   - name: fire_lane_blocked
//!     display_name: 消防通道占用
//! ```
//!
//! A rule file names its own zones the same way: `zone_names: {camera: {zone: name}}`.

use crate::check::Validator;
use crate::context::RuleContext;
use crate::raw::{RawCamera, RawRule, RawRuleFile};
use crate::rules::{LoadedRuleFile, in_file};
use serde_saphyr::Spanned;
use std::collections::BTreeMap;
use vigil_core::{Alert, DisplayNames};

/// The longest display name, in characters (a caption line on a 720p snapshot).
pub const MAX_CHARS: usize = 40;

/// Every display name the config and its rule files give.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Names {
    cameras: BTreeMap<String, String>,
    /// (camera, zone) → name.
    zones: BTreeMap<(String, String), String>,
    rules: BTreeMap<String, String>,
}

impl Names {
    /// The camera's display name, if it has one.
    pub fn camera(&self, camera: &str) -> Option<&str> {
        self.cameras.get(camera).map(String::as_str)
    }

    /// The names for `alert`'s camera, zone and rule.
    pub fn of(&self, alert: &Alert) -> DisplayNames {
        let camera = alert.camera.as_str();
        DisplayNames {
            camera: self.cameras.get(camera).cloned(),
            zone: alert.zone.as_ref().and_then(|z| {
                self.zones
                    .get(&(camera.to_string(), z.as_str().to_string()))
                    .cloned()
            }),
            rule: self.rules.get(alert.rule.as_str()).cloned(),
        }
    }

    /// Every display name.
    pub fn all(&self) -> impl Iterator<Item = &str> {
        self.cameras
            .values()
            .chain(self.zones.values())
            .chain(self.rules.values())
            .map(String::as_str)
    }

    /// Whether any name needs more than ASCII to be drawn (a CJK font, for snapshot captions).
    pub fn beyond_ascii(&self) -> bool {
        self.all().any(|n| !n.is_ascii())
    }
}

/// A display name as written at `s`: trimmed, non-empty, at most [`MAX_CHARS`] characters,
/// no control characters.
fn display_name(v: &mut Validator<'_>, s: &Spanned<String>) -> Option<String> {
    let name = s.value.trim();
    let ok = !name.is_empty()
        && name.chars().count() <= MAX_CHARS
        && !name.chars().any(char::is_control);
    v.check(
        ok,
        s,
        &format!(
            "display_name must be 1 to {MAX_CHARS} characters without control characters (any script: 3号楼东门)"
        ),
    );
    ok.then(|| name.to_string())
}

/// The names of the config's cameras and rules, then each rule file's (its zones and rules);
/// `ctx` knows every zone written anywhere, so a name for a zone that does not exist is an
/// error where the name is.
pub(crate) fn collect(
    v: &mut Validator<'_>,
    ctx: &RuleContext<'_>,
    cameras: &[RawCamera],
    rules: &[RawRule],
    files: &[LoadedRuleFile],
) -> Names {
    let mut names = Names::default();
    for cam in cameras {
        let camera = &cam.name.value;
        if let Some(n) = cam.display_name.as_ref().and_then(|n| display_name(v, n)) {
            names.cameras.insert(camera.clone(), n);
        }
        zone_names(v, ctx, camera, &cam.zone_names, &mut names);
    }
    rule_names(v, rules, &mut names);
    for f in files {
        in_file(&f.path, &mut v.errors, |fv| {
            file_names(fv, ctx, &f.raw, &mut names)
        });
    }
    names
}

fn file_names(v: &mut Validator<'_>, ctx: &RuleContext<'_>, file: &RawRuleFile, names: &mut Names) {
    for (camera, zones) in &file.zone_names {
        zone_names(v, ctx, camera, zones, names);
    }
    rule_names(v, &file.rules, names);
}

fn zone_names(
    v: &mut Validator<'_>,
    ctx: &RuleContext<'_>,
    camera: &str,
    zones: &BTreeMap<String, Spanned<String>>,
    names: &mut Names,
) {
    for (zone, n) in zones {
        if !ctx.zone_written(camera, zone) {
            v.error(
                n,
                format!(
                    "zone_names names zone \"{zone}\" of camera \"{camera}\", which is not defined"
                ),
            );
            continue;
        }
        if let Some(n) = display_name(v, n) {
            names.zones.insert((camera.to_string(), zone.clone()), n);
        }
    }
}

fn rule_names(v: &mut Validator<'_>, rules: &[RawRule], names: &mut Names) {
    for r in rules {
        if let Some(n) = r.display_name.as_ref().and_then(|n| display_name(v, n)) {
            names.rules.insert(r.name.value.clone(), n);
        }
    }
}
