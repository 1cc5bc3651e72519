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
    // object. Every block's sum first (for [`surroundings`] and [`super::coarse`]); most blocks
    // fail at the sum, so the rest of the test runs on few.
    let blocks = up.chunks_exact(2).zip(down.chunks_exact(2));
    for (s, (u, l)) in pair.sums.iter_mut().zip(blocks.clone()) {
        *s = u[0] + u[1] + l[0] + l[1];
    }
    let sums = &*pair.sums;
    for (b, ((u, l), &sum)) in blocks.zip(sums).enumerate() {
        if sum.abs() <= limit {
            continue;
        }
        // Judged against the sky about it where that leans its way: a flare's shimmer or an
        // exposure ramp too small to follow moves every block of it alike. Only what its
        // surroundings explain is taken away; nothing is added.
        let around = match surroundings(sums, b) {
            a if a * sum > 0.0 => a,
            _ => 0.0,
        };
        let m = sum * 0.25 - around;
        if m * sum <= 0.0 || (4.0 * m).abs() <= limit {
            continue;
        }
        let x = 2 * b;
        let d = [u[0], u[1], l[0], l[1]].map(|v| v - around);
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

/// The blocks this many blocks to either side of a block are its surroundings: past an
/// object of up to 8 pixels across, within 16 pixels of it.
const RING: std::ops::RangeInclusive<usize> = 4..=8;

/// The median difference per pixel of the blocks about block `b` of the block row (`sums`, its
/// blocks' sums of differences): [`RING`] to either side, where at least half of them lie inside
/// the frame; 0 elsewhere. A flare's shimmer, or an exposure ramp of a few grey
/// levels too small for the curve to follow ([`super::exposure`]), moves the sky by as much as a
/// faint object differs from it: judged against the background alone, the first frame of such a
/// ramp raised 147 faint blobs over a flared sky, and the clutter they made held faint objects
/// off for 30 frames (rendered spent seed 8647's throw 001, a 7.6 px object 7.8 grey levels
/// darker than the sky, never seen).
fn surroundings(sums: &[f32], b: usize) -> f32 {
    let mut ring = [0.0f32; 2 * 5];
    let mut n = 0;
    for off in RING {
        let sides = [b.checked_sub(off), Some(b + off)];
        for &sum in sides.into_iter().flatten().filter_map(|k| sums.get(k)) {
            ring[n] = sum;
            n += 1;
        }
    }
    if n < ring.len() / 2 {
        return 0.0;
    }
    let ring = &mut ring[..n];
    ring.sort_unstable_by(f32::total_cmp);
    ring[n / 2] * 0.25
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

#[cfg(test)]
mod tests {
    use super::super::tests::{frame, noise};
    use super::super::{Foreground, ForegroundParams};

    /// A flat sky with noise (σ about 2.3), `shift` grey levels added over its left two fifths:
    /// a flare's shimmer, too small a part of the picture for the exposure curve to follow.
    fn sky(w: u32, h: u32, t: u32, shift: i32) -> Vec<u8> {
        (0..w * h)
            .map(|i| {
                let moved = if i % w < 2 * w / 5 { shift } else { 0 };
                (150 + noise(i, t) + moved) as u8
            })
            .collect()
    }

    #[test]
    fn a_shift_of_part_of_the_sky_raises_no_faint_blobs_and_holds_no_faint_object_off() {
        let (w, h) = (160, 120);
        let mut fg = Foreground::new(ForegroundParams::default(), w, h, &[]);
        for t in 0..30 {
            fg.process(&frame(w, h, &sky(w, h, t, 0)));
        }
        let out = fg.process(&frame(w, h, &sky(w, h, 30, -6)));
        assert!(!out.exposure_moved && !out.guarded, "{out:?}");
        assert!(out.blobs.is_empty(), "the shifted sky: {:?}", out.blobs);
        // The frame after, a faint object: 4×4 pixels 10 grey levels brighter than the sky.
        let mut img = sky(w, h, 31, 0);
        for y in 40..44 {
            for x in 110..114 {
                img[(y * w + x) as usize] += 10;
            }
        }
        let out = fg.process(&frame(w, h, &img));
        assert_eq!(out.blobs.len(), 1, "{:?}", out.blobs);
        let b = &out.blobs[0];
        assert_eq!((b.x0, b.y0, b.x1, b.y1), (110, 40, 114, 44), "{b:?}");
    }
}
