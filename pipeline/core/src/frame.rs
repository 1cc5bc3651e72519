//! What ingest hands to detect ([`Frame`]), what detect hands to tracking ([`DetectedFrame`]),
//! and what the encoded branch keeps for evidence ([`EncodedUnit`]).

use crate::geom::{BBoxPx, Size};
use crate::ids::CameraId;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// Layout of a packed 8-bit image: three channels (detectors) or luma only (the
/// falling-object stage).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PixelFormat {
    Rgb8,
    Bgr8,
    Gray8,
}

impl PixelFormat {
    /// The GStreamer / video-format name.
    pub fn name(self) -> &'static str {
        match self {
            PixelFormat::Rgb8 => "RGB",
            PixelFormat::Bgr8 => "BGR",
            PixelFormat::Gray8 => "GRAY8",
        }
    }

    /// Bytes per pixel.
    pub fn channels(self) -> usize {
        match self {
            PixelFormat::Rgb8 | PixelFormat::Bgr8 => 3,
            PixelFormat::Gray8 => 1,
        }
    }
}

/// Shared, read-only pixel storage. Ingest wraps a mapped GStreamer buffer in it so a frame
/// crosses threads without a copy; tests wrap a `Vec<u8>`.
pub type PixelData = Arc<dyn AsRef<[u8]> + Send + Sync>;

/// A packed 8-bit RGB, BGR or grey image with a row stride (rows may be padded).
#[derive(Clone)]
pub struct Image {
    pub size: Size,
    /// Bytes from the start of one row to the next (≥ channels × width).
    pub stride: usize,
    pub format: PixelFormat,
    pub data: PixelData,
}

impl Image {
    /// Wraps tightly packed pixels (`stride = channels × width`).
    pub fn from_packed(size: Size, format: PixelFormat, pixels: Vec<u8>) -> Self {
        let row = size.width as usize * format.channels();
        assert_eq!(pixels.len(), row * size.height as usize, "packed size");
        Self {
            size,
            stride: row,
            format,
            data: Arc::new(pixels),
        }
    }

    pub fn bytes(&self) -> &[u8] {
        (*self.data).as_ref()
    }

    /// Row `y`, exactly `channels × width` bytes.
    pub fn row(&self, y: u32) -> &[u8] {
        let start = y as usize * self.stride;
        &self.bytes()[start..start + self.size.width as usize * self.format.channels()]
    }

    /// A tightly packed copy that owns its pixels (releases a decoder's buffer).
    pub fn to_owned_packed(&self) -> Image {
        let mut pixels = Vec::with_capacity(
            self.size.width as usize * self.size.height as usize * self.format.channels(),
        );
        for y in 0..self.size.height {
            pixels.extend_from_slice(self.row(y));
        }
        Image::from_packed(self.size, self.format, pixels)
    }
}

impl fmt::Debug for Image {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Image")
            .field("size", &self.size)
            .field("stride", &self.stride)
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

/// Where a frame came from and when; travels with the frame through every stage.
#[derive(Clone, Debug)]
pub struct FrameMeta {
    pub camera: CameraId,
    /// Per camera, counts frames handed out by ingest (gaps mean frames dropped before detect).
    pub seq: u64,
    /// Stream time: monotonic per camera, continues across file loops and reconnects.
    pub pts: Duration,
    /// Which pass through a looping source this frame is from: 0 on the first, one more at each
    /// loop (a looping file starting over, or footage `vigil demo` serves in a loop). Always 0
    /// for a live camera. The scene jumps back at a new pass, so objects reappear where they
    /// were at the start: rules carry their stays across it instead of starting new ones.
    pub pass: u32,
    /// Size of the decoded source frame; `bbox_px` values are in this space.
    pub source_size: Size,
    /// Wall-clock time the frame arrived (for display and `wall_time`).
    pub wall_time: SystemTime,
    /// Monotonic arrival instant (for latency measurements).
    pub arrived: Instant,
}

/// A decoded, sampled frame, already converted to what the detector wants (colour order, and
/// usually scaled near the model's input size).
#[derive(Clone, Debug)]
pub struct Frame {
    pub meta: FrameMeta,
    pub image: Image,
}

/// One detected object, in source-frame pixels.
#[derive(Clone, Debug, PartialEq)]
pub struct Detection {
    pub bbox_px: BBoxPx,
    pub class_id: u16,
    /// Label from the model's label file (`car`).
    pub class: Arc<str>,
    /// Class group from the manifest (`vehicle`); the class itself when it is in no group.
    pub group: Arc<str>,
    pub score: f32,
}

/// What a camera's motion gate made of a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gating {
    /// The camera has no gate: every sampled frame is detected.
    Off,
    /// The detector looked; `motion`: the gate saw motion near the camera's zones.
    Looked { motion: bool },
    /// Nothing moved near the zones: the detector skipped the frame (its `detections` are
    /// empty; tracking gives it what the detector found last).
    Skipped,
}

/// A frame's detections, in the order detect workers dispatched frames of that camera.
#[derive(Clone, Debug)]
pub struct DetectedFrame {
    pub meta: FrameMeta,
    /// Per camera, the order in which detect workers took frames; tracking restores this order.
    pub dispatch_seq: u64,
    pub detections: Vec<Detection>,
    /// What the camera's motion gate made of this frame.
    pub gating: Gating,
    /// Set when inference failed on this frame; tracking then skips it (counted).
    pub error: Option<String>,
    pub infer_time: Duration,
    /// The frame's pixels (an owned copy), kept only for cameras whose waste rules read them.
    pub image: Option<Image>,
}

/// One encoded access unit from the tee's evidence branch, untouched by decoding.
#[derive(Clone, Debug)]
pub struct EncodedUnit {
    pub camera: CameraId,
    /// Stream time, on the same clock as [`FrameMeta::pts`].
    pub pts: Option<Duration>,
    /// Decoding time on the same clock (earlier than `pts` for reordered frames; never before
    /// the session's first PTS).
    pub dts: Option<Duration>,
    pub keyframe: bool,
    /// Codec caps as a string (`video/x-h264, stream-format=avc, …`), for the muxer.
    pub caps: Arc<str>,
    pub data: Arc<[u8]>,
}
