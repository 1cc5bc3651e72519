//! Clips from real footage through the real ingest tee: pre-roll, duration, playability, and proof
//! that the access units are the camera's own bytes.

use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use std::path::{Path, PathBuf};
use std::time::Duration;
use vigil_core::EncodedUnit;
use vigil_evidence::{EncodedRing, RingLimits, write_mp4};

fn assets() -> PathBuf {
    PathBuf::from(
        std::env::var_os("VIGIL_ASSETS").expect("VIGIL_ASSETS must point at the shared assets"),
    )
}

fn encoded_units(path: PathBuf) -> Vec<EncodedUnit> {
    vigil_ingest::transcode::encoded_units(&path).unwrap()
}

/// Runs `<source> ! … ! appsink name=out` on `path` to its end; returns every sample. Fails the
/// test on a pipeline error.
fn samples(path: &Path, chain: &str) -> Vec<gst::Sample> {
    let line = format!(
        "filesrc location=\"{}\" ! {chain} ! appsink name=out sync=false",
        path.display()
    );
    let pipeline = gst::parse::launch(&line)
        .unwrap()
        .downcast::<gst::Pipeline>()
        .unwrap();
    let sink = pipeline
        .by_name("out")
        .unwrap()
        .downcast::<gst_app::AppSink>()
        .unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    let mut out = Vec::new();
    while let Ok(sample) = sink.pull_sample() {
        out.push(sample);
    }
    let errors = pipeline
        .bus()
        .unwrap()
        .timed_pop_filtered(gst::ClockTime::ZERO, &[gst::MessageType::Error]);
    pipeline.set_state(gst::State::Null).unwrap();
    assert!(errors.is_none(), "{line}: {errors:?}");
    out
}

/// Demuxes an MP4 and returns its access units' bytes (and whether each is a keyframe).
fn demux(path: &Path) -> Vec<(Vec<u8>, bool)> {
    samples(
        path,
        "qtdemux ! video/x-h264,stream-format=avc,alignment=au",
    )
    .iter()
    .map(|s| {
        let b = s.buffer().unwrap();
        (
            b.map_readable().unwrap().to_vec(),
            !b.flags().contains(gst::BufferFlags::DELTA_UNIT),
        )
    })
    .collect()
}

/// Decodes the MP4 to its end; returns the number of decoded frames.
fn decode_all(path: &Path) -> usize {
    samples(path, "decodebin ! videoconvert").len()
}

#[test]
fn clip_has_pre_roll_plays_and_holds_the_cameras_own_bytes() {
    gst::init().unwrap();
    let all = encoded_units(assets().join("footage/car-detection.mp4"));
    assert!(all.len() > 300, "{} units", all.len());
    let keyframes: Vec<Duration> = all
        .iter()
        .filter(|u| u.keyframe)
        .filter_map(|u| u.pts)
        .collect();
    let gop = keyframes
        .windows(2)
        .map(|w| w[1] - w[0])
        .max()
        .expect("several keyframes");

    // An alert raised at 12 s; 5 s pre-roll, 3 s post-roll.
    let (alert, pre, post) = (
        Duration::from_secs(12),
        Duration::from_secs(5),
        Duration::from_secs(3),
    );
    let mut ring = EncodedRing::new(RingLimits {
        pre_roll: pre,
        max_bytes: 64 << 20,
    });
    let mut rest = Vec::new();
    for u in &all {
        if u.pts.unwrap() <= alert {
            ring.push(u.clone());
        } else if u.pts.unwrap() <= alert + post {
            rest.push(u.clone());
        }
    }
    assert!(ring.span() >= pre, "ring holds {:?}", ring.span());
    let mut units = ring.since(alert - pre);
    units.extend(rest);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clip.mp4");
    let clip = write_mp4(&units, &path).unwrap();

    // Pre-roll: the clip starts at the last keyframe at or before alert − pre_roll.
    assert!(
        clip.first_pts <= alert - pre && clip.first_pts + gop > alert - pre,
        "first PTS {:?}",
        clip.first_pts
    );
    // Duration within one GOP of what was asked.
    let asked = pre + post;
    let diff = clip.duration.abs_diff(asked);
    assert!(
        diff <= gop,
        "clip {:?}, asked {asked:?}, GOP {gop:?}",
        clip.duration
    );

    // The file is complete, indexed at the front, and plays to its end.
    assert!(!dir.path().join("clip.mp4.part").exists());
    let bytes = std::fs::read(&path).unwrap();
    let find = |tag: &[u8]| bytes.windows(4).position(|w| w == tag).unwrap();
    assert!(
        find(b"moov") < find(b"mdat"),
        "moov must precede mdat (faststart)"
    );
    assert_eq!(decode_all(&path), units.len());
    assert_eq!(clip.sha256, sha256sum(&path));

    // No re-encode: the clip's access units are byte-identical to the camera's, first a keyframe.
    let demuxed = demux(&path);
    assert_eq!(demuxed.len(), units.len());
    assert!(demuxed[0].1, "first frame is a keyframe");
    for (i, ((got, key), want)) in demuxed.iter().zip(&units).enumerate() {
        assert_eq!(got.as_slice(), &*want.data, "access unit {i} differs");
        assert_eq!(*key, want.keyframe, "keyframe flag of unit {i}");
    }
}

/// sha256 by coreutils, independent of the code under test.
fn sha256sum(path: &Path) -> String {
    let out = std::process::Command::new("sha256sum")
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn a_clip_must_start_with_a_keyframe() {
    let all = encoded_units(assets().join("footage/car-detection.mp4"));
    let delta: Vec<_> = all
        .iter()
        .filter(|u| !u.keyframe)
        .take(3)
        .cloned()
        .collect();
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        write_mp4(&delta, &dir.path().join("x.mp4")),
        Err(vigil_evidence::EvidenceError::NoKeyframe)
    ));
    assert!(matches!(
        write_mp4(&[], &dir.path().join("x.mp4")),
        Err(vigil_evidence::EvidenceError::NoKeyframe)
    ));
}

#[test]
fn a_stream_format_change_ends_the_open_clip_where_it_happened() {
    use std::sync::Arc;
    use vigil_evidence::ClipRequest;

    let all = encoded_units(assets().join("footage/car-detection.mp4"));
    let rec = recorder(None);
    let secs = |u: &EncodedUnit| u.pts.unwrap().as_secs_f64();
    let changed: Arc<str> = Arc::from(format!("{}, vigil-test=(int)2", all[0].caps).as_str());
    let mut units = all.iter().cloned();
    for u in units.by_ref().take_while(|u| secs(u) < 8.0) {
        rec.units.send(u).unwrap();
    }
    std::thread::sleep(Duration::from_millis(300)); // the recorder has the pre-roll
    rec.requests
        .send(ClipRequest {
            key: "x".into(),
            from: Duration::from_secs(6),
            until: Duration::from_secs(25),
            snapshot: None,
        })
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    for u in units.by_ref().take_while(|u| secs(u) < 14.0) {
        rec.units.send(u).unwrap();
    }
    // The camera comes back in another format.
    for mut u in units {
        u.caps = changed.clone();
        rec.units.send(u).unwrap();
    }
    let done = rec.done.recv_timeout(Duration::from_secs(30)).unwrap();
    assert_eq!(done.keys, ["x"]);
    let clip = done.result.unwrap();
    let end = clip.first_pts + clip.duration;
    assert!(clip.first_pts <= Duration::from_secs(6), "{clip:?}");
    assert!(
        end > Duration::from_secs(13) && end <= Duration::from_secs(15),
        "the clip ends at the format change (~14 s), not at 25 s: {clip:?}"
    );
    assert_eq!(
        decode_all(&clip.path),
        clip.units,
        "the clip plays to its end"
    );
    rec.stop();
}

/// A camera whose evidence is its main stream: units stamped in pipeline clock time (here 1000 s
/// after stream time), requests in the detect stream's time. The clip covers the asked span and
/// reports its first PTS in stream time; the snapshot is the main stream's size with the box
/// drawn where the sub-stream's box lies in it. Once the stream is down, the open clip ends with
/// a note, and a clip asked for after it is an error naming the reason.
#[test]
fn a_record_stream_s_clock_time_maps_to_stream_time_and_its_outage_is_reported() {
    use std::sync::Arc;
    use vigil_core::streams::{StreamClock, StreamHealth};
    use vigil_core::{BBoxPx, Size};
    use vigil_evidence::snapshot::Overlay;
    use vigil_evidence::{ClipRequest, SecondStream, SnapshotRequest};

    let offset = Duration::from_secs(1000);
    let all: Vec<EncodedUnit> = encoded_units(assets().join("footage/car-detection.mp4"))
        .into_iter()
        .map(|mut u| {
            u.pts = u.pts.map(|t| t + offset);
            u.dts = u.dts.map(|t| t + offset);
            u
        })
        .collect();
    let clock = Arc::new(StreamClock::default());
    let health = Arc::new(StreamHealth::default());
    let rec = recorder(Some(SecondStream {
        clock: clock.clone(),
        health: health.clone(),
    }));
    let secs = |u: &EncodedUnit| (u.pts.unwrap() - offset).as_secs_f64();
    let mut units = all.iter().cloned();
    for u in units.by_ref().take_while(|u| secs(u) < 8.0) {
        rec.units.send(u).unwrap();
    }
    // The detect stream's latest frame: stream time 8 s, captured at clock 1008 s.
    clock.observe(Duration::from_secs(8), offset + Duration::from_secs(8));
    std::thread::sleep(Duration::from_millis(300));
    // The footage is 768×432; the detector saw it at 384×216.
    let sub = Size::new(384, 216);
    let car = BBoxPx::new(100.0, 50.0, 150.0, 100.0);
    rec.requests
        .send(ClipRequest {
            key: "a".into(),
            from: Duration::from_secs(5),
            until: Duration::from_secs(10),
            snapshot: Some(SnapshotRequest {
                at: Duration::from_secs(7),
                overlay: Overlay {
                    boxes: vec![(car, "#1 car 0.9".into())],
                    ..Overlay::default()
                },
                blur: Vec::new(),
                space: Some(sub),
            }),
        })
        .unwrap();
    for u in units.by_ref().take_while(|u| secs(u) < 12.0) {
        rec.units.send(u).unwrap();
    }
    let done = rec.done.recv_timeout(Duration::from_secs(30)).unwrap();
    assert_eq!(done.note, None);
    let clip = done.result.unwrap();
    assert!(
        clip.first_pts <= Duration::from_secs(5) && clip.first_pts > Duration::from_secs(2),
        "first PTS in stream time: {clip:?}"
    );
    let end = clip.first_pts + clip.duration;
    assert!(
        end >= Duration::from_secs(10) && end < Duration::from_secs(11),
        "{clip:?}"
    );
    let snap = done.snapshots[0].1.as_ref().unwrap();
    let drawn = image_of(&snap.path);
    let clean = image_of(&snap.clean_path);
    assert_eq!((drawn.0, drawn.1), (768, 432), "the main stream's size");
    // The box's left edge, scaled ×2: drawn at x = 200 (between y 100 and 200), not at x = 100.
    let differs = |x: u32, y: u32| {
        let i = ((y * drawn.0 + x) * 3) as usize;
        (0..3).any(|c| drawn.2[i + c].abs_diff(clean.2[i + c]) > 60)
    };
    assert!(
        (110..190).all(|y| differs(200, y) || differs(201, y)),
        "box edge at x = 200"
    );
    assert!(
        (110..190).all(|y| !differs(100, y)),
        "nothing at the unscaled x = 100"
    );

    // A recording open when the stream goes down ends there, with a note.
    rec.requests
        .send(ClipRequest {
            key: "b".into(),
            from: Duration::from_secs(11),
            until: Duration::from_secs(30),
            snapshot: None,
        })
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    health.set_down("no frames for 5.0 s (stall watchdog)");
    let done = rec.done.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(done.keys, ["b"]);
    assert!(done.result.is_ok(), "{done:?}");
    assert!(
        done.note.as_deref().unwrap().contains("stall watchdog"),
        "{done:?}"
    );
    // One asked for while it is down, past what the ring holds: no clip, and why.
    rec.requests
        .send(ClipRequest {
            key: "c".into(),
            from: Duration::from_secs(20),
            until: Duration::from_secs(25),
            snapshot: None,
        })
        .unwrap();
    let done = rec.done.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(done.keys, ["c"]);
    let error = done.result.unwrap_err();
    assert!(
        error.contains("record stream is down") && error.contains("stall"),
        "{error}"
    );
    rec.stop();
}

/// A JPEG's width, height and RGB pixels.
fn image_of(path: &Path) -> (u32, u32, Vec<u8>) {
    let s = samples(path, "jpegdec ! videoconvert ! video/x-raw,format=RGB")
        .pop()
        .unwrap();
    let info = gstreamer_video::VideoInfo::from_caps(s.caps().unwrap()).unwrap();
    let map = s.buffer().unwrap().map_readable().unwrap();
    let (w, h) = (info.width(), info.height());
    let stride = info.stride()[0] as usize;
    let mut rgb = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h as usize {
        rgb.extend_from_slice(&map[y * stride..y * stride + w as usize * 3]);
    }
    (w, h, rgb)
}

/// A recorder on its thread (camera `cam`, 3 s of pre-roll, clips up to 60 s, written to a
/// temporary folder), with the ends of its queues.
struct Running {
    units: vigil_core::QueueSender<EncodedUnit>,
    requests: crossbeam_channel::Sender<vigil_evidence::ClipRequest>,
    done: crossbeam_channel::Receiver<vigil_evidence::ClipDone>,
    thread: std::thread::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

fn recorder(second: Option<vigil_evidence::SecondStream>) -> Running {
    use std::sync::Arc;
    use vigil_core::{CameraId, StageCounters, WhenFull, queue};
    let dir = tempfile::tempdir().unwrap();
    let (units, unit_rx) =
        queue::bounded(4096, WhenFull::Block, Arc::new(StageCounters::default()));
    let (requests, req_rx) = crossbeam_channel::bounded(4);
    let (done_tx, done) = crossbeam_channel::bounded(4);
    let config = vigil_evidence::RecorderConfig {
        limits: RingLimits {
            pre_roll: Duration::from_secs(3),
            max_bytes: usize::MAX,
        },
        max_clip: Duration::from_secs(60),
        dir: dir.path().to_path_buf(),
        font: None,
        second,
    };
    let thread =
        vigil_evidence::spawn_recorder(CameraId::new("cam"), config, unit_rx, req_rx, done_tx)
            .unwrap();
    Running {
        units,
        requests,
        done,
        thread,
        _dir: dir,
    }
}

impl Running {
    /// Closes its queues and waits for it to write what is open and end.
    fn stop(self) {
        drop(self.units);
        drop(self.requests);
        self.thread.join().unwrap();
    }
}
