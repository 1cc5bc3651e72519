//! Drawing into packed RGB frames: anti-aliased discs and streaks, a swaying branch, the static
//! view, a shaken frame.

use super::world::{Building, Camera};

pub(super) fn mid(a: [f64; 3], b: [f64; 3], k: f64) -> [f64; 3] {
    [0, 1, 2].map(|i| a[i] + (b[i] - a[i]) * k)
}

pub(super) fn shift(img: &[u8], w: usize, h: usize, dx: isize, dy: isize) -> Vec<u8> {
    let mut out = vec![0u8; img.len()];
    for y in 0..h {
        let sy = (y as isize - dy).clamp(0, h as isize - 1) as usize;
        for x in 0..w {
            let sx = (x as isize - dx).clamp(0, w as isize - 1) as usize;
            let (d, s) = ((y * w + x) * 3, (sy * w + sx) * 3);
            out[d..d + 3].copy_from_slice(&img[s..s + 3]);
        }
    }
    out
}

/// A branch from a lower corner: a bough with twigs and leaf clusters, rotated by `angle`.
pub(super) fn branch(canvas: &mut Canvas<'_>, left: bool, angle: f64, night: bool) {
    let (w, h) = (canvas.w as f64, canvas.h as f64);
    let (ax, ay) = (if left { -0.02 * w } else { 1.02 * w }, 0.75 * h);
    let dir = if left { 1.0 } else { -1.0 };
    let c = if night { [10, 12, 10] } else { [40, 60, 35] };
    let rot = |x: f64, y: f64| {
        let (s, co) = angle.sin_cos();
        (ax + dir * (x * co - y * s), ay + x * s * dir + y * co)
    };
    let len = 0.22 * w;
    let tip = rot(len, -0.15 * h);
    canvas.segment((ax, ay), tip, 0.008 * w, c, 1.0);
    for k in 1..6 {
        let f = f64::from(k) / 6.0;
        let base = rot(len * f, -0.15 * h * f);
        let end = rot(
            len * f + 0.04 * w,
            -0.15 * h * f - 0.07 * h * if k % 2 == 0 { 1.0 } else { -1.0 },
        );
        canvas.segment(base, end, 0.003 * w, c, 1.0);
        canvas.disc(end.0, end.1, 0.018 * w, c, 0.95);
    }
}

/// A clump of leaves in front of the lens (a palm frond, a tree's crown) around `(cx, cy)`,
/// `r` across, swayed by `sway` (−1…1).
pub(super) fn foliage(
    canvas: &mut Canvas<'_>,
    (cx, cy): (f64, f64),
    r: f64,
    sway: f64,
    night: bool,
) {
    let c = if night { [8, 10, 8] } else { [34, 52, 30] };
    let (cx, cy) = (cx + 0.08 * r * sway, cy + 0.03 * r * sway);
    canvas.disc(cx, cy, 0.55 * r, c, 1.0);
    for k in 0..9 {
        let a = f64::from(k) * 0.7 + 0.15 * sway;
        let (s, co) = a.sin_cos();
        let reach = 0.55 + 0.1 * f64::from(k % 3);
        let tip = (cx + reach * r * co, cy + 0.7 * reach * r * s);
        canvas.segment((cx, cy), tip, 0.2 * r, c, 1.0);
    }
}

/// Draws into a packed RGB buffer with coverage-based anti-aliasing.
pub(super) struct Canvas<'a> {
    pub(super) w: usize,
    pub(super) h: usize,
    pub(super) px: &'a mut [u8],
}

impl Canvas<'_> {
    pub(super) fn blend(&mut self, x: usize, y: usize, c: [u8; 3], a: f64) {
        let i = (y * self.w + x) * 3;
        for (p, c) in self.px[i..i + 3].iter_mut().zip(c) {
            let v = f64::from(*p);
            *p = (v + (f64::from(c) - v) * a).round() as u8;
        }
    }

    pub(super) fn disc(&mut self, cx: f64, cy: f64, r: f64, c: [u8; 3], alpha: f64) {
        self.segment((cx, cy), (cx, cy), r, c, alpha);
    }

    /// A capsule of radius `r` from `a` to `b` (a motion-blurred disc).
    pub(super) fn segment(&mut self, a: (f64, f64), b: (f64, f64), r: f64, c: [u8; 3], alpha: f64) {
        let x0 = (a.0.min(b.0) - r - 1.0).floor().max(0.0) as usize;
        let y0 = (a.1.min(b.1) - r - 1.0).floor().max(0.0) as usize;
        let x1 = ((a.0.max(b.0) + r + 1.0).ceil().max(0.0) as usize).min(self.w);
        let y1 = ((a.1.max(b.1) + r + 1.0).ceil().max(0.0) as usize).min(self.h);
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let len2 = dx * dx + dy * dy;
        // A streak spreads the object's light over its length: fainter when longer.
        let spread = (2.0 * r / (2.0 * r + len2.sqrt())).clamp(0.25, 1.0);
        for y in y0..y1 {
            for x in x0..x1 {
                let (px, py) = (x as f64 + 0.5, y as f64 + 0.5);
                let s = if len2 > 0.0 {
                    (((px - a.0) * dx + (py - a.1) * dy) / len2).clamp(0.0, 1.0)
                } else {
                    0.0
                };
                let d = ((px - a.0 - s * dx).powi(2) + (py - a.1 - s * dy).powi(2)).sqrt();
                let cover = (r + 0.5 - d).clamp(0.0, 1.0);
                if cover > 0.0 {
                    self.blend(x, y, c, cover * alpha * spread);
                }
            }
        }
    }
}

/// The static view, 2×2 supersampled.
pub(super) fn render_static(camera: &Camera, building: &Building, d: f64) -> Vec<u8> {
    let (w, h) = (camera.w as usize, camera.h as usize);
    let mut out = vec![0u8; w * h * 3];
    for y in 0..h {
        for x in 0..w {
            let mut acc = [0i32; 3];
            for (sx, sy) in [(0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75)] {
                let (px, py) = (x as f64 + sx, y as f64 + sy);
                let c = camera
                    .on_plane(px, py, d)
                    .and_then(|(wx, wy)| building.colour(wx, wy))
                    .unwrap_or_else(|| building.sky(py, camera.h));
                for (a, v) in acc.iter_mut().zip(c) {
                    *a += v;
                }
            }
            for k in 0..3 {
                out[(y * w + x) * 3 + k] = (acc[k] / 4).clamp(0, 255) as u8;
            }
        }
    }
    out
}
