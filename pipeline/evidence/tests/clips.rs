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
    use vigil_core::{CameraId, StageCounters, WhenFull, queue};
    use vigil_evidence::{ClipRequest, RecorderConfig, spawn_recorder};

    let all = encoded_units(assets().join("footage/car-detection.mp4"));
    let dir = tempfile::tempdir().unwrap();
    let (unit_tx, unit_rx) =
        queue::bounded(4096, WhenFull::Block, Arc::new(StageCounters::default()));
    let (req_tx, req_rx) = crossbeam_channel::bounded(4);
    let (done_tx, done_rx) = crossbeam_channel::bounded(4);
    let config = RecorderConfig {
        limits: RingLimits {
            pre_roll: Duration::from_secs(3),
            max_bytes: usize::MAX,
        },
        max_clip: Duration::from_secs(60),
        dir: dir.path().to_path_buf(),
        font: None,
    };
    let recorder = spawn_recorder(CameraId::new("cam"), config, unit_rx, req_rx, done_tx).unwrap();
    let secs = |u: &EncodedUnit| u.pts.unwrap().as_secs_f64();
    let changed: Arc<str> = Arc::from(format!("{}, vigil-test=(int)2", all[0].caps).as_str());
    let mut units = all.iter().cloned();
    for u in units.by_ref().take_while(|u| secs(u) < 8.0) {
        unit_tx.send(u).unwrap();
    }
    std::thread::sleep(Duration::from_millis(300)); // the recorder has the pre-roll
    req_tx
        .send(ClipRequest {
            key: "x".into(),
            from: Duration::from_secs(6),
            until: Duration::from_secs(25),
            snapshot: None,
        })
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    for u in units.by_ref().take_while(|u| secs(u) < 14.0) {
        unit_tx.send(u).unwrap();
    }
    // The camera comes back in another format.
    for mut u in units {
        u.caps = changed.clone();
        unit_tx.send(u).unwrap();
    }
    let done = done_rx.recv_timeout(Duration::from_secs(30)).unwrap();
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
    drop(unit_tx);
    drop(req_tx);
    recorder.join().unwrap();
}
