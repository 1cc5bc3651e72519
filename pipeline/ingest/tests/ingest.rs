//! Real GStreamer pipelines: an RTSP server on 127.0.0.1 started by the test, and file replay.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use vigil_config::{CameraSource, RtspTransport, RtspUrl};
use vigil_core::{CameraId, Frame, PixelFormat, Size, StageCounters, WhenFull, queue};
use vigil_ingest::rtsp_server::{Mount, RtspServer};
use vigil_ingest::{CameraExit, CameraSinks, CameraSpec, CameraStatus, TargetSize, spawn_camera};

fn assets() -> PathBuf {
    PathBuf::from(
        std::env::var_os("VIGIL_ASSETS")
            .expect("VIGIL_ASSETS must point at the shared assets (models/, footage/)"),
    )
}

/// A camera spec with test defaults: every frame, BGR at source size, 5 s watchdog.
fn spec(id: &str, source: CameraSource) -> CameraSpec {
    CameraSpec {
        id: CameraId::new(id),
        source,
        detect_fps: None,
        format: PixelFormat::Bgr8,
        target: TargetSize::Source,
        realtime: false,
        stall: Some(Duration::from_secs(5)),
        decode_threads: 1,
        decoder: vigil_config::Decoder::Auto,
        loop_period: None,
    }
}

struct Run {
    frames: Vec<Frame>,
    encoded: Vec<vigil_core::EncodedUnit>,
    statuses: Vec<CameraStatus>,
    exit: Option<CameraExit>,
    counters: Arc<StageCounters>,
}

/// Runs a camera until `want` frames arrived, the camera exits, or `timeout`.
fn run_camera(spec: CameraSpec, want: usize, timeout: Duration) -> Run {
    let counters = Arc::new(StageCounters::default());
    let (tx, rx) = queue::bounded::<Frame>(4, WhenFull::Block, counters.clone());
    let encoded = Arc::new(Mutex::new(Vec::new()));
    let statuses = Arc::new(Mutex::new(Vec::new()));
    let (enc, st) = (encoded.clone(), statuses.clone());
    let sinks = CameraSinks {
        frames: tx,
        encoded: Some(Arc::new(move |u| enc.lock().unwrap().push(u))),
        status: Arc::new(move |_, s| st.lock().unwrap().push(s)),
        counters: counters.clone(),
        duration_ms: Default::default(),
        decoder: Default::default(),
        clock: None,
    };
    let stop = Arc::new(AtomicBool::new(false));
    let handle = spawn_camera(spec, sinks, stop.clone()).unwrap();
    let mut frames = Vec::new();
    let deadline = Instant::now() + timeout;
    while frames.len() < want && Instant::now() < deadline {
        match rx.inner().recv_timeout(Duration::from_millis(100)) {
            Ok(f) => frames.push(f),
            Err(_) if handle.is_finished() => break,
            Err(_) => {}
        }
    }
    stop.store(true, Ordering::Relaxed);
    drop(rx);
    let exit = handle.join().ok();
    let encoded = std::mem::take(&mut *encoded.lock().unwrap());
    let statuses = std::mem::take(&mut *statuses.lock().unwrap());
    Run {
        frames,
        encoded,
        statuses,
        exit,
        counters,
    }
}

fn assert_increasing_pts(frames: &[Frame]) {
    for w in frames.windows(2) {
        assert!(
            w[1].meta.pts > w[0].meta.pts,
            "PTS not increasing: {:?} then {:?}",
            w[0].meta.pts,
            w[1].meta.pts
        );
        assert_eq!(w[1].meta.seq, w[0].meta.seq + 1);
    }
}

#[test]
fn rtsp_camera_receives_frames_from_a_local_server() {
    let server = RtspServer::start(0, &[Mount::test_pattern("cam", 320, 240, 25, 10_000)]).unwrap();
    let url = RtspUrl::parse(&server.url("cam"), None, None).unwrap();
    let spec = spec(
        "rtsp_cam",
        CameraSource::Rtsp {
            url,
            transport: RtspTransport::Tcp,
            latency_ms: 100,
        },
    );
    let run = run_camera(spec, 40, Duration::from_secs(20));
    assert_eq!(
        run.frames.len(),
        40,
        "frames received; statuses {:?}",
        run.statuses
    );
    for f in &run.frames {
        assert_eq!(f.image.size, Size::new(320, 240));
        assert_eq!(f.meta.source_size, Size::new(320, 240));
        assert!(f.image.stride >= 320 * 3);
        assert!(f.image.bytes().len() >= f.image.stride * 239 + 320 * 3);
    }
    assert_increasing_pts(&run.frames);
    // 25 fps: 40 frames span about 1.56 s of stream time.
    let span = run.frames[39].meta.pts - run.frames[0].meta.pts;
    assert!(
        (span.as_secs_f64() - 39.0 / 25.0).abs() < 0.1,
        "span {span:?}"
    );
    assert_eq!(run.statuses.first(), Some(&CameraStatus::Online));
    assert!(
        run.encoded.iter().any(|u| u.keyframe),
        "encoded branch delivered a keyframe"
    );
    assert!(
        run.encoded[0].caps.contains("stream-format=(string)avc"),
        "{}",
        run.encoded[0].caps
    );
    assert_eq!(run.exit, Some(CameraExit::Stopped));
}

#[test]
fn file_camera_samples_at_detect_fps_and_scales() {
    let path = assets().join("footage/car-detection.mp4");
    let spec = CameraSpec {
        detect_fps: Some(5.0),
        format: PixelFormat::Rgb8,
        target: TargetSize::FitWithin(Size::new(416, 416)),
        decode_threads: 2,
        decoder: vigil_config::Decoder::Auto,
        ..spec(
            "file_cam",
            CameraSource::File {
                path,
                looping: false,
            },
        )
    };
    let run = run_camera(spec, usize::MAX, Duration::from_secs(60));
    assert_eq!(run.exit, Some(CameraExit::EndOfInput));
    // About 30 s at 12.5 fps decoded; sampled at 5 fps: 2 of every 5 frames.
    let snap = run.counters.snapshot();
    assert!(
        (370..=380).contains(&snap.received),
        "decoded {} frames",
        snap.received
    );
    let want = snap.received as f64 * 5.0 / 12.5;
    assert!(
        (run.frames.len() as f64 - want).abs() <= 2.0,
        "sampled {} of {}",
        run.frames.len(),
        snap.received
    );
    assert_eq!(
        snap.dropped_sampling + run.frames.len() as u64,
        snap.received
    );
    for f in &run.frames {
        // 768×432 fitted into 416×416 → 416×234.
        assert_eq!(f.image.size, Size::new(416, 234));
        assert_eq!(f.meta.source_size, Size::new(768, 432));
    }
    assert_increasing_pts(&run.frames);
    for w in run.frames.windows(2) {
        let gap = (w[1].meta.pts - w[0].meta.pts).as_secs_f64();
        assert!((0.16..=0.241).contains(&gap), "sample gap {gap}");
    }
    // The encoded branch saw every access unit, untouched, starting with a keyframe.
    assert_eq!(run.encoded.len() as u64, snap.received);
    assert!(run.encoded[0].keyframe);
}

#[test]
fn gif_converts_to_mp4_with_its_frame_delays_and_loops_monotonically() {
    let dir = std::env::temp_dir().join(format!("vigil-ingest-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("lot.mp4");
    let gif = assets().join("footage/person-bicycle-car-detection.gif");
    assert!(vigil_ingest::transcode::needs_transcode(&gif));
    assert_eq!(
        vigil_ingest::transcode::gif_to_mp4(&gif, &path).unwrap(),
        41
    );
    let spec = spec(
        "loop_cam",
        CameraSource::File {
            path,
            looping: true,
        },
    );
    // The GIF has 41 frames: 100 frames means it looped twice.
    let run = run_camera(spec, 100, Duration::from_secs(30));
    assert_eq!(
        run.frames.len(),
        100,
        "exit {:?}, {:?}",
        run.exit,
        run.counters.snapshot()
    );
    assert_increasing_pts(&run.frames);
    assert_eq!(run.frames[0].image.size, Size::new(480, 270));
    // The GIF's delays are 80 ms (12.5 fps): 40 intervals span 3.2 s of the first pass.
    let first_pass = run.frames[40].meta.pts - run.frames[0].meta.pts;
    assert!(
        (first_pass.as_secs_f64() - 3.2).abs() < 0.15,
        "{first_pass:?}"
    );
    // Each pass is marked, and the next follows the last frame by one frame's 80 ms: the file
    // loops by segment seek, in one running time (a rebuilt session guessed 40 ms).
    let passes: Vec<u32> = run.frames.iter().map(|f| f.meta.pass).collect();
    assert_eq!(passes[..41], [0; 41]);
    assert_eq!(passes[41..82], [1; 41]);
    assert!(passes[82..].iter().all(|&p| p == 2), "{passes:?}");
    let seam = run.frames[41].meta.pts - run.frames[40].meta.pts;
    assert!(
        (seam.as_secs_f64() - 0.08).abs() < 0.005,
        "{seam:?} between the passes: {:?}",
        run.frames[36..46]
            .iter()
            .map(|f| f.meta.pts)
            .collect::<Vec<_>>()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn missing_file_fails_with_the_reason() {
    let spec = CameraSpec {
        stall: Some(Duration::from_secs(2)),
        ..spec(
            "missing",
            CameraSource::File {
                path: "/nonexistent/clip.mp4".into(),
                looping: false,
            },
        )
    };
    let run = run_camera(spec, 1, Duration::from_secs(10));
    match run.exit {
        Some(CameraExit::Failed(reason)) => assert!(
            reason.contains("clip.mp4")
                || reason.to_lowercase().contains("not found")
                || reason.contains("No such file"),
            "{reason}"
        ),
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[test]
fn rtsp_camera_unreachable_from_the_start_is_reported_offline_once() {
    // A port nobody listens on: the one a listener had until it was dropped.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = RtspUrl::parse(&format!("rtsp://127.0.0.1:{port}/gate"), None, None).unwrap();
    let source = CameraSource::Rtsp {
        url,
        transport: RtspTransport::Tcp,
        latency_ms: 100,
    };
    // Several connection attempts (250 ms, 500 ms, 1 s apart) fit in 4 s.
    let run = run_camera(spec("gate", source), 1, Duration::from_secs(4));
    assert!(run.frames.is_empty());
    assert_eq!(run.exit, Some(CameraExit::Stopped));
    match run.statuses.as_slice() {
        [CameraStatus::Offline { reason }] => assert!(reason.contains("connect"), "{reason}"),
        other => panic!("expected one offline report, got {other:?}"),
    }
}

#[test]
fn rtsp_camera_reconnects_after_the_server_restarts() {
    let server =
        RtspServer::start(0, &[Mount::test_pattern("cam", 160, 120, 25, 100_000)]).unwrap();
    let port = server.port();
    let url = RtspUrl::parse(
        &server.url("cam"),
        Some("user".into()),
        Some("secret".into()),
    )
    .unwrap();
    assert!(!format!("{url}").contains("secret"));
    let counters = Arc::new(StageCounters::default());
    let (tx, rx) = queue::bounded::<Frame>(4, WhenFull::DropOldest, counters.clone());
    let statuses = Arc::new(Mutex::new(Vec::new()));
    let st = statuses.clone();
    let sinks = CameraSinks {
        frames: tx,
        encoded: None,
        status: Arc::new(move |_, s| st.lock().unwrap().push(s)),
        counters: counters.clone(),
        duration_ms: Default::default(),
        decoder: Default::default(),
        clock: None,
    };
    let spec = CameraSpec {
        stall: Some(Duration::from_secs(2)),
        ..spec(
            "flaky",
            CameraSource::Rtsp {
                url,
                transport: RtspTransport::Tcp,
                latency_ms: 100,
            },
        )
    };
    let stop = Arc::new(AtomicBool::new(false));
    let handle = spawn_camera(spec, sinks, stop.clone()).unwrap();
    let got = AtomicU64::new(0);
    let wait_frames = |n: u64, timeout: Duration| {
        let deadline = Instant::now() + timeout;
        let mut seen = 0;
        while seen < n && Instant::now() < deadline {
            if rx.inner().recv_timeout(Duration::from_millis(100)).is_ok() {
                seen += 1;
                got.fetch_add(1, Ordering::Relaxed);
            }
        }
        seen
    };
    assert_eq!(
        wait_frames(10, Duration::from_secs(15)),
        10,
        "frames before restart"
    );
    server.stop();
    std::thread::sleep(Duration::from_millis(1500));
    while rx.try_recv().is_some() {}
    let server =
        RtspServer::start(port, &[Mount::test_pattern("cam", 160, 120, 25, 100_000)]).unwrap();
    let restarted = Instant::now();
    assert_eq!(
        wait_frames(10, Duration::from_secs(20)),
        10,
        "frames after restart; statuses {:?}",
        statuses.lock().unwrap()
    );
    let recovery = restarted.elapsed();
    stop.store(true, Ordering::Relaxed);
    assert_eq!(handle.join().unwrap(), CameraExit::Stopped);
    drop(server);
    let s = statuses.lock().unwrap();
    assert!(
        matches!(
            s.as_slice(),
            [
                CameraStatus::Online,
                CameraStatus::Offline { .. },
                CameraStatus::Online,
                ..
            ]
        ),
        "{s:?}"
    );
    eprintln!("frames flowed again {recovery:?} after the server came back");
}

/// An H.264 MP4 of `frames` frames of 160×120 at `fps` in a fresh temporary folder.
fn clip(test: &str, frames: u32, fps: u32) -> PathBuf {
    use gstreamer::prelude::*;
    gstreamer::init().unwrap();
    let dir = std::env::temp_dir().join(format!("vigil-ingest-{}-{test}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("clip.mp4");
    let pipeline = gstreamer::parse::launch(&format!(
        "videotestsrc num-buffers={frames} pattern=ball ! video/x-raw,width=160,height=120,framerate={fps}/1 \
         ! x264enc key-int-max={fps} speed-preset=superfast bframes=0 ! h264parse ! mp4mux ! filesink location={}",
        path.display()
    ))
    .unwrap();
    pipeline.set_state(gstreamer::State::Playing).unwrap();
    let bus = pipeline.bus().unwrap();
    let msg = bus
        .timed_pop_filtered(
            gstreamer::ClockTime::from_seconds(20),
            &[gstreamer::MessageType::Eos, gstreamer::MessageType::Error],
        )
        .expect("the clip is written");
    assert!(
        matches!(msg.view(), gstreamer::MessageView::Eos(_)),
        "{msg:?}"
    );
    pipeline.set_state(gstreamer::State::Null).unwrap();
    path
}

/// Issue 20: a session of a file camera could hang before its first frame (the parser streaming
/// into a tee not yet started), until the first-frame watchdog rebuilt it — about one session in
/// ten on a loaded 2-core box. A one-second clip looped 150 times with both cores kept busy must
/// never leave a gap between frames anywhere near the watchdog's.
#[test]
fn a_looping_file_loops_150_times_without_a_gap_under_load() {
    let clip = clip("looping", 25, 25);
    let busy = Arc::new(AtomicBool::new(true));
    let spinners: Vec<_> = (0..2)
        .map(|_| {
            let busy = busy.clone();
            std::thread::Builder::new()
                .name("load".into())
                .spawn(move || {
                    let mut x = 1u64;
                    while busy.load(Ordering::Relaxed) {
                        x = std::hint::black_box(
                            x.wrapping_mul(6364136223846793005).wrapping_add(1),
                        );
                    }
                })
                .unwrap()
        })
        .collect();
    let spec = spec(
        "looped",
        CameraSource::File {
            path: clip.clone(),
            looping: true,
        },
    );
    let counters = Arc::new(StageCounters::default());
    let (tx, rx) = queue::bounded::<Frame>(4, WhenFull::Block, counters.clone());
    let sinks = CameraSinks {
        frames: tx,
        encoded: Some(Arc::new(|_| {})),
        status: Arc::new(|_, _| {}),
        counters: counters.clone(),
        duration_ms: Default::default(),
        decoder: Default::default(),
        clock: None,
    };
    let stop = Arc::new(AtomicBool::new(false));
    let handle = spawn_camera(spec, sinks, stop.clone()).unwrap();
    let (sessions, deadline) = (150, Instant::now() + Duration::from_secs(90));
    let (mut frames, mut last, mut worst, mut pass) = (0, Instant::now(), Duration::ZERO, 0);
    while frames < 25 * sessions && Instant::now() < deadline {
        if let Ok(frame) = rx.inner().recv_timeout(Duration::from_millis(100)) {
            frames += 1;
            worst = worst.max(last.elapsed());
            last = Instant::now();
            pass = frame.meta.pass;
        }
    }
    stop.store(true, Ordering::Relaxed);
    busy.store(false, Ordering::Relaxed);
    drop(rx);
    let _ = handle.join();
    for s in spinners {
        s.join().unwrap();
    }
    let _ = std::fs::remove_dir_all(clip.parent().unwrap());
    assert_eq!(
        frames,
        25 * sessions,
        "frames of {sessions} loops within 90 s"
    );
    assert_eq!(pass, sessions as u32 - 1, "the last frame's pass");
    // A hung session waited the first-frame allowance (twice the 5 s stall time) before its
    // rebuild; a loop by segment seek has no gap at all.
    assert!(
        worst < Duration::from_secs(2),
        "longest gap between frames {worst:?}"
    );
}

/// A replay is the same every time: the session's time base is the first buffer through the tee,
/// not whichever branch (decoded or encoded) happened to be first, so no frame before the base is
/// dropped by sampling and every frame keeps its time. Ten replays of a 5 fps clip (as the
/// synthetic bin scenes are), sampled at its own rate.
#[test]
fn a_replay_samples_the_same_frames_at_the_same_times_every_run() {
    let clip = clip("replay", 10, 5);
    let mut runs = Vec::new();
    for _ in 0..10 {
        let mut s = spec(
            "replayed",
            CameraSource::File {
                path: clip.clone(),
                looping: false,
            },
        );
        s.detect_fps = Some(5.0);
        let run = run_camera(s, 10, Duration::from_secs(20));
        let c = run.counters.snapshot();
        assert_eq!((c.received, c.dropped_sampling), (10, 0), "{c:?}");
        runs.push(run.frames.iter().map(|f| f.meta.pts).collect::<Vec<_>>());
    }
    let _ = std::fs::remove_dir_all(clip.parent().unwrap());
    assert_eq!(runs[0].first(), Some(&Duration::ZERO));
    assert!(runs.iter().all(|r| *r == runs[0]), "{runs:?}");
}

/// `decoder: software` decodes; `decoder: vaapi` on a machine without a working VA-API decoder
/// is an error that names the elements, not a quiet fall back to the CPU (where VA-API works, it
/// decodes).
#[test]
fn a_chosen_decoder_runs_or_is_an_error_naming_its_elements() {
    let path = assets().join("footage/car-detection.mp4");
    let file = || CameraSource::File {
        path: path.clone(),
        looping: false,
    };
    let mut software = spec("software", file());
    software.decoder = vigil_config::Decoder::Software;
    let run = run_camera(software, 10, Duration::from_secs(20));
    assert_eq!(run.frames.len(), 10, "statuses {:?}", run.statuses);

    vigil_ingest::init().unwrap();
    let va_works = ["vah264dec", "vah265dec"]
        .iter()
        .any(|e| vigil_ingest::element_works(e));
    let mut vaapi = spec("vaapi", file());
    vaapi.decoder = vigil_config::Decoder::Vaapi;
    let run = run_camera(vaapi, 10, Duration::from_secs(20));
    match va_works {
        true => assert_eq!(run.frames.len(), 10, "statuses {:?}", run.statuses),
        false => {
            assert!(run.frames.is_empty());
            match run.exit {
                Some(CameraExit::Failed(reason)) => assert!(
                    reason.contains("decoder vaapi: none of vah264dec, vah265dec can start"),
                    "{reason}"
                ),
                other => panic!("expected a failure naming the VA-API elements, got {other:?}"),
            }
        }
    }
}
