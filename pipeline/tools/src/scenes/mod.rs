//! Deterministic synthetic footage with its ground truth: the same spec renders the same bytes on
//! every machine.

pub mod bins;
pub use vigil_fallscene as falls;
pub mod lanes;

use std::sync::Arc;
use std::time::Duration;
use vigil_core::{BBoxPx, Image, PixelFormat, Size, Track, TrackId};

/// A rendered frame with the detector's view of it.
pub struct SynthFrame {
    pub pts: Duration,
    pub image: Image,
    pub tracks: Vec<Track>,
}

/// A well-mixed 64-bit hash of a key (for per-pixel and per-frame noise).
fn hash(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

/// Uniform in [-1, 1) from a key.
fn noise(key: u64) -> f64 {
    (hash(key) >> 11) as f64 / (1u64 << 52) as f64 - 1.0
}

/// The detector misses an object in about one frame in eight (deterministically).
fn frame_seen(seed: u64, object: usize, frame: u64) -> bool {
    !hash(seed ^ ((object as u64) << 40) ^ frame).is_multiple_of(8)
}

/// A confirmed track as a detector and tracker would report it.
fn track(id: u64, group: &str, class: &str, bbox: BBoxPx, first: f64) -> Track {
    Track {
        id: TrackId(id),
        group: Arc::from(group),
        class: Arc::from(class),
        score: 0.8,
        bbox_px: bbox,
        hits: 10,
        first_seen_pts: Duration::from_secs_f64(first.max(0.0)),
        matched: true,
    }
}

/// Frame `i` of a scene (`seed`) at `t` seconds: the drawn RGB values `px` of a `size` frame
/// with sensor noise of ±`grain` grey levels, quantised, and the tracks of that frame.
fn finish(
    px: &[f64],
    size: Size,
    (seed, i, t): (u64, u64, f64),
    grain: f64,
    tracks: Vec<Track>,
) -> SynthFrame {
    let frame_key = hash(seed.wrapping_add(i.wrapping_mul(0x9e37)));
    let bytes: Vec<u8> = px
        .iter()
        .enumerate()
        .map(|(j, &p)| {
            (p + grain * noise(frame_key ^ j as u64))
                .round()
                .clamp(0.0, 255.0) as u8
        })
        .collect();
    SynthFrame {
        pts: Duration::from_secs_f64(t),
        image: Image {
            size,
            stride: size.width as usize * 3,
            format: PixelFormat::Rgb8,
            data: Arc::new(bytes),
        },
        tracks,
    }
}
