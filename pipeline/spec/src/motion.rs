//! Motion-gated detection: when the detector may skip a camera's frame because nothing moved
//! near its rules' zones (`vigil-motion` runs it).

use std::time::Duration;

/// How a camera's frames are gated (`detector.motion_gate` in the config, `motion_gate: false`
/// per camera to turn it off there).
#[derive(Clone, Debug, PartialEq)]
pub struct MotionGate {
    /// Gate the detector at all; off, every sampled frame is detected.
    pub enabled: bool,
    /// While an object stands still in view, the detector still looks this often, so a parked
    /// car is seen to stay (and its end comes when it leaves, which is motion anyway).
    pub stationary_check: Duration,
    /// Change of a cell's mean luma (cells of 8 × 8 detector-input pixels, 0–255 levels), after
    /// a global brightness shift is taken out, that counts as motion.
    pub threshold: f32,
    /// Around each zone, as a fraction of the frame's width and height, where motion also wakes
    /// the detector (an object about to enter).
    pub margin: f64,
    /// The detector keeps looking at every frame until this many consecutive looks agree (the
    /// same objects in the same places); only then may frames be skipped.
    pub settle_frames: u32,
}

impl Default for MotionGate {
    fn default() -> Self {
        Self {
            enabled: true,
            stationary_check: Duration::from_secs(10),
            threshold: 12.0,
            margin: 0.05,
            settle_frames: 3,
        }
    }
}
