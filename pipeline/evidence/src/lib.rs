//! Evidence: what happened just before and after an alert, kept as the camera encoded it.
//!
//! - [`EncodedRing`]: per camera, a bounded ring of encoded access units (from ingest's tee),
//!   keyframe-aligned, holding at least `pre_roll` of stream time and at most `max_bytes`.
//! - [`write_mp4`]: muxes access units into an MP4 (index at the front, timestamps from 0) through
//!   a temporary file renamed when complete — no decoding, no re-encoding — and returns the
//!   clip's duration, first PTS and sha256 ([`ClipInfo`]).
//! - [`spawn_recorder`]: one thread per camera that keeps the ring and turns [`ClipRequest`]s into
//!   clips (overlapping alerts share one), reporting [`ClipDone`].
//! - [`snapshot`]: the frame at the alert, decoded from its clip, saved clean and annotated,
//!   with a caption in any script ([`caption`]).
//! - [`retention::plan`]: which files to delete to keep each camera and the total within budget,
//!   oldest first.

pub mod caption;
mod clip;
mod finisher;
mod font;
mod recorder;
pub mod rendition;
mod requests;
pub mod retention;
mod ring;
pub mod snapshot;

pub use clip::{ClipInfo, sha256_file, write_mp4};
pub use recorder::{RecorderConfig, SecondStream, spawn_recorder};
pub use requests::{ClipDone, ClipRequest, SnapshotInfo, SnapshotRequest};
pub use ring::{EncodedRing, RingLimits};

#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    #[error("a clip needs at least one access unit starting with a keyframe")]
    NoKeyframe,
    #[error("clip caps {caps:?} cannot be used: {message}")]
    Caps { caps: String, message: String },
    #[error("cannot write clip {path}: {message}")]
    Write { path: String, message: String },
}
