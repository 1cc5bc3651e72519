//! What the multi-object tracker (`vigil-track`) is set with.

use std::time::Duration;

/// Tracker thresholds; the defaults suit COCO detectors at 5–25 detections per second.
#[derive(Clone, Debug, PartialEq)]
pub struct TrackerConfig {
    /// Detections at or above this score take part in the first association stage.
    pub high_score: f32,
    /// Detections between `low_score` and `high_score` take part in the second stage only.
    pub low_score: f32,
    /// An unmatched detection at or above this score starts a new track.
    pub new_track_score: f32,
    /// Minimum IoU for a first-stage match.
    pub match_iou: f32,
    /// Minimum IoU for a second-stage (low-score) match.
    pub low_match_iou: f32,
    /// A track unmatched for this long (stream time) is removed.
    pub max_lost: Duration,
    /// Consecutive matched frames before a new track is reported.
    pub min_hits: u32,
}

impl Default for TrackerConfig {
    fn default() -> Self {
        Self {
            high_score: 0.4,
            low_score: 0.1,
            new_track_score: 0.4,
            match_iou: 0.2,
            low_match_iou: 0.4,
            max_lost: Duration::from_millis(1500),
            min_hits: 2,
        }
    }
}
