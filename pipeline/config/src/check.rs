//! Validation's shared pieces, a leaf module: [`Validator`] collects every error of one file at
//! its line and column, and the field checks every rule kind uses (seconds, fractions, area
//! ranges, lines). Each kind's own checks live with it (`rules`, `falling`, `waste`, `outputs`).

use crate::error::ConfigError;
use crate::raw::RawRule;
use serde_saphyr::Spanned;
use std::path::Path;
use std::time::Duration;
use vigil_core::PointNorm;

/// Errors found in one file (and the files it names, each error carrying its own file).
pub(crate) struct Validator<'a> {
    file: &'a Path,
    pub(crate) errors: Vec<ConfigError>,
}

impl<'a> Validator<'a> {
    pub(crate) fn new(file: &'a Path) -> Self {
        Self {
            file,
            errors: Vec::new(),
        }
    }

    pub(crate) fn file(&self) -> &'a Path {
        self.file
    }

    pub(crate) fn push(&mut self, error: ConfigError) {
        self.errors.push(error);
    }

    pub(crate) fn into_errors(self) -> Vec<ConfigError> {
        self.errors
    }

    pub(crate) fn error<T>(&mut self, at: &Spanned<T>, message: impl Into<String>) {
        self.errors
            .push(ConfigError::at(self.file, at.referenced, message));
    }

    pub(crate) fn check<T>(&mut self, ok: bool, at: &Spanned<T>, message: &str) {
        if !ok {
            self.error(at, message);
        }
    }
}

/// A name that can be an id: letters, digits, `_` and `-`, not empty (cameras, webhooks,
/// robots and zones are named so: they name topics, folders and YAML keys).
pub fn is_id(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Seconds at `field` in `range`, or an error there.
pub(crate) fn seconds(
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

/// A fraction in [0, 1] at `field` (`default` when absent); `ok` turns false (and `error` is
/// reported there) when it is not.
pub(crate) fn fraction(
    v: &mut Validator<'_>,
    field: &Option<Spanned<f64>>,
    error: &str,
    default: f64,
    ok: &mut bool,
) -> f64 {
    let Some(f) = field else { return default };
    if f.value.is_finite() && (0.0..=1.0).contains(&f.value) {
        f.value
    } else {
        v.error(f, error);
        *ok = false;
        default
    }
}

/// Four normalised image points of a calibration rectangle (`[0, 1]` inside the frame; a corner
/// may lie at most one frame outside it), or an error at `c` naming `what`.
pub(crate) fn corners(
    v: &mut Validator<'_>,
    c: &Spanned<[[f64; 2]; 4]>,
    what: &str,
) -> Option<[(f64, f64); 4]> {
    let inside = c
        .value
        .iter()
        .flatten()
        .all(|c| c.is_finite() && (-1.0..=2.0).contains(c));
    v.check(
        inside,
        c,
        &format!("{what} corners are normalised image points ([0, 1] inside the frame; a corner may lie at most one frame outside it)"),
    );
    inside.then(|| c.value.map(|[x, y]| (x, y)))
}

/// A length in metres in (0, 1000], or an error at `f` naming it `name`.
pub(crate) fn metres(v: &mut Validator<'_>, f: &Spanned<f64>, name: &str) -> Option<f64> {
    let ok = f.value.is_finite() && f.value > 0.0 && f.value <= 1000.0;
    v.check(
        ok,
        f,
        &format!("{name} must be a length in metres (0, 1000]"),
    );
    ok.then_some(f.value)
}

/// The rule's `min_area` and `max_area` (fractions of the frame; `max_default` when left out),
/// the maximum not below the minimum.
pub(crate) fn area_range(
    v: &mut Validator<'_>,
    r: &RawRule,
    max_default: f64,
    ok: &mut bool,
) -> (f64, f64) {
    let min_area = fraction(
        v,
        &r.min_area,
        "min_area must be a fraction of the frame in [0, 1]",
        0.0,
        ok,
    );
    let max_area = fraction(
        v,
        &r.max_area,
        "max_area must be a fraction of the frame in [0, 1]",
        max_default,
        ok,
    );
    if min_area > max_area
        && let Some(f) = &r.max_area
    {
        v.error(f, "max_area must not be below min_area");
        *ok = false;
    }
    (min_area, max_area)
}

/// Two different points inside [0,1]² (a line), or an error at `l`.
pub(crate) fn two_points(
    v: &mut Validator<'_>,
    l: &Spanned<[[f64; 2]; 2]>,
    name: &str,
) -> Option<(PointNorm, PointNorm)> {
    let [[x1, y1], [x2, y2]] = l.value;
    let inside = [x1, y1, x2, y2]
        .iter()
        .all(|c| c.is_finite() && (0.0..=1.0).contains(c));
    if !inside || (x1 == x2 && y1 == y2) {
        v.error(
            l,
            format!("{name} must be two different points inside [0,1] (normalised coordinates)"),
        );
        return None;
    }
    Some((PointNorm { x: x1, y: y1 }, PointNorm { x: x2, y: y2 }))
}
