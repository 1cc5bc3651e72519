//! How many frames a cost bench times, and the percentiles it prints (shared with the
//! falling-object stage's bench, `cargo bench -p vigil-falling`).

/// Frames per case: `FRAMES` from the environment, else `default`.
pub fn frames(default: usize) -> usize {
    std::env::var("FRAMES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The median and 90th percentile of `times` (sorted in place).
pub fn p50_p90(times: &mut [f64]) -> (f64, f64) {
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], times[times.len() * 9 / 10])
}
