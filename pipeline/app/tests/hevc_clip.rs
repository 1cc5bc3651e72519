//! An H.265 camera end to end in the page: car-detection.mp4 re-encoded to H.265 (a camera that
//! records HEVC) runs live; its alert's clip is recorded as H.265 (the evidence), and Debian's
//! headless Chromium, which has no HEVC decoder, plays it through the H.264 copy the page asks
//! for (`?rendition=h264`): the video reaches `canplay` and advances. `vigil verify` still checks
//! the original.

mod common;

use std::path::PathBuf;
use std::process::Command;
use vigil_testkit::{free_port, overhead_config};

fn repo() -> PathBuf {
    common::repo()
}

#[test]
fn an_h265_clip_plays_in_the_page_through_an_h264_copy_and_stays_the_evidence() {
    let browser = common::browser();
    let dir = tempfile::tempdir().unwrap();
    let assets = std::env::var("VIGIL_ASSETS").map_or(repo().join("../shared"), PathBuf::from);
    let hevc = dir.path().join("overhead-h265.mp4");
    let made = Command::new("gst-launch-1.0")
        .arg("-q")
        .arg("filesrc")
        .arg(format!(
            "location={}",
            assets.join("footage/car-detection.mp4").display()
        ))
        .args(["!", "decodebin", "!", "videoconvert", "!"])
        .args([
            "x265enc",
            "speed-preset=ultrafast",
            "key-int-max=25",
            "bitrate=800",
            "!",
        ])
        .args(["h265parse", "!", "mp4mux", "!", "filesink"])
        .arg(format!("location={}", hevc.display()))
        .status()
        .unwrap();
    assert!(made.success(), "cannot encode the H.265 footage");

    let port = free_port();
    let token = "hevc-test-token";
    let hash = vigil_deliver::sha256_hex(token.as_bytes());
    let extra = format!(
        "evidence:\n  pre_roll_secs: 2\n  post_roll_secs: 1\napi:\n  listen: 127.0.0.1:{port}\n  tokens:\n    - name: guard\n      role: operator\n      sha256: {hash}\n"
    );
    let config = dir.path().join("config.yaml");
    let text = overhead_config(&repo().join("models"), &extra).replace(
        "file: footage/car-detection.mp4",
        &format!("file: {}", hevc.display()),
    );
    std::fs::write(&config, text).unwrap();
    let out = dir.path().join("out");
    let vigil = common::run_serving(&config, &out, port);
    let seen = Command::new("node")
        .arg(browser.join("hevc.mjs"))
        .arg(format!("http://127.0.0.1:{port}"))
        .arg(token)
        .output()
        .unwrap();
    common::interrupt(vigil);
    let stdout = String::from_utf8_lossy(&seen.stdout);
    let stderr = String::from_utf8_lossy(&seen.stderr);
    assert!(seen.status.success(), "{stdout}\n{stderr}");
    let seen: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    // This Chromium cannot decode HEVC, so the page fell back to the copy.
    assert_eq!(seen["can_play_hevc"], "", "{seen}");
    assert!(
        seen["src"]
            .as_str()
            .unwrap()
            .ends_with("/clip?rendition=h264"),
        "{seen}"
    );
    assert!(seen["currentTime"].as_f64().unwrap() > 0.5, "{seen}");
    assert_eq!(seen["width"], 768, "{seen}");

    // The recording is H.265, its copy H.264 and kept apart; the chain checks out.
    let id = seen["id"].as_str().unwrap();
    let store = vigil_deliver::AlertStore::open(&out.join("alerts.db")).unwrap();
    let view = store.view(id).unwrap().unwrap();
    let clip = view.alert.evidence.clip.unwrap();
    assert_eq!(sample_entry(&out.join(&clip.path)), "hvc1");
    let copy = out.join("renditions").join(format!("{}.mp4", clip.sha256));
    assert_eq!(sample_entry(&copy), "avc1");
    let verify = common::vigil().arg("verify").arg(&out).output().unwrap();
    assert!(
        verify.status.success(),
        "{}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
}

/// Which video sample entry an MP4 holds (H.265 first: an H.264 file never holds `hvc1`).
fn sample_entry(path: &std::path::Path) -> String {
    let data = std::fs::read(path).unwrap();
    for entry in ["hvc1", "hev1", "avc1", "avc3"] {
        if data.windows(4).any(|w| w == entry.as_bytes()) {
            return entry.to_string();
        }
    }
    String::new()
}
