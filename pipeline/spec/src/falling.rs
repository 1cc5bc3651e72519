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
    /// The lens's horizontal field of view, degrees, when known; otherwise the camera is
    /// recovered from the calibration alone.
    pub hfov_deg: Option<f64>,
    /// The building's highest storey, when known: nothing is thrown from above its roof. A path
    /// that starts well above it is rain near the lens, or a bird.
    pub top_floor: Option<i32>,
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
    /// A 2×2 block whose mean is this many grey levels off the background (and `k_sigma` of
    /// that mean's noise) is foreground where no single pixel is past `min_diff`: a faint
    /// object; 4×4 and 8×8 windows ask 0.7 and 0.5 of it (a shutter-smeared streak). 0: off.
    pub faint_diff: f32,
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
            faint_diff: 5.0,
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
    /// likelier (rain, clutter): twice `min_frames` and 0.6 s are needed. Where the frames
    /// held more lately (the upper quartile of the counts over the 4 s up to each: a lull in
    /// a downpour), `min_coverage` is asked.
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
    /// On the facade plane (no camera recovered), the origin is extrapolated from the track's
    /// first this many seconds (at least `min_frames` sightings). In 3-D the whole track is
    /// fitted with drag quadratic in speed instead, and the first this many seconds only where
    /// that path is imprecise or off the wall.
    pub origin_fit_secs: f64,
    /// In 3-D (the camera recovered): pixel residual allowed from the path under gravity, this
    /// many pixels plus `rms_per_size` × the blob's median size (a tumbling stick's centre
    /// wanders more than a ball's).
    pub max_rms_px: f64,
    pub rms_per_size: f64,
    /// A straight line at constant speed must fit worse than the fall by this factor and, in
    /// quadrature, by `line_margin_px` (`line² > fall² + margin²`), or the track is rain, a
    /// gliding bird or a drifting leaf.
    pub line_ratio: f64,
    pub line_margin_px: f64,
    /// Linear drag allowed in the fit, 1/s (0.4: a bag of rubbish loses a third of g at
    /// 8 m/s; rain and leaves, already at their terminal speed, are not falls).
    pub max_drag: f64,
    /// How far behind the wall's plane a path may start (the calibration's own error), and how
    /// far in front of it (a balcony's edge, an arm's reach, a push), metres.
    pub behind_wall_m: f64,
    pub max_out_m: f64,
    /// Where a release is likeliest, metres out from the wall (a balcony's edge, an arm's
    /// reach): what the fit takes where the pixels cannot tell (a far camera).
    pub likely_out_m: f64,
    /// Fastest a path may come towards the wall, m/s: what leaves a facade moves away from it
    /// (a track that closes on the wall is rain or a bird seen from below).
    pub max_towards_wall_mps: f64,
    /// The fits hold to these bounds softly (a far camera cannot tell how far out a fall is);
    /// a fit that still lies beyond them by more than `bound_margin` (metres, m/s) is rejected.
    pub bound_margin: f64,
    /// The straight-line alternative moves at most this fast, m/s (rain, birds, leaves):
    /// faster, it would mimic a fall's acceleration by rushing at the lens.
    pub line_speed_mps: f64,
    /// The drifting alternative (a constant vertical speed, pushed sideways by the wind) swings
    /// with at most this horizontal acceleration, m/s² (0: no drifting alternative). A fall must
    /// explain the pixels better than it by `drift_ratio` (rms): a drift has as many unknowns
    /// as a fall with drag, so no margin is given for its freedom.
    pub max_sway_mps2: f64,
    pub drift_ratio: f64,
    /// A track must have a sighting in at least this fraction of the frames it spans where its
    /// frames are crowded (more than `crowded` candidates): one hopping between rain streaks
    /// skips many, or where it has fewer than twice `min_frames` sightings. Elsewhere
    /// `min_coverage_clear`: a faint object drops out of some frames. Where the frames are not
    /// crowded, a track seen in fewer (but at least `min_coverage_pinned`) is a fall only where
    /// its path pins the release within half a storey; so is a track in crowded frames with
    /// twice the sightings they need, seen in fewer but in 60 % at least.
    pub min_coverage: f64,
    pub min_coverage_clear: f64,
    pub min_coverage_pinned: f64,
    /// Where a track's frames are crowded, the blob's length may change by this factor from one
    /// sighting to the next (median over the track): a track hopping between rain streaks of
    /// different depths changes more. In clear frames a faint object's blob changes as much, as
    /// the faint test takes more or less of its smear, and nothing is there to hop to.
    pub max_length_jump: f64,
    /// Where the line explains the pixels about as well as the fall, the blob's growth decides:
    /// the line is set aside when the growth it predicts (by coming nearer) is off what was seen
    /// by this factor more than the fall's (`vigil_falling::looming`).
    pub looming_tolerance: f64,
}

impl Default for ClassifyParams {
    fn default() -> Self {
        Self {
            min_frames: 8,
            min_secs: 0.3,
            min_drop_m: 4.0,
            crowded: 6,
            accel_min: 0.4 * G,
            accel_max: 1.6 * G,
            max_rms_m: 0.2,
            rms_per_drop: 0.02,
            max_lateral_m: 0.3,
            lateral_per_drop: 0.04,
            max_speed: 50.0,
            max_extrapolation_secs: 1.5,
            origin_fit_secs: 1.0,
            max_rms_px: 1.0,
            rms_per_size: 0.2,
            line_ratio: 1.5,
            line_margin_px: 0.5,
            max_drag: 0.4,
            behind_wall_m: 0.5,
            max_out_m: 3.0,
            likely_out_m: 1.0,
            max_towards_wall_mps: 1.5,
            bound_margin: 0.5,
            line_speed_mps: 20.0,
            max_sway_mps2: 5.0,
            drift_ratio: 1.25,
            min_coverage: 0.7,
            min_coverage_clear: 0.5,
            min_coverage_pinned: 0.3,
            max_length_jump: 1.5,
            looming_tolerance: 1.15,
        }
    }
}
