//! The camera's exposure. Auto-exposure (or a cloud over the sun) moves every pixel's level from
//! one frame to the next, in steps a frame apart. The change is one curve over the levels: a gain
//! on the signal above black (video-range black is 16), with the highlights bent into clipping
//! as the gain rises, and each colour clipping on its own. The curve is read off the frame: the
//! median level of the pixels whose background lies in each band of levels. The background then
//! follows it at once, so a step is not foreground over the whole zone. Otherwise the
//! global-change guard answers it by dropping every candidate for several frames, and a fall in
//! flight is lost or cut in two.

mod veil;

/// Every `STEP`th pixel of every `STEP`th row of the zone is sampled. (Every 8th row of a 1080p
/// frame took the test's time from 0.40 to 0.18 ms, but under a sun's flare it changed whether
/// the quadrants agreed on an exposure step: one throw through such a step was found 0.3 s late
/// and three floors low, another a floor low.)
const STEP: usize = 4;
/// Background levels are grouped in bands this wide.
const BAND: usize = 16;
const BANDS: usize = 256 / BAND;
/// A band with fewer samples than this, or than this share of all samples, says nothing (an
/// object near the lens can fill a band seen in a small part of the zone).
const MIN_SAMPLES: usize = 24;
const MIN_SHARE: f32 = 0.01;
/// The exposure moved when bands holding half the samples moved by more than this many levels;
/// less is noise, or objects, left to the background's learning.
const MIN_SHIFT: f32 = 2.0;
/// A quadrant gainsays a band's shift only where it holds at least this share (1 / this) of
/// the band's samples, half what an even spread gives it: a veil of light that a quadrant's
/// picture does not share moves it over a good part of the band, while a few hundred pixels of
/// a band that the rest of the quadrant's levels follow say little about the picture. At night
/// 2.4 % of a band at 32–48 levels, in the sky's two quadrants, stayed put (a median shift of
/// 0.8 levels, the others 5.1) where the camera's gain rose by a fifth, and the step was never
/// followed: the background learnt it over 16 frames, and its blobs broke up into 100–455
/// candidates a frame for 0.4 s, more than the tracker holds (rendered held-out seed 4409's
/// throw 036, a faint object falling through it).
const QUADRANT_SHARE: usize = 8;
/// Video-range black: beyond the bands read, levels scale about it.
const BLACK: f32 = 16.0;
/// An exposure step scales the levels about black by at most this much a frame (or its
/// inverse). A band (at or above `STEP_FROM`, where noise is small beside the level, and not
/// clipping) that moved by more is a change of scene — an IR cut filter switching, lights coming
/// on — which is the global-change guard's: the background is learnt anew, its variance with it.
const MAX_STEP: f32 = 1.6;
const STEP_FROM: f32 = 40.0;

/// Scratch for the curve, kept between frames.
#[derive(Default)]
pub(super) struct Exposure {
    /// Samples' shifts per band.
    bands: [Vec<f32>; BANDS],
    /// The same per quadrant of the frame (top left, top right, bottom left, bottom right),
    /// per band: filled only on a frame whose exposure seems to have moved.
    quads: [[Vec<f32>; BANDS]; 4],
    /// The samples per fine cell of the veil's grid: filled only on a frame whose quadrants
    /// disagree.
    fine: veil::Fine,
}

/// What each background level (0–255) now reads as, and the veil of light laid over it, if any.
pub(super) struct Curve {
    lut: Box<[f32; 256]>,
    veil: Option<veil::Veil>,
}

/// The median of `v` (reordered), which is not empty.
fn median(v: &mut [f32]) -> f32 {
    let mid = v.len() / 2;
    *v.select_nth_unstable_by(mid, f32::total_cmp).1
}

/// Calls `f(band, (x, y), shift)` for each sampled pixel of the zone (`spans`, per row): the
/// band of its background level (`mean`, as wide as `frame`), where it is, and how far the
/// frame has moved from the background there.
fn sample(
    frame: &super::GrayFrame<'_>,
    mean: &[f32],
    spans: &[Vec<(u32, u32)>],
    mut f: impl FnMut(usize, (usize, usize), f32),
) {
    let w = frame.width as usize;
    for (y, row_spans) in spans.iter().enumerate().step_by(STEP) {
        let row = frame.row(y as u32);
        for &(x0, x1) in row_spans {
            for x in (x0 as usize..x1 as usize).step_by(STEP) {
                let m = mean[y * w + x];
                let band = (m as usize / BAND).min(BANDS - 1);
                f(band, (x, y), f32::from(row[x]) - m);
            }
        }
    }
}

/// Neighbouring samples mostly fall in one band: counted in one set, each would wait for the
/// count the one before it stored. This many sets, taken in turn, count side by side (the
/// test's time fell by a tenth to an eighth on a 1080p frame). A frame holds far fewer than
/// `u32::MAX` samples.
const LANES: usize = 4;

/// The samples a band needs to say anything, of `total` in all.
fn enough(total: usize) -> usize {
    MIN_SAMPLES.max((MIN_SHARE * total as f32) as usize)
}

/// Whether bands holding half the samples have a median shift beyond `MIN_SHIFT`, the first
/// test of [`Exposure::curve`], told by counting alone: a band's median (the sample at `n / 2`
/// of `n` in order) is past `MIN_SHIFT` exactly when the `n - n / 2` samples from it up are, and
/// under `-MIN_SHIFT` exactly when the `n / 2 + 1` up to it are. On most frames the exposure
/// has not moved, and no sample is stored or ordered.
fn half_moved(frame: &super::GrayFrame<'_>, mean: &[f32], spans: &[Vec<(u32, u32)>]) -> bool {
    // Per band: samples, samples past `MIN_SHIFT`, samples under `-MIN_SHIFT`; counted in
    // [`LANES`] sets taken in turn, summed after.
    let mut lanes = [[[0u32; 3]; BANDS]; LANES];
    let mut i = 0usize;
    sample(frame, mean, spans, |band, _, shift| {
        let c = &mut lanes[i % LANES][band];
        i += 1;
        c[0] += 1;
        c[1] += u32::from(shift > MIN_SHIFT);
        c[2] += u32::from(shift < -MIN_SHIFT);
    });
    let mut counts = [[0usize; 3]; BANDS];
    for lane in &lanes {
        for (sum, c) in counts.iter_mut().zip(lane) {
            for (s, &n) in sum.iter_mut().zip(c) {
                *s += n as usize;
            }
        }
    }
    let total: usize = counts.iter().map(|c| c[0]).sum();
    let enough = enough(total);
    let moved: usize = counts
        .iter()
        .filter(|&&[n, up, down]| n >= enough && (up >= n - n / 2 || down > n / 2))
        .map(|c| c[0])
        .sum();
    2 * moved >= total && total > 0
}

impl Exposure {
    /// The curve from the background (`mean`, as wide as `frame`) to `frame`, read over the
    /// zone's sampled pixels (`spans`, per row). Moving objects and rain cover far less than
    /// half of any band, so each band's median is the exposure's. `None` unless bands holding
    /// half the samples moved beyond noise, and `None` when a band moved by more than an
    /// exposure step does. An exposure moves the whole picture alike, while the glare of a sun
    /// in the lens (dimmed as a frond crosses it) does not: where the quadrants of the frame
    /// disagree on a band's shift (each holding a fair share of it, [`QUADRANT_SHARE`]), what
    /// the curve leaves is read as a veil of light laid over it ([`veil`]), and `None` when
    /// that would harm the picture (a patch or an edge of light).
    pub(super) fn curve(
        &mut self,
        frame: &super::GrayFrame<'_>,
        mean: &[f32],
        spans: &[Vec<(u32, u32)>],
    ) -> Option<Curve> {
        // Bands holding half the samples moved beyond noise (which also leaves a band with
        // enough samples): only then are the samples kept, per band and per quadrant.
        if !half_moved(frame, mean, spans) {
            return None;
        }
        for b in self.bands.iter_mut().chain(self.quads.iter_mut().flatten()) {
            b.clear();
        }
        let (w, h) = (frame.width as usize, frame.height as usize);
        sample(frame, mean, spans, |band, (x, y), shift| {
            let quadrant = 2 * usize::from(2 * y >= h) + usize::from(2 * x >= w);
            self.bands[band].push(shift);
            self.quads[quadrant][band].push(shift);
        });
        let total: usize = self.bands.iter().map(Vec::len).sum();
        let enough = enough(total);
        let mut knots: Vec<(f32, f32)> = Vec::with_capacity(BANDS);
        // Each band's median shift, at the band's middle level.
        for (band, b) in self.bands.iter_mut().enumerate() {
            if b.len() < enough {
                continue;
            }
            let shift = median(b);
            let level = (band * BAND) as f32 + BAND as f32 / 2.0;
            knots.push((level, level + shift));
        }
        let step = |&(m, p): &(f32, f32)| {
            let gain = (p - BLACK) / (m - BLACK);
            m < STEP_FROM || p >= 250.0 || (1.0 / MAX_STEP..=MAX_STEP).contains(&gain)
        };
        if !knots.iter().all(step) {
            return None;
        }
        let curve = Curve::through(&knots);
        if self.quadrants_agree(&knots, enough) {
            return Some(curve);
        }
        // The quadrants disagree: a veil of light over the picture moved with the exposure, or
        // without it. What the curve leaves is the veil.
        self.fine.clear();
        sample(frame, mean, spans, |_, (x, y), shift| {
            let m = mean[y * w + x];
            let left = shift - (curve.at(m).0 - m);
            self.fine.push((x, y), (w, h), shift, left);
        });
        let veil = veil::Veil::read(&mut self.fine, (w, h))?;
        Some(Curve {
            veil: Some(veil),
            ..curve
        })
    }

    /// Whether every quadrant that holds a fair share of a band ([`QUADRANT_SHARE`]) moved it
    /// as the curve's `knots` say, the band's samples kept per quadrant (reordered).
    fn quadrants_agree(&mut self, knots: &[(f32, f32)], enough: usize) -> bool {
        knots.iter().all(|&(level, now)| {
            let (band, shift) = (level as usize / BAND, now - level);
            let held = self.bands[band].len();
            self.quads.iter_mut().all(|q| {
                let part = &mut q[band];
                part.len() < (enough / 4 + MIN_SAMPLES).max(held / QUADRANT_SHARE)
                    || (median(part) - shift).abs() <= MIN_SHIFT.max(0.25 * shift.abs())
            })
        })
    }
}

impl Curve {
    /// Through `knots` (level before, level now; rising levels before), linear between them;
    /// beyond the outermost, a gain about black as the outermost knot's.
    fn through(knots: &[(f32, f32)]) -> Self {
        let mut lut = Box::new([0.0f32; 256]);
        let about_black = |(m, p): (f32, f32), level: f32| {
            let gain = if m > BLACK {
                (p - BLACK) / (m - BLACK)
            } else {
                1.0
            };
            BLACK + (level - BLACK) * gain.max(0.0)
        };
        for (level, out) in lut.iter_mut().enumerate() {
            let level = level as f32;
            let after = knots.iter().position(|&(m, _)| m >= level);
            *out = match after {
                None => about_black(knots[knots.len() - 1], level),
                Some(0) => about_black(knots[0], level),
                Some(i) => {
                    let ((m0, p0), (m1, p1)) = (knots[i - 1], knots[i]);
                    p0 + (p1 - p0) * (level - m0) / (m1 - m0)
                }
            }
            .clamp(0.0, 255.0);
        }
        Self { lut, veil: None }
    }

    /// What `level` (0–255, fractional) now reads as, and the curve's slope there.
    fn at(&self, level: f32) -> (f32, f32) {
        let i = (level.max(0.0) as usize).min(254);
        let (a, b) = (self.lut[i], self.lut[i + 1]);
        (a + (b - a) * (level - i as f32), b - a)
    }
}

/// Moves the background in the zone along `curve`: each mean to what its level now reads as,
/// with the veil's light where there is one, and each variance by the curve's slope there
/// squared (noise scales with the signal, and vanishes where it clips).
pub(super) fn follow(
    (mean, var): (&mut [f32], &mut [f32]),
    spans: &[Vec<(u32, u32)>],
    width: usize,
    curve: &Curve,
) {
    // Without a veil, every pixel's lift is 0.
    let mut lift = vec![0.0; width];
    let columns = curve.veil.as_ref().map(|_| veil::columns(width));
    for (y, row_spans) in spans.iter().enumerate() {
        if let (Some(veil), Some(columns)) = (&curve.veil, &columns) {
            veil.row(y, spans.len(), columns, &mut lift);
        }
        for &(x0, x1) in row_spans {
            let (a, b) = (y * width + x0 as usize, y * width + x1 as usize);
            let lift = &lift[x0 as usize..x1 as usize];
            for ((m, v), l) in mean[a..b].iter_mut().zip(&mut var[a..b]).zip(lift) {
                let (level, slope) = curve.at(*m);
                *m = (level + l).clamp(0.0, 255.0);
                *v = (*v * slope * slope).clamp(super::VAR_MIN, super::VAR_MAX);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gain_about_black_is_read_between_and_beyond_the_bands() {
        // Bands at 40 and 120 brightened by 1.25 about black.
        let g = |m: f32| BLACK + (m - BLACK) * 1.25;
        let curve = Curve::through(&[(40.0, g(40.0)), (120.0, g(120.0))]);
        for level in [0.0, 16.0, 30.0, 80.0, 150.0] {
            let (out, slope) = curve.at(level);
            assert!((out - g(level).max(0.0)).abs() < 0.01, "{level}: {out}");
            assert!(
                (slope - 1.25).abs() < 0.01 || g(level) < 0.0,
                "{level}: {slope}"
            );
        }
        // Clipped at the top: flat there.
        let (out, slope) = curve.at(240.0);
        assert_eq!((out, slope), (255.0, 0.0));
    }

    #[test]
    fn a_clipping_sky_bends_the_curve() {
        let curve = Curve::through(&[(56.0, 70.0), (200.0, 250.0), (232.0, 254.0)]);
        let (mid, _) = curve.at(128.0);
        assert!(mid > 128.0 && mid < 250.0, "{mid}");
        let (_, slope) = curve.at(220.0);
        assert!(slope < 0.2, "flat where it clips: {slope}");
    }
}
