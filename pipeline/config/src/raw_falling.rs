//! The raw (as written) fields of a `falling_object` rule's facade and tuning; validated in
//! [`crate::falling`].

use serde::Deserialize;
use serde_saphyr::Spanned;

/// Four image points (normalised) of a known facade rectangle, its size, and its floors and
/// window columns.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFacade {
    /// Bottom-left, bottom-right, top-right, top-left.
    pub corners: Spanned<[[f64; 2]; 4]>,
    pub width_m: Spanned<f64>,
    pub height_m: Spanned<f64>,
    #[serde(default)]
    pub floor_height_m: Option<Spanned<f64>>,
    /// The floor whose storey starts at the rectangle's bottom edge (default 1).
    #[serde(default)]
    pub first_floor: Option<Spanned<i32>>,
    pub columns: Spanned<u32>,
    /// The lens's horizontal field of view, degrees, when known.
    #[serde(default)]
    pub hfov_deg: Option<Spanned<f64>>,
    /// The building's highest storey, when known (nothing is thrown from above its roof).
    #[serde(default)]
    pub top_floor: Option<Spanned<i32>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFalling {
    /// Frames are processed at this width (aspect kept); default: as decoded.
    pub process_width: Option<Spanned<u32>>,
    pub min_frames: Option<Spanned<u32>>,
    pub min_drop_m: Option<Spanned<f64>>,
    /// `[min, max]` downward acceleration accepted, m/s².
    pub accel_range: Option<Spanned<[f64; 2]>>,
    pub k_sigma: Option<Spanned<f64>>,
    pub min_diff: Option<Spanned<f64>>,
    /// 2×2 blocks this many grey levels off the background are faint foreground; 0: off.
    pub faint_diff: Option<Spanned<f64>>,
    pub min_area_px: Option<Spanned<u32>>,
    pub max_area_px: Option<Spanned<u32>>,
    pub guard_fraction: Option<Spanned<f64>>,
}
