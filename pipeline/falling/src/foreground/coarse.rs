//! Coarse faint foreground: a fast small object at night is smeared by the shutter along its
//! path, so that each pixel it crosses sees it for a fraction of the exposure. A 7 px object
//! 20 grey levels off the night sky, moving 20–70 px a frame, leaves a streak 4–9 levels off it
//! under noise of 5: no pixel, nor any 2×2 block ([`super::faint`]), stands out, yet every pixel
//! of the streak leans the same way (rendered development seed 1's throw 039: nothing seen).
//! Averaging over 4×4 and 8×8 windows cuts the noise 2 and 4 times more than a block does; a
//! window past its share of `faint_diff` and `k_sigma` of its mean's noise marks its blocks that
//! lean its way, unless the background a pixel or two away explains it (an edge that moved).
//! Its blobs stand where the finer tests found nothing or only fragments, and not beside the
//! edge of what is watched (its blocks may stop short of it). Rain streaks and
//! swaying leaves at night are as faint: while frames hold more than [`CROWD`] such blobs, none
//! is a candidate, and the windows are looked at again once that many have decayed away.

use super::blobs::{Run, group, overlaps, push_runs};
use super::faint::moved_edge;
use super::{Blob, ForegroundFrame, ForegroundParams, GrayFrame};

/// Per window size (pixels a side), the share of `faint_diff` its mean must pass, and how much
/// more its mean's noise is than independent pixels' (`σ² / n`): neighbouring pixels share
/// noise through demosaicing and compression, over wider windows more.
const WINDOWS: [Window; 2] = [(4, 0.7, 2.0), (8, 0.5, 4.0)];

/// A window's side in pixels, its share of `faint_diff`, and its noise's excess ([`WINDOWS`]).
type Window = (usize, f32, f32);

/// Coarse blobs a frame may hold and count, a peak that decays by [`DECAY`] a frame (a downpour
/// at night draws 7–30 over a 720p frame: rendered development seed 1's throws 036 and 039).
const CROWD: f32 = 3.0;
const DECAY: f32 = 0.9;

/// The block sums of one frame (2×2 pixels, the clamped signed differences from the
/// background), and the windows over them.
pub(super) struct Coarse {
    /// Blocks across and down.
    w2: usize,
    h2: usize,
    sums: Vec<f32>,
    /// The 4×4-pixel window sums (2×2 blocks) at each block.
    quad: Vec<f32>,
    /// Blocks marked by a window, and the block rows that hold any.
    mask: Vec<u8>,
    marked: Vec<bool>,
    /// One block row's 8×8-pixel window sums.
    eights: Vec<f32>,
    runs: Vec<Run>,
    /// The decaying peak of coarse blobs a frame.
    crowd: f32,
}

impl Coarse {
    pub(super) fn new(width: u32, height: u32) -> Self {
        let (w2, h2) = (width as usize / 2, height as usize / 2);
        Self {
            w2,
            h2,
            sums: vec![0.0; w2 * h2],
            quad: vec![0.0; w2 * h2],
            mask: vec![0; w2 * h2],
            marked: vec![false; h2],
            eights: vec![0.0; w2 / 2],
            runs: Vec::new(),
            crowd: 0.0,
        }
    }

    /// Block row `by`'s sums, for [`super::faint::mark`] to write.
    pub(super) fn row(&mut self, by: usize) -> &mut [f32] {
        &mut self.sums[by * self.w2..(by + 1) * self.w2]
    }

    /// Whether this frame's windows are looked at: the crowd decays by at most [`DECAY`].
    pub(super) fn on(&self) -> bool {
        self.crowd * DECAY <= CROWD
    }

    /// Counts this frame's coarse blobs into the crowd, and returns them while it is no larger
    /// than [`CROWD`].
    pub(super) fn find(
        &mut self,
        params: &ForegroundParams,
        model: (&[f32], &[f32]),
        frame: &GrayFrame<'_>,
        parent: &mut Vec<u32>,
    ) -> Vec<Blob> {
        let blobs = self.windows(params, model, frame, parent);
        self.crowd = (blobs.len() as f32).max(self.crowd * DECAY);
        match self.crowd <= CROWD {
            true => blobs,
            false => Vec::new(),
        }
    }

    /// The blobs of this frame's windows, in pixels, with no strong pixel; `mean` and `var` are
    /// the background model (full frame), `frame` the frame the sums came from.
    fn windows(
        &mut self,
        params: &ForegroundParams,
        (mean, var): (&[f32], &[f32]),
        frame: &GrayFrame<'_>,
        parent: &mut Vec<u32>,
    ) -> Vec<Blob> {
        let (w2, h2) = (self.w2, self.h2);
        // Only rows a window marked last frame hold marks.
        for (row, marked) in self.mask.chunks_exact_mut(w2).zip(&mut self.marked) {
            if std::mem::take(marked) {
                row.fill(0);
            }
        }
        if w2 < 4 || h2 < 4 {
            return Vec::new();
        }
        let model = Model {
            params,
            mean,
            var,
            frame,
        };
        // 4×4 windows at every block, 8×8 windows (2×2 quads) at every other. Most rows hold
        // none past the limit: each row is summed whole, and looked into only where one is.
        let [four, eight] = WINDOWS;
        let limit = |(n, share, _): Window| (n * n) as f32 * share * params.faint_diff;
        let limit4 = limit(four);
        let past = |row: &[f32], limit: f32| row.iter().fold(false, |a, q| a | (q.abs() > limit));
        for by in 0..h2 - 1 {
            let (top, bottom) = self.sums[by * w2..(by + 2) * w2].split_at(w2);
            let quad = &mut self.quad[by * w2..(by + 1) * w2 - 1];
            let pairs = top
                .iter()
                .zip(&top[1..])
                .zip(bottom.iter().zip(&bottom[1..]));
            for (q, ((a, b), (c, d))) in quad.iter_mut().zip(pairs) {
                *q = a + b + c + d;
            }
            if !past(quad, limit4) {
                continue;
            }
            for bx in 0..w2 - 1 {
                let s = self.quad[by * w2 + bx];
                if s.abs() > limit4 && model.passes((bx, by), four, s) {
                    self.mark((bx, by), 2, s);
                }
            }
        }
        let limit8 = limit(eight);
        for by in (0..h2 - 3).step_by(2) {
            let (top, bottom) = (&self.quad[by * w2..], &self.quad[(by + 2) * w2..]);
            let eights = &mut self.eights[..(w2 - 2) / 2];
            for (k, e) in eights.iter_mut().enumerate() {
                let bx = 2 * k;
                *e = top[bx] + top[bx + 2] + bottom[bx] + bottom[bx + 2];
            }
            if !past(eights, limit8) {
                continue;
            }
            for k in 0..eights.len() {
                let s = self.eights[k];
                if s.abs() > limit8 && model.passes((2 * k, by), eight, s) {
                    self.mark((2 * k, by), 4, s);
                }
            }
        }
        self.runs.clear();
        let rows = self.mask.chunks_exact(w2).zip(&self.marked).enumerate();
        for (by, (row, _)) in rows.filter(|(_, (_, m))| **m) {
            // No pixel of theirs is strong: the count `push_runs` takes is set to none below.
            push_runs(&mut self.runs, row, row, by as u32);
        }
        let mut found = ForegroundFrame::default();
        let blocks = ForegroundParams {
            min_area: 1,
            max_area: params.max_area / 4,
            ..params.clone()
        };
        group(&self.runs, parent, &blocks, &mut found);
        found
            .blobs
            .into_iter()
            .map(|b| Blob {
                area: 4 * b.area,
                cx: 2.0 * b.cx,
                cy: 2.0 * b.cy,
                // In blocks of 2×2 pixels (a block's own spread, a unit square's, included).
                spread: b.spread.map(|v| 4.0 * v),
                x0: 2 * b.x0,
                y0: 2 * b.y0,
                x1: 2 * b.x1,
                y1: 2 * b.y1,
                strong: 0,
            })
            .filter(|b| b.area >= params.min_area)
            .collect()
    }

    /// Marks the blocks of the `side`-block window at `(bx, by)` that lean the way of its sum.
    fn mark(&mut self, (bx, by): (usize, usize), side: usize, sum: f32) {
        for y in by..by + side {
            self.marked[y] = true;
            let row = y * self.w2;
            for x in bx..bx + side {
                if self.sums[row + x] * sum > 0.0 {
                    self.mask[row + x] = 1;
                }
            }
        }
    }
}

/// What a window's test reads.
struct Model<'a> {
    params: &'a ForegroundParams,
    mean: &'a [f32],
    var: &'a [f32],
    frame: &'a GrayFrame<'a>,
}

impl Model<'_> {
    /// Whether the window at block `(bx, by)`, whose differences sum to `sum`, is past `k_sigma`
    /// of its mean's noise and no edge that moved.
    fn passes(&self, (bx, by): (usize, usize), (n, share, corr): Window, sum: f32) -> bool {
        let (x, y) = (2 * bx, 2 * by);
        let w = self.frame.width as usize;
        let pixels = (n * n) as f32;
        let v: f32 = (y..y + n)
            .map(|r| self.var[r * w + x..r * w + x + n].iter().sum::<f32>())
            .sum::<f32>()
            / pixels;
        let m = sum / pixels;
        let k2 = self.params.k_sigma * self.params.k_sigma;
        let noise2 = k2 * v * corr / pixels;
        // An edge that moved matches the background beside it within the window's noise.
        let tolerance = 0.5 * noise2.sqrt().max(share * self.params.faint_diff);
        let radius = self.params.shift_radius;
        m * m > noise2
            && !(radius > 0 && moved_edge(self.mean, self.frame, (x, y, n), tolerance, radius))
    }
}

/// Adds each of `coarse` where the finer tests found nothing: where they found the object, or
/// part of it, their blobs place it more finely.
pub(super) fn merge(blobs: &mut Vec<Blob>, coarse: Vec<Blob>) {
    for c in coarse {
        if !blobs.iter().any(|b| overlaps(b, &c)) {
            blobs.push(c);
        }
    }
}

/// `blob`'s box grown by a block each way.
pub(super) fn grown(blob: &Blob) -> Blob {
    Blob {
        x0: blob.x0.saturating_sub(2),
        y0: blob.y0.saturating_sub(2),
        x1: blob.x1 + 2,
        y1: blob.y1 + 2,
        ..blob.clone()
    }
}

#[cfg(test)]
mod tests;
