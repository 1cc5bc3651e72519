//! A veil of light over the picture: the glare of a sun in or just beyond the frame lifts every
//! level by an amount that is greatest near the sun and falls off smoothly away from it, and a
//! frond or a branch crossing the sun dims it, over the whole picture at once but not alike.
//! Light adds, so the veil is an offset, the same on every level at one place. It is read as
//! the median of what the exposure's curve leaves unexplained in each cell of a coarse grid, and
//! laid over the picture between the cells' centres.
//!
//! An object cannot pass for a veil: the largest candidate blob (`max_area`, 4,000 pixels by
//! default) covers under a tenth of a cell of a 720p frame, far from the half of its samples
//! that would move its median.

/// The grid's columns and rows.
const COLS: usize = 8;
const ROWS: usize = 6;
pub(super) const CELLS: usize = COLS * ROWS;
/// A cell with fewer samples (outside the zone, or mostly so) takes its neighbours' offset.
const MIN_SAMPLES: usize = 24;
/// A veil lifts or dims the picture by at most this many levels anywhere; more is a change of
/// scene, the global-change guard's.
const MAX_LIFT: f32 = 48.0;

/// The offset of each cell, at its centre.
pub(super) struct Veil {
    lift: [f32; CELLS],
}

/// The cell of pixel `(x, y)` of a `w` × `h` frame.
pub(super) fn cell(x: usize, y: usize, (w, h): (usize, usize)) -> usize {
    let (c, r) = ((x * COLS / w).min(COLS - 1), (y * ROWS / h).min(ROWS - 1));
    r * COLS + c
}

/// Where `at` (a pixel's index along an axis of `len` pixels, split in `n` cells) lies between
/// the cells' centres: the cell before, the one after, and the weight of the one after.
fn between(at: usize, len: usize, n: usize) -> (usize, usize, f32) {
    let f = ((at as f32 + 0.5) * n as f32 / len as f32 - 0.5).clamp(0.0, (n - 1) as f32);
    let a = f as usize;
    (a, (a + 1).min(n - 1), f - a as f32)
}

impl Veil {
    /// From each cell's residual samples (`CELLS` of them, reordered): their medians, cells
    /// with too few samples filled from their neighbours. `None` when no cell has enough, or
    /// when a cell moved more than a veil does.
    pub(super) fn read(cells: &mut [Vec<f32>]) -> Option<Self> {
        let mut lift = [f32::NAN; CELLS];
        for (l, c) in lift.iter_mut().zip(cells.iter_mut()) {
            if c.len() >= MIN_SAMPLES {
                *l = super::median(c);
            }
        }
        if lift.iter().any(|l| l.abs() > MAX_LIFT) {
            return None;
        }
        // Cells left empty take the mean of their known neighbours, ring by ring.
        while lift.iter().any(|l| l.is_nan()) {
            let known = lift;
            if known.iter().all(|l| l.is_nan()) {
                return None;
            }
            for (i, l) in lift.iter_mut().enumerate().filter(|(_, l)| l.is_nan()) {
                let (r, c) = ((i / COLS) as isize, (i % COLS) as isize);
                let (mut sum, mut n) = (0.0, 0);
                for (dr, dc) in [(-1, 0), (1, 0), (0, -1), (0, 1)] {
                    let (nr, nc) = (r + dr, c + dc);
                    if (0..ROWS as isize).contains(&nr) && (0..COLS as isize).contains(&nc) {
                        let v = known[nr as usize * COLS + nc as usize];
                        if !v.is_nan() {
                            sum += v;
                            n += 1;
                        }
                    }
                }
                if n > 0 {
                    *l = sum / n as f32;
                }
            }
        }
        Some(Self { lift })
    }

    /// The veil along row `y` of a `w` × `h` frame, pixel by pixel, into `out`.
    pub(super) fn row(&self, y: usize, (w, h): (usize, usize), out: &mut Vec<f32>) {
        let (r0, r1, ty) = between(y, h, ROWS);
        let knots: [f32; COLS] = std::array::from_fn(|c| {
            self.lift[r0 * COLS + c] * (1.0 - ty) + self.lift[r1 * COLS + c] * ty
        });
        out.clear();
        out.extend((0..w).map(|x| {
            let (c0, c1, tx) = between(x, w, COLS);
            knots[c0] * (1.0 - tx) + knots[c1] * tx
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_veil_is_smooth_between_cell_centres_and_flat_beyond_them() {
        let mut cells: [Vec<f32>; CELLS] = std::array::from_fn(|_| Vec::new());
        // Every cell lifted by its column's index, except one outside the zone.
        for (i, c) in cells.iter_mut().enumerate() {
            if i != 9 {
                c.extend(std::iter::repeat_n((i % COLS) as f32, MIN_SAMPLES));
            }
        }
        let veil = Veil::read(&mut cells).expect("a veil");
        assert_eq!(veil.lift[9], 1.0, "filled from its neighbours");
        let (w, h) = (800, 600);
        let mut row = Vec::new();
        veil.row(250, (w, h), &mut row);
        assert_eq!(row.len(), w);
        // Cell centres are 100 px apart from x = 50: flat before the first, linear between.
        assert_eq!(row[10], 0.0);
        assert!((row[149] - 0.995).abs() < 1e-4, "{}", row[149]);
        assert_eq!(row[w - 1], (COLS - 1) as f32);
        assert!(row.windows(2).all(|p| p[1] >= p[0] && p[1] - p[0] <= 0.011));
    }

    #[test]
    fn more_than_a_veil_or_nothing_to_read_is_none() {
        let mut cells: [Vec<f32>; CELLS] = std::array::from_fn(|_| vec![2.0; MIN_SAMPLES]);
        cells[20] = vec![60.0; MIN_SAMPLES];
        assert!(Veil::read(&mut cells).is_none());
        let mut empty: [Vec<f32>; CELLS] = std::array::from_fn(|_| Vec::new());
        assert!(Veil::read(&mut empty).is_none());
    }
}
