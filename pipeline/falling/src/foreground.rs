//! Foreground at full frame rate: a per-pixel running Gaussian on luma (mean and variance, so
//! swaying vegetation and sensor noise raise their own thresholds), restricted to the rule's
//! zone, following the camera's exposure ([`exposure`]), with a global-change guard; faint
//! objects found over 2×2 blocks ([`faint`]); foreground pixels grouped into blobs (8-connected
//! runs).

mod blobs;
mod coarse;
mod exposure;
mod faint;
mod keyframe;
mod learn;
mod redraw;

use blobs::{Run, group, next_set, push_runs, take_out, within};
use learn::{Span, learn};

pub use vigil_spec::falling::ForegroundParams;

/// An 8-bit luma image (a decoded frame's Y plane, or GRAY8), rows `stride` bytes apart.
#[derive(Clone, Copy, Debug)]
pub struct GrayFrame<'a> {
    pub width: u32,
    pub height: u32,
    pub stride: usize,
    pub data: &'a [u8],
}

impl<'a> GrayFrame<'a> {
    /// Row `y`, exactly `width` bytes.
    pub fn row(&self, y: u32) -> &'a [u8] {
        let start = y as usize * self.stride;
        &self.data[start..start + self.width as usize]
    }
}

/// Smallest and largest per-pixel variance (grey levels²).
const VAR_MIN: f32 = 4.0;
const VAR_MAX: f32 = 1600.0;
const VAR_INIT: f32 = 36.0;
/// Frames of fast re-learning after a global change, and the rate multiplier meanwhile.
const FAST_FRAMES: u32 = 8;
const FAST_GAIN: f32 = 8.0;
/// Under foreground the mean learns at this share of the background's rate (something that
/// stays is taken in over 1 / (`learn_rate` · share) frames: 8 s at 25 fps)…
const FG_MEAN_SHARE: f32 = 0.25;
/// …and the variance at this share. Where a pixel stays `d` off the background, the variance
/// climbs by about rate · share · d² a frame, and the pixel stops standing out once it holds
/// `d`² / `k_sigma`²: after 1 / (`k_sigma`² · `learn_rate` · share) frames, whatever `d`. At the
/// mean's share that was 16 frames (0.65 s at 25 fps, with the defaults), and an object tossed
/// up hangs at its apex about that long: it was learnt there and its track split in two. At a
/// sixteenth it is 65 frames (2.6 s).
const FG_VAR_SHARE: f32 = 1.0 / 16.0;
/// Faint foreground counts only while frames hold at most this many blobs, strong and faint
/// (a peak that decays by `CLUTTER_DECAY` a frame: rain keeps it off for about half a second).
const FAINT_CROWD: f32 = 6.0;
const CLUTTER_DECAY: f32 = 0.9;

/// A connected group of foreground pixels.
#[derive(Clone, Debug, PartialEq)]
pub struct Blob {
    pub area: u32,
    /// Centroid in pixels (pixel centres at +0.5).
    pub cx: f64,
    pub cy: f64,
    /// Its pixels' variance about the centroid, px²: along x, the covariance of x and y, along
    /// y (each pixel a unit square).
    pub spread: [f64; 3],
    /// Bounding box, inclusive-exclusive pixel columns and rows.
    pub x0: u32,
    pub y0: u32,
    pub x1: u32,
    pub y1: u32,
    /// Its pixels that passed the per-pixel test; the rest are faint ([`faint`]).
    pub strong: u32,
}

/// What one frame gave.
#[derive(Clone, Debug, Default)]
pub struct ForegroundFrame {
    pub blobs: Vec<Blob>,
    pub fg_pixels: u64,
    /// Blobs dropped for size.
    pub too_small: u32,
    pub too_large: u32,
    /// Pixels of edges a keyframe drew anew, left out ([`redraw`]).
    pub redrawn: u64,
    /// A global change suppressed this frame's candidates.
    pub guarded: bool,
    /// The exposure moved this frame, and the background with it.
    pub exposure_moved: bool,
    /// Still learning the background.
    pub warming_up: bool,
}

/// The model for one camera at one processing size.
pub struct Foreground {
    params: ForegroundParams,
    width: u32,
    height: u32,
    /// Per row, the zone's `[x0, x1)` spans.
    spans: Vec<Vec<(u32, u32)>>,
    zone_pixels: u64,
    mean: Vec<f32>,
    var: Vec<f32>,
    frames: u64,
    fast_left: u32,
    /// Frames left in which edges drawn anew are taken out however few: the stream showed a
    /// keyframe's redraw lately ([`redraw::LATCH_FRAMES`]).
    redraw_left: u32,
    /// The signed difference from the background of the last two rows (even, odd), before
    /// learning, clamped to ±`min_diff`; 0 outside the zone.
    diff: [Vec<f32>; 2],
    /// The foreground mask of the last two rows, and how many pixels each holds.
    mask: [Vec<u8>; 2],
    row_count: [u32; 2],
    /// The faint foreground of the last two rows (with the strong, once its runs are taken).
    faint: [Vec<u8>; 2],
    /// Runs of the strong foreground, and of strong and faint together.
    runs: Vec<Run>,
    runs_all: Vec<Run>,
    /// This frame's foreground pixels that an edge drawn anew explains (row, column), in
    /// order, and runs kept while they are taken out.
    redrawn: Vec<(u32, u32)>,
    scratch_runs: Vec<Run>,
    /// The decaying peak of blobs a frame (strong and faint).
    clutter: f32,
    parent: Vec<u32>,
    coarse: coarse::Coarse,
    exposure: exposure::Exposure,
    keyframes: keyframe::Keyframes,
}

impl Foreground {
    /// `zone` is a polygon in normalised coordinates (`[0, 1]²`); empty means the whole frame.
    pub fn new(params: ForegroundParams, width: u32, height: u32, zone: &[(f64, f64)]) -> Self {
        let spans = zone_spans(width, height, zone);
        let zone_pixels = spans.iter().flatten().map(|(a, b)| u64::from(b - a)).sum();
        let n = width as usize * height as usize;
        Self {
            params,
            width,
            height,
            spans,
            zone_pixels,
            mean: vec![0.0; n],
            var: vec![VAR_INIT; n],
            frames: 0,
            fast_left: 0,
            redraw_left: 0,
            diff: [vec![0.0; width as usize], vec![0.0; width as usize]],
            mask: [vec![0; width as usize], vec![0; width as usize]],
            row_count: [0; 2],
            faint: [vec![0; width as usize], vec![0; width as usize]],
            runs_all: Vec::new(),
            redrawn: Vec::new(),
            scratch_runs: Vec::new(),
            clutter: 0.0,
            runs: Vec::new(),
            parent: Vec::new(),
            coarse: coarse::Coarse::new(width, height),
            exposure: exposure::Exposure::default(),
            keyframes: keyframe::Keyframes::default(),
        }
    }

    /// Which build of the per-pixel model this CPU runs: `"avx2"` (eight pixels a step) or
    /// `"portable"` (SSE2 on x86-64, four). Both learn the same model.
    pub fn model_build() -> &'static str {
        learn::build()
    }

    pub fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    pub fn zone_pixels(&self) -> u64 {
        self.zone_pixels
    }

    /// `blob` reaches the edge of what is watched — the frame's or the zone's: a pixel beside
    /// its bounding box lies outside. Part of the object may then be cut off, and its centroid
    /// is not the object's (an object entering the zone from above moves half as fast as it
    /// does while its visible part grows).
    pub fn cut_off(&self, blob: &Blob) -> bool {
        if blob.x0 == 0 || blob.y0 == 0 || blob.x1 >= self.width || blob.y1 >= self.height {
            return true;
        }
        let (left, right) = (blob.x0 - 1, blob.x1 + 1);
        self.spans[(blob.y0 - 1) as usize..=blob.y1 as usize]
            .iter()
            .any(|row| !row.iter().any(|&(a, b)| a <= left && right <= b))
    }

    /// Learns `frame` and returns its candidate blobs. The frame must have the model's size.
    pub fn process(&mut self, frame: &GrayFrame<'_>) -> ForegroundFrame {
        assert_eq!(
            (frame.width, frame.height),
            (self.width, self.height),
            "frame size"
        );
        let w = self.width as usize;
        let first = self.frames == 0;
        // A keyframe's picture is drawn anew all over, a few grey levels off the background:
        // faint blobs everywhere, not looked for. The frame after it settles what it copied.
        let keyframe = self.keyframes.observe(frame, &self.spans);
        let key = self.keyframes.take();
        // Faint foreground is looked for where it can count: the clutter (below) decays by at
        // most `CLUTTER_DECAY` this frame.
        let faint_on = !first
            && !keyframe
            && self.params.faint_diff > 0.0
            && self.clutter * CLUTTER_DECAY <= FAINT_CROWD;
        self.frames += 1;
        let warming_up = self.frames <= u64::from(self.params.warmup_frames);
        let mut rate = self.params.learn_rate;
        if warming_up {
            rate = rate.max(1.0 / self.frames as f32);
        }
        if self.fast_left > 0 {
            rate = (rate * FAST_GAIN).min(0.5);
            self.fast_left -= 1;
        }
        // The camera's exposure moved (auto-exposure, a cloud): the background moves with it.
        let curve = match first {
            true => None,
            false => self.exposure.curve(frame, &self.mean, &self.spans),
        };
        if let Some(curve) = &curve {
            exposure::follow((&mut self.mean, &mut self.var), &self.spans, w, curve);
        }
        let min_diff = self.params.min_diff;
        let rates = learn::Rates {
            rate,
            fg_rate: rate * FG_MEAN_SHARE,
            fg_var_rate: rate * FG_VAR_SHARE,
            k2: self.params.k_sigma * self.params.k_sigma,
            min_diff,
        };
        self.runs.clear();
        self.runs_all.clear();
        let (mut fg_pixels, mut faint_pixels) = (0u64, 0u64);
        self.redrawn.clear();
        for y in 0..self.height {
            let row = frame.row(y);
            let base = y as usize * w;
            let slot = (y & 1) as usize;
            // The loop below writes every pixel of the zone; only what lies outside is cleared.
            let spans = &self.spans[y as usize];
            if faint_on {
                clear_outside(&mut self.diff[slot], spans, 0.0);
            }
            clear_outside(&mut self.mask[slot], spans, 0);
            let mut row_count = 0u32;
            for &(x0, x1) in &self.spans[y as usize] {
                let (a, b) = (x0 as usize, x1 as usize);
                let pixels = &row[a..b];
                let mean = &mut self.mean[base + a..base + b];
                let var = &mut self.var[base + a..base + b];
                let mask = &mut self.mask[slot][a..b];
                if let Some(key) = key {
                    keyframe::settle(pixels, &key[base + a..base + b], mean, min_diff);
                }
                if first {
                    for (m, &p) in mean.iter_mut().zip(pixels) {
                        *m = f32::from(p);
                    }
                    continue;
                }
                let model = Span {
                    pixels,
                    mean,
                    var,
                    mask: &mut *mask,
                };
                let mut count = match faint_on {
                    true => learn(model, rates, Some(&mut self.diff[slot][a..b])),
                    false => learn(model, rates, None),
                };
                // A pixel that matches the background a pixel or two away is an edge that
                // moved (shake, sway, compression), not a new object; nor is an edge that a
                // keyframe drew anew.
                if count > 0 && self.params.shift_radius > 0 {
                    let scene = redraw::Scene {
                        mean: &self.mean,
                        frame,
                        spans: &self.spans,
                        min_diff,
                    };
                    let mut next = 0;
                    while let Some(i) = next_set(mask, next) {
                        next = i + 1;
                        let x = x0 + i as u32;
                        let moved = matches_nearby(
                            (&self.mean, &self.var),
                            (self.width, self.height),
                            (x, y),
                            f32::from(pixels[i]),
                            self.params.shift_radius,
                            &rates,
                        );
                        if moved {
                            mask[i] = 0;
                            count -= 1;
                        } else if scene.redrawn((x, y), self.params.shift_radius) {
                            // Kept until the frame shows whether a keyframe drew edges anew.
                            self.redrawn.push((y, x));
                        }
                    }
                }
                row_count += count;
            }
            self.row_count[slot] = row_count;
            // Faint objects are judged over 2×2 blocks, so rows are grouped in pairs.
            let mut added = [0u32; 2];
            if y & 1 == 1 && faint_on {
                self.faint[0].fill(0);
                self.faint[1].fill(0);
                added = faint::mark(
                    &self.params,
                    (&self.mean, &self.var),
                    frame,
                    y,
                    faint::Pair {
                        diff: &self.diff,
                        mask: &self.mask,
                        faint: &mut self.faint,
                        sums: self.coarse.row(y as usize / 2),
                    },
                );
            }
            if y & 1 == 1 || y + 1 == self.height {
                for r in (y & !1)..=y {
                    let slot = (r & 1) as usize;
                    let strong = self.row_count[slot];
                    fg_pixels += u64::from(strong);
                    faint_pixels += u64::from(added[slot]);
                    let mask = &self.mask[slot];
                    if strong > 0 {
                        push_runs(&mut self.runs, mask, mask, r);
                    }
                    if added[slot] > 0 {
                        for (f, &m) in self.faint[slot].iter_mut().zip(mask) {
                            *f |= m;
                        }
                        push_runs(&mut self.runs_all, &self.faint[slot], mask, r);
                    } else if strong > 0 && faint_on {
                        push_runs(&mut self.runs_all, mask, mask, r);
                    }
                }
            }
        }
        // Edges drawn anew along whole edges at once are a keyframe's, taken out; a few such
        // pixels are more likely an object's than a redraw, unless the stream is one whose
        // keyframes redraw its edges.
        if self.redrawn.len() >= redraw::gate(self.width) {
            self.redraw_left = redraw::LATCH_FRAMES;
        }
        let redrawn = match self.redraw_left > 0 && !self.redrawn.is_empty() {
            true => {
                take_out(&mut self.runs, &self.redrawn, &mut self.scratch_runs);
                take_out(&mut self.runs_all, &self.redrawn, &mut self.scratch_runs);
                // The frames up to the next keyframe copy the edge as this one drew it.
                for &(y, x) in &self.redrawn {
                    self.mean[y as usize * w + x as usize] = f32::from(frame.row(y)[x as usize]);
                }
                self.redrawn.len() as u64
            }
            false => 0,
        };
        self.redraw_left = self.redraw_left.saturating_sub(1);
        // What follows a frame whose exposure moved is no copy of it.
        if keyframe && curve.is_none() {
            self.keyframes.keep(frame);
        }
        let mut out = ForegroundFrame {
            fg_pixels: fg_pixels - redrawn,
            exposure_moved: curve.is_some(),
            redrawn,
            warming_up,
            ..Default::default()
        };
        if warming_up {
            return out;
        }
        let guard = self.params.guard_fraction * self.zone_pixels as f64;
        if self.zone_pixels > 0 && fg_pixels as f64 > guard {
            out.guarded = true;
            self.fast_left = FAST_FRAMES;
            return out;
        }
        group(&self.runs, &mut self.parent, &self.params, &mut out);
        // Among many faint blobs (rain at night, clutter) a faint object cannot be told from
        // the rest: faint foreground counts only while frames have been uncluttered.
        let mut all = ForegroundFrame::default();
        if faint_pixels > 0 {
            group(&self.runs_all, &mut self.parent, &self.params, &mut all);
        }
        let count = all.blobs.len().max(out.blobs.len()) as f32;
        self.clutter = count.max(self.clutter * CLUTTER_DECAY);
        if faint_pixels > 0 && self.clutter <= FAINT_CROWD {
            out.fg_pixels += faint_pixels;
            if out.fg_pixels as f64 > guard {
                out.blobs.clear();
                out.guarded = true;
                self.fast_left = FAST_FRAMES;
                return out;
            }
            // A blob mostly of faint pixels replaces the strong fragments inside it; one mostly
            // strong stays as the per-pixel test drew it (its faint halo would only blur where
            // its centre is).
            let faint: Vec<Blob> = all
                .blobs
                .into_iter()
                .filter(|b| 2 * b.strong < b.area)
                .collect();
            out.blobs.retain(|s| !faint.iter().any(|f| within(s, f)));
            out.blobs.extend(faint);
        }
        // A streak too faint for a block may stand out over wider windows ([`coarse`]), unless a
        // keyframe drew edges anew (their corners lean one way over a window).
        if faint_on && redrawn == 0 && self.clutter <= FAINT_CROWD && self.coarse.on() {
            let model = (&self.mean[..], &self.var[..]);
            let mut found = self
                .coarse
                .find(&self.params, model, frame, &mut self.parent);
            // Its blocks stop short of the edge of what is watched: a blob near it may be cut.
            found.retain(|b| !self.cut_off(&coarse::grown(b)));
            coarse::merge(&mut out.blobs, found);
        }
        out
    }
}

/// Sets the parts of `row` outside `spans` (sorted `[x0, x1)`) to `value`.
fn clear_outside<T: Copy>(row: &mut [T], spans: &[(u32, u32)], value: T) {
    let mut x = 0;
    for &(x0, x1) in spans {
        row[x..x0 as usize].fill(value);
        x = x1 as usize;
    }
    row[x..].fill(value);
}

/// Whether `value` fits the background model (`mean`, `var`) at any pixel within `radius` of
/// `(x, y)` (excluding the pixel itself). Asked of every foreground pixel, each frame it stands
/// out.
fn matches_nearby(
    (mean, var): (&[f32], &[f32]),
    (w, h): (u32, u32),
    (x, y): (u32, u32),
    value: f32,
    radius: u32,
    rates: &learn::Rates,
) -> bool {
    let (x, y, r, w) = (x as usize, y as usize, radius as usize, w as usize);
    let fits = |i: usize| !rates.stands_out(value - mean[i], var[i]);
    let columns = x.saturating_sub(r)..=(x + r).min(w - 1);
    (y.saturating_sub(r)..=(y + r).min(h as usize - 1)).any(|ny| {
        let row = ny * w;
        columns
            .clone()
            .any(|nx| (nx != x || ny != y) && fits(row + nx))
    })
}

/// Per row, the `[x0, x1)` pixel spans whose centres lie inside `zone` (even-odd rule).
fn zone_spans(width: u32, height: u32, zone: &[(f64, f64)]) -> Vec<Vec<(u32, u32)>> {
    if zone.len() < 3 {
        return vec![vec![(0, width)]; height as usize];
    }
    let (w, h) = (f64::from(width), f64::from(height));
    let pts: Vec<(f64, f64)> = zone.iter().map(|&(x, y)| (x * w, y * h)).collect();
    let mut out = Vec::with_capacity(height as usize);
    let mut xs = Vec::new();
    for y in 0..height {
        let yc = f64::from(y) + 0.5;
        xs.clear();
        for i in 0..pts.len() {
            let (a, b) = (pts[i], pts[(i + 1) % pts.len()]);
            if (a.1 <= yc) != (b.1 <= yc) {
                xs.push(a.0 + (yc - a.1) / (b.1 - a.1) * (b.0 - a.0));
            }
        }
        xs.sort_by(f64::total_cmp);
        let mut spans = Vec::new();
        for pair in xs.chunks_exact(2) {
            // Pixel x is inside when its centre x + 0.5 lies in [pair0, pair1).
            let x0 = (pair[0] - 0.5).ceil().clamp(0.0, w) as u32;
            let x1 = (pair[1] - 0.5).ceil().clamp(0.0, w) as u32;
            if x1 > x0 {
                spans.push((x0, x1));
            }
        }
        out.push(spans);
    }
    out
}

#[cfg(test)]
mod tests;
