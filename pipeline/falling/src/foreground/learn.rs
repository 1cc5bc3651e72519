//! The per-pixel running Gaussian: each pixel of a span learnt into the background's mean and
//! variance, and marked where it stands out. It is most of the stage's cost (every pixel of the
//! zone, every frame), so on x86-64 it is also compiled for AVX2 — eight pixels a step instead
//! of SSE2's four — and that build is taken where the CPU has it. No fused multiply-add is
//! enabled, so both builds compute the same model, bit for bit. At 1080p the model does not
//! stay in cache from one frame to the next, so each span is learnt in chunks, the model and
//! the pixels asked for a few chunks ahead ([`AHEAD`]).

use super::{VAR_MAX, VAR_MIN};

/// One span of a row: its pixels, the model there, and the mask to write.
pub(super) struct Span<'a> {
    pub pixels: &'a [u8],
    pub mean: &'a mut [f32],
    pub var: &'a mut [f32],
    pub mask: &'a mut [u8],
}

/// The rates and thresholds a span is learnt with.
#[derive(Clone, Copy, Debug)]
pub(super) struct Rates {
    /// The background's learning rate, for the mean and the variance.
    pub rate: f32,
    /// The mean's rate under foreground.
    pub fg_rate: f32,
    /// The variance's rate under foreground.
    pub fg_var_rate: f32,
    /// `k_sigma`².
    pub k2: f32,
    pub min_diff: f32,
}

impl Rates {
    /// Whether a pixel `d` off a background of variance `var` stands out: past `k_sigma` σ and
    /// past `min_diff`. The one per-pixel test, for learning and for the displaced-background
    /// check.
    #[inline(always)]
    pub(super) fn stands_out(&self, d: f32, var: f32) -> bool {
        d * d > self.k2 * var && d.abs() > self.min_diff
    }
}

/// Learns a span's pixels into the model and marks those past `k2` σ² and `min_diff` in the
/// mask; given `diff` (the span's length), also writes there each pixel's difference from the
/// background before learning, clamped to ±`min_diff`. Returns how many it marked.
pub(super) fn learn(span: Span<'_>, rates: Rates, diff: Option<&mut [f32]>) -> u32 {
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU has AVX2 (checked just above), all that `avx2` requires.
        return unsafe { avx2(span, rates, diff) };
    }
    portable(span, rates, diff)
}

/// Which build [`learn`] takes on this CPU: `"avx2"` or `"portable"` (for benchmarks' reports).
pub(super) fn build() -> &'static str {
    match has_avx2() {
        true => "avx2",
        false => "portable",
    }
}

/// Whether this CPU runs the AVX2 build (detected once, then a cached flag).
fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    return std::arch::is_x86_feature_detected!("avx2");
    #[cfg(not(target_arch = "x86_64"))]
    false
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn avx2(span: Span<'_>, rates: Rates, diff: Option<&mut [f32]>) -> u32 {
    portable(span, rates, diff)
}

#[inline(always)]
fn portable(span: Span<'_>, rates: Rates, diff: Option<&mut [f32]>) -> u32 {
    match diff {
        Some(diff) => ahead::<true>(span, rates, diff),
        None => ahead::<false>(span, rates, &mut []),
    }
}

/// Pixels learnt between two prefetches…
const CHUNK: usize = 128;
/// …and how far ahead of them the model and the pixels are asked for. A 1080p frame's model
/// (16 MB) comes from memory each frame, and the hardware's prefetcher alone left the loop
/// waiting on its loads: asked for 256 pixels ahead, the stage took a fifth to a quarter less
/// time at 1080p (`cargo bench -p vigil-falling`, the two side by side). At 720p, where the
/// model stays in cache, it is within a few per cent side by side; run in turn with the build
/// before, the throws read up to a tenth slower there.
const AHEAD: usize = 256;

/// [`each`] over `CHUNK`s of the span, asking for the model and the pixels `AHEAD` pixels on
/// before each.
#[inline(always)]
fn ahead<const DIFF: bool>(span: Span<'_>, rates: Rates, diff: &mut [f32]) -> u32 {
    // The span's parts are as long as each other; `each` would learn the shortest.
    let mut n = [span.mean.len(), span.var.len(), span.mask.len()]
        .into_iter()
        .fold(span.pixels.len(), usize::min);
    if DIFF {
        n = n.min(diff.len());
    }
    let mut count = 0;
    for a in (0..n).step_by(CHUNK) {
        let b = (a + CHUNK).min(n);
        let next = (a + AHEAD).min(n);
        prefetch(&span.mean[next..n]);
        prefetch(&span.var[next..n]);
        prefetch(&span.pixels[next..n]);
        let part = Span {
            pixels: &span.pixels[a..b],
            mean: &mut span.mean[a..b],
            var: &mut span.var[a..b],
            mask: &mut span.mask[a..b],
        };
        let diff = match DIFF {
            true => &mut diff[a..b],
            false => &mut [],
        };
        count += each::<DIFF>(part, rates, diff);
    }
    count
}

/// Asks for the cache lines under the first `CHUNK` elements of `v` (as far as it reaches).
#[inline(always)]
fn prefetch<T>(v: &[T]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        let bytes = std::mem::size_of_val(v).min(CHUNK * std::mem::size_of::<T>());
        for offset in (0..bytes).step_by(64) {
            // SAFETY: a prefetch loads nothing the program reads, and cannot fault; the address
            // lies inside `v`.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(v.as_ptr().cast::<i8>().add(offset)) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = v;
}

#[inline(always)]
fn each<const DIFF: bool>(span: Span<'_>, rates: Rates, diff: &mut [f32]) -> u32 {
    let Rates {
        rate,
        fg_rate,
        fg_var_rate,
        min_diff,
        ..
    } = rates;
    let mut count = 0u32;
    let model = span.pixels.iter().zip(span.mean).zip(span.var);
    for (i, (((&p, m), v), o)) in model.zip(span.mask.iter_mut()).enumerate() {
        let d = f32::from(p) - *m;
        let d2 = d * d;
        let fg = rates.stands_out(d, *v);
        let (r, rv) = if fg {
            (fg_rate, fg_var_rate)
        } else {
            (rate, rate)
        };
        *m += r * d;
        *v = (*v + rv * (d2 - *v)).clamp(VAR_MIN, VAR_MAX);
        *o = u8::from(fg);
        if DIFF {
            diff[i] = d.clamp(-min_diff, min_diff);
        }
        count += u32::from(fg);
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rates the tests learn with: the defaults', with `k_sigma` 3.5 and `min_diff` 12.
    fn rates() -> Rates {
        Rates {
            rate: 0.02,
            fg_rate: 0.005,
            fg_var_rate: 0.00125,
            k2: 3.5 * 3.5,
            min_diff: 12.0,
        }
    }

    /// The span learnt in one pass, without chunks or prefetches.
    fn one_pass(span: Span<'_>, rates: Rates, diff: Option<&mut [f32]>) -> u32 {
        match diff {
            Some(diff) => each::<true>(span, rates, diff),
            None => each::<false>(span, rates, &mut []),
        }
    }

    /// Spans of every length around the vector widths (tails included) and around the chunks'
    /// and the prefetch's reach, with pixels far off and near the background and variances at
    /// both clamps: the model, mask, differences and count `build` gives, against one pass's.
    fn agrees_with_one_pass(build: impl Fn(Span<'_>, Rates, Option<&mut [f32]>) -> u32) {
        let mut seed = 0x9e37_79b9_u32;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed
        };
        let rates = rates();
        let around = |k: usize| k - 1..=k + 1;
        let chunks = [CHUNK, AHEAD, CHUNK + AHEAD, 4 * AHEAD].map(around);
        for n in (0..70).chain(chunks.into_iter().flatten()) {
            for with_diff in [false, true] {
                let pixels: Vec<u8> = (0..n).map(|_| next() as u8).collect();
                // Backgrounds near the pixels (noise) or far off (objects), and variances
                // from below `VAR_MIN` to above `VAR_MAX`.
                let mean: Vec<f32> = pixels
                    .iter()
                    .map(|&p| match next() % 3 {
                        0 => f32::from(p) + (next() % 200) as f32 / 10.0 - 10.0,
                        _ => (next() % 2560) as f32 / 10.0,
                    })
                    .collect();
                let var: Vec<f32> = (0..n).map(|_| (next() % 17000) as f32 / 10.0).collect();
                let mut runs: [_; 2] = std::array::from_fn(|_| {
                    (mean.clone(), var.clone(), vec![9u8; n], vec![0.0f32; n])
                });
                let counts: Vec<u32> = runs
                    .iter_mut()
                    .enumerate()
                    .map(|(k, (m, v, o, d))| {
                        let span = Span {
                            pixels: &pixels,
                            mean: m,
                            var: v,
                            mask: o,
                        };
                        let diff = with_diff.then_some(&mut d[..]);
                        match k {
                            0 => one_pass(span, rates, diff),
                            _ => build(span, rates, diff),
                        }
                    })
                    .collect();
                let [(m0, v0, o0, d0), (m1, v1, o1, d1)] = &runs;
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(counts[0], counts[1], "count, {n} pixels");
                assert_eq!(o0, o1, "mask, {n} pixels");
                assert_eq!(bits(m0), bits(m1), "mean, {n} pixels");
                assert_eq!(bits(v0), bits(v1), "variance, {n} pixels");
                assert_eq!(bits(d0), bits(d1), "differences, {n} pixels");
                assert!(o0.iter().all(|&o| o <= 1), "every pixel marked, {n} pixels");
            }
        }
    }

    /// The AVX2 build learns what one pass of the portable one does, bit for bit.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_avx2_build_learns_what_the_portable_one_does() {
        if !has_avx2() {
            eprintln!("this CPU has no AVX2: `learn` takes the portable build, nothing to compare");
            return;
        }
        // SAFETY: the CPU has AVX2 (checked above).
        agrees_with_one_pass(|s, r, d| unsafe { avx2(s, r, d) });
    }

    /// Learnt in chunks with prefetches, a span is learnt as in one pass, bit for bit.
    #[test]
    fn learning_in_chunks_is_learning_in_one_pass() {
        agrees_with_one_pass(portable);
    }

    /// A span whose parts differ in length (never built so) is learnt as far as the shortest
    /// part reaches, the differences' too, as one pass learns that much of it; nothing panics.
    #[test]
    fn a_span_of_parts_unlike_in_length_is_learnt_as_far_as_the_shortest() {
        let rates = rates();
        let pixels: Vec<u8> = (0..600).map(|i| (i * 37 % 256) as u8).collect();
        // Lengths of the mean, the variance, the mask and the differences; and which is shortest.
        for (lengths, shortest) in [([500, 600, 600, 600], 500), ([600, 600, 600, 450], 450)] {
            let learnt = |n: [usize; 4], build: fn(Span<'_>, Rates, Option<&mut [f32]>) -> u32| {
                let (mut mean, mut var) = (vec![100.0f32; n[0]], vec![9.0f32; n[1]]);
                let (mut mask, mut diff) = (vec![0u8; n[2]], vec![0.0f32; n[3]]);
                let span = Span {
                    pixels: &pixels[..n.into_iter().max().unwrap_or(0)],
                    mean: &mut mean,
                    var: &mut var,
                    mask: &mut mask,
                };
                let count = build(span, rates, Some(&mut diff));
                let k = n.into_iter().min().unwrap_or(0);
                (
                    count,
                    [mean[..k].to_vec(), var[..k].to_vec(), diff[..k].to_vec()],
                    mask,
                )
            };
            let chunked = learnt(lengths, portable);
            let whole = learnt([shortest; 4], one_pass);
            assert!(chunked.0 > 0, "something stood out");
            assert_eq!(chunked.0, whole.0, "{lengths:?}");
            assert_eq!(chunked.1, whole.1, "{lengths:?}");
            assert_eq!(chunked.2[..shortest], whole.2[..], "{lengths:?}");
            assert!(
                chunked.2[shortest..].iter().all(|&m| m == 0),
                "nothing marked past the shortest part, {lengths:?}"
            );
        }
    }
}
