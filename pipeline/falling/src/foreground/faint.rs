//! Faint foreground: a small object a few grey levels off the sky or glass behind it, often
//! smeared along its path by the shutter, has no single pixel past `min_diff`, yet every pixel it
//! covers leans the same way. Averaging the signed difference over 2×2 blocks halves the noise;
//! a block whose mean is past `faint_diff` and `k_sigma` of that mean's noise is foreground where
//! its pixels lean its way — unless a block of the background a pixel or two away explains it (an
//! edge that moved).

use super::{ForegroundParams, GrayFrame};

/// The two rows of one block row, row `y - 1` first: signed differences from the background
/// (clamped to ±`min_diff`, 0 outside the zone), the per-pixel test's foreground, and where the faint pixels go.
pub(super) struct Pair<'a> {
    pub diff: &'a [Vec<f32>; 2],
    pub mask: &'a [Vec<u8>; 2],
    pub faint: &'a mut [Vec<u8>; 2],
    /// Where each block's sum of differences goes, for [`super::coarse`].
    pub sums: &'a mut [f32],
}

/// Marks the faint foreground of rows `y - 1` and `y` (`y` odd), pixels the per-pixel test did
/// not take, and returns how many it marked in each. `mean` and `var` are the background model (full frame).
pub(super) fn mark(
    params: &ForegroundParams,
    (mean, var): (&[f32], &[f32]),
    frame: &GrayFrame<'_>,
    y: u32,
    pair: Pair<'_>,
) -> [u32; 2] {
    debug_assert!(y % 2 == 1 && params.faint_diff > 0.0);
    let mut added = [0u32; 2];
    let faint = params.faint_diff;
    let w = frame.width as usize;
    let k2 = params.k_sigma * params.k_sigma;
    let (up, down) = (&pair.diff[0], &pair.diff[1]);
    let base = (y as usize - 1) * w;
    let limit = 4.0 * faint;
    // The differences come clamped to ±`min_diff`: one hot pixel is not a block's worth of
    // object. Most blocks fail at the sum, so the rest of the test runs on few.
    let blocks = up.chunks_exact(2).zip(down.chunks_exact(2)).enumerate();
    for (b, (u, l)) in blocks {
        let sum = u[0] + u[1] + l[0] + l[1];
        pair.sums[b] = sum;
        if sum.abs() <= limit {
            continue;
        }
        let (x, m, d) = (2 * b, sum * 0.25, [u[0], u[1], l[0], l[1]]);
        let (i, j) = (base + x, base + w + x);
        let v = (var[i] + var[i + 1] + var[j] + var[j + 1]) * 0.25;
        // The mean of 4 pixels has σ²/4 of noise where they are independent; sensor demosaicing
        // and compression correlate neighbours, so twice that.
        if m * m <= k2 * v * 0.5 {
            continue;
        }
        if params.shift_radius > 0
            && moved_edge(
                mean,
                frame,
                (x, y as usize - 1, 2),
                faint,
                params.shift_radius,
            )
        {
            continue;
        }
        for (r, row) in d.chunks_exact(2).enumerate() {
            for (k, &dv) in row.iter().enumerate() {
                if dv * m > 0.0 && pair.mask[r][x + k] == 0 {
                    pair.faint[r][x + k] = 1;
                    added[r] += 1;
                }
            }
        }
    }
    added
}

/// Whether the `n`×`n` window at `(x, y)` (its top-left pixel) matches, within `tolerance` grey
/// levels, the background's window `radius` pixels or fewer away: an edge that moved.
pub(super) fn moved_edge(
    mean: &[f32],
    frame: &GrayFrame<'_>,
    (x, y, n): (usize, usize, usize),
    tolerance: f32,
    radius: u32,
) -> bool {
    let (w, h) = (frame.width as i64, frame.height as i64);
    let seen = mean_of((x, y, n), |c, r| f32::from(frame.row(r as u32)[c]));
    let background = |c: usize, r: usize| mean[r * w as usize + c];
    let r = i64::from(radius);
    for dy in -r..=r {
        for dx in -r..=r {
            let (nx, ny) = (x as i64 + dx, y as i64 + dy);
            let inside = nx >= 0 && ny >= 0 && nx + n as i64 <= w && ny + n as i64 <= h;
            if (dx == 0 && dy == 0) || !inside {
                continue;
            }
            if (seen - mean_of((nx as usize, ny as usize, n), background)).abs() <= tolerance {
                return true;
            }
        }
    }
    false
}

/// The mean of `value` over the `n`×`n` window at `(x, y)`, summed row by row.
fn mean_of((x, y, n): (usize, usize, usize), value: impl Fn(usize, usize) -> f32) -> f32 {
    let mut sum = 0.0;
    for r in y..y + n {
        for c in x..x + n {
            sum += value(c, r);
        }
    }
    sum / (n * n) as f32
}
