//! A thrown body drawn into a frame: a ball (a disc) or a tumbling stick or bag (a capsule whose
//! long axis turns in 3-D, so that its blob grows, shrinks and turns from frame to frame), in its
//! own shade or a few grey levels off what lies behind it, blurred over the half of the frame
//! the shutter is open.

use super::ThrowSpec;
use super::draw::{Canvas, mid};
use super::world::Camera;

/// Where a body was drawn this frame.
pub(super) enum Seen {
    /// Its centre's pixel and its size as a blob (pixels).
    At(f64, f64, f64),
    /// Outside the frame.
    Out,
    /// Behind the camera: nothing to draw.
    Hidden,
}

/// The body of `spec`, which moved from `before` to `after` over the last `step` seconds and
/// has been flying `since` seconds at `after`. `background` is the static view the contrast of a
/// faint body is taken against (packed RGB, the canvas's size).
pub(super) fn draw(
    canvas: &mut Canvas<'_>,
    (camera, background): (&Camera, &[u8]),
    spec: &ThrowSpec,
    (before, after): ([f64; 3], [f64; 3]),
    (since, step): (f64, f64),
) -> Seen {
    let (Some(a), Some(b)) = (
        camera.project(mid(before, after, 0.5)),
        camera.project(after),
    ) else {
        return Seen::Hidden;
    };
    let r = match spec.size_m {
        // At depth b.2 along the camera's axis.
        Some(m) => (m * camera.f / b.2 / 2.0).max(0.75),
        None => spec.size_px / 2.0,
    };
    let reach = r * spec.tumble.map_or(1.0, |t| t.aspect);
    if b.0 < -reach || b.1 < -reach || b.0 > camera.w + reach || b.1 > camera.h + reach {
        return Seen::Out;
    }
    let c = match spec.contrast {
        Some(levels) => {
            let behind = luma(background, (canvas.w, canvas.h), (b.0, b.1));
            [(behind + levels).round().clamp(0.0, 255.0) as u8; 3]
        }
        None => [spec.shade; 3],
    };
    let Some(tumble) = spec.tumble else {
        canvas.segment((a.0, a.1), (b.0, b.1), r, c, 1.0);
        return Seen::At(b.0, b.1, 2.0 * r);
    };
    // Its width in metres at this depth, and half its length.
    let half = spec.size_m.unwrap_or(2.0 * r * b.2 / camera.f) * tumble.aspect / 2.0;
    let mut length = 0.0;
    for s in [0.5, 0.75, 1.0] {
        let centre = mid(before, after, s);
        let d = tumble.direction(since - (1.0 - s) * step);
        let ends = (
            camera.project([0, 1, 2].map(|i| centre[i] + half * d[i])),
            camera.project([0, 1, 2].map(|i| centre[i] - half * d[i])),
        );
        if let (Some(p), Some(q)) = ends {
            canvas.segment((p.0, p.1), (q.0, q.1), r, c, 1.0);
            length = ((p.0 - q.0).powi(2) + (p.1 - q.1).powi(2)).sqrt();
        }
    }
    Seen::At(b.0, b.1, (2.0 * r * (length + 2.0 * r)).sqrt())
}

/// The grey level of packed RGB `img` (`w × h`) at a pixel (clamped into the frame).
fn luma(img: &[u8], (w, h): (usize, usize), (x, y): (f64, f64)) -> f64 {
    let x = (x.max(0.0) as usize).min(w - 1);
    let y = (y.max(0.0) as usize).min(h - 1);
    let p = &img[(y * w + x) * 3..][..3];
    0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2])
}
