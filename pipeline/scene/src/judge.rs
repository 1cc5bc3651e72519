//! Whether a region that has stood still is a new object, or the background under other light,
//! or the ghost of something that left — and whether an object that stopped matching its look
//! is still there under other light.

use super::grid::cell_bounds;
use super::*;

impl Scene {
    /// Whether a static region is a new object, the background under other light, or a ghost.
    pub(super) fn judge(&self, region: &[u32]) -> Judgement {
        let grid = self.grid.expect("initialised");
        let (x1, y1, x2, y2) = cell_bounds(region, grid.w);
        let (x1, y1) = (x1.saturating_sub(2), y1.saturating_sub(2));
        let (x2, y2) = ((x2 + 2).min(grid.w - 1), (y2 + 2).min(grid.h - 1));
        // Normalised correlation of the frame's luma with the background's over the box, and
        // how far their chromaticities are apart inside the region.
        let (mut n, mut sa, mut sb, mut saa, mut sbb, mut sab) =
            (0f64, 0f64, 0f64, 0f64, 0f64, 0f64);
        for y in y1..=y2 {
            for x in x1..=x2 {
                let i = (y * grid.w + x) as usize;
                let a = f64::from(luma(self.cur[i]));
                let b = f64::from(luma(self.long[i]) * self.gain);
                n += 1.0;
                sa += a;
                sb += b;
                saa += a * a;
                sbb += b * b;
                sab += a * b;
            }
        }
        let va = (saa / n - (sa / n).powi(2)).max(0.0);
        let vb = (sbb / n - (sb / n).powi(2)).max(0.0);
        let ncc = if va > 1e-6 && vb > 1e-6 {
            (sab / n - sa / n * sb / n) / (va * vb).sqrt()
        } else {
            0.0
        };
        let chroma = |c: [f32; 3]| {
            let s = c[0] + c[1] + c[2] + 6.0;
            [(c[0] + 2.0) / s, (c[1] + 2.0) / s]
        };
        let mut dchroma = 0.0;
        for &i in region {
            let (a, b) = (chroma(self.cur[i as usize]), chroma(self.long[i as usize]));
            dchroma += f64::from((a[0] - b[0]).abs() + (a[1] - b[1]).abs());
        }
        dchroma /= region.len() as f64;
        let (sd_a, sd_b) = (va.sqrt(), vb.sqrt());
        if dchroma < 0.03 && ((ncc >= 0.7 && sd_b >= 2.0) || (sd_a < 2.0 && sd_b < 2.0)) {
            return Judgement::Lighting;
        }
        // Edges along the region's outline: an object brings its own; a ghost's are in the
        // background only.
        let (mut e_cur, mut e_bg, mut touches_object) = (0f64, 0f64, false);
        let inside = |x: i64, y: i64| {
            x >= 0
                && y >= 0
                && x < i64::from(grid.w)
                && y < i64::from(grid.h)
                && region
                    .binary_search(&((y * i64::from(grid.w) + x) as u32))
                    .is_ok()
        };
        for &i in region {
            let (x, y) = (i64::from(i % grid.w), i64::from(i / grid.w));
            for (dx, dy) in [(1, 0), (-1, 0), (0, 1), (0, -1)] {
                let (nx, ny) = (x + dx, y + dy);
                if inside(nx, ny)
                    || nx < 0
                    || ny < 0
                    || nx >= i64::from(grid.w)
                    || ny >= i64::from(grid.h)
                {
                    continue;
                }
                let j = (ny * i64::from(grid.w) + nx) as usize;
                // Where it borders an object found already, the two are one thing (the rest
                // of a car whose cells settled later): that is no outline.
                if self.owner[j] != 0 {
                    touches_object = true;
                    continue;
                }
                let i = i as usize;
                e_cur += f64::from((luma(self.cur[i]) - luma(self.cur[j])).abs());
                e_bg += f64::from((luma(self.long[i]) - luma(self.long[j])).abs() * self.gain);
            }
        }
        // (Not for the rest of an object already found: a ghost is where something left,
        // and this one stands.)
        if !touches_object && e_bg > 2.0 * e_cur && e_bg > 0.0 {
            return Judgement::Ghost;
        }
        // A change without an edge of its own anywhere is light (a lamp's pool, a patch of sun
        // on plain asphalt, where there is no texture to correlate).
        if let Some(change) = self.soft(region) {
            return Judgement::Light(change);
        }
        if self.relit_ground(region) {
            return Judgement::Lighting;
        }
        Judgement::Object
    }
}

/// A change whose steepest steps (between neighbouring cells, in the ratio of frame to
/// background) are under this share of how far the ratio is from 1 has no edge of its own.
const SOFT_EDGE: f64 = 0.3;

/// The least variance (grey levels²) of the background over a region's box for a gain and
/// offset to be fitted to it.
const TEXTURE_VAR: f64 = 25.0;

/// Cells of a change learned as light that began to differ more than this long before most of
/// it are not the light's.
const LIGHT_ONSET_SECS: f64 = 5.0;

/// How far (as a share) an object's change of light since its template may be from its
/// surroundings' for it to count as the same object relit.
const RELIT_MATCH: f32 = 0.15;

/// The sensor noise (grey levels) that widens [`RELIT_MATCH`] for dark channels.
const RELIT_NOISE: f32 = 4.0;

/// Per channel, the ratio of `a` to `b` (offset so that black does not divide by zero).
fn ratios(a: [f32; 3], b: [f32; 3]) -> [f32; 3] {
    [0, 1, 2].map(|c| (a[c] + 4.0) / (b[c] + 4.0))
}

/// The median of each channel.
fn medians(v: &mut [[f32; 3]]) -> [f32; 3] {
    let mid = v.len() / 2;
    [0, 1, 2].map(|c| {
        let mut col: Vec<f32> = v.iter().map(|r| r[c]).collect();
        *col.select_nth_unstable_by(mid, f32::total_cmp).1
    })
}

/// How far (in cells) from an object its unfound rest may lie.
pub(super) const NEAR_CELLS: i64 = 2;

/// The share of a change's neighbour pairs that make its steepest steps.
const STEEPEST: f64 = 0.02;

impl Scene {
    /// Whether object `index`, no longer matching its template, is still there under other
    /// light: since its template was taken it changed by about the factor the ground around it
    /// changed (a cloud's shadow drifting over, a lamp), and its cells do not show the ground
    /// (it was not taken away).
    pub(super) fn relit(&self, index: usize, pts: f64) -> bool {
        let o = &self.objects[index];
        let k = self.gain / o.template_gain;
        let visible = |c: usize| self.excluded_until[c] < pts;
        let (mut own, mut was, mut ground_like) = (Vec::new(), Vec::new(), 0usize);
        for (t, &cell) in o.template.iter().zip(&o.cells) {
            let cell = cell as usize;
            if visible(cell) {
                own.push(ratios(self.cur[cell], scaled(*t, k)));
                was.push(scaled(*t, k));
                let long = scaled(self.long[cell], self.gain);
                ground_like += usize::from(!differs(self.cur[cell], long, self.threshold));
            }
        }
        let Some(ring) = self.ring_light(&o.cells, pts) else {
            return false;
        };
        if own.len() * 10 < o.cells.len() * 3 || ground_like * 2 >= own.len() {
            return false;
        }
        let own = medians(&mut own);
        let was = medians(&mut was);
        // A dark channel's ratio is uncertain by the sensor's noise over its level (an e-bike's
        // dark paint at dusk).
        (0..3).all(|c| {
            let tolerance = RELIT_MATCH + RELIT_NOISE / (was[c] + 4.0);
            (own[c] / (ring[c] / o.ring_light[c]) - 1.0).abs() < tolerance
        })
    }

    /// How the ground around `cells` (two cells out, no object's, not hidden, not moving) is
    /// lit against the background, per channel: the median ratio of frame to background there;
    /// none with under four such cells.
    pub(super) fn ring_light(&self, cells: &[u32], pts: f64) -> Option<[f32; 3]> {
        let grid = self.grid.expect("initialised");
        let (w, h) = (i64::from(grid.w), i64::from(grid.h));
        let mut ring = Vec::new();
        for &cell in cells {
            let (x, y) = (i64::from(cell) % w, i64::from(cell) / w);
            for (dx, dy) in [(2, 0), (-2, 0), (0, 2), (0, -2)] {
                let (nx, ny) = (x + dx, y + dy);
                if nx < 0 || ny < 0 || nx >= w || ny >= h {
                    continue;
                }
                let n = (ny * w + nx) as usize;
                if self.owner[n] == 0 && self.excluded_until[n] < pts && !self.fg_short[n] {
                    ring.push(ratios(self.cur[n], scaled(self.long[n], self.gain)));
                }
            }
        }
        (ring.len() >= 4).then(|| medians(&mut ring))
    }

    /// Whether the frame around and over `region` is the background under other light and
    /// haze: per channel, the still frame (short-term model) is an affine function of the
    /// background (gain and offset: a coloured lamp, dusk, the veil of rain) fitted over the
    /// region's box and three cells around it, and what the fit leaves over the region is
    /// small against how much the region differs. Needs a background with texture in the box
    /// (markings, joints) to fit; an object does not follow the ground's texture.
    fn relit_ground(&self, region: &[u32]) -> bool {
        let grid = self.grid.expect("initialised");
        let (x1, y1, x2, y2) = cell_bounds(region, grid.w);
        let (x1, y1) = (x1.saturating_sub(3), y1.saturating_sub(3));
        let (x2, y2) = ((x2 + 3).min(grid.w - 1), (y2 + 3).min(grid.h - 1));
        let (mut residual, mut deviation) = (0f64, 0f64);
        for c in 0..3 {
            // Least squares of short on long over the box (objects' cells left out).
            let (mut n, mut sx, mut sy, mut sxx, mut sxy) = (0f64, 0f64, 0f64, 0f64, 0f64);
            for y in y1..=y2 {
                for x in x1..=x2 {
                    let i = (y * grid.w + x) as usize;
                    if self.owner[i] != 0 {
                        continue;
                    }
                    let (bx, fy) = (
                        f64::from(self.long[i][c] * self.gain),
                        f64::from(self.short[i][c]),
                    );
                    n += 1.0;
                    sx += bx;
                    sy += fy;
                    sxx += bx * bx;
                    sxy += bx * fy;
                }
            }
            let var = sxx / n.max(1.0) - (sx / n.max(1.0)).powi(2);
            if n < 9.0 || var < TEXTURE_VAR {
                return false;
            }
            let a = (sxy / n - sx / n * sy / n) / var;
            let b = sy / n - a * sx / n;
            if !(0.1..=10.0).contains(&a) {
                return false;
            }
            for &i in region {
                let i = i as usize;
                let (bx, fy) = (
                    f64::from(self.long[i][c] * self.gain),
                    f64::from(self.short[i][c]),
                );
                residual += (fy - (a * bx + b)).powi(2);
                deviation += (fy - bx).powi(2);
            }
        }
        residual < (SOFT_EDGE * SOFT_EDGE) * deviation
    }

    /// Whether the change a static region belongs to (every cell that differs from the
    /// background and touches it) fades out instead of ending at an edge: its steepest steps
    /// in the ratio of frame to background between neighbouring cells are small against how
    /// far that ratio is from 1. An object ends at its outline (a step of about its contrast within a
    /// cell or two) however plain it and the ground are; a lamp's pool or a patch of sun fades
    /// over many cells.
    fn soft(&self, region: &[u32]) -> Option<Vec<u32>> {
        let grid = self.grid.expect("initialised");
        let (w, h) = (grid.w as i64, grid.h as i64);
        // The frame over the background, per cell and channel: light multiplies each channel,
        // so under a lamp (of any colour) this is smooth however much the ground's markings
        // step.
        // The short-term model stands for the frame: the region is still, and rain or noise
        // passing over it would make steps of their own.
        let ratio = |i: usize| -> [f64; 3] {
            let (a, b) = (self.short[i], self.long[i]);
            [0, 1, 2].map(|c| f64::from((a[c] + 4.0) / (b[c] * self.gain + 4.0)))
        };
        let apart =
            |a: [f64; 3], b: [f64; 3]| (0..3).map(|c| (a[c] - b[c]).abs()).fold(0.0, f64::max);
        // Cells that differed well before most of the region began to are not the light's (an
        // e-bike standing where a lamp's pool came on): their edges are not the change's, and
        // they are not learned with it. Nor are the edges of cells beside an object: there the
        // rest of the object may lie (found in pieces, its other parts not yet static, or only
        // now different from the ground the light changed).
        let onset = self.onset(region);
        let old = |i: usize| self.fg_since[i] < onset - LIGHT_ONSET_SECS;
        let counted = |i: usize| self.owner[i] == 0 && !old(i) && !self.near_object(i as u32);
        // The region's own steps (inside it and across its outline) against how far its ratio
        // is from 1.
        let mut steps = Vec::with_capacity(region.len() * 4);
        let mut diffs = Vec::with_capacity(region.len());
        for &i in region {
            if !counted(i as usize) {
                continue;
            }
            let i = i64::from(i);
            let d = ratio(i as usize);
            diffs.push(apart(d, [1.0; 3]));
            for (dx, dy) in [(1, 0), (-1, 0), (0, 1), (0, -1)] {
                let (nx, ny) = (i % w + dx, i / w + dy);
                if nx < 0 || ny < 0 || nx >= w || ny >= h {
                    continue;
                }
                let n = (ny * w + nx) as usize;
                if counted(n) {
                    steps.push(apart(d, ratio(n)));
                }
            }
        }
        if steps.is_empty() {
            return None;
        }
        let top = ((steps.len() as f64 * STEEPEST).ceil() as usize).clamp(1, steps.len());
        let cut = steps.len() - top;
        steps.select_nth_unstable_by(cut, f64::total_cmp);
        let steep = steps[cut..].iter().sum::<f64>() / top as f64;
        let mid = (diffs.len() * 9 / 10).min(diffs.len() - 1);
        diffs.select_nth_unstable_by(mid, f64::total_cmp);
        if steep >= SOFT_EDGE * diffs[mid] {
            return None;
        }
        // Beside an object, a cell is the light's when it is lit as the light's cells around it
        // are (no edge of its own against them); else it is left for the object.
        let lit_like_around = |i: u32| {
            let (x, y) = (i64::from(i) % w, i64::from(i) / w);
            let mut around: Vec<[f32; 3]> = Vec::new();
            for dy in -NEAR_CELLS - 1..=NEAR_CELLS + 1 {
                for dx in -NEAR_CELLS - 1..=NEAR_CELLS + 1 {
                    let (nx, ny) = (x + dx, y + dy);
                    if nx >= 0 && ny >= 0 && nx < w && ny < h {
                        let n = (ny * w + nx) as usize;
                        if self.fg_long[n] && counted(n) {
                            around.push(ratio(n).map(|v| v as f32));
                        }
                    }
                }
            }
            if around.len() < 4 {
                return false;
            }
            let m = medians(&mut around).map(f64::from);
            apart(ratio(i as usize), m) < SOFT_EDGE * diffs[mid]
        };
        let mut seen = vec![false; grid.len()];
        for &i in region {
            seen[i as usize] = true;
        }
        let change = grid.grow(region.to_vec(), false, &mut seen, |n| {
            self.fg_long[n] && self.owner[n] == 0
        });
        // Light: the region, and the rest of its change, but for what differed well before and
        // what beside an object is not lit like it.
        Some(
            change
                .into_iter()
                .filter(|&i| !old(i as usize) && (!self.near_object(i) || lit_like_around(i)))
                .collect(),
        )
    }

    /// Whether cell `i` lies within [`NEAR_CELLS`] of an object's cell.
    fn near_object(&self, i: u32) -> bool {
        self.touching(&[i], NEAR_CELLS, |_| true).is_some()
    }

    /// When most of `region` began to differ from the background: the median of its cells'
    /// starts (none known: never).
    fn onset(&self, region: &[u32]) -> f64 {
        let mut began: Vec<f64> = region
            .iter()
            .map(|&i| self.fg_since[i as usize])
            .filter(|t| t.is_finite())
            .collect();
        match began.len() {
            0 => f64::NEG_INFINITY,
            n => *began.select_nth_unstable_by(n / 2, f64::total_cmp).1,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Judgement {
    Object,
    Lighting,
    /// Light without edges of its own: every cell of the change (touching cells that differ
    /// from the background and are no object's).
    Light(Vec<u32>),
    Ghost,
}
