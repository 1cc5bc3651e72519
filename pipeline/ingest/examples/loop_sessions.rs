//! Reproduces the start-up hang of file camera sessions (issue 20): one file camera looping a
//! short clip for `SECS` seconds while `LOAD` threads spin, as a busy box would. Every loop is a
//! new session. Prints every gap between frames longer than a second, and a summary.
//!
//! ```sh
//! gst-launch-1.0 -q videotestsrc num-buffers=25 pattern=ball \
//!   ! video/x-raw,width=640,height=360,framerate=25/1 \
//!   ! x264enc key-int-max=25 speed-preset=ultrafast ! h264parse ! mp4mux ! filesink location=/tmp/short.mp4
//! cargo run --release -p vigil-ingest --example loop_sessions -- /tmp/short.mp4 90 2
//! ```
//!
//! On the 2-core development box, before `build::start` held the parser back: 7 gaps of
//! 10.7–13.6 s in 90 s (67 sessions, one in ten hung until the first-frame watchdog); after: none,
//! longest gap 0.31 s, 1,926 sessions.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use vigil_config::CameraSource;
use vigil_core::{CameraId, Frame, PixelFormat, Size, StageCounters, WhenFull, queue};
use vigil_ingest::{CameraSinks, CameraSpec, TargetSize, spawn_camera};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let clip = args
        .get(1)
        .expect("usage: loop_sessions CLIP [SECS] [LOAD]");
    let secs: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(60);
    let load: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(2);
    let stop = Arc::new(AtomicBool::new(false));
    for _ in 0..load {
        let stop = stop.clone();
        std::thread::Builder::new()
            .name("load".into())
            .spawn(move || {
                let mut x = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
                    std::hint::black_box(x);
                }
            })
            .expect("load thread");
    }
    let spec = CameraSpec {
        id: CameraId::new("loop"),
        source: CameraSource::File {
            path: clip.into(),
            looping: true,
        },
        detect_fps: Some(5.0),
        format: PixelFormat::Bgr8,
        target: TargetSize::Exact(Size::new(416, 416)),
        realtime: false,
        stall: Some(Duration::from_secs(5)),
        decode_threads: 1,
        decoder: vigil_config::Decoder::Auto,
        loop_period: None,
    };
    let counters = Arc::new(StageCounters::default());
    let (tx, rx) = queue::bounded::<Frame>(2, WhenFull::Block, counters.clone());
    let units = Arc::new(Mutex::new(0u64));
    let u = units.clone();
    let sinks = CameraSinks {
        frames: tx,
        encoded: Some(Arc::new(move |_| *u.lock().unwrap() += 1)),
        status: Arc::new(|id, s| eprintln!("{id}: {s:?}")),
        counters: counters.clone(),
        duration_ms: Default::default(),
        decoder: Default::default(),
        clock: None,
    };
    let cam_stop = Arc::new(AtomicBool::new(false));
    let handle = spawn_camera(spec, sinks, cam_stop.clone()).expect("camera");
    let start = Instant::now();
    let mut last = Instant::now();
    let (mut frames, mut gaps) = (0u64, Vec::new());
    while start.elapsed() < Duration::from_secs(secs) {
        if rx.inner().recv_timeout(Duration::from_millis(50)).is_ok() {
            frames += 1;
            let gap = last.elapsed();
            if gap > Duration::from_secs(1) {
                println!(
                    "gap of {:.2} s before frame {frames} at {:.1} s",
                    gap.as_secs_f64(),
                    start.elapsed().as_secs_f64()
                );
            }
            gaps.push(gap);
            last = Instant::now();
        }
    }
    cam_stop.store(true, Ordering::Relaxed);
    stop.store(true, Ordering::Relaxed);
    drop(rx);
    let _ = handle.join();
    gaps.sort();
    let long = gaps.iter().filter(|g| **g > Duration::from_secs(1)).count();
    println!(
        "{frames} frames in {secs} s; gaps > 1 s: {long}; max gap {:.2} s; received {} (decoded), encoded units {}",
        gaps.last().map_or(0.0, |g| g.as_secs_f64()),
        counters.snapshot().received,
        units.lock().unwrap()
    );
}
