//! A veil of light over the picture: the glare of a sun in or just beyond the frame lifts every
//! level by an amount that is greatest near the sun and falls off smoothly away from it, and a
//! frond or a branch crossing the sun dims it, over the whole picture at once but not alike.
//! Light adds, so the veil is an offset, the same on every level at one place. It is read as
//! the median of what the exposure's curve leaves unexplained in each cell of a coarse grid, and
//! laid over the picture between the cells' centres.
//!
//! An object cannot pass for a veil: the largest candidate blob (`max_area`, 4,000 pixels by
//! default) covers a fifth of a cell of a 720p frame (a tenth at 1080p), far from the half of
//! its samples that would move its median. Nor can a high edge of light (floodlights coming on
//! over a facade against the sky): a veil is taken only where, on a grid four times finer, it
//! leaves the background no further from the picture than it was, and laid between the cells'
//! centres a high edge's step lifts the dark side beside it.

/// The grid's columns and rows.
const COLS: usize = 8;
const ROWS: usize = 6;
/// The finer grid the veil is checked on has this many cells across each of the veil's.
const FINE: usize = 4;
const FINE_CELLS: usize = COLS * ROWS * FINE * FINE;
/// A cell of the veil with fewer samples (outside the zone, or mostly so) takes its
/// neighbours' offset; a fine cell with fewer is not checked.
const MIN_SAMPLES: usize = 24;
const MIN_FINE_SAMPLES: usize = 16;
/// A veil lifts or dims the picture by at most this many levels anywhere; more is a change of
/// scene, the global-change guard's.
const MAX_LIFT: f32 = 48.0;
/// A fine cell is harmed where the veil and the curve would leave its median further from the
/// picture than it was, by more than this many levels: half the per-pixel test's least
/// difference (12 levels by default), so that what is left with noise on top seldom stands out.
/// A veil is taken where half the fine cells can be checked and at most one in [`HARMED`] of
/// them is harmed. What the veil does not explain and does not make worse does not count: a
/// window lit or darkened (80 levels, a fine cell or two), an object, the discs of a flare's
/// ghosts. An edge of light 24 levels high (floodlights on a facade against the sky) harms a
/// fine cell or two in every row it crosses.
const SLACK: f32 = 6.0;
const HARMED: usize = 96;

/// The offset of each cell, at its centre.
pub(super) struct Veil {
    lift: [f32; COLS * ROWS],
}

/// A frame's samples, per fine cell: what the exposure's curve left of each one's shift, and
/// the shift itself; and scratch for a cell of the veil's.
#[derive(Default)]
pub(super) struct Fine {
    left: Vec<Vec<f32>>,
    moved: Vec<Vec<f32>>,
    scratch: Vec<f32>,
}

impl Fine {
    /// Empties every cell (there are [`FINE_CELLS`]).
    pub(super) fn clear(&mut self) {
        for cells in [&mut self.left, &mut self.moved] {
            cells.resize_with(FINE_CELLS, Vec::new);
            for c in cells.iter_mut() {
                c.clear();
            }
        }
    }

    /// Takes the sample at pixel `(x, y)` of a `w` × `h` frame: its shift, and what the curve
    /// left of it.
    pub(super) fn push(
        &mut self,
        (x, y): (usize, usize),
        (w, h): (usize, usize),
        moved: f32,
        left: f32,
    ) {
        let (across, down) = (COLS * FINE, ROWS * FINE);
        let i = (y * down / h).min(down - 1) * across + (x * across / w).min(across - 1);
        self.left[i].push(left);
        self.moved[i].push(moved);
    }
}

/// Where `at` (a position along an axis of `len` pixels, split in `n` cells) lies between the
/// cells' centres.
fn between(at: f32, len: usize, n: usize) -> Between {
    let f = (at * n as f32 / len as f32 - 0.5).clamp(0.0, (n - 1) as f32);
    let a = f as usize;
    (a, (a + 1).min(n - 1), f - a as f32)
}

impl Veil {
    /// From what the curve left in each cell (the medians of its fine cells' samples together,
    /// reordered), cells with too few samples filled from their neighbours, if laid over a
    /// `w` × `h` frame it harms few fine cells. `None` when no cell has enough samples, when a
    /// cell moved more than a veil does, or when the veil would harm the picture.
    pub(super) fn read(fine: &mut Fine, (w, h): (usize, usize)) -> Option<Self> {
        let mut lift = [f32::NAN; COLS * ROWS];
        let scratch = &mut fine.scratch;
        for (i, l) in lift.iter_mut().enumerate() {
            let (r, c) = (i / COLS, i % COLS);
            scratch.clear();
            for fr in r * FINE..(r + 1) * FINE {
                for fc in c * FINE..(c + 1) * FINE {
                    scratch.extend_from_slice(&fine.left[fr * COLS * FINE + fc]);
                }
            }
            if scratch.len() >= MIN_SAMPLES {
                *l = super::median(scratch);
            }
        }
        if lift.iter().any(|l| l.abs() > MAX_LIFT) {
            return None;
        }
        fill(&mut lift)?;
        let veil = Self { lift };
        veil.harms_few(fine, (w, h)).then_some(veil)
    }

    /// Whether laid over the picture the veil harms few fine cells ([`SLACK`], [`HARMED`]).
    fn harms_few(&self, fine: &mut Fine, (w, h): (usize, usize)) -> bool {
        let (mut checked, mut harmed) = (0, 0);
        let (cw, ch) = (
            w as f32 / (COLS * FINE) as f32,
            h as f32 / (ROWS * FINE) as f32,
        );
        let cells = fine.left.iter_mut().zip(fine.moved.iter_mut());
        for (i, (left, moved)) in cells.enumerate() {
            if left.len() < MIN_FINE_SAMPLES {
                continue;
            }
            let (fr, fc) = (i / (COLS * FINE), i % (COLS * FINE));
            let lift = self.at(((fc as f32 + 0.5) * cw, (fr as f32 + 0.5) * ch), (w, h));
            checked += 1;
            let (after, before) = (
                (super::median(left) - lift).abs(),
                super::median(moved).abs(),
            );
            harmed += usize::from(after > before + SLACK);
        }
        2 * checked >= FINE_CELLS && harmed * HARMED <= checked
    }

    /// The veil at `(x, y)` (pixels, fractional) of a `w` × `h` frame.
    fn at(&self, (x, y): (f32, f32), (w, h): (usize, usize)) -> f32 {
        let knots = self.across(y, h);
        let (c0, c1, tx) = between(x, w, COLS);
        knots[c0] * (1.0 - tx) + knots[c1] * tx
    }

    /// The veil along row `y` of a frame `h` rows high, pixel by pixel into `out`, its columns
    /// placed by [`columns`].
    pub(super) fn row(&self, y: usize, h: usize, columns: &[Between], out: &mut Vec<f32>) {
        let knots = self.across(y as f32 + 0.5, h);
        out.clear();
        out.extend(
            columns
                .iter()
                .map(|&(c0, c1, tx)| knots[c0] * (1.0 - tx) + knots[c1] * tx),
        );
    }

    /// The veil at each column's centre, at `y` (pixels, fractional) of a frame `h` rows high.
    fn across(&self, y: f32, h: usize) -> [f32; COLS] {
        let (r0, r1, ty) = between(y, h, ROWS);
        std::array::from_fn(|c| {
            self.lift[r0 * COLS + c] * (1.0 - ty) + self.lift[r1 * COLS + c] * ty
        })
    }
}

/// Where a pixel lies between the cells' centres along an axis: the cell before, the one after,
/// and the weight of the one after.
pub(super) type Between = (usize, usize, f32);

/// Where each column of a frame `w` pixels wide lies between the cells' centres, worked out
/// once for every row [`Veil::row`] lays.
pub(super) fn columns(w: usize) -> Vec<Between> {
    (0..w).map(|x| between(x as f32 + 0.5, w, COLS)).collect()
}

/// Fills the cells left empty (NaN) with the mean of their known neighbours, ring by ring;
/// `None` when every cell is empty.
fn fill(lift: &mut [f32; COLS * ROWS]) -> Option<()> {
    if lift.iter().all(|l| l.is_nan()) {
        return None;
    }
    while lift.iter().any(|l| l.is_nan()) {
        let known = *lift;
        for (i, l) in lift.iter_mut().enumerate().filter(|(_, l)| l.is_nan()) {
            let (r, c) = (i / COLS, i % COLS);
            let neighbours = [
                (r > 0).then(|| i - COLS),
                (r + 1 < ROWS).then(|| i + COLS),
                (c > 0).then(|| i - 1),
                (c + 1 < COLS).then(|| i + 1),
            ];
            let (sum, n) = neighbours
                .into_iter()
                .flatten()
                .map(|k| known[k])
                .filter(|v| !v.is_nan())
                .fold((0.0, 0), |(sum, n), v| (sum + v, n + 1));
            if n > 0 {
                *l = sum / n as f32;
            }
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The samples of an 800 × 600 frame, 4 px apart, each shifted by `f(x, y)` (the curve
    /// leaving all of it).
    fn sampled_at(f: impl Fn(usize, usize) -> Option<f32>) -> Fine {
        let (w, h) = (800, 600);
        let mut fine = Fine::default();
        fine.clear();
        for y in (0..h).step_by(4) {
            for x in (0..w).step_by(4) {
                if let Some(v) = f(x, y) {
                    fine.push((x, y), (w, h), v, v);
                }
            }
        }
        fine
    }

    /// The same, each sample shifted by `f(column, row)` of its cell (100 × 100 px).
    fn sampled(f: impl Fn(usize, usize) -> Option<f32>) -> Fine {
        sampled_at(|x, y| f(x / 100, y / 100))
    }

    #[test]
    fn a_veil_is_smooth_between_cell_centres_and_flat_beyond_them() {
        // Every cell lifted by its column's index, except one outside the zone.
        let mut fine = sampled(|c, r| (r * COLS + c != 9).then_some(c as f32));
        let veil = Veil::read(&mut fine, (800, 600));
        let veil = veil.expect("a veil");
        assert_eq!(veil.lift[9], 1.0, "filled from its neighbours");
        let mut row = Vec::new();
        veil.row(250, 600, &columns(800), &mut row);
        assert_eq!(row.len(), 800);
        // Cell centres are 100 px apart from x = 50: flat before the first, linear between.
        assert_eq!(row[10], 0.0);
        assert!((row[149] - 0.995).abs() < 1e-4, "{}", row[149]);
        assert_eq!(row[799], (COLS - 1) as f32);
        assert!(row.windows(2).all(|p| p[1] >= p[0] && p[1] - p[0] <= 0.011));
    }

    #[test]
    fn a_high_edge_of_light_more_than_a_veil_or_nothing_to_read_is_none() {
        // The left half lifted by 24 levels: between the cells' centres the veil ramps over a
        // cell, and lifts the fine cells on the dark side of the edge by 9 levels.
        let read = |mut fine: Fine| Veil::read(&mut fine, (800, 600));
        assert!(read(sampled(|c, _| Some(if c < COLS / 2 { 24.0 } else { 0.0 }))).is_none());
        // A third as high is a veil: what it adds beside the edge is under the slack.
        assert!(read(sampled(|c, _| Some(if c < COLS / 2 { 8.0 } else { 0.0 }))).is_some());
        // Thirty-two windows lit over a picture that a veil lifts by 2 levels, each a fine cell
        // (25 × 25 px): the veil leaves them as far off as they were, and harms nothing.
        let lit = sampled_at(|x, y| {
            let window = (x / 25) % 4 == 1 && (y / 25) % 6 == 1;
            Some(if window { 80.0 } else { 2.0 })
        });
        assert!(read(lit).is_some());
        assert!(
            read(sampled(|c, r| Some(if (c, r) == (4, 3) {
                60.0
            } else {
                2.0
            })))
            .is_none()
        );
        assert!(read(sampled(|_, _| None)).is_none());
    }
}
