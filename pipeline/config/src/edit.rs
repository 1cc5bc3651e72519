//! The zone editor's side of the config: the shapes a camera's rules are drawn with — zones
//! (polygons), `line_cross` lines, bins' `fill_line`s and a facade's four `corners` — where each
//! is written, and a change to one of them as the new text of its file.
//!
//! A change rewrites only the value it changes (`[[x, y], …]`, in flow style) and leaves every
//! other byte of the file as it was: comments, layout, key order. A new zone is inserted under
//! its camera in the file's `zones:` (made when missing). The result is validated as a whole
//! config, exactly as `vigil check` would, with the changed file read from the new text
//! ([`apply`]); writing it, keeping the previous version and undoing are the caller's. Each
//! file is read once per request ([`Files::read`]).

use crate::error::{ConfigErrors, parse_yaml};
use crate::raw::{RawConfig, RawRule, RawRuleFile};
use serde::{Deserialize, Serialize};
use serde_saphyr::{Location, Spanned};
use std::path::{Path, PathBuf};

/// What a shape is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShapeKind {
    /// A zone's polygon (`zones:` → camera → name), 3 or more points.
    Zone,
    /// A `line_cross` rule's `line` (named by the rule), 2 points.
    Line,
    /// A `bin_overflow` rule's `fill_line`, 2 points.
    FillLine,
    /// A `falling_object` rule's `facade.corners`, 4 points: bottom-left, bottom-right,
    /// top-right, top-left.
    Corners,
    /// A `lane_obstructed` rule's `ground.corners`, 4 points: across the lane kerb to kerb,
    /// then along it, then back across.
    Ground,
}

/// One shape of a camera, where it is written.
#[derive(Clone, Debug, Serialize)]
pub struct Shape {
    /// The file as the config names it (`rules/fire-lane.yaml`), or the config's own name.
    pub file: String,
    pub kind: ShapeKind,
    /// The zone's name, or the rule's.
    pub name: String,
    pub points: Vec<[f64; 2]>,
    #[serde(skip)]
    at: Option<usize>,
}

/// A change: `kind` `name` of the camera in `file` gets `points` (a zone that does not exist
/// yet is added).
#[derive(Clone, Debug, Deserialize)]
pub struct Edit {
    pub file: String,
    pub kind: ShapeKind,
    pub name: String,
    pub points: Vec<[f64; 2]>,
}

/// A change validated: the file's path, its new text, and the lines (1-based, inclusive) the new
/// value takes in it.
#[derive(Debug)]
pub struct Edited {
    pub path: PathBuf,
    pub after: String,
    pub lines: (u64, u64),
}

#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("{0}")]
    Read(String),
    #[error("{0}")]
    Unknown(String),
    /// The changed config does not validate; the lines the change took in its file.
    #[error("{errors}")]
    Invalid {
        errors: ConfigErrors,
        path: PathBuf,
        lines: (u64, u64),
    },
}

/// A file whose shapes can be edited, as read: the config itself or a rule file it names.
#[derive(Debug)]
pub struct File {
    /// The file as the config names it (`rules/fire-lane.yaml`), or the config's own name.
    pub name: String,
    pub path: PathBuf,
    pub text: String,
}

/// The config and each rule file it names, each read once; the config first.
#[derive(Debug)]
pub struct Files(Vec<File>);

impl Files {
    /// Reads the config at `config` and every rule file it names.
    pub fn read(config: &Path) -> Result<Self, EditError> {
        let text = read(config)?;
        let raw: RawConfig =
            parse_yaml(config, &text).map_err(|e| EditError::Read(e.to_string()))?;
        let base = config.parent().unwrap_or(Path::new("."));
        let own = File {
            name: config
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
            path: config.to_path_buf(),
            text,
        };
        let mut files = vec![own];
        for f in &raw.rule_files {
            let path = base.join(&f.value);
            files.push(File {
                name: f.value.clone(),
                text: read(&path)?,
                path,
            });
        }
        Ok(Self(files))
    }

    pub fn iter(&self) -> impl Iterator<Item = &File> {
        self.0.iter()
    }

    /// The file named `name`, and whether it is the config.
    pub fn find(&self, name: &str) -> Result<(&File, bool), EditError> {
        self.0
            .iter()
            .position(|f| f.name == name)
            .map(|i| (&self.0[i], i == 0))
            .ok_or_else(|| EditError::Unknown(format!("no file \"{name}\" in the config")))
    }

    fn config(&self) -> &File {
        &self.0[0]
    }
}

fn read(path: &Path) -> Result<String, EditError> {
    std::fs::read_to_string(path)
        .map_err(|e| EditError::Read(format!("cannot read {}: {e}", path.display())))
}

/// Every shape of `camera` in `files`, file by file.
pub fn shapes(files: &Files, camera: &str) -> Result<Vec<Shape>, EditError> {
    let mut out = Vec::new();
    for (i, f) in files.iter().enumerate() {
        out.extend(shapes_in(&f.name, &f.path, &f.text, camera, i == 0)?);
    }
    Ok(out)
}

/// The shapes of `camera` in one file's `text` (`is_config`: the config, whose zones are under
/// its cameras).
fn shapes_in(
    name: &str,
    path: &Path,
    text: &str,
    camera: &str,
    is_config: bool,
) -> Result<Vec<Shape>, EditError> {
    let parsed = |e: crate::ConfigError| EditError::Read(e.to_string());
    let (zones, rules) = if is_config {
        let raw: RawConfig = parse_yaml(path, text).map_err(parsed)?;
        let zones = raw
            .cameras
            .value
            .into_iter()
            .filter(|c| c.name.value == camera)
            .flat_map(|c| c.zones)
            .collect::<Vec<_>>();
        (zones, raw.rules)
    } else {
        let mut raw: RawRuleFile = parse_yaml(path, text).map_err(parsed)?;
        let zones = raw.zones.remove(camera).unwrap_or_default();
        (zones.into_iter().collect(), raw.rules)
    };
    let shape = |kind, shape: &str, points: Vec<[f64; 2]>, at: Location| Shape {
        file: name.to_string(),
        kind,
        name: shape.to_string(),
        points,
        at: at.span().byte_offset().map(|o| o as usize),
    };
    let mut out: Vec<Shape> = zones
        .into_iter()
        .map(|(zone, pts)| shape(ShapeKind::Zone, &zone, pts.value, pts.referenced))
        .collect();
    for r in rules.iter().filter(|r| r.camera.value == camera) {
        out.extend(rule_shapes(r).map(|(kind, pts, at)| shape(kind, &r.name.value, pts, at)));
    }
    Ok(out)
}

/// A rule's line, fill line, facade corners and lane ground corners.
fn rule_shapes(r: &RawRule) -> impl Iterator<Item = (ShapeKind, Vec<[f64; 2]>, Location)> + '_ {
    let two = |s: &Spanned<[[f64; 2]; 2]>| (s.value.to_vec(), s.referenced);
    let line = r.line.as_ref().map(|l| {
        let (p, at) = two(l);
        (ShapeKind::Line, p, at)
    });
    let fill = r.fill_line.as_ref().map(|l| {
        let (p, at) = two(l);
        (ShapeKind::FillLine, p, at)
    });
    let corners = r.facade.as_ref().map(|f| {
        let c = &f.value.corners;
        (ShapeKind::Corners, c.value.to_vec(), c.referenced)
    });
    let ground = r.ground.as_ref().map(|g| {
        let c = &g.value.corners;
        (ShapeKind::Ground, c.value.to_vec(), c.referenced)
    });
    line.into_iter().chain(fill).chain(corners).chain(ground)
}

/// `files` with `edit` made to camera `camera`'s shapes, validated as `vigil check` validates
/// (assets from `assets`). Nothing is written.
pub fn apply(
    files: &Files,
    assets: Option<&Path>,
    camera: &str,
    edit: &Edit,
) -> Result<Edited, EditError> {
    if !(crate::check::is_id(&edit.name) && edit.name.len() <= 64) {
        return Err(EditError::Unknown(format!(
            "\"{}\": a zone's name is 1–64 letters, digits, _ or - (what people call it goes in zone_names)",
            edit.name
        )));
    }
    let (file, is_config) = files.find(&edit.file)?;
    let before = &file.text;
    let found = shapes_in(&file.name, &file.path, before, camera, is_config)?
        .into_iter()
        .find(|s| s.kind == edit.kind && s.name == edit.name);
    let value = flow(&edit.points);
    let (after, start) = match (found, edit.kind) {
        (Some(shape), _) => {
            let at = shape.at.ok_or_else(|| {
                EditError::Unknown(format!("cannot place {} in the file", edit.name))
            })?;
            (replace_value(before, at, &value), at)
        }
        (None, ShapeKind::Zone) if !is_config => insert_zone(before, camera, &edit.name, &value),
        (None, _) => {
            return Err(EditError::Unknown(format!(
                "{} has no {:?} \"{}\" for camera \"{camera}\" (only zones of rule files can be added)",
                edit.file, edit.kind, edit.name
            )));
        }
    };
    let first = line_of(&after, start);
    let lines = (first, first + value.matches('\n').count() as u64);
    match validate_with(files, assets, &file.path, &after) {
        Ok(()) => Ok(Edited {
            path: file.path.clone(),
            after,
            lines,
        }),
        Err(errors) => Err(EditError::Invalid {
            errors,
            path: file.path.clone(),
            lines,
        }),
    }
}

/// Validates the config of `files` with the file at `path` read as `text` (a change or an
/// undo, before it is written).
pub fn validate_with(
    files: &Files,
    assets: Option<&Path>,
    path: &Path,
    text: &str,
) -> Result<(), ConfigErrors> {
    let config = files.config();
    let loaded = if path == config.path {
        crate::runtime::load_edited(path, text, assets, None)
    } else {
        crate::runtime::load_edited(&config.path, &config.text, assets, Some((path, text)))
    };
    loaded.map(|_| ())
}

/// `[[x, y], …]` with at most four decimals.
fn flow(points: &[[f64; 2]]) -> String {
    let n = |v: f64| {
        let s = format!("{v:.4}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        if s.is_empty() || s == "-" {
            "0".to_string()
        } else {
            s.to_string()
        }
    };
    let pts: Vec<String> = points
        .iter()
        .map(|[x, y]| format!("[{}, {}]", n(*x), n(*y)))
        .collect();
    format!("[{}]", pts.join(", "))
}

fn line_of(text: &str, offset: usize) -> u64 {
    text[..offset.min(text.len())].matches('\n').count() as u64 + 1
}

/// `text` with the value starting at byte `at` (a flow sequence's `[` or a block sequence's
/// first `-`) replaced by `value`.
fn replace_value(text: &str, at: usize, value: &str) -> String {
    let end = if text[at..].starts_with('[') {
        flow_end(text, at)
    } else {
        block_end(text, at)
    };
    format!("{}{}{}", &text[..at], value, &text[end..])
}

/// Just past the `]` that closes the flow sequence opened at `at` (comments skipped).
fn flow_end(text: &str, at: usize) -> usize {
    let bytes = text.as_bytes();
    let (mut depth, mut i) = (0usize, at);
    while i < bytes.len() {
        match bytes[i] {
            b'[' => depth += 1,
            b']' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            b'#' if i == 0 || bytes[i - 1].is_ascii_whitespace() => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    text.len()
}

/// The end of the last content line of the block sequence whose first `-` is at `at`: its
/// entries are at the dash's indentation, their continuations deeper; comment and blank lines
/// after the last entry are left to what follows.
fn block_end(text: &str, at: usize) -> usize {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let indent = at - line_start;
    let first_end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    let mut end = first_end;
    let mut pos = first_end;
    while pos < text.len() {
        let start = pos + 1;
        let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        let line = &text[start..line_end];
        let trimmed = line.trim_start();
        let depth = line.len() - trimmed.len();
        if !(trimmed.is_empty() || trimmed.starts_with('#')) {
            let entry = depth == indent && trimmed.starts_with('-');
            if depth < indent || (depth == indent && !entry) {
                break;
            }
            end = line_end;
        }
        pos = line_end;
    }
    end
}

/// `text` with zone `zone: value` added under `camera` in its `zones:`, and where the value
/// starts.
fn insert_zone(text: &str, camera: &str, zone: &str, value: &str) -> (String, usize) {
    let lines: Vec<(usize, &str)> = line_starts(text);
    let top = |l: &str| !l.starts_with([' ', '\t', '#']) && !l.trim().is_empty();
    let key = |l: &str, k: &str| {
        let t = l.trim();
        t.strip_prefix(k)
            .and_then(|r| r.strip_prefix(':'))
            .is_some_and(|r| r.trim().is_empty() || r.trim_start().starts_with('#'))
    };
    let child_indent = |from: usize, parent: usize| {
        lines[from + 1..]
            .iter()
            .map(|(_, l)| *l)
            .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
            .map(|l| l.len() - l.trim_start().len())
            .filter(|d| *d > parent)
            .unwrap_or(parent + 2)
    };
    let zones = lines.iter().position(|(_, l)| top(l) && key(l, "zones"));
    let Some(zones) = zones else {
        // No `zones:` yet: one before `rules:` (or at the end).
        let at = lines
            .iter()
            .find(|(_, l)| l.starts_with("rules:"))
            .map_or(text.len(), |(o, _)| *o);
        let head = format!("zones:\n  {camera}:\n    {zone}: ");
        let sep = if at > 0 && !text[..at].ends_with('\n') {
            "\n"
        } else {
            ""
        };
        let new = format!("{}{sep}{head}{value}\n{}", &text[..at], &text[at..]);
        return (new, at + sep.len() + head.len());
    };
    let block_end = lines[zones + 1..]
        .iter()
        .position(|(_, l)| top(l))
        .map_or(lines.len(), |i| zones + 1 + i);
    let cam_indent = child_indent(zones, 0);
    let cam = (zones + 1..block_end).find(|&i| {
        let l = lines[i].1;
        l.len() - l.trim_start().len() == cam_indent && key(l, camera)
    });
    let (after_line, head) = match cam {
        Some(c) => {
            let indent = child_indent(c, cam_indent);
            (c, format!("{}{zone}: ", " ".repeat(indent)))
        }
        None => (
            zones,
            format!(
                "{}{camera}:\n{}{zone}: ",
                " ".repeat(cam_indent),
                " ".repeat(cam_indent + 2)
            ),
        ),
    };
    let at = lines.get(after_line + 1).map_or(text.len(), |(o, _)| *o);
    let sep = if !text[..at].ends_with('\n') {
        "\n"
    } else {
        ""
    };
    let new = format!("{}{sep}{head}{value}\n{}", &text[..at], &text[at..]);
    (new, at + sep.len() + head.len())
}

/// Each line's byte offset and text (without its newline).
fn line_starts(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        out.push((offset, line.trim_end_matches(['\n', '\r'])));
        offset += line.len();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "# c\nzones:\n  cam:\n    a: [[0.1, 0.2], [0.3, 0.4], # x\n        [0.5, 0.6]]  # tail\n    b:\n      - [0.1, 0.2]\n      - [0.3, 0.4]\n      - [0.5, 0.6]\n    # after\nrules: []\n";

    #[test]
    fn a_flow_value_is_replaced_and_nothing_else() {
        let at = FILE.find("[[").unwrap();
        let new = replace_value(FILE, at, "[[0, 0], [1, 0], [1, 1]]");
        assert_eq!(
            new,
            FILE.replace(
                "[[0.1, 0.2], [0.3, 0.4], # x\n        [0.5, 0.6]]",
                "[[0, 0], [1, 0], [1, 1]]"
            )
        );
    }

    #[test]
    fn a_block_value_is_replaced_up_to_its_last_entry() {
        let at = FILE.find("- [0.1").unwrap();
        let new = replace_value(FILE, at, "[[0, 0], [1, 0], [1, 1]]");
        assert_eq!(
            new,
            "# c\nzones:\n  cam:\n    a: [[0.1, 0.2], [0.3, 0.4], # x\n        [0.5, 0.6]]  # tail\n    b:\n      [[0, 0], [1, 0], [1, 1]]\n    # after\nrules: []\n"
        );
    }

    #[test]
    fn zones_are_added_under_their_camera_or_a_new_one() {
        let (new, at) = insert_zone(FILE, "cam", "c", "[[0, 0]]");
        assert!(new.contains("  cam:\n    c: [[0, 0]]\n    a: [["), "{new}");
        assert!(new[at..].starts_with("[[0, 0]]"));
        let (new, _) = insert_zone(FILE, "other", "d", "[[0, 0]]");
        assert!(
            new.starts_with("# c\nzones:\n  other:\n    d: [[0, 0]]\n  cam:\n"),
            "{new}"
        );
        let (new, at) = insert_zone("rules: []\n", "cam", "e", "[[1, 1]]");
        assert_eq!(new, "zones:\n  cam:\n    e: [[1, 1]]\nrules: []\n");
        assert!(new[at..].starts_with("[[1, 1]]"));
    }

    #[test]
    fn a_lane_s_ground_corners_are_a_shape_to_edit_in_place() {
        let text = "zones:\n  cam:\n    lane: [[0, 0], [1, 0], [1, 1]]\nrules:\n  - name: open\n    kind: lane_obstructed\n    camera: cam\n    zone: lane\n    min_width_m: 3\n    ground:\n      corners: [[0.2, 0.9], [0.8, 0.9], [0.6, 0.4], [0.4, 0.4]]\n      width_m: 5\n      length_m: 12\n";
        let shapes = shapes_in("r.yaml", Path::new("r.yaml"), text, "cam", false).unwrap();
        let ground = shapes
            .iter()
            .find(|s| s.kind == ShapeKind::Ground)
            .expect("the ground corners");
        assert_eq!(ground.name, "open");
        assert_eq!(ground.points[2], [0.6, 0.4]);
        let at = ground.at.expect("placed");
        let new = replace_value(text, at, "[[0, 1], [1, 1], [0.7, 0.5], [0.3, 0.5]]");
        assert_eq!(
            new,
            text.replace(
                "[[0.2, 0.9], [0.8, 0.9], [0.6, 0.4], [0.4, 0.4]]",
                "[[0, 1], [1, 1], [0.7, 0.5], [0.3, 0.5]]"
            )
        );
    }

    #[test]
    fn numbers_are_written_short() {
        assert_eq!(
            flow(&[[0.5, 0.33333], [1.0, 0.0]]),
            "[[0.5, 0.3333], [1, 0]]"
        );
    }
}
