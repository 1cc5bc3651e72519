//! A recorder's snapshots, taken on a thread of their own (`snapshots-<camera>`), so that the
//! recorder goes on taking its camera's access units while a frame is decoded.
//!
//! Snapshot decodes run one at a time in the process ([`frame_at`]); in an alert storm a
//! recorder that decoded its own would wait its turn for seconds, and its camera's units would
//! pile up in its queue meanwhile (a 10-camera storm: ≈ 39 MB of units held at the peak, by
//! heaptrack). Every finished clip passes through here, with or without snapshots, so a
//! camera's reports keep their order.

use crate::ClipInfo;
use crate::requests::{ClipDone, SnapshotInfo, SnapshotRequest};
use crate::snapshot::frame_at;
use crossbeam_channel::{Receiver, Sender};
use std::path::Path;
use std::thread::JoinHandle;
use vigil_core::{CameraId, Size};

/// Clips a camera's snapshot thread may have waiting before its recorder waits for it (it then
/// blocks: evidence is never dropped). Each is a few hundred bytes.
pub(crate) const WAITING: usize = 64;

/// A written clip (or why there is none), and the snapshots to take from it.
pub(crate) struct Finished {
    /// Its snapshots still empty.
    pub done: ClipDone,
    /// The clip as written (its first PTS on the recording's own clock, as `at` is), or why
    /// there is none; its snapshots go beside it.
    pub clip: Result<ClipInfo, String>,
    pub snapshots: Vec<(String, SnapshotRequest)>,
}

/// Starts `camera`'s snapshot thread: it reports each [`Finished`] on `done` once its
/// snapshots are saved, and ends when `jobs` closes.
pub(crate) fn spawn(
    camera: &CameraId,
    jobs: Receiver<Finished>,
    done: Sender<ClipDone>,
    font: Option<crate::caption::CaptionFont>,
) -> std::io::Result<JoinHandle<()>> {
    let camera = camera.clone();
    std::thread::Builder::new()
        .name(format!("snapshots-{camera}"))
        .spawn(move || {
            let _span = tracing::info_span!("snapshots", %camera).entered();
            for job in jobs {
                let _ = done.send(take(job, font.as_ref()));
            }
        })
}

/// `job`'s report with its snapshots saved (or why not).
fn take(job: Finished, font: Option<&crate::caption::CaptionFont>) -> ClipDone {
    let Finished {
        mut done,
        clip,
        snapshots,
    } = job;
    done.snapshots = snapshots
        .iter()
        .map(|(id, snap)| {
            let saved = match &clip {
                Ok(clip) => save_snapshots(clip, id, snap, font),
                Err(e) => Err(format!("no clip to take a snapshot from: {e}")),
            };
            if let Err(e) = &saved {
                tracing::warn!(camera = %done.camera, error = %e, "snapshot not written");
            }
            (id.clone(), saved)
        })
        .collect();
    if !snapshots.is_empty() {
        // A decode allocates and frees tens of MB in pieces the allocator would otherwise keep.
        vigil_core::mem::release_free_memory();
    }
    done
}

/// Decodes the frame at the alert from its clip and saves it clean and annotated, beside it.
fn save_snapshots(
    clip: &ClipInfo,
    id: &str,
    snap: &SnapshotRequest,
    font: Option<&crate::caption::CaptionFont>,
) -> Result<SnapshotInfo, String> {
    let mut frame =
        frame_at(&clip.path, snap.at.saturating_sub(clip.first_pts)).map_err(|e| e.to_string())?;
    let snap = &in_frame(snap, Size::new(frame.width, frame.height));
    let dir = clip.path.parent().unwrap_or(Path::new("."));
    frame.pixelate(&snap.blur);
    let clean_path = dir.join(format!("{id}-clean.jpg"));
    let clean_sha256 = frame.save_jpeg(&clean_path).map_err(|e| e.to_string())?;
    frame.draw(&snap.overlay);
    frame.caption(&snap.overlay.caption, font);
    let path = dir.join(format!("{id}.jpg"));
    let sha256 = frame.save_jpeg(&path).map_err(|e| e.to_string())?;
    Ok(SnapshotInfo {
        path,
        sha256,
        clean_path,
        clean_sha256,
    })
}

/// `snap` with its pixels in a frame of size `to`: a main-stream recording of a view whose
/// boxes the detector found on the sub-stream.
fn in_frame(snap: &SnapshotRequest, to: Size) -> SnapshotRequest {
    match snap.space {
        Some(from) if from != to => SnapshotRequest {
            at: snap.at,
            overlay: snap.overlay.rescaled(from, to),
            blur: snap.blur.iter().map(|b| b.rescaled(from, to)).collect(),
            space: Some(to),
        },
        _ => snap.clone(),
    }
}
