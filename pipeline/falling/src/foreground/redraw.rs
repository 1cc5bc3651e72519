//! Edges drawn anew. A camera at a phone's or a CCTV's bitrate copies the picture between
//! keyframes, so the background learns each edge as the last keyframe drew it; the next
//! keyframe draws it again, blurred and ringing otherwise, and along a straight edge the pixels
//! between its two sides all change alike. None of them matches the background a pixel away —
//! their neighbours along the edge changed as they did, and across it lie the edge's two sides
//! — so the per-pixel test would find a line one pixel high along the whole edge, for the frames
//! until the model learns it, and tracks chain such lines into a throw's. An object is told
//! apart by what lies across the edge: it covers the pixels there too, where a redrawn edge
//! leaves its two sides as they were; and by how many there are: a keyframe redraws the whole
//! picture at once ([`gate`]), and a stream that showed it is taken as one whose keyframes do
//! ([`LATCH_FRAMES`]). The frames after a keyframe copy the edge as it drew it, so the
//! background takes the redrawn pixels as they are.

use super::GrayFrame;

/// An edge is strong when the background across it spans this many `min_diff`.
const EDGE_SPAN: f32 = 2.0;

/// How many pixels of a frame `width` wide must be edges drawn anew for the frame to be taken
/// as a keyframe's redraw: one in 64 of a row (30 at 1080p, 20 at 720p). A keyframe redraws
/// the edges of the whole picture at once (38 to 740 such pixels where it began, 720p and
/// 1080p at a phone's bitrate); without one, noise, sway and a small object on an edge give a few
/// (1 to 9 a frame through a faint throw's sequence rendered without compression).
pub(super) fn gate(width: u32) -> usize {
    (width as usize / 64).max(8)
}

/// After a frame past the [`gate`], edges drawn anew are taken out in every frame for this
/// many (8–10 s): the stream is one whose keyframes redraw its edges, and the next keyframe
/// (1–2 s apart in such streams) redraws fewer where the background took the last one's —
/// too few for the gate, still lines a track could start on.
pub(super) const LATCH_FRAMES: u32 = 250;

/// The background model and the frame, as a pixel is judged against them.
pub(super) struct Scene<'a> {
    pub mean: &'a [f32],
    pub frame: &'a GrayFrame<'a>,
    /// Per row, the zone's spans: the background is learned only there.
    pub spans: &'a [Vec<(u32, u32)>],
    pub min_diff: f32,
}

impl Scene<'_> {
    /// Whether `(x, y)` lies on a strong edge of the background, across rows or across columns,
    /// between its two sides, while the frame `radius` pixels away on either side still
    /// matches the background: the edge drawn anew, no more than `2 radius − 1` pixels thick.
    pub(super) fn redrawn(&self, (x, y): (u32, u32), radius: u32) -> bool {
        let r = i64::from(radius.max(1));
        [(0, 1), (1, 0)]
            .into_iter()
            .any(|step| self.across((i64::from(x), i64::from(y)), step, r))
    }

    fn across(&self, (x, y): (i64, i64), (dx, dy): (i64, i64), r: i64) -> bool {
        let (mut lo, mut hi) = (f32::MAX, f32::MIN);
        // The background at the two sides, `r` away, as the loop reads it.
        let mut sides = [0.0f32; 2];
        for k in -r..=r {
            let Some(m) = self.mean_at(x + k * dx, y + k * dy) else {
                return false;
            };
            (lo, hi) = (lo.min(m), hi.max(m));
            match k {
                k if k == -r => sides[0] = m,
                k if k == r => sides[1] = m,
                _ => {}
            }
        }
        let kept =
            |k: i64, m: f32| (self.value_at(x + k * dx, y + k * dy) - m).abs() <= self.min_diff;
        hi - lo > EDGE_SPAN * self.min_diff
            && (lo..=hi).contains(&self.value_at(x, y))
            && kept(-r, sides[0])
            && kept(r, sides[1])
    }

    /// The background at `(x, y)`, where it is learned.
    fn mean_at(&self, x: i64, y: i64) -> Option<f32> {
        let (w, h) = (i64::from(self.frame.width), i64::from(self.frame.height));
        if x < 0 || y < 0 || x >= w || y >= h {
            return None;
        }
        let (xu, yu) = (x as u32, y as u32);
        let inside = self.spans[yu as usize]
            .iter()
            .any(|&(a, b)| a <= xu && xu < b);
        inside.then(|| self.mean[y as usize * w as usize + x as usize])
    }

    fn value_at(&self, x: i64, y: i64) -> f32 {
        f32::from(self.frame.row(y as u32)[x as usize])
    }
}
