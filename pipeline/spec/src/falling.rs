//! What a falling-object rule sets: the [`FallConfig`] of one facade camera — its [`Facade`]
//! calibration, its zone, and the parameters of each step of the detector (foreground, small-object
//! tracker, ballistic classifier). `vigil-falling` runs them.

use crate::facade::Facade;

/// Standard gravity, m/s².
pub const G: f64 = 9.81;

/// Everything one falling-object rule sets.
#[derive(Clone, Debug, PartialEq)]
pub struct FallConfig {
    pub facade: Facade,
    /// Where falls are looked for (normalised polygon): the facade and the air in front of it
    /// down to the ground. Empty: the whole frame.
    pub zone: Vec<(f64, f64)>,
    pub foreground: ForegroundParams,
    pub tracker: TrackerParams,
    pub classify: ClassifyParams,
}

/// How foreground is told from background.
#[derive(Clone, Debug, PartialEq)]
pub struct ForegroundParams {
    /// A pixel is foreground beyond this many standard deviations from its mean…
    pub k_sigma: f32,
    /// …and at least this many grey levels from it.
    pub min_diff: f32,
    /// Background learning rate per frame (the mean follows slow light changes).
    pub learn_rate: f32,
    /// Foreground over more than this fraction of the zone in one frame is a global change
    /// (shake, IR switch, cloud): no candidates that frame, and the model re-learns fast.
    pub guard_fraction: f64,
    /// Blobs smaller than this many pixels are noise.
    pub min_area: u32,
    /// Blobs larger than this are not a thrown object (an insect at the lens, a person).
    pub max_area: u32,
    /// Frames learnt before candidates are reported.
    pub warmup_frames: u32,
    /// A foreground pixel that matches the background this many pixels away is not
    /// foreground (0: off).
    pub shift_radius: u32,
}

impl Default for ForegroundParams {
    fn default() -> Self {
        Self {
            k_sigma: 3.5,
            min_diff: 12.0,
            learn_rate: 0.02,
            guard_fraction: 0.08,
            min_area: 3,
            max_area: 4000,
            warmup_frames: 12,
            shift_radius: 2,
        }
    }
}

/// How candidates are followed from frame to frame.
#[derive(Clone, Debug, PartialEq)]
pub struct TrackerParams {
    /// A track with no sighting for this long has ended (the object landed, left the frame or
    /// was a one-off).
    pub max_gap_secs: f64,
    /// Fastest a newly seen object may move (m/s): the gate for a track's second sighting.
    pub max_speed: f64,
    /// Gate around the predicted position: this many metres plus `gate_speed` × the distance
    /// moved per frame.
    pub gate_m: f64,
    pub gate_speed: f64,
    /// Open tracks at most; candidates beyond are counted and ignored.
    pub max_tracks: usize,
    /// A track this long ends (a light that stays on is not a fall).
    pub max_track_secs: f64,
}

impl Default for TrackerParams {
    fn default() -> Self {
        Self {
            max_gap_secs: 0.35,
            max_speed: 35.0,
            gate_m: 0.4,
            gate_speed: 0.35,
            max_tracks: 64,
            max_track_secs: 12.0,
        }
    }
}

/// When a track is a ballistic fall.
#[derive(Clone, Debug, PartialEq)]
pub struct ClassifyParams {
    pub min_frames: usize,
    /// Seconds between the first and last sighting, at least.
    pub min_secs: f64,
    /// Metres the object must drop while tracked (more than a storey: a facade camera sees a
    /// fall from any floor in view for longer than that).
    pub min_drop_m: f64,
    /// When the frames of a track held more candidates than this (median), chance tracks are
    /// likelier (rain, clutter): twice `min_frames` and 0.6 s are needed.
    pub crowded: u32,
    /// Accepted downward acceleration on the facade, m/s².
    pub accel_min: f64,
    pub accel_max: f64,
    /// Height residual allowed: this many metres plus `rms_per_drop` × the drop.
    pub max_rms_m: f64,
    pub rms_per_drop: f64,
    /// Horizontal residual from a straight line, likewise.
    pub max_lateral_m: f64,
    pub lateral_per_drop: f64,
    /// Faster than this (m/s) at any point is not a falling object.
    pub max_speed: f64,
    /// Back-extrapolation to the release point is trusted this far (seconds before the first
    /// sighting); beyond it, the first sighting is the origin.
    pub max_extrapolation_secs: f64,
    /// The origin is extrapolated from the track's first this many seconds (at least
    /// `min_frames` sightings).
    pub origin_fit_secs: f64,
}

impl Default for ClassifyParams {
    fn default() -> Self {
        Self {
            min_frames: 8,
            min_secs: 0.3,
            min_drop_m: 4.0,
            crowded: 24,
            accel_min: 0.4 * G,
            accel_max: 1.6 * G,
            max_rms_m: 0.2,
            rms_per_drop: 0.02,
            max_lateral_m: 0.3,
            lateral_per_drop: 0.04,
            max_speed: 50.0,
            max_extrapolation_secs: 1.5,
            origin_fit_secs: 1.0,
        }
    }
}
