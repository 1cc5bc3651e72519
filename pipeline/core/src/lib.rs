//! The plain data types that cross vigil's stage boundaries.
//!
//! The product is one path — camera → [`Frame`] → [`Detection`] → [`Track`] → [`Alert`] — and this
//! crate holds the types that travel along it, plus the pieces every stage shares: newtype ids
//! ([`CameraId`], [`TrackId`], [`RuleId`]), geometry in named coordinate spaces ([`BBoxPx`],
//! [`PolygonNorm`]), the bounded hand-off queue with an explicit drop policy ([`queue`]) and the
//! per-stage counters ([`metrics`]). It depends on nothing heavy: no GStreamer, no ONNX Runtime,
//! so the tracker and the rule engine build and test without them.

pub mod alert;
pub mod cpu;
pub mod frame;
pub mod geom;
pub mod hex;
pub mod ids;
pub mod mem;
pub mod metrics;
pub mod queue;
pub mod streams;
pub mod throttle;
pub mod time;

pub use alert::{
    Alert, AlertEvent, AlertFilter, AlertKind, AlertObject, ClipRef, DisplayNames, Evidence,
    FallOrigin, ObjectRef, Raiser, RetentionGrounds, Severity, SnapshotRef, Trajectory,
    TrajectoryPoint,
};
pub use frame::{
    DetectedFrame, Detection, EncodedUnit, Frame, FrameMeta, Gating, Image, PixelFormat,
};
pub use geom::{BBoxPx, PointNorm, PolygonError, PolygonNorm, Size};
pub use ids::{AlertId, CameraId, RuleId, TrackId, ZoneId};
pub use metrics::{DropReason, StageCounters};
pub use queue::{QueueReceiver, QueueSender, WhenFull};

/// A track as the tracker reports it after each frame.
#[derive(Clone, Debug, PartialEq)]
pub struct Track {
    pub id: TrackId,
    /// Class group the track belongs to (e.g. `vehicle`), or the class itself when ungrouped.
    pub group: std::sync::Arc<str>,
    /// The most recent class label seen for this track (e.g. `car`).
    pub class: std::sync::Arc<str>,
    pub score: f32,
    pub bbox_px: BBoxPx,
    /// Frames in which a detection was associated with this track.
    pub hits: u32,
    /// Stream time of the first associated detection.
    pub first_seen_pts: std::time::Duration,
    /// Whether the track was matched with a detection in the current frame.
    pub matched: bool,
}
