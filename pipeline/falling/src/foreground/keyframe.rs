//! Keyframes of a compressed stream. A camera at a phone's or a CCTV's bitrate codes only what
//! changed: most of the picture holds its value exactly from one frame to the next (68–97 % of
//! pixels at 720p and 1080p and 1–4 Mbit/s, against 15–25 % in a stream with fresh sensor noise
//! in every frame). A keyframe draws the whole picture anew, with quantisation noise of its
//! own, and the frames up to the next keyframe copy it. The background, learnt over many
//! frames, is the noise of none of the keyframes: a few grey levels off it over blocks of the
//! sky and the glass, a keyframe's picture raises faint blobs all over the frame (24–39 at
//! 720p), and they would stay until the model has learnt them, their clutter keeping faint
//! objects from being looked for for most of a second.
//!
//! A keyframe is told by the share of pixels copied from the frame before dropping while the
//! picture stays the same, read from every [`STEP`]th row of the zone; its faint blobs are not
//! looked for. The frame after it copies what stands still: where a pixel holds the keyframe's
//! value exactly, the background takes it ([`settle`]). A moving object's pixels change from
//! one frame to the next, so it is not taken in.
//!
//! Only at keyframes: the blocks a codec draws anew between them (where an object has just
//! passed, or noise refreshed) are left to the model to learn. Taking every copied pixel in
//! every frame took in the inside of objects as they moved, copied by the codec from where they
//! were: of development seed 2's 35 throws written to files, 3 more were lost and none found;
//! of seed 3607's 40, 3 lost and 2 found.

use super::GrayFrame;

/// Rows sampled: one in this many.
const STEP: usize = 16;
/// A stream whose frames usually copy at least this share of their pixels is compressed.
const STILL: f32 = 0.5;
/// A frame of such a stream is a keyframe where it copied less than this share of what frames
/// usually copy…
const DROP: f32 = 0.6;
/// …and where its pixels lie this many grey levels or fewer, on average, from the last frame's
/// (a keyframe draws noise anew: 0.9–3.7 levels at 720p and 1080p, by day and by night; an
/// exposure step moves the picture 6–23).
const SAME: f32 = 5.0;
/// How fast the usual share follows the stream (per frame, keyframes left out).
const RATE: f32 = 0.1;

#[derive(Default)]
pub(super) struct Keyframes {
    /// The last frame's sampled rows (zone pixels, in order).
    sample: Vec<u8>,
    /// The share of sampled pixels frames usually copy from the one before; `None` before two
    /// frames were seen.
    usual: Option<f32>,
    /// The last frame, kept when it was a keyframe (rows `width` apart).
    key: Vec<u8>,
    key_held: bool,
}

impl Keyframes {
    /// Reads `frame` against the last one, and returns whether it is a keyframe.
    pub(super) fn observe(&mut self, frame: &GrayFrame<'_>, spans: &[Vec<(u32, u32)>]) -> bool {
        let (mut i, mut copied, mut seen, mut moved) = (0usize, 0usize, 0usize, 0u64);
        let fresh = self.sample.is_empty();
        for y in (0..frame.height).step_by(STEP) {
            let row = frame.row(y);
            for &(x0, x1) in &spans[y as usize] {
                let pixels = &row[x0 as usize..x1 as usize];
                if fresh {
                    self.sample.extend_from_slice(pixels);
                    continue;
                }
                let last = &mut self.sample[i..i + pixels.len()];
                let (c, m) = last
                    .iter()
                    .zip(pixels)
                    .fold((0u32, 0u32), |(c, m), (&l, &p)| {
                        (c + u32::from(l == p), m + u32::from(l.abs_diff(p)))
                    });
                (copied, moved) = (copied + c as usize, moved + u64::from(m));
                last.copy_from_slice(pixels);
                i += pixels.len();
                seen += pixels.len();
            }
        }
        if seen == 0 {
            return false;
        }
        let share = copied as f32 / seen as f32;
        let usual = *self.usual.get_or_insert(share);
        // Drawn anew, but the same picture: a few grey levels of difference on average.
        let keyframe = usual >= STILL && share < DROP * usual && moved as f32 <= SAME * seen as f32;
        if !keyframe {
            self.usual = Some(usual + RATE * (share - usual));
        }
        keyframe
    }

    /// Keeps `frame`, a keyframe, for the next frame to be read against.
    pub(super) fn keep(&mut self, frame: &GrayFrame<'_>) {
        let w = frame.width as usize;
        self.key.resize(w * frame.height as usize, 0);
        for (y, out) in self.key.chunks_exact_mut(w).enumerate() {
            out.copy_from_slice(frame.row(y as u32));
        }
        self.key_held = true;
    }

    /// The keyframe before this frame, if the last frame was one (once; rows `width` apart).
    pub(super) fn take(&mut self) -> Option<&[u8]> {
        std::mem::take(&mut self.key_held).then_some(self.key.as_slice())
    }
}

/// Where a pixel of `pixels` (a span of the frame after a keyframe) holds `key`'s value
/// exactly, and lies within `within` grey levels of the background, the background takes it.
/// What lies further is no keyframe's noise: the inside of an object, copied as it moves.
pub(super) fn settle(pixels: &[u8], key: &[u8], mean: &mut [f32], within: f32) {
    for ((m, &p), &k) in mean.iter_mut().zip(pixels).zip(key) {
        let v = f32::from(p);
        if p == k && (v - *m).abs() <= within {
            *m = v;
        }
    }
}

#[cfg(test)]
mod tests;
