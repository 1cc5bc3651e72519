//! An H.265 clip (GStreamer encodes a short one, as a camera that records HEVC would): its
//! snapshot decodes, `h264_copy` re-encodes it for browsers, and the box reader tells the two
//! apart.

use std::process::Command;
use std::time::Duration;
use vigil_evidence::rendition::{h264_copy, is_h264, mp4_video_codec};
use vigil_evidence::snapshot::frame_at;

#[test]
fn an_h265_clip_gets_an_h264_copy_of_the_same_length() {
    let dir = tempfile::tempdir().unwrap();
    let hevc = dir.path().join("clip.mp4");
    let made = Command::new("gst-launch-1.0")
        .args(["-q", "videotestsrc", "num-buffers=50", "pattern=ball", "!"])
        .args(["video/x-raw,width=320,height=180,framerate=25/1", "!"])
        .args(["x265enc", "speed-preset=ultrafast", "key-int-max=25", "!"])
        .args([
            "h265parse",
            "!",
            "mp4mux",
            "faststart=true",
            "!",
            "filesink",
        ])
        .arg(format!("location={}", hevc.display()))
        .status()
        .unwrap();
    assert!(made.success(), "cannot encode the H.265 clip");
    let entry = mp4_video_codec(&hevc).unwrap().unwrap();
    assert!(matches!(entry.as_str(), "hvc1" | "hev1"), "{entry}");
    assert!(!is_h264(&entry));
    // Its snapshot decodes (the snapshot decoder once knew H.264 only, and waited for ever on
    // an H.265 clip, holding up every later clip of the process).
    let frame = frame_at(&hevc, Duration::from_secs(1)).unwrap();
    assert_eq!((frame.width, frame.height), (320, 180));

    let copy = dir.path().join("copy.mp4");
    h264_copy(&hevc, &copy, Duration::from_secs(60)).unwrap();
    assert_eq!(mp4_video_codec(&copy).unwrap().as_deref(), Some("avc1"));
    assert!(!dir.path().join("copy.mp4.part").exists());
    // The copy holds the clip's 50 frames (2 s): decoded back and counted.
    let out = Command::new("gst-launch-1.0")
        .arg("filesrc")
        .arg(format!("location={}", copy.display()))
        .args([
            "!",
            "qtdemux",
            "!",
            "h264parse",
            "!",
            "avdec_h264",
            "!",
            "fakesink",
            "silent=false",
            "-v",
        ])
        .output()
        .unwrap();
    let frames = String::from_utf8_lossy(&out.stdout)
        .matches("chain")
        .count();
    assert_eq!(frames, 50, "{}", String::from_utf8_lossy(&out.stderr));

    // A file that is not an MP4 fails with why, and leaves nothing behind.
    let junk = dir.path().join("junk.mp4");
    std::fs::write(&junk, b"not a video").unwrap();
    assert_eq!(mp4_video_codec(&junk).unwrap(), None);
    let started = std::time::Instant::now();
    assert!(frame_at(&junk, Duration::ZERO).is_err());
    assert!(started.elapsed() < Duration::from_secs(5));
    let err = h264_copy(&junk, &dir.path().join("x.mp4"), Duration::from_secs(20)).unwrap_err();
    assert!(err.contains("transcoding failed"), "{err}");
    assert!(!dir.path().join("x.mp4").exists() && !dir.path().join("x.mp4.part").exists());
}
