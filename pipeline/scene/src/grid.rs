//! The cell grid the scene is kept on, and the colour arithmetic of its cells.

use super::*;

/// The grid's geometry.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Grid {
    /// Image pixels per cell side.
    pub(super) cell: u32,
    pub(super) w: u32,
    pub(super) h: u32,
    pub(super) image: Size,
}

impl Grid {
    pub(super) fn new(image: Size) -> Self {
        let cell = image.width.div_ceil(GRID_WIDTH).max(1);
        Self {
            cell,
            w: (image.width / cell).max(1),
            h: (image.height / cell).max(1),
            image,
        }
    }

    pub(super) fn len(&self) -> usize {
        (self.w * self.h) as usize
    }

    /// `cells` and every cell reached from them, cell to neighbouring cell (the 8 around with
    /// `diagonal`, else the 4 beside), that `seen` has not marked and `take` accepts; marks
    /// what it adds in `seen`.
    pub(super) fn grow(
        self,
        mut cells: Vec<u32>,
        diagonal: bool,
        seen: &mut [bool],
        take: impl Fn(usize) -> bool,
    ) -> Vec<u32> {
        const BESIDE: [(i64, i64); 4] = [(1, 0), (-1, 0), (0, 1), (0, -1)];
        const AROUND: [(i64, i64); 8] = [
            (-1, -1),
            (0, -1),
            (1, -1),
            (-1, 0),
            (1, 0),
            (-1, 1),
            (0, 1),
            (1, 1),
        ];
        let steps: &[(i64, i64)] = if diagonal { &AROUND } else { &BESIDE };
        let (w, h) = (i64::from(self.w), i64::from(self.h));
        let mut k = 0;
        while k < cells.len() {
            let i = i64::from(cells[k]);
            k += 1;
            for &(dx, dy) in steps {
                let (nx, ny) = (i % w + dx, i / w + dy);
                if nx < 0 || ny < 0 || nx >= w || ny >= h {
                    continue;
                }
                let n = (ny * w + nx) as usize;
                if !seen[n] && take(n) {
                    seen[n] = true;
                    cells.push(n as u32);
                }
            }
        }
        cells
    }

    /// The cell's centre, normalised.
    pub(super) fn centre(&self, i: usize) -> (f64, f64) {
        let (x, y) = (i as u32 % self.w, i as u32 / self.w);
        (
            (f64::from(x) + 0.5) / f64::from(self.w),
            (f64::from(y) + 0.5) / f64::from(self.h),
        )
    }

    /// Cells covered by a box in source pixels (`source` the source frame's size), inclusive.
    pub(super) fn cell_range(&self, b: &BBoxPx, source: Size) -> Option<(u32, u32, u32, u32)> {
        let sx = f64::from(self.w) / f64::from(source.width.max(1));
        let sy = f64::from(self.h) / f64::from(source.height.max(1));
        let x1 = (f64::from(b.x1) * sx).floor().max(0.0);
        let y1 = (f64::from(b.y1) * sy).floor().max(0.0);
        let x2 = (f64::from(b.x2) * sx).ceil().min(f64::from(self.w)) - 1.0;
        let y2 = (f64::from(b.y2) * sy).ceil().min(f64::from(self.h)) - 1.0;
        (x2 >= x1 && y2 >= y1).then_some((x1 as u32, y1 as u32, x2 as u32, y2 as u32))
    }

    /// A box of cells in source pixels.
    pub(super) fn px_box(self, (x1, y1, x2, y2): (u32, u32, u32, u32), source: Size) -> BBoxPx {
        let sx = f64::from(source.width) / f64::from(self.w);
        let sy = f64::from(source.height) / f64::from(self.h);
        BBoxPx::new(
            (f64::from(x1) * sx) as f32,
            (f64::from(y1) * sy) as f32,
            (f64::from(x2 + 1) * sx) as f32,
            (f64::from(y2 + 1) * sy) as f32,
        )
    }
}

pub(super) fn luma(c: [f32; 3]) -> f32 {
    // Channel order does not matter for the tests below except here; BGR and RGB weigh green
    // the same and red/blue nearly alike, so the mean is used.
    (c[0] + c[1] + c[2]) / 3.0
}

pub(super) fn differs(a: [f32; 3], b: [f32; 3], threshold: f32) -> bool {
    (a[0] - b[0]).abs() > threshold
        || (a[1] - b[1]).abs() > threshold
        || (a[2] - b[2]).abs() > threshold
}

pub(super) fn scaled(c: [f32; 3], k: f32) -> [f32; 3] {
    [c[0] * k, c[1] * k, c[2] * k]
}

/// The cells' bounds `(x1, y1, x2, y2)`, inclusive, on a grid `w` cells wide.
pub(super) fn cell_bounds(cells: &[u32], w: u32) -> (u32, u32, u32, u32) {
    let mut b = (u32::MAX, u32::MAX, 0, 0);
    for &i in cells {
        let (x, y) = (i % w, i / w);
        b = (b.0.min(x), b.1.min(y), b.2.max(x), b.3.max(y));
    }
    b
}
