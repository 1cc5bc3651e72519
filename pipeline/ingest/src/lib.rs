//! Ingest: cameras in, [`Frame`]s out.
//!
//! Each camera runs its own GStreamer pipeline on a named thread ([`spawn_camera`]):
//!
//! ```text
//! rtspsrc ! rtph264depay ! video/x-h264,stream-format=avc,alignment=au ! h264parse ─┐
//! filesrc ! parsebin ───────────────────────────────────────────────────────────────┤
//!                                                                                    tee
//!   ├─ queue ! decodebin ! [sampling probe] videoconvertscale ! capsfilter ! appsink → FrameQueue
//!   └─ queue ! appsink (encoded access units, untouched)                         → EncodedSink
//! ```
//!
//! - **Sampling** at `detect_fps` happens on decoded buffers *before* conversion, so unsampled
//!   frames cost a decode and nothing more.
//! - **Conversion** to the detector's colour order and size happens in GStreamer
//!   (`videoconvertscale`, one pass), sized by [`TargetSize`] once the source caps are known.
//! - **Hand-off**: frames go to a bounded [`QueueSender`] whose policy the caller chose
//!   (drop-oldest for live cameras, block for replay). Pixels are not copied: a [`Frame`] holds
//!   the mapped GStreamer buffer.
//! - **Failures**: a bus error, an EOS from a live source, or no frame for `stall` (the watchdog:
//!   a silent RTSP stall raises no bus message) tears the pipeline down to `Null` and builds a new
//!   one after a backoff (0.3 s doubling to 4 s, ±25 % jitter). Stream time continues across reconnects and
//!   file loops, so downstream PTS is monotonic per camera.
//!
//! - **Two streams**: a camera with a main stream for evidence runs it as a second pipeline
//!   ([`spawn_record`]: `rtspsrc ! depay ! parse ! appsink`, never decoded) that reconnects on
//!   its own; its units carry pipeline clock time, mapped onto the detect stream's time through
//!   the [`vigil_core::streams::StreamClock`] the detect stream keeps up to date.
//!
//! [`rtsp_server`] is the embedded RTSP server the demo and the tests serve footage with;
//! [`transcode`] converts footage GStreamer cannot play reliably (GIF) once, up front.

mod camera;
pub mod rtsp_server;
pub mod transcode;

pub use camera::{
    CameraExit, CameraSinks, CameraSpec, CameraStatus, EncodedSink, RecordSinks, StatusSink,
    TargetSize, element_works, spawn_camera, spawn_record,
};

use std::sync::Once;

/// Initialises GStreamer once per process.
pub fn init() -> Result<(), IngestError> {
    static INIT: Once = Once::new();
    let mut result = Ok(());
    INIT.call_once(|| result = gstreamer::init().map_err(|e| IngestError::Init(e.to_string())));
    result
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("GStreamer failed to initialise: {0}")]
    Init(String),
    #[error("GStreamer element {0} is missing: install the GStreamer plugins (scripts/setup)")]
    MissingElement(String),
    #[error("cannot build pipeline: {0}")]
    Build(String),
    #[error("cannot start thread: {0}")]
    Thread(#[from] std::io::Error),
}

pub(crate) fn make(factory: &str) -> Result<gstreamer::Element, IngestError> {
    gstreamer::ElementFactory::make(factory)
        .build()
        .map_err(|_| IngestError::MissingElement(factory.to_string()))
}

// Re-exported so callers name the same types.
pub use vigil_core::{Frame, QueueSender};
