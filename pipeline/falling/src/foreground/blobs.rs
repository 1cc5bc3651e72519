//! Foreground pixels into blobs: runs of a row, joined across rows where they touch
//! (8-connected, union-find), fragments within `MERGE_GAP` merged, sizes checked.

use super::{Blob, ForegroundFrame, ForegroundParams};

/// Blobs whose boxes come within this many pixels of each other are one; merging is skipped
/// in frames with more blobs than `MAX_MERGE` (rain).
const MERGE_GAP: u32 = 2;
const MAX_MERGE: usize = 256;

#[derive(Clone, Copy)]
pub(super) struct Run {
    y: u32,
    x0: u32,
    x1: u32,
    /// Its pixels that passed the per-pixel test.
    strong: u32,
}

/// Union-find over `runs` (in row order): runs on adjacent rows that touch (8-connected) join;
/// the groups of `params`' sizes become `out`'s blobs.
pub(super) fn group(
    runs: &[Run],
    parent: &mut Vec<u32>,
    params: &ForegroundParams,
    out: &mut ForegroundFrame,
) {
    let n = runs.len();
    parent.clear();
    parent.extend(0..n as u32);
    let (mut prev_start, mut prev_end) = (0usize, 0usize);
    let mut i = 0;
    while i < n {
        let y = runs[i].y;
        let row_start = i;
        while i < n && runs[i].y == y {
            i += 1;
        }
        if prev_end > prev_start && runs[prev_start].y + 1 == y {
            let mut p = prev_start;
            for c in row_start..i {
                let run = runs[c];
                while p < prev_end && runs[p].x1 < run.x0 {
                    p += 1;
                }
                let mut q = p;
                while q < prev_end && runs[q].x0 <= run.x1 {
                    union(parent, c as u32, q as u32);
                    q += 1;
                }
            }
        }
        (prev_start, prev_end) = (row_start, i);
    }
    #[derive(Clone, Copy)]
    struct Acc {
        area: u64,
        strong: u64,
        sx: f64,
        sy: f64,
        /// Sums of x², xy and y² over the pixel centres.
        sxx: f64,
        sxy: f64,
        syy: f64,
        x0: u32,
        y0: u32,
        x1: u32,
        y1: u32,
    }
    let mut acc: Vec<Option<Acc>> = vec![None; n];
    for (i, &r) in runs.iter().enumerate() {
        let root = find(parent, i as u32) as usize;
        let len = u64::from(r.x1 - r.x0);
        // Sums of pixel-centre x and x² over the run, and its row's centre.
        let sx = (f64::from(r.x0) + f64::from(r.x1)) * 0.5 * len as f64;
        let sxx = squares(r.x0, r.x1);
        let yc = f64::from(r.y) + 0.5;
        let a = acc[root].get_or_insert(Acc {
            area: 0,
            strong: 0,
            sx: 0.0,
            sy: 0.0,
            sxx: 0.0,
            sxy: 0.0,
            syy: 0.0,
            x0: r.x0,
            y0: r.y,
            x1: r.x1,
            y1: r.y + 1,
        });
        a.area += len;
        a.strong += u64::from(r.strong);
        a.sx += sx;
        a.sy += yc * len as f64;
        a.sxx += sxx;
        a.sxy += yc * sx;
        a.syy += yc * yc * len as f64;
        a.x0 = a.x0.min(r.x0);
        a.x1 = a.x1.max(r.x1);
        a.y0 = a.y0.min(r.y);
        a.y1 = a.y1.max(r.y + 1);
    }
    // Fragments of one object (split by a window edge it crosses) are one blob.
    let mut parts: Vec<Acc> = acc.into_iter().flatten().collect();
    if parts.len() <= MAX_MERGE {
        let mut i = 0;
        while i < parts.len() {
            let mut j = i + 1;
            let mut merged = false;
            while j < parts.len() {
                let (a, b) = (parts[i], parts[j]);
                let near = a.x0 <= b.x1 + MERGE_GAP
                    && b.x0 <= a.x1 + MERGE_GAP
                    && a.y0 <= b.y1 + MERGE_GAP
                    && b.y0 <= a.y1 + MERGE_GAP;
                if near {
                    parts[i] = Acc {
                        area: a.area + b.area,
                        strong: a.strong + b.strong,
                        sx: a.sx + b.sx,
                        sy: a.sy + b.sy,
                        sxx: a.sxx + b.sxx,
                        sxy: a.sxy + b.sxy,
                        syy: a.syy + b.syy,
                        x0: a.x0.min(b.x0),
                        y0: a.y0.min(b.y0),
                        x1: a.x1.max(b.x1),
                        y1: a.y1.max(b.y1),
                    };
                    parts.swap_remove(j);
                    merged = true;
                } else {
                    j += 1;
                }
            }
            if !merged {
                i += 1;
            }
        }
    }
    for a in parts {
        if a.area < u64::from(params.min_area) {
            out.too_small += 1;
            continue;
        }
        if a.area > u64::from(params.max_area) {
            out.too_large += 1;
            continue;
        }
        let n = a.area as f64;
        let (cx, cy) = (a.sx / n, a.sy / n);
        // Each pixel is a unit square, not a point: 1/12 more along each axis.
        let spread = [
            (a.sxx / n - cx * cx).max(0.0) + PIXEL_VAR,
            a.sxy / n - cx * cy,
            (a.syy / n - cy * cy).max(0.0) + PIXEL_VAR,
        ];
        out.blobs.push(Blob {
            area: a.area as u32,
            cx,
            cy,
            spread,
            x0: a.x0,
            y0: a.y0,
            x1: a.x1,
            y1: a.y1,
            strong: a.strong as u32,
        });
    }
}

/// The variance of a point spread evenly over a unit square, along either axis.
const PIXEL_VAR: f64 = 1.0 / 12.0;

/// The sum of `(x + 0.5)²` over the pixels `x0..x1`.
fn squares(x0: u32, x1: u32) -> f64 {
    let (a, n) = (f64::from(x0) + 0.5, f64::from(x1 - x0));
    n * a * a + a * n * (n - 1.0) + (n - 1.0) * n * (2.0 * n - 1.0) / 6.0
}

/// Takes the pixels `at` (row, column; in order) out of `runs` (in row order, each row's by
/// column), splitting the runs they lie in; `scratch` is reused. The pixels taken are strong:
/// a split run's other strong pixels are shared among its pieces by length.
pub(super) fn take_out(runs: &mut Vec<Run>, at: &[(u32, u32)], scratch: &mut Vec<Run>) {
    scratch.clear();
    let mut p = 0;
    for &r in runs.iter() {
        while p < at.len() && at[p] < (r.y, r.x0) {
            p += 1;
        }
        let first = p;
        while p < at.len() && at[p].0 == r.y && at[p].1 < r.x1 {
            p += 1;
        }
        if first == p {
            scratch.push(r);
            continue;
        }
        let taken = (p - first) as u32;
        let (left, strong_left) = (r.x1 - r.x0 - taken, r.strong.saturating_sub(taken));
        let mut piece = |x0: u32, x1: u32| {
            if x1 > x0 {
                let strong = (u64::from(strong_left) * u64::from(x1 - x0) / u64::from(left)) as u32;
                scratch.push(Run {
                    y: r.y,
                    x0,
                    x1,
                    strong,
                });
            }
        };
        let mut x = r.x0;
        for &(_, taken_x) in &at[first..p] {
            piece(x, taken_x);
            x = taken_x + 1;
        }
        piece(x, r.x1);
    }
    std::mem::swap(runs, scratch);
}

/// Whether blob `a`'s box lies within blob `b`'s.
pub(super) fn within(a: &Blob, b: &Blob) -> bool {
    a.x0 >= b.x0 && a.x1 <= b.x1 && a.y0 >= b.y0 && a.y1 <= b.y1
}

/// Whether blob `a`'s box and blob `b`'s share a pixel.
pub(super) fn overlaps(a: &Blob, b: &Blob) -> bool {
    a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1
}

/// Appends the runs of foreground in `mask`, row `y`, with their pixels set in `strong`.
pub(super) fn push_runs(runs: &mut Vec<Run>, mask: &[u8], strong: &[u8], y: u32) {
    let mut x = 0;
    while let Some(start) = next_set(mask, x) {
        x = start;
        while x < mask.len() && mask[x] != 0 {
            x += 1;
        }
        runs.push(Run {
            y,
            x0: start as u32,
            x1: x as u32,
            strong: strong[start..x].iter().map(|&o| u32::from(o != 0)).sum(),
        });
    }
}

/// The first nonzero byte of `mask` at or after `from`, if any. Most of a row's mask is zero,
/// even in rain: it is read eight bytes at a time, and the first nonzero byte of a word is told
/// by its trailing zeros (read byte by byte, the mask's rows took a tenth of the stage's time
/// where close distractors stood in a downpour at 1080p; a word at a time, then byte by byte
/// from the word that held one, still 5–9 % more than this, side by side).
pub(super) fn next_set(mask: &[u8], mut from: usize) -> Option<usize> {
    let mut words = mask.get(from..)?.chunks_exact(8);
    for word in &mut words {
        let word = u64::from_le_bytes(std::array::from_fn(|k| word[k]));
        if word != 0 {
            return Some(from + (word.trailing_zeros() / 8) as usize);
        }
        from += 8;
    }
    let rest = words.remainder();
    rest.iter().position(|&m| m != 0).map(|i| from + i)
}

fn find(parent: &mut [u32], mut i: u32) -> u32 {
    while parent[i as usize] != i {
        let p = parent[i as usize];
        parent[i as usize] = parent[p as usize];
        i = p;
    }
    i
}

fn union(parent: &mut [u32], a: u32, b: u32) {
    let (ra, rb) = (find(parent, a), find(parent, b));
    if ra != rb {
        parent[ra.max(rb) as usize] = ra.min(rb);
    }
}
