//! Motion-gated detection, as NVRs do it: the detector runs on a camera's frame only when
//! something moved in or near one of its rules' zones, or when it must look again.
//!
//! - [`picture`]: [`MotionDetector`], a motion mask over cells of the frame the detector would
//!   see (mean luma against a background learnt by stream time where nothing covers it, the
//!   change of light taken out as a gain and an offset, the background learnt anew after a
//!   change over most of the picture that no change of light explains);
//! - [`gate`]: [`Gate`] decides per frame whether the detector looks; [`Carry`] stands in for
//!   the detector on a skipped frame with what it found last, in frame order, and tells the gate
//!   when to keep looking (what it found has not settled) and when a still object needs the
//!   slow `stationary_check` heartbeat.
//!
//! The two halves meet through [`Shared`]: the gate runs where frames are dispatched to the
//! detector, the carry where detections are put back in frame order (the track thread).

pub mod gate;
pub mod picture;

pub use gate::{Carry, Gate, Placed, Shared, score_floor};
pub use picture::{Motion, MotionDetector, RectNorm, touches, watched_area};
pub use vigil_spec::motion::MotionGate;
