//! Measures what evidence costs on a real clip: ring memory for a pre-roll, and how long a clip
//! takes to write once its last access unit has arrived (the latency after `end + post_roll`).
//!
//!   VIGIL_ASSETS=../shared cargo run --release -p vigil-evidence --example evidence_costs [CLIP]

use std::path::PathBuf;
use std::time::{Duration, Instant};
use vigil_evidence::{EncodedRing, RingLimits, write_mp4};

fn main() {
    let clip = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(
                std::env::var_os("VIGIL_ASSETS").expect("set VIGIL_ASSETS or pass a clip"),
            )
            .join("footage/car-detection.mp4")
        });
    let units = vigil_ingest::transcode::encoded_units(&clip).expect("readable clip");
    let span = units.last().unwrap().pts.unwrap() - units[0].pts.unwrap();
    let bytes: usize = units.iter().map(|u| u.data.len()).sum();
    println!(
        "{}: {} access units, {:.1} s, {:.0} kbit/s",
        clip.display(),
        units.len(),
        span.as_secs_f64(),
        bytes as f64 * 8.0 / span.as_secs_f64() / 1000.0
    );

    for pre in [5u64, 10] {
        let mut ring = EncodedRing::new(RingLimits {
            pre_roll: Duration::from_secs(pre),
            max_bytes: usize::MAX,
        });
        let mut peak = 0;
        for u in &units {
            ring.push(u.clone());
            peak = peak.max(ring.bytes());
        }
        println!(
            "ring with {pre} s pre-roll: peak {:.2} MB of access units ({:.1} s held at the end)",
            peak as f64 / 1e6,
            ring.span().as_secs_f64()
        );
    }

    // A 15 s clip (10 s pre-roll + 5 s post-roll): time from having its last unit to the
    // renamed file. Median of 7.
    let dir = std::env::temp_dir().join(format!("vigil-evidence-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let start = Duration::from_secs(5);
    let clip_units: Vec<_> = {
        let mut ring = EncodedRing::new(RingLimits {
            pre_roll: Duration::from_secs(60),
            max_bytes: usize::MAX,
        });
        units
            .iter()
            .filter(|u| u.pts.unwrap() <= start + Duration::from_secs(15))
            .for_each(|u| ring.push(u.clone()));
        ring.since(start)
    };
    let mut times: Vec<Duration> = (0..7)
        .map(|i| {
            let t = Instant::now();
            let info = write_mp4(&clip_units, &dir.join(format!("{i}.mp4"))).unwrap();
            assert!(info.duration > Duration::from_secs(14));
            t.elapsed()
        })
        .collect();
    times.sort();
    println!(
        "writing a {:.1} s clip ({} units): median {:.1} ms (min {:.1}, max {:.1})",
        clip_units
            .last()
            .unwrap()
            .pts
            .unwrap()
            .saturating_sub(clip_units[0].pts.unwrap())
            .as_secs_f64(),
        clip_units.len(),
        times[3].as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3,
        times[6].as_secs_f64() * 1e3
    );
    let _ = std::fs::remove_dir_all(&dir);
}
