//! The motion mask: mean luma over cells of the frame the detector would see, against a
//! background that adapts to slow change, with the change of light from the background to each
//! frame taken out (auto exposure, a cloud: a gain and an offset, [`light`]) and the background
//! learnt anew when most of the picture changes in a way no change of light explains (the
//! day/night switch, the camera moved). Only cells in the watched area (the rules' zones and a
//! margin) count.
//!
//! A cell learns what it sees quickly while nothing is over it and slowly while something is: an
//! object passing leaves no ghost in the background (which would read as motion for seconds
//! after it left). A cell that stays
//! changed for [`ABSORB_SECS`] is taken as it is now: the object stopped, and it is the
//! detector's carry and stationary heartbeat that keep it in view from then on. Learning goes by
//! stream time, so the gate behaves the same at any detection rate.

mod light;

use light::Light;
use std::time::Duration;
use vigil_core::{Image, PixelFormat, Size};

/// Side of a motion cell, in pixels of the frame handed to the detector.
pub const CELL: u32 = 8;
/// Time constant, in seconds of stream time, with which a still cell's background follows slow
/// change (shade moving, noise in the estimate).
const LEARN_SECS: f32 = 1.5;
/// Time constant with which a cell an object covers follows what it sees: slow enough that a
/// car crossing it for a few seconds leaves no ghost (a 100-level car over a cell for 3 s
/// leaves under 10).
const LEARN_CHANGED_SECS: f32 = 30.0;
/// A change up to this many thresholds is faint (shade, a camera exposing one part of its
/// picture its own way after a car filled it) and learnt as a still cell's: an object's
/// contrast is more.
const FAINT_THRESHOLDS: f32 = 2.0;
/// A cell changed for this long (seconds of stream time; time unchanged counts back at half
/// the rate, so a cell flickering about the threshold gets there too) becomes background as
/// it is.
pub const ABSORB_SECS: f32 = 5.0;
/// The most one frame adds to a cell's time changed.
const MAX_STEP_SECS: f32 = 0.5;
/// A change, beyond the change of light, over more than this share of all cells is a new
/// picture: the background is learnt anew and the frame counts as motion.
const RELEARN_FRACTION: f32 = 0.5;

/// A rectangle of the frame in normalised coordinates: `[x0, y0, x1, y1]`.
pub type RectNorm = [f64; 4];

/// Where motion matters: each outline's bounding box grown by `margin` (a fraction of the
/// frame) on every side; the whole frame when there is no outline.
pub fn watched_area(outlines: &[Vec<(f64, f64)>], margin: f64) -> Vec<RectNorm> {
    let mut rects: Vec<RectNorm> = outlines
        .iter()
        .filter(|o| !o.is_empty())
        .map(|o| {
            let (mut r0, mut r1) = ([f64::MAX; 2], [f64::MIN; 2]);
            for &(x, y) in o {
                r0 = [r0[0].min(x), r0[1].min(y)];
                r1 = [r1[0].max(x), r1[1].max(y)];
            }
            let grow = |v: f64, by: f64| (v + by).clamp(0.0, 1.0);
            [
                grow(r0[0], -margin),
                grow(r0[1], -margin),
                grow(r1[0], margin),
                grow(r1[1], margin),
            ]
        })
        .collect();
    if rects.is_empty() {
        rects.push([0.0, 0.0, 1.0, 1.0]);
    }
    rects
}

/// What one frame showed.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Motion {
    /// Cells of the watched area that changed.
    pub moved: usize,
    /// Share of all cells that changed.
    pub changed: f32,
    /// The picture changed as a whole; the background was learnt anew.
    pub relearned: bool,
    /// The first frame (or the first at a new size): there is no background yet.
    pub first: bool,
}

impl Motion {
    /// The detector should look at this frame.
    pub fn any(&self) -> bool {
        self.moved > 0 || self.relearned || self.first
    }
}

/// One camera's motion mask.
pub struct MotionDetector {
    threshold: f32,
    watched: Vec<RectNorm>,
    grid: Option<Grid>,
}

/// The cells of one frame size.
struct Grid {
    size: Size,
    cols: usize,
    /// Background and current mean luma per cell, row-major.
    background: Vec<f32>,
    current: Vec<f32>,
    /// Per cell: seconds it has been changed (see [`ABSORB_SECS`]).
    changed_for: Vec<f32>,
    /// Stream time of the last frame.
    at: Duration,
    /// Scratch for the fit of the light.
    scratch: Vec<f32>,
    /// Per cell: in the watched area.
    watched: Vec<bool>,
}

impl MotionDetector {
    /// A mask counting a cell as moved past `threshold` luma levels, over `watched`.
    pub fn new(threshold: f32, watched: Vec<RectNorm>) -> Self {
        Self {
            threshold,
            watched,
            grid: None,
        }
    }

    /// Watches another area from the next frame on (rules edited while running).
    pub fn set_watched(&mut self, watched: Vec<RectNorm>) {
        if let Some(g) = &mut self.grid {
            g.watched = cell_mask(g.size, g.cols, &watched);
        }
        self.watched = watched;
    }

    /// Compares `image`, the frame at stream time `at`, with the background, then updates the
    /// background.
    pub fn step(&mut self, image: &Image, at: Duration) -> Motion {
        let grid = match &mut self.grid {
            Some(g) if g.size == image.size => g,
            _ => {
                let g = self.grid.insert(Grid::new(image.size, &self.watched));
                cell_means(image, g.cols, &mut g.current);
                g.background.clone_from(&g.current);
                g.at = at;
                return Motion {
                    first: true,
                    ..Motion::default()
                };
            }
        };
        // Time runs on (a new session may start its clock over: no time passed then).
        let dt = at.saturating_sub(grid.at).as_secs_f32();
        grid.at = at;
        cell_means(image, grid.cols, &mut grid.current);
        let light = Light::fit(
            &grid.current,
            &grid.background,
            self.threshold,
            &mut grid.scratch,
        );
        let (mut changed, mut moved) = (0usize, 0usize);
        for ((c, b), watched) in grid.current.iter().zip(&grid.background).zip(&grid.watched) {
            if (c - light.expect(*b)).abs() > self.threshold {
                changed += 1;
                moved += usize::from(*watched);
            }
        }
        let changed = changed as f32 / grid.current.len() as f32;
        let relearned = changed > RELEARN_FRACTION;
        if relearned {
            grid.background.clone_from(&grid.current);
            grid.changed_for.fill(0.0);
        } else {
            grid.learn(light, self.threshold, dt);
        }
        Motion {
            moved,
            changed,
            relearned,
            first: false,
        }
    }
}

impl Grid {
    fn new(size: Size, watched: &[RectNorm]) -> Self {
        let cols = size.width.div_ceil(CELL).max(1) as usize;
        let rows = size.height.div_ceil(CELL).max(1) as usize;
        Self {
            size,
            cols,
            background: vec![0.0; cols * rows],
            current: vec![0.0; cols * rows],
            changed_for: vec![0.0; cols * rows],
            at: Duration::ZERO,
            scratch: Vec::with_capacity(cols * rows),
            watched: cell_mask(size, cols, watched),
        }
    }

    /// Moves the background on by `dt` seconds: every cell follows the change of light; a
    /// still cell learns what it sees; a changed one learns it slowly until it has been
    /// changed for [`ABSORB_SECS`], then takes it.
    fn learn(&mut self, light: Light, threshold: f32, dt: f32) {
        let rate = 1.0 - (-dt / LEARN_SECS).exp();
        let slow = 1.0 - (-dt / LEARN_CHANGED_SECS).exp();
        // A frame after a long gap counts as one frame's worth of change, not the gap.
        let step = dt.min(MAX_STEP_SECS);
        let cells = self.background.iter_mut().zip(&self.current);
        for ((b, &c), since) in cells.zip(self.changed_for.iter_mut()) {
            let expect = light.expect(*b);
            let residual = c - expect;
            if residual.abs() <= threshold {
                // Flicker about the threshold still adds up.
                *since = (*since - 0.5 * step).max(0.0);
                *b = expect + rate * residual;
                continue;
            }
            *since += step;
            if *since >= ABSORB_SECS {
                *since = 0.0;
                *b = c;
            } else if residual.abs() <= FAINT_THRESHOLDS * threshold {
                *b = expect + rate * residual;
            } else {
                *b = expect + slow * residual;
            }
        }
    }
}

/// Whether `r` overlaps (or touches) one of `rects`.
pub fn touches(r: &RectNorm, rects: &[RectNorm]) -> bool {
    rects
        .iter()
        .any(|z| r[0] <= z[2] && z[0] <= r[2] && r[1] <= z[3] && z[1] <= r[3])
}

/// Per cell of a `cols`-wide grid over `size`: whether it overlaps one of `rects`.
fn cell_mask(size: Size, cols: usize, rects: &[RectNorm]) -> Vec<bool> {
    let rows = size.height.div_ceil(CELL).max(1) as usize;
    let (w, h) = (f64::from(size.width.max(1)), f64::from(size.height.max(1)));
    let mut mask = vec![false; cols * rows];
    for (i, cell) in mask.iter_mut().enumerate() {
        let (c, r) = ((i % cols) as f64, (i / cols) as f64);
        let cell_rect = [
            c * f64::from(CELL) / w,
            r * f64::from(CELL) / h,
            ((c + 1.0) * f64::from(CELL) / w).min(1.0),
            ((r + 1.0) * f64::from(CELL) / h).min(1.0),
        ];
        *cell = touches(&cell_rect, rects);
    }
    mask
}

/// Mean luma per cell of `image` into `out` (row-major, `cols` wide): grey as it is, colour as
/// (R + 2G + B) / 4 (the same for either channel order).
fn cell_means(image: &Image, cols: usize, out: &mut [f32]) {
    out.fill(0.0);
    let (w, h) = (image.size.width, image.size.height);
    let channels = image.format.channels();
    for y in 0..h {
        let row = image.row(y);
        let base = (y / CELL) as usize * cols;
        for (cx, chunk) in row.chunks(CELL as usize * channels).enumerate() {
            let sum = match image.format {
                PixelFormat::Gray8 => chunk.iter().map(|&v| u32::from(v)).sum::<u32>() as f32,
                PixelFormat::Rgb8 | PixelFormat::Bgr8 => {
                    let s: u32 = chunk
                        .chunks_exact(3)
                        .map(|p| u32::from(p[0]) + 2 * u32::from(p[1]) + u32::from(p[2]))
                        .sum();
                    s as f32 * 0.25
                }
            };
            out[base + cx] += sum;
        }
    }
    for (i, v) in out.iter_mut().enumerate() {
        let (c, r) = ((i % cols) as u32, (i / cols) as u32);
        let cw = (w - (c * CELL).min(w)).clamp(1, CELL);
        let ch = (h - (r * CELL).min(h)).clamp(1, CELL);
        *v /= (cw * ch) as f32;
    }
}

#[cfg(test)]
mod tests;
