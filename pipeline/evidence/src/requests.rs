//! What the alert writer asks a recorder for, and what comes back.

use crate::ClipInfo;
use crate::snapshot::Overlay;
use std::path::PathBuf;
use std::time::Duration;
use vigil_core::{CameraId, Size};

/// "Record from `from` to `until` (stream time) for this alert."
#[derive(Clone, Debug, PartialEq)]
pub struct ClipRequest {
    /// Names the files (`<key>.mp4`, `<key>.jpg`) and comes back in [`ClipDone::keys`]: the
    /// alert id, or `<alert id>-end` for the clip of a long alert's end.
    pub key: String,
    pub from: Duration,
    pub until: Duration,
    pub snapshot: Option<SnapshotRequest>,
}

/// "Also save the frame at `at` (stream time), clean and with `overlay` drawn."
#[derive(Clone, Debug, PartialEq)]
pub struct SnapshotRequest {
    pub at: Duration,
    pub overlay: Overlay,
    /// Boxes pixelated in both snapshots (privacy), in source pixels.
    pub blur: Vec<vigil_core::BBoxPx>,
    /// The size of the frames whose pixels `overlay` and `blur` are in (the detect stream's);
    /// drawn on a recording of another size, they are scaled to it. `None`: the recording's.
    pub space: Option<Size>,
}

/// A saved snapshot pair.
#[derive(Clone, Debug, PartialEq)]
pub struct SnapshotInfo {
    pub path: PathBuf,
    pub sha256: String,
    pub clean_path: PathBuf,
    pub clean_sha256: String,
}

/// A finished clip (or why there is none), for every alert that shares it.
#[derive(Clone, Debug, PartialEq)]
pub struct ClipDone {
    pub camera: CameraId,
    /// The keys of every request the clip serves.
    pub keys: Vec<String>,
    pub result: Result<ClipInfo, String>,
    /// Per alert that asked for one.
    pub snapshots: Vec<(String, Result<SnapshotInfo, String>)>,
    /// What is wrong with a clip that was written anyway (cut short by its stream going down).
    pub note: Option<String>,
}
