//! What a snapshot costs from a camera's 1080p H.265 main stream: `car-detection.mp4` encoded
//! once as a camera records it (1920×1080, 25 frames/s, a keyframe every 2 s, ≈ 2.6 Mbit/s),
//! cut to one GOP of 48 frames, then its last frame (1.9 s in: the worst case, 47 decoded
//! before it) taken by `snapshot::frame_at`, against the same decode with every frame converted
//! to RGB (as `frame_at` did before; a `gst-launch-1.0` child, so its process start counts
//! too), in turn, CPU and wall medians.
//!
//!   VIGIL_ASSETS=../shared cargo run --release -p vigil-evidence --example snapshot_cost [ROUNDS]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// This process's CPU time (user + system), from /proc.
fn cpu() -> Duration {
    proc_cpu(11)
}

/// CPU time of this process's waited-for children (their user + system), from /proc.
fn children_cpu() -> Duration {
    proc_cpu(13)
}

/// The two clock-tick fields of /proc/self/stat from `first` on (counted after the command
/// name), added.
fn proc_cpu(first: usize) -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    let rest = &stat[stat.rfind(')').expect("comm") + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let tick = |i: usize| fields[i].parse::<u64>().unwrap_or(0);
    Duration::from_millis((tick(first) + tick(first + 1)) * 10)
}

/// The old way: every frame of the clip (one GOP) decoded and converted to RGB.
fn every_frame_rgb(clip: &Path) {
    let line = format!(
        "filesrc location={} ! qtdemux ! h265parse ! avdec_h265 ! videoconvert \
         ! video/x-raw,format=RGB ! fakesink",
        clip.display()
    );
    let done = Command::new("gst-launch-1.0")
        .arg("-q")
        .args(line.split_whitespace())
        .status()
        .expect("gst-launch-1.0");
    assert!(done.success());
}

/// The first `n` frames of the YUV4MPEG2 file `raw` (4:2:0) into `out`.
fn first_frames(raw: &Path, out: &Path, n: usize) {
    let bytes = std::fs::read(raw).expect("y4m");
    let header_end = bytes.iter().position(|&b| b == b'\n').expect("header") + 1;
    let header = std::str::from_utf8(&bytes[..header_end]).expect("header text");
    let dim = |key: char| -> usize {
        header
            .split_whitespace()
            .find_map(|f| f.strip_prefix(key).and_then(|v| v.parse().ok()))
            .expect("dimension")
    };
    let (w, h) = (dim('W'), dim('H'));
    let frame = b"FRAME\n".len() + w * h + 2 * w.div_ceil(2) * h.div_ceil(2);
    std::fs::write(out, &bytes[..header_end + n * frame]).expect("write y4m");
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|r| r.parse().ok())
        .unwrap_or(8);
    let assets = PathBuf::from(std::env::var_os("VIGIL_ASSETS").expect("set VIGIL_ASSETS"));
    let dir = tempfile::tempdir().expect("temporary folder");
    // One GOP of 48 frames: the frame 1.9 s in is its last, and both ways decode all 48.
    let raw = dir.path().join("all.y4m");
    vigil_ingest::rtsp_server::decode_y4m(&assets.join("footage/car-detection.mp4"), &raw)
        .expect("decodable footage");
    let gop = dir.path().join("gop.y4m");
    first_frames(&raw, &gop, 48);
    let clip = dir.path().join("gop.mp4");
    let made = Command::new("gst-launch-1.0")
        .arg("-q")
        .arg("filesrc")
        .arg(format!("location={}", gop.display()))
        .args(
            "! y4mdec ! videoconvertscale ! video/x-raw,width=1920,height=1080,format=I420 \
             ! capssetter caps=video/x-raw,framerate=25/1 \
             ! x265enc speed-preset=ultrafast bitrate=2600 key-int-max=50 \
             ! h265parse ! mp4mux faststart=true ! filesink"
                .split_whitespace(),
        )
        .arg(format!("location={}", clip.display()))
        .status()
        .expect("gst-launch-1.0");
    assert!(made.success(), "cannot encode the clip");
    let at = Duration::from_millis(1900);
    let (mut new_cpu, mut new_wall, mut old_cpu, mut old_wall) = (vec![], vec![], vec![], vec![]);
    for round in 0..=rounds {
        let (c, t) = (cpu(), Instant::now());
        vigil_evidence::snapshot::frame_at(&clip, at).expect("snapshot");
        let (nc, nw) = (
            (cpu() - c).as_secs_f64() * 1e3,
            t.elapsed().as_secs_f64() * 1e3,
        );
        let (cc, t) = (children_cpu(), Instant::now());
        every_frame_rgb(&clip);
        let (oc, ow) = (
            (children_cpu() - cc).as_secs_f64() * 1e3,
            t.elapsed().as_secs_f64() * 1e3,
        );
        if round > 0 {
            // Round 0 warms the caches and loads the plugins.
            new_cpu.push(nc);
            new_wall.push(nw);
            old_cpu.push(oc);
            old_wall.push(ow);
        }
    }
    println!("snapshot 1.9 s into a 1080p H.265 GOP, median of {rounds} rounds (in turn):");
    println!(
        "  every frame converted to RGB: {:.0} ms CPU, {:.0} ms wall (a gst-launch-1.0 child)",
        median(old_cpu),
        median(old_wall)
    );
    println!(
        "  frame_at (the kept frame converted): {:.0} ms CPU, {:.0} ms wall",
        median(new_cpu),
        median(new_wall)
    );
}
