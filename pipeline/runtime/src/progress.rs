//! Replay progress on stderr: on a terminal one line redrawn twice a second (`42 % · 213 frames
//! · 88.1 frames/s · ETA 3 s`), otherwise a plain line every 5 s; a last line when done.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// One camera's progress: its file's length (from ingest) and the stream time and frames done.
#[derive(Debug, Default)]
pub struct CameraProgress {
    pub duration_ms: Arc<AtomicU64>,
    /// The element decoding the camera's stream, once one runs.
    pub decoder: Arc<std::sync::Mutex<Option<String>>>,
    pub position_ms: AtomicU64,
    pub frames: AtomicU64,
    /// The camera's motion gate and the track thread's carry meet here (and its counts).
    pub gate: Arc<vigil_motion::Shared>,
}

impl CameraProgress {
    /// Records a frame done at stream time `pts`.
    pub fn frame_done(&self, pts: Duration) {
        self.position_ms
            .fetch_max(pts.as_millis() as u64, Ordering::Relaxed);
        self.frames.fetch_add(1, Ordering::Relaxed);
    }
}

/// A progress record per camera of `config`.
pub fn per_camera(
    config: &vigil_config::Config,
) -> std::collections::HashMap<vigil_core::CameraId, Arc<CameraProgress>> {
    config
        .cameras
        .iter()
        .map(|c| (c.id.clone(), Arc::default()))
        .collect()
}

/// The progress line for `cameras` after `elapsed`.
pub fn line(cameras: &[Arc<CameraProgress>], elapsed: Duration) -> String {
    let frames: u64 = cameras
        .iter()
        .map(|c| c.frames.load(Ordering::Relaxed))
        .sum();
    let rate = frames as f64 / elapsed.as_secs_f64().max(1e-3);
    // The slowest camera whose length is known decides how far the replay is.
    let fraction = cameras
        .iter()
        .filter_map(|c| {
            let d = c.duration_ms.load(Ordering::Relaxed);
            (d > 0).then(|| (c.position_ms.load(Ordering::Relaxed) as f64 / d as f64).min(1.0))
        })
        .reduce(f64::min);
    match fraction {
        Some(f) if f > 0.0 => {
            let eta = elapsed.as_secs_f64() * (1.0 - f) / f;
            format!(
                "replay: {:.0} % · {frames} frames · {rate:.1} frames/s · ETA {eta:.0} s",
                f * 100.0
            )
        }
        _ => format!("replay: {frames} frames · {rate:.1} frames/s"),
    }
}

/// Reports until `stop` is set.
pub fn spawn(
    cameras: Vec<Arc<CameraProgress>>,
    stop: Arc<AtomicBool>,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("progress".into())
        .spawn(move || {
            let tty = std::io::stderr().is_terminal();
            let every = if tty {
                Duration::from_millis(500)
            } else {
                Duration::from_secs(5)
            };
            let started = Instant::now();
            let mut last = Instant::now();
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
                if last.elapsed() < every {
                    continue;
                }
                last = Instant::now();
                let text = line(&cameras, started.elapsed());
                let mut err = std::io::stderr().lock();
                let _ = if tty {
                    write!(err, "\r\x1b[K{text}")
                } else {
                    writeln!(err, "{text}")
                };
                let _ = err.flush();
            }
            let frames: u64 = cameras
                .iter()
                .map(|c| c.frames.load(Ordering::Relaxed))
                .sum();
            let rate = frames as f64 / started.elapsed().as_secs_f64().max(1e-3);
            let done = format!("replay: done · {frames} frames · {rate:.1} frames/s");
            let _ = if tty {
                writeln!(std::io::stderr(), "\r\x1b[K{done}")
            } else {
                writeln!(std::io::stderr(), "{done}")
            };
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_shows_the_slowest_camera_and_an_eta() {
        let a = Arc::new(CameraProgress::default());
        let b = Arc::new(CameraProgress::default());
        assert_eq!(
            line(std::slice::from_ref(&a), Duration::from_secs(1)),
            "replay: 0 frames · 0.0 frames/s"
        );
        a.duration_ms.store(10_000, Ordering::Relaxed);
        b.duration_ms.store(10_000, Ordering::Relaxed);
        for i in 0..50 {
            a.frame_done(Duration::from_millis(100 * i));
        }
        for i in 0..25 {
            b.frame_done(Duration::from_millis(100 * i));
        }
        // b is at 2.4 s of 10 s after 2 s: 24 %, about 6 s to go.
        assert_eq!(
            line(&[a, b], Duration::from_secs(2)),
            "replay: 24 % · 75 frames · 37.5 frames/s · ETA 6 s"
        );
    }
}
