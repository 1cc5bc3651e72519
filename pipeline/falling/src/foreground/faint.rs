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
    /// Where each block's sum of differences goes, for [`super::coarse`] (none on a last odd row).
    pub sums: Option<&'a mut [f32]>,
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
    let mut sums = pair.sums;
    for (b, (u, l)) in blocks {
        let sum = u[0] + u[1] + l[0] + l[1];
        if let Some(sums) = sums.as_deref_mut() {
            sums[b] = sum;
        }
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
            && moved_edge(mean, frame, (x, y as usize - 1), faint, params.shift_radius)
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

/// Whether the block at `(x, y)` (its top-left pixel) matches, within `tolerance` grey levels, the
/// background's block `radius` pixels or fewer away.
fn moved_edge(
    mean: &[f32],
    frame: &GrayFrame<'_>,
    (x, y): (usize, usize),
    tolerance: f32,
    radius: u32,
) -> bool {
    let (w, h) = (frame.width as i64, frame.height as i64);
    let (top, bottom) = (frame.row(y as u32), frame.row(y as u32 + 1));
    let seen = (f32::from(top[x])
        + f32::from(top[x + 1])
        + f32::from(bottom[x])
        + f32::from(bottom[x + 1]))
        * 0.25;
    let r = i64::from(radius);
    for dy in -r..=r {
        for dx in -r..=r {
            let (nx, ny) = (x as i64 + dx, y as i64 + dy);
            if (dx == 0 && dy == 0) || nx < 0 || ny < 0 || nx + 1 >= w || ny + 1 >= h {
                continue;
            }
            let (i, j) = ((ny * w + nx) as usize, ((ny + 1) * w + nx) as usize);
            let b = (mean[i] + mean[i + 1] + mean[j] + mean[j + 1]) * 0.25;
            if (seen - b).abs() <= tolerance {
                return true;
            }
        }
    }
    false
}
