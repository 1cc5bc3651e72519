//! Geometry in named coordinate spaces: `_px` is source-frame pixels, `_norm` is [0,1]² of the
//! frame (x right, y down).

use serde::{Deserialize, Serialize};
use std::fmt;

/// A frame size in pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Size {
    pub width: u32,
    pub height: u32,
}

impl Size {
    pub const fn new(width: u32, height: u32) -> Self {
        Self { width, height }
    }

    /// Horizontal and vertical factors from this size's pixels to `to`'s.
    pub fn scale_to(self, to: Size) -> (f64, f64) {
        (
            f64::from(to.width) / f64::from(self.width.max(1)),
            f64::from(to.height) / f64::from(self.height.max(1)),
        )
    }
}

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}", self.width, self.height)
    }
}

/// An axis-aligned box in source-frame pixels, `x1 <= x2`, `y1 <= y2`.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct BBoxPx {
    pub x1: f32,
    pub y1: f32,
    pub x2: f32,
    pub y2: f32,
}

impl BBoxPx {
    pub const fn new(x1: f32, y1: f32, x2: f32, y2: f32) -> Self {
        Self { x1, y1, x2, y2 }
    }

    pub fn width(&self) -> f32 {
        (self.x2 - self.x1).max(0.0)
    }

    pub fn height(&self) -> f32 {
        (self.y2 - self.y1).max(0.0)
    }

    pub fn area(&self) -> f32 {
        self.width() * self.height()
    }

    pub fn centre(&self) -> (f32, f32) {
        ((self.x1 + self.x2) * 0.5, (self.y1 + self.y2) * 0.5)
    }

    /// The point where an object touches the ground in an angled view: the usual zone anchor.
    pub fn bottom_centre(&self) -> (f32, f32) {
        ((self.x1 + self.x2) * 0.5, self.y2)
    }

    pub fn intersection(&self, other: &BBoxPx) -> f32 {
        let w = (self.x2.min(other.x2) - self.x1.max(other.x1)).max(0.0);
        let h = (self.y2.min(other.y2) - self.y1.max(other.y1)).max(0.0);
        w * h
    }

    /// Intersection over union; 0 when both boxes are empty.
    pub fn iou(&self, other: &BBoxPx) -> f32 {
        let inter = self.intersection(other);
        let union = self.area() + other.area() - inter;
        if union <= 0.0 { 0.0 } else { inter / union }
    }

    /// Clamps the box into a frame of `size`.
    /// The box in a frame of size `to`, from a frame of size `from` (the same view at another
    /// resolution: a camera's sub-stream and main stream).
    pub fn rescaled(&self, from: Size, to: Size) -> BBoxPx {
        let (sx, sy) = from.scale_to(to);
        BBoxPx::new(
            (f64::from(self.x1) * sx) as f32,
            (f64::from(self.y1) * sy) as f32,
            (f64::from(self.x2) * sx) as f32,
            (f64::from(self.y2) * sy) as f32,
        )
    }

    pub fn clamp_to(&self, size: Size) -> BBoxPx {
        let (w, h) = (size.width as f32, size.height as f32);
        BBoxPx::new(
            self.x1.clamp(0.0, w),
            self.y1.clamp(0.0, h),
            self.x2.clamp(0.0, w),
            self.y2.clamp(0.0, h),
        )
    }

    pub fn to_array(self) -> [f32; 4] {
        [self.x1, self.y1, self.x2, self.y2]
    }
}

impl Serialize for BBoxPx {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_array().serialize(s)
    }
}

impl<'de> Deserialize<'de> for BBoxPx {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let [x1, y1, x2, y2] = <[f32; 4]>::deserialize(d)?;
        Ok(BBoxPx::new(x1, y1, x2, y2))
    }
}

/// A point in normalised frame coordinates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PointNorm {
    pub x: f64,
    pub y: f64,
}

/// Why a polygon was rejected.
#[derive(Clone, Debug, PartialEq)]
pub enum PolygonError {
    TooFewPoints(usize),
    OutOfRange { index: usize, x: f64, y: f64 },
    SelfIntersecting { edge_a: usize, edge_b: usize },
    ZeroArea,
}

impl fmt::Display for PolygonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolygonError::TooFewPoints(n) => {
                write!(f, "a polygon needs at least 3 points, got {n}")
            }
            PolygonError::OutOfRange { index, x, y } => write!(
                f,
                "point {index} ({x}, {y}) is outside [0,1]: polygons use normalised coordinates"
            ),
            PolygonError::SelfIntersecting { edge_a, edge_b } => {
                write!(
                    f,
                    "polygon edges {edge_a} and {edge_b} cross: the polygon is self-intersecting"
                )
            }
            PolygonError::ZeroArea => write!(f, "polygon has zero area"),
        }
    }
}

impl std::error::Error for PolygonError {}

/// A validated simple polygon in normalised coordinates: ≥ 3 points inside [0,1]², edges that do
/// not cross, non-zero area.
#[derive(Clone, Debug, PartialEq)]
pub struct PolygonNorm {
    points: Vec<PointNorm>,
}

impl PolygonNorm {
    pub fn new(points: Vec<PointNorm>) -> Result<Self, PolygonError> {
        let n = points.len();
        if n < 3 {
            return Err(PolygonError::TooFewPoints(n));
        }
        for (index, p) in points.iter().enumerate() {
            let ok = |v: f64| v.is_finite() && (0.0..=1.0).contains(&v);
            if !ok(p.x) || !ok(p.y) {
                return Err(PolygonError::OutOfRange {
                    index,
                    x: p.x,
                    y: p.y,
                });
            }
        }
        for a in 0..n {
            for b in a + 1..n {
                // Adjacent edges share a vertex; skip them (and the wrap-around pair).
                if b == a + 1 || (a == 0 && b == n - 1) {
                    continue;
                }
                let (p1, p2) = (points[a], points[(a + 1) % n]);
                let (q1, q2) = (points[b], points[(b + 1) % n]);
                if segments_cross(p1, p2, q1, q2) {
                    return Err(PolygonError::SelfIntersecting {
                        edge_a: a,
                        edge_b: b,
                    });
                }
            }
        }
        let polygon = Self { points };
        if polygon.area() <= f64::EPSILON {
            return Err(PolygonError::ZeroArea);
        }
        Ok(polygon)
    }

    pub fn points(&self) -> &[PointNorm] {
        &self.points
    }

    /// Shoelace area in normalised units.
    pub fn area(&self) -> f64 {
        let n = self.points.len();
        let twice: f64 = (0..n)
            .map(|i| {
                let (a, b) = (self.points[i], self.points[(i + 1) % n]);
                a.x * b.y - b.x * a.y
            })
            .sum();
        twice.abs() * 0.5
    }

    /// Even-odd point-in-polygon test for a normalised point.
    pub fn contains(&self, p: PointNorm) -> bool {
        let mut inside = false;
        let n = self.points.len();
        let mut j = n - 1;
        for i in 0..n {
            let (a, b) = (self.points[i], self.points[j]);
            if (a.y > p.y) != (b.y > p.y) {
                let x_cross = (b.x - a.x) * (p.y - a.y) / (b.y - a.y) + a.x;
                if p.x < x_cross {
                    inside = !inside;
                }
            }
            j = i;
        }
        inside
    }

    /// The fraction of `bbox` (pixels of a frame of `size`) that lies inside the polygon, in
    /// [0, 1]: the polygon clipped to the box (Sutherland–Hodgman; the box is the convex
    /// clipper, so a concave zone is fine), its area over the box's.
    pub fn fraction_of_box_inside(&self, bbox: BBoxPx, size: Size) -> f64 {
        let (w, h) = (f64::from(size.width.max(1)), f64::from(size.height.max(1)));
        let (x1, y1, x2, y2) = (
            f64::from(bbox.x1) / w,
            f64::from(bbox.y1) / h,
            f64::from(bbox.x2) / w,
            f64::from(bbox.y2) / h,
        );
        let box_area = (x2 - x1) * (y2 - y1);
        if box_area <= 0.0 {
            return 0.0;
        }
        let mut poly: Vec<(f64, f64)> = self.points.iter().map(|p| (p.x, p.y)).collect();
        // Keep the part on the inner side of each box edge in turn.
        let edges: [ClipEdge; 4] = [
            (|p, v| p.0 >= v, cut_x, x1),
            (|p, v| p.0 <= v, cut_x, x2),
            (|p, v| p.1 >= v, cut_y, y1),
            (|p, v| p.1 <= v, cut_y, y2),
        ];
        for (inside, cut, v) in edges {
            let mut out = Vec::with_capacity(poly.len() + 4);
            for i in 0..poly.len() {
                let (cur, prev) = (poly[i], poly[(i + poly.len() - 1) % poly.len()]);
                match (inside(&cur, v), inside(&prev, v)) {
                    (true, true) => out.push(cur),
                    (true, false) => {
                        out.push(cut(prev, cur, v));
                        out.push(cur);
                    }
                    (false, true) => out.push(cut(prev, cur, v)),
                    (false, false) => {}
                }
            }
            poly = out;
            if poly.is_empty() {
                return 0.0;
            }
        }
        let area: f64 = (0..poly.len())
            .map(|i| {
                let (a, b) = (poly[i], poly[(i + 1) % poly.len()]);
                a.0 * b.1 - b.0 * a.1
            })
            .sum::<f64>()
            .abs()
            / 2.0;
        (area / box_area).clamp(0.0, 1.0)
    }

    /// Tests a point given in pixels of a frame of `size`.
    pub fn contains_px(&self, (x, y): (f32, f32), size: Size) -> bool {
        self.contains(PointNorm {
            x: f64::from(x) / f64::from(size.width.max(1)),
            y: f64::from(y) / f64::from(size.height.max(1)),
        })
    }
}

/// One edge of a clipping box: which side is kept, where a segment crosses it, and where it is.
type ClipEdge = (
    fn(&(f64, f64), f64) -> bool,
    fn((f64, f64), (f64, f64), f64) -> (f64, f64),
    f64,
);

/// Where the segment `a → b` meets the vertical line `x = v`.
fn cut_x(a: (f64, f64), b: (f64, f64), v: f64) -> (f64, f64) {
    let t = (v - a.0) / (b.0 - a.0);
    (v, a.1 + t * (b.1 - a.1))
}

/// Where the segment `a → b` meets the horizontal line `y = v`.
fn cut_y(a: (f64, f64), b: (f64, f64), v: f64) -> (f64, f64) {
    let t = (v - a.1) / (b.1 - a.1);
    (a.0 + t * (b.0 - a.0), v)
}

fn orientation(a: PointNorm, b: PointNorm, c: PointNorm) -> f64 {
    (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x)
}

fn on_segment(a: PointNorm, b: PointNorm, p: PointNorm) -> bool {
    p.x >= a.x.min(b.x) && p.x <= a.x.max(b.x) && p.y >= a.y.min(b.y) && p.y <= a.y.max(b.y)
}

fn segments_cross(p1: PointNorm, p2: PointNorm, q1: PointNorm, q2: PointNorm) -> bool {
    let d1 = orientation(q1, q2, p1);
    let d2 = orientation(q1, q2, p2);
    let d3 = orientation(p1, p2, q1);
    let d4 = orientation(p1, p2, q2);
    if ((d1 > 0.0 && d2 < 0.0) || (d1 < 0.0 && d2 > 0.0))
        && ((d3 > 0.0 && d4 < 0.0) || (d3 < 0.0 && d4 > 0.0))
    {
        return true;
    }
    (d1 == 0.0 && on_segment(q1, q2, p1))
        || (d2 == 0.0 && on_segment(q1, q2, p2))
        || (d3 == 0.0 && on_segment(p1, p2, q1))
        || (d4 == 0.0 && on_segment(p1, p2, q2))
}

#[cfg(test)]
mod tests {

    #[test]
    fn fraction_of_a_box_inside_a_zone_is_its_clipped_area() {
        let size = Size::new(100, 100);
        let left_half = poly(&[(0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0)]).unwrap();
        let b = BBoxPx::new(40.0, 10.0, 60.0, 30.0); // straddles x = 50
        assert!((left_half.fraction_of_box_inside(b, size) - 0.5).abs() < 1e-9);
        assert_eq!(
            left_half.fraction_of_box_inside(BBoxPx::new(60.0, 0.0, 80.0, 20.0), size),
            0.0
        );
        assert!(
            (left_half.fraction_of_box_inside(BBoxPx::new(0.0, 0.0, 20.0, 20.0), size) - 1.0).abs()
                < 1e-9
        );
        // A concave L-shaped zone: the box's top-right quarter is outside the L.
        let l = l_shape();
        let b = BBoxPx::new(30.0, 30.0, 70.0, 70.0);
        assert!((l.fraction_of_box_inside(b, size) - 0.75).abs() < 1e-9);
    }

    use super::*;
    use proptest::prelude::*;

    fn poly(pts: &[(f64, f64)]) -> Result<PolygonNorm, PolygonError> {
        PolygonNorm::new(pts.iter().map(|&(x, y)| PointNorm { x, y }).collect())
    }

    /// An L: the unit square without its top-right quarter.
    fn l_shape() -> PolygonNorm {
        poly(&[
            (0.0, 0.0),
            (0.5, 0.0),
            (0.5, 0.5),
            (1.0, 0.5),
            (1.0, 1.0),
            (0.0, 1.0),
        ])
        .unwrap()
    }

    #[test]
    fn rejects_bow_tie() {
        let err = poly(&[(0.1, 0.1), (0.9, 0.9), (0.9, 0.1), (0.1, 0.9)]).unwrap_err();
        assert!(
            matches!(err, PolygonError::SelfIntersecting { .. }),
            "{err}"
        );
    }

    #[test]
    fn rejects_out_of_range_and_short() {
        assert_eq!(
            poly(&[(0.0, 0.0), (1.0, 0.0)]).unwrap_err(),
            PolygonError::TooFewPoints(2)
        );
        assert!(matches!(
            poly(&[(0.0, 0.0), (1.2, 0.0), (0.5, 0.5)]).unwrap_err(),
            PolygonError::OutOfRange { index: 1, .. }
        ));
        assert_eq!(
            poly(&[(0.0, 0.0), (0.5, 0.5), (1.0, 1.0)]).unwrap_err(),
            PolygonError::ZeroArea
        );
    }

    #[test]
    fn concave_polygon_contains() {
        // An L shape: the notch at the top right is outside.
        let l = l_shape();
        assert!(l.contains(PointNorm { x: 0.25, y: 0.25 }));
        assert!(l.contains(PointNorm { x: 0.75, y: 0.75 }));
        assert!(!l.contains(PointNorm { x: 0.75, y: 0.25 }));
        assert!((l.area() - 0.75).abs() < 1e-12);
    }

    #[test]
    fn iou_basics() {
        let a = BBoxPx::new(0.0, 0.0, 10.0, 10.0);
        let b = BBoxPx::new(5.0, 0.0, 15.0, 10.0);
        assert!((a.iou(&b) - 50.0 / 150.0).abs() < 1e-6);
        assert_eq!(a.iou(&BBoxPx::new(20.0, 20.0, 30.0, 30.0)), 0.0);
        assert_eq!(a.iou(&a), 1.0);
    }

    proptest! {
        #[test]
        fn iou_is_symmetric_and_bounded(
            ax in 0f32..100., ay in 0f32..100., aw in 0f32..50., ah in 0f32..50.,
            bx in 0f32..100., by in 0f32..100., bw in 0f32..50., bh in 0f32..50.,
        ) {
            let a = BBoxPx::new(ax, ay, ax + aw, ay + ah);
            let b = BBoxPx::new(bx, by, bx + bw, by + bh);
            let (ab, ba) = (a.iou(&b), b.iou(&a));
            prop_assert!((ab - ba).abs() < 1e-5);
            prop_assert!((0.0..=1.0 + 1e-6).contains(&ab));
        }

        #[test]
        fn rectangle_contains_matches_bounds(
            x0 in 0.0f64..0.4, y0 in 0.0f64..0.4, x1 in 0.6f64..1.0, y1 in 0.6f64..1.0,
            px in 0.0f64..1.0, py in 0.0f64..1.0,
        ) {
            let r = poly(&[(x0, y0), (x1, y0), (x1, y1), (x0, y1)]).unwrap();
            let strictly_in = px > x0 && px < x1 && py > y0 && py < y1;
            let strictly_out = px < x0 || px > x1 || py < y0 || py > y1;
            let p = PointNorm { x: px, y: py };
            if strictly_in { prop_assert!(r.contains(p)); }
            if strictly_out { prop_assert!(!r.contains(p)); }
        }
    }
}
