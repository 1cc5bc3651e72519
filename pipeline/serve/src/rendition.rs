//! Playable copies of clips for browsers that cannot decode the recorded codec (H.265 in Chrome
//! without hardware HEVC, and Firefox): `GET /api/alerts/{id}/clip?rendition=h264` serves the
//! clip itself when it is H.264 already, else an H.264 copy made once, on demand, one at a time,
//! at low priority, and kept under `<out>/renditions/` (at most [`MAX_BYTES`], oldest dropped
//! first). The recorded clip stays the evidence: its sha256 is what the chain holds and what
//! `vigil verify` checks; a copy is named by that sha256 and is never evidence.

use crate::error::ApiError;
use axum::http::StatusCode;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What the copies of all clips may take on disk together.
pub const MAX_BYTES: u64 = 512 << 20;

/// Reads and re-encodes clips (the pipeline's evidence code does it; the API only asks).
pub trait Transcoder: Send + Sync + std::fmt::Debug {
    /// The clip's video is H.264: every browser plays it as it is.
    fn is_h264(&self, clip: &Path) -> bool;
    /// Writes an H.264 copy of `clip` at `copy` (blocking; at low priority).
    fn h264_copy(&self, clip: &Path, copy: &Path) -> Result<(), String>;
}

/// The copies of one output folder.
pub struct Renditions {
    transcoder: Arc<dyn Transcoder>,
    dir: PathBuf,
    /// One copy is made at a time.
    making: tokio::sync::Mutex<()>,
}

impl Renditions {
    pub fn new(transcoder: Arc<dyn Transcoder>, out_dir: &Path) -> Self {
        Self {
            transcoder,
            dir: out_dir.join("renditions"),
            making: tokio::sync::Mutex::new(()),
        }
    }

    /// The folder copies are served from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// What to serve for `clip` (sha256 `sha256`): the clip when it is H.264, else its copy,
    /// made now if there is none yet.
    pub async fn playable(&self, clip: PathBuf, sha256: &str) -> Result<PathBuf, ApiError> {
        if !sha256.bytes().all(|b| b.is_ascii_hexdigit()) || sha256.is_empty() {
            return Err(ApiError(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the clip's record has no sha256".into(),
            ));
        }
        let t = self.transcoder.clone();
        let probe = clip.clone();
        if blocking(move || t.is_h264(&probe)).await? {
            return Ok(clip);
        }
        let copy = self.dir.join(format!("{sha256}.mp4"));
        let _one = self.making.lock().await;
        if copy.is_file() {
            return Ok(copy);
        }
        let (t, dir, target) = (self.transcoder.clone(), self.dir.clone(), copy.clone());
        blocking(move || {
            std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
            t.h264_copy(&clip, &target)?;
            evict(&dir, MAX_BYTES, &target);
            Ok::<_, String>(())
        })
        .await?
        .map_err(|e| {
            tracing::warn!(error = %e, "cannot make an H.264 copy of a clip");
            ApiError(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("cannot make an H.264 copy: {e}"),
            )
        })?;
        Ok(copy)
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(|_| {
        ApiError(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the transcoder failed".into(),
        )
    })
}

/// Deletes the oldest copies in `dir` until they take at most `max` bytes (`keep` stays).
fn evict(dir: &Path, max: u64, keep: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut files: Vec<(std::time::SystemTime, u64, PathBuf)> = entries
        .filter_map(|e| {
            let e = e.ok()?;
            let m = e.metadata().ok()?;
            m.is_file().then_some(())?;
            Some((m.modified().ok()?, m.len(), e.path()))
        })
        .collect();
    let mut total: u64 = files.iter().map(|f| f.1).sum();
    files.sort();
    for (_, len, path) in files {
        if total <= max {
            break;
        }
        if path != keep && std::fs::remove_file(&path).is_ok() {
            total -= len;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_copies_go_first_and_the_new_one_stays() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, len: usize| {
            let p = dir.path().join(name);
            std::fs::write(&p, vec![0u8; len]).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(20));
            p
        };
        let (a, b, c) = (
            write("a.mp4", 400),
            write("b.mp4", 400),
            write("c.mp4", 400),
        );
        evict(dir.path(), 900, &c);
        assert!(!a.exists() && b.exists() && c.exists());
        evict(dir.path(), 100, &c);
        assert!(
            !b.exists() && c.exists(),
            "the copy just made is never dropped"
        );
    }
}
