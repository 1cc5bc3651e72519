//! What the camera itself does to the picture: a sun flare in a lens looking up past the roof,
//! and the steps of a phone's or CCTV camera's auto-exposure.
//!
//! A flare is veiling glare (light scattered across the whole picture, strongest near the sun)
//! and ghosts (discs on the line from the sun through the picture's centre). It shimmers, and
//! dims for a moment whenever a frond or a branch passes in front of the sun. Auto-exposure
//! moves the whole picture's gain in a few steps, a frame apart, when the light changes — or when
//! the flare comes and goes.

use super::draw::Canvas;

/// The sun's disc, in full scales at full strength.
const SUN: f64 = 8.0;

/// A sun flare's shape, worked out once per scene: how much light (0–1 of full scale, per
/// channel) reaches each pixel at full strength.
pub(super) struct Flare {
    glare: Vec<[f32; 3]>,
    strength: f64,
    shimmer_hz: f64,
    /// Fronds crossing the sun: how often (Hz) and where in their cycle they start.
    fronds: (f64, f64),
}

impl Flare {
    /// A flare from a sun at `sun` (fractions of the frame's width and height; it may lie a
    /// little outside the frame), `strength` 0–1.
    pub(super) fn new(
        (w, h): (usize, usize),
        sun: [f64; 2],
        strength: f64,
        (shimmer_hz, fronds_hz, phase): (f64, f64, f64),
    ) -> Self {
        let (sx, sy) = (sun[0] * w as f64, sun[1] * h as f64);
        let (cx, cy) = (w as f64 / 2.0, h as f64 / 2.0);
        let core = 0.03 * w as f64;
        // Ghosts: along the line from the sun through the centre, each its own tint and size.
        let ghosts: Vec<(f64, f64, f64, [f32; 3])> = [
            (0.45, 0.020, [0.10, 0.16, 0.08]),
            (0.85, 0.045, [0.06, 0.05, 0.10]),
            (1.35, 0.012, [0.14, 0.10, 0.05]),
            (1.70, 0.070, [0.04, 0.06, 0.05]),
        ]
        .iter()
        .map(|&(s, r, tint)| {
            (
                sx + (cx - sx) * s * 2.0,
                sy + (cy - sy) * s * 2.0,
                r * w as f64,
                tint,
            )
        })
        .collect();
        let mut glare = vec![[0.0f32; 3]; w * h];
        for y in 0..h {
            for x in 0..w {
                let (dx, dy) = (x as f64 - sx, y as f64 - sy);
                let d = (dx * dx + dy * dy).sqrt();
                // The sun's disc (far brighter than full scale: it clips), a halo falling off
                // as 1/d, and a faint veil everywhere.
                let halo = (core / (d + core)).powf(1.3);
                let v = (if d < core { SUN } else { halo * 0.9 + 0.05 }) as f32;
                let mut px = [v, v * 0.97, v * 0.88];
                for &(gx, gy, r, tint) in &ghosts {
                    let gd = ((x as f64 - gx).powi(2) + (y as f64 - gy).powi(2)).sqrt();
                    // A disc with a soft rim.
                    let cover = ((r - gd) / (0.15 * r).max(1.0) + 0.5).clamp(0.0, 1.0) as f32;
                    for (p, t) in px.iter_mut().zip(tint) {
                        *p += cover * t;
                    }
                }
                glare[y * w + x] = px;
            }
        }
        Self {
            glare,
            strength,
            shimmer_hz,
            fronds: (fronds_hz, phase),
        }
    }

    /// How strong the flare is at `t`: shimmering by ±12 %, and down to 35 % for the fifth of
    /// each frond cycle when one crosses the sun.
    pub(super) fn strength_at(&self, t: f64) -> f64 {
        let tau = std::f64::consts::TAU;
        let shimmer = 1.0 + 0.12 * (tau * self.shimmer_hz * t).sin();
        let cycle = (self.fronds.0 * t + self.fronds.1).fract();
        let frond = if cycle < 0.2 {
            1.0 - 0.65 * (std::f64::consts::PI * cycle / 0.2).sin()
        } else {
            1.0
        };
        self.strength * shimmer * frond
    }

    /// Adds the flare at time `t` to `canvas` (light adds; the sensor clips).
    pub(super) fn draw(&self, canvas: &mut Canvas<'_>, t: f64) {
        let k = (self.strength_at(t) * 255.0) as f32;
        for (p, g) in canvas.px.chunks_exact_mut(3).zip(&self.glare) {
            for (c, l) in p.iter_mut().zip(g) {
                *c = (f32::from(*c) + k * l).min(255.0) as u8;
            }
        }
    }
}

/// The auto-exposure's gain at `t`: 1 before the first step; each step (its start, the gain it
/// goes to, and how many frames it takes) moves the gain there in equal steps, one per frame.
pub(super) fn exposure_gain(steps: &[(f64, f64, u32)], t: f64, fps: f64) -> f64 {
    let mut gain = 1.0;
    for &(t0, to, frames) in steps {
        if t < t0 {
            break;
        }
        let done = ((t - t0) * fps).floor() + 1.0;
        let k = (done / f64::from(frames.max(1))).min(1.0);
        gain += (to - gain) * k;
    }
    gain
}

/// Scales the whole picture by `gain` (the sensor clips at 255).
pub(super) fn expose(img: &mut [u8], gain: f64) {
    if (gain - 1.0).abs() < 1e-9 {
        return;
    }
    let table: Vec<u8> = (0..=255u32)
        .map(|v| (f64::from(v) * gain).round().min(255.0) as u8)
        .collect();
    for v in img {
        *v = table[usize::from(*v)];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposure_moves_in_steps_and_stays() {
        let steps = [(1.0, 1.3, 3), (2.0, 0.8, 2)];
        let fps = 25.0;
        assert_eq!(exposure_gain(&steps, 0.99, fps), 1.0);
        // Three frames to 1.3: a third of the way, two thirds, there.
        assert!((exposure_gain(&steps, 1.0, fps) - 1.1).abs() < 1e-9);
        assert!((exposure_gain(&steps, 1.04, fps) - 1.2).abs() < 1e-9);
        assert!((exposure_gain(&steps, 1.08, fps) - 1.3).abs() < 1e-9);
        assert!((exposure_gain(&steps, 1.9, fps) - 1.3).abs() < 1e-9);
        // Then down to 0.8 in two frames, from 1.3.
        assert!((exposure_gain(&steps, 2.0, fps) - 1.05).abs() < 1e-9);
        assert!((exposure_gain(&steps, 2.5, fps) - 0.8).abs() < 1e-9);
    }

    #[test]
    fn exposure_clips_and_leaves_black() {
        let mut img = vec![0u8, 100, 200, 255];
        expose(&mut img, 1.5);
        assert_eq!(img, vec![0, 150, 255, 255]);
    }

    #[test]
    fn flare_is_brightest_at_the_sun_and_dims_when_a_frond_passes() {
        let (w, h) = (160, 90);
        let flare = Flare::new((w, h), [0.8, 0.05], 0.8, (3.0, 0.25, 0.5));
        let at = |x: usize, y: usize| flare.glare[y * w + x][0];
        assert!(at(128, 4) > 0.9, "the core saturates");
        assert!(at(128, 4) > at(100, 30) && at(100, 30) > at(10, 85));
        assert!(at(10, 85) >= 0.05, "the veil reaches the far corner");
        // The frond's cycle starts at phase 0.5 of 4 s: it crosses from t = 2 s to 2.8 s.
        let open = flare.strength_at(1.0);
        let crossed = flare.strength_at(2.4);
        assert!(crossed < 0.5 * open, "{crossed} against {open}");

        let mut img = vec![40u8; w * h * 3];
        flare.draw(&mut Canvas { w, h, px: &mut img }, 1.0);
        assert_eq!(img[(4 * w + 128) * 3], 255, "the sun's core clips");
        assert!(img[(85 * w + 10) * 3] > 40, "the veil lifts the far corner");
    }
}
