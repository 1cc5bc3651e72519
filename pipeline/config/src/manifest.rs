//! Model manifests (`models/*.yaml`): which file, which output decoder, how to prepare the input,
//! which labels, and which classes form a group (`vehicle: [car, bus, truck, motorcycle]`).

use crate::assets::resolve_asset;
use crate::error::{ConfigError, ConfigErrors, parse_yaml};
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Output format of the model, which selects the decoder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelFamily {
    /// YOLOX: `[1, N, 5 + C]`, grid-relative boxes, objectness × class score.
    Yolox,
    /// PP-PicoDet: per-stride class maps `[1, N, C]` and DFL box maps `[1, N, 4 × bins]`.
    Picodet,
    /// YOLOv8 / YOLO11 (Ultralytics export): `[1, 4 + C, N]`, boxes `cx, cy, w, h` in input
    /// pixels, class scores without objectness. Custom models (a community's own waste classes)
    /// come in this format.
    #[serde(alias = "yolo11")]
    Yolov8,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColourOrder {
    Rgb,
    Bgr,
}

/// How a frame is fitted into the model's input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResizeMode {
    /// Keep aspect ratio, scale by `min(W/w, H/h)`, paste at the top-left, pad the rest.
    LetterboxTopLeft,
    /// Resize to exactly the input size (aspect ratio not kept).
    Stretch,
}

/// `input = (pixel × scale − mean) / std`, per channel in the model's colour order.
#[derive(Clone, Debug, PartialEq)]
pub struct Normalise {
    pub scale: f32,
    pub mean: [f32; 3],
    pub std: [f32; 3],
}

/// `normalise:` as written, each value located for its range check.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNormalise {
    #[serde(default)]
    scale: Option<Spanned<f32>>,
    #[serde(default)]
    mean: Option<Spanned<[f32; 3]>>,
    #[serde(default)]
    std: Option<Spanned<[f32; 3]>>,
}

/// The largest magnitude `scale`, `mean` and `std` may have: far beyond any real model's
/// (pixel ranges of 0–255 or 0–65535), small enough that the input stays finite.
const NORMALISE_LIMIT: f32 = 1e6;

impl RawNormalise {
    /// The validated values, or an error at each one out of range: `scale` and `std` must be
    /// positive (a division by `std`), `mean` finite, all within [`NORMALISE_LIMIT`].
    fn check(&self, path: &Path, errors: &mut Vec<ConfigError>) -> Normalise {
        let positive = |x: f32| x > 0.0 && x <= NORMALISE_LIMIT;
        let mut n = Normalise::default();
        let scale_message = "normalise.scale must be in (0, 1000000]";
        if let Some(s) = checked(&self.scale, |&s| positive(s), scale_message, path, errors) {
            n.scale = s;
        }
        let mean_ok = |m: &[f32; 3]| m.iter().all(|x| x.abs() <= NORMALISE_LIMIT);
        let mean_message = "normalise.mean values must be in [-1000000, 1000000]";
        if let Some(m) = checked(&self.mean, mean_ok, mean_message, path, errors) {
            n.mean = m;
        }
        let std_ok = |s: &[f32; 3]| s.iter().all(|&x| positive(x));
        let std_message = "normalise.std values must be in (0, 1000000]";
        if let Some(s) = checked(&self.std, std_ok, std_message, path, errors) {
            n.std = s;
        }
        n
    }
}

/// The value at `field` if `ok` says so; else `message` at its place, and `None`.
fn checked<T: Copy>(
    field: &Option<Spanned<T>>,
    ok: impl Fn(&T) -> bool,
    message: &str,
    path: &Path,
    errors: &mut Vec<ConfigError>,
) -> Option<T> {
    let f = field.as_ref()?;
    if ok(&f.value) {
        Some(f.value)
    } else {
        errors.push(ConfigError::at(path, f.referenced, message));
        None
    }
}

impl Default for Normalise {
    fn default() -> Self {
        Self {
            scale: 1.0,
            mean: [0.0; 3],
            std: [1.0; 3],
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInput {
    width: Spanned<u32>,
    height: Spanned<u32>,
    colour: ColourOrder,
    resize: ResizeMode,
    #[serde(default)]
    pad_value: u8,
    #[serde(default)]
    normalise: RawNormalise,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    name: String,
    family: ModelFamily,
    file: Spanned<String>,
    #[serde(default)]
    sha256: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    licence: Option<String>,
    input: RawInput,
    labels: Spanned<String>,
    #[serde(default)]
    groups: BTreeMap<String, Vec<Spanned<String>>>,
}

/// The model input sides accepted, in pixels (detectors take 160–1920; the bounds leave room).
const INPUT_SIDES: std::ops::RangeInclusive<u32> = 16..=8192;

/// A validated manifest with its label list loaded.
#[derive(Clone, Debug)]
pub struct ModelManifest {
    pub name: String,
    pub family: ModelFamily,
    /// Resolved path of the ONNX file (it may not exist yet: `models/fetch` brings it).
    pub file: PathBuf,
    pub sha256: Option<String>,
    pub url: Option<String>,
    pub input_width: u32,
    pub input_height: u32,
    pub colour: ColourOrder,
    pub resize: ResizeMode,
    pub pad_value: u8,
    pub normalise: Normalise,
    /// Class labels by class id.
    pub labels: Vec<Arc<str>>,
    /// Group name of each class id (the class's own label when it is in no group): for a class
    /// in several groups, the first the file lists it in (what non-maximum suppression groups
    /// it with and what alerts say).
    pub group_of: Vec<Arc<str>>,
    /// Group name → its class labels.
    pub groups: BTreeMap<String, Vec<String>>,
    pub licence: Option<String>,
    /// Where the manifest was read from.
    pub source: PathBuf,
}

impl ModelManifest {
    /// Reads and validates a manifest; `assets` is the fallback folder for relative paths.
    pub fn load(path: &Path, assets: Option<&Path>) -> Result<Self, ConfigErrors> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigErrors(vec![ConfigError::new(
                path,
                0,
                0,
                format!("cannot read manifest: {e}"),
            )])
        })?;
        let raw: RawManifest = parse_yaml(path, &text).map_err(|e| ConfigErrors(vec![e]))?;
        let mut errors = Vec::new();
        let base = path.parent().unwrap_or(Path::new("."));
        let file = resolve_asset(base, &raw.file.value, assets, "models");
        let labels_path = resolve_asset(base, &raw.labels.value, assets, "models");
        let labels: Vec<Arc<str>> = match std::fs::read_to_string(&labels_path) {
            Ok(t) => t
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(Arc::from)
                .collect(),
            Err(e) => {
                errors.push(ConfigError::at(
                    path,
                    raw.labels.referenced,
                    format!("cannot read label file {}: {e}", labels_path.display()),
                ));
                Vec::new()
            }
        };
        for (side, name) in [(&raw.input.width, "width"), (&raw.input.height, "height")] {
            if !(INPUT_SIDES).contains(&side.value) {
                errors.push(ConfigError::at(
                    path,
                    side.referenced,
                    format!(
                        "input {name} must be between {} and {} pixels",
                        INPUT_SIDES.start(),
                        INPUT_SIDES.end()
                    ),
                ));
            }
        }
        let normalise = raw.input.normalise.check(path, &mut errors);
        let mut group_of: Vec<Arc<str>> = labels.clone();
        let mut grouped = vec![false; labels.len()];
        let mut groups = BTreeMap::new();
        // In the file's order: a class may be in several groups (`motorcycle` in `vehicle` and
        // `e-bike`), and its own group is the first.
        let mut listed: Vec<_> = raw.groups.iter().collect();
        listed.sort_by_key(|(_, members)| {
            members
                .first()
                .map(|m| (m.referenced.line(), m.referenced.column()))
        });
        for (group, members) in listed {
            let mut names = Vec::new();
            for m in members {
                match labels.iter().position(|l| **l == *m.value) {
                    Some(id) if !grouped[id] => {
                        group_of[id] = Arc::from(group.as_str());
                        grouped[id] = true;
                    }
                    Some(_) => {}
                    None if !labels.is_empty() => errors.push(ConfigError::at(
                        path,
                        m.referenced,
                        format!(
                            "class \"{}\" in group \"{group}\" is not in the labels",
                            m.value
                        ),
                    )),
                    None => {}
                }
                names.push(m.value.clone());
            }
            groups.insert(group.clone(), names);
        }
        if !errors.is_empty() {
            return Err(ConfigErrors(errors));
        }
        Ok(Self {
            name: raw.name,
            family: raw.family,
            file,
            sha256: raw.sha256,
            url: raw.url,
            input_width: raw.input.width.value,
            input_height: raw.input.height.value,
            colour: raw.input.colour,
            resize: raw.input.resize,
            pad_value: raw.input.pad_value,
            normalise,
            labels,
            group_of,
            groups,
            licence: raw.licence,
            source: path.to_path_buf(),
        })
    }

    /// Whether `name` is a class label or a group name of this model.
    pub fn knows_class_or_group(&self, name: &str) -> bool {
        self.groups.contains_key(name) || self.labels.iter().any(|l| &**l == name)
    }

    /// `names` (classes or groups, as a rule lists them) with the classes of each group added:
    /// a rule on `e-bike` then takes a `motorcycle` whose own group is `vehicle`.
    pub fn with_group_classes(&self, names: &[String]) -> Vec<String> {
        let mut out: Vec<String> = names.to_vec();
        for n in names {
            for c in self.groups.get(n).into_iter().flatten() {
                if !out.contains(c) {
                    out.push(c.clone());
                }
            }
        }
        out
    }
}
