//! The picture's change of light from one frame to the next as a straight line over the cells'
//! mean luma, `current ≈ gain · background + offset`: auto exposure and gain steps, a cloud,
//! dusk. Fitted robustly (cells an object covers are left out), so what is left over is what
//! moved.

/// Cells whose difference from the fit is within this many thresholds count towards the fit.
const INLIER_THRESHOLDS: f32 = 2.0;
/// The gain is fitted only over cells whose background spreads at least this much (standard
/// deviation, luma levels); over a flat picture only the offset can be known.
const MIN_SPREAD: f32 = 8.0;
/// Least cells for a fit of the gain.
const MIN_CELLS: usize = 16;
/// Exposure changes more than this factor from one frame to the next are not taken for one.
const GAIN_RANGE: (f32, f32) = (0.5, 2.0);

/// `current ≈ gain · background + offset`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Light {
    pub gain: f32,
    pub offset: f32,
}

impl Light {
    /// What a cell whose background is `b` should read now, if nothing moved over it.
    pub fn expect(&self, b: f32) -> f32 {
        self.gain * b + self.offset
    }

    /// The fit over `current` against `background` (one value per cell), counting a difference
    /// over `threshold` as an object's. `scratch` is reused between frames.
    pub fn fit(
        current: &[f32],
        background: &[f32],
        threshold: f32,
        scratch: &mut Vec<f32>,
    ) -> Self {
        // First the median difference, which most cells agree with whatever moved.
        scratch.clear();
        scratch.extend(current.iter().zip(background).map(|(c, b)| c - b));
        if scratch.is_empty() {
            return Self {
                gain: 1.0,
                offset: 0.0,
            };
        }
        let mid = scratch.len() / 2;
        let shift = *scratch.select_nth_unstable_by(mid, f32::total_cmp).1;
        let mut light = Self {
            gain: 1.0,
            offset: shift,
        };
        // Then the line over the cells that agree with the fit so far, twice.
        for _ in 0..2 {
            match Self::line(current, background, light, threshold * INLIER_THRESHOLDS) {
                Some(better) => light = better,
                None => break,
            }
        }
        light
    }

    /// Least squares over the cells within `reach` of `near`; `None` when they are too few or
    /// too alike to tell a gain.
    fn line(current: &[f32], background: &[f32], near: Light, reach: f32) -> Option<Self> {
        let (mut n, mut sb, mut sc, mut sbb, mut sbc) = (0usize, 0f64, 0f64, 0f64, 0f64);
        for (&c, &b) in current.iter().zip(background) {
            if (c - near.expect(b)).abs() <= reach {
                let (b, c) = (f64::from(b), f64::from(c));
                n += 1;
                sb += b;
                sc += c;
                sbb += b * b;
                sbc += b * c;
            }
        }
        if n < MIN_CELLS {
            return None;
        }
        let nf = n as f64;
        let (mb, mc) = (sb / nf, sc / nf);
        let var = sbb / nf - mb * mb;
        if var < f64::from(MIN_SPREAD * MIN_SPREAD) {
            return Some(Self {
                gain: 1.0,
                offset: (mc - mb) as f32,
            });
        }
        let gain = ((sbc / nf - mb * mc) / var) as f32;
        if !(GAIN_RANGE.0..=GAIN_RANGE.1).contains(&gain) {
            return None;
        }
        Some(Self {
            gain,
            offset: (mc - f64::from(gain) * mb) as f32,
        })
    }
}
