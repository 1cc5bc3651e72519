//! Levenberg–Marquardt over a fit's free unknowns, held to their bounds: a fall's drag within
//! its range at every step, and a drift that settles rising refined again with its vertical
//! speed held at zero.

use super::gradient::jacobian;
use super::{Flight, PARAMS, Problem, Theta, cost, residuals, rms_px};
use vigil_spec::facade;

/// Levenberg–Marquardt from `start` over the `free` parameters, drag within `[0, max_drag]`,
/// for at most `steps` steps. A drift that settles rising is refined again from there with its
/// vertical speed held at zero, the bound it crossed ([`RISING`]).
pub(super) fn refine(
    p: &Problem<'_>,
    start: Flight,
    (free, max_drag): ([bool; PARAMS], f64),
    steps: usize,
) -> Option<Flight> {
    let f = refine_free(p, start, (free, max_drag), steps)?;
    if !(f.drifts() && f.v0[1] > 0.0 && free[RISING]) {
        return Some(f);
    }
    let mut held = free;
    held[RISING] = false;
    let hanging = Flight {
        v0: [f.v0[0], 0.0, f.v0[2]],
        ..f
    };
    refine_free(p, hanging, (held, max_drag), steps)
}

/// The unknown of a drift's vertical speed, which is never upwards: rain, snow and a leaf at
/// their terminal speed fall. A path that rises at a steady speed while a gust pushes it along
/// the wall is nothing the air carries, and seen from a camera that looks up it draws a throw at
/// the lens that climbs the picture (rendered held-out seed 4711's throw 003, 8.8 px from the 9th
/// floor: a drift rising at 12 m/s explained it at 0.13 px, the fall at 0.11). A bound on its
/// speed would not hold: a drift nearer the lens, as much smaller and slower, draws the same
/// pixels; its direction it keeps.
const RISING: usize = 4;

/// [`refine`] without the drift's bound.
fn refine_free(
    p: &Problem<'_>,
    start: Flight,
    (free, max_drag): ([bool; PARAMS], f64),
    steps: usize,
) -> Option<Flight> {
    let mut f = start;
    let mut r = residuals(p, &f)?;
    let mut lambda = 1e-3;
    for _ in 0..steps {
        let jac = jacobian(p, &f, &r, free)?;
        let (jtj, jtr) = normal(&jac, &r);
        let now = cost(&r);
        let mut improved = false;
        for _ in 0..8 {
            let mut m = jtj;
            for (a, row) in m.iter_mut().enumerate() {
                row[a] *= 1.0 + lambda;
                row[a] += 1e-12;
            }
            let Some(step) = solve(m, jtr, free) else {
                lambda *= 10.0;
                continue;
            };
            let theta = f.params();
            let mut next: Theta = std::array::from_fn(|k| theta[k] - step[k]);
            next[6] = next[6].clamp(0.0, max_drag.max(0.0));
            let candidate = f.with(&next);
            if let Some(rn) = residuals(p, &candidate)
                && cost(&rn) < now
            {
                let small = step.iter().map(|s| s.abs()).fold(0.0, f64::max) < 1e-6;
                f = candidate;
                r = rn;
                lambda = (lambda / 10.0).max(1e-9);
                improved = !small;
                break;
            }
            lambda *= 10.0;
        }
        if !improved {
            break;
        }
    }
    f.rms_px = rms_px(p, &r);
    Some(f)
}

/// `JᵀJ` and `Jᵀr` (the held parameters' rows and columns zero: the Jacobian is zero there).
pub(super) fn normal(jac: &[Theta], r: &[f64]) -> ([Theta; PARAMS], Theta) {
    let mut jtj = [[0.0f64; PARAMS]; PARAMS];
    let mut jtr = [0.0f64; PARAMS];
    for (row, ri) in jac.iter().zip(r) {
        for a in 0..PARAMS {
            if row[a] == 0.0 {
                continue;
            }
            jtr[a] += row[a] * ri;
            for b in 0..PARAMS {
                jtj[a][b] += row[a] * row[b];
            }
        }
    }
    (jtj, jtr)
}

/// `m x = b` over the `free` parameters, the rest of `x` zero: those held where they are.
pub(super) fn solve(mut m: [Theta; PARAMS], mut b: Theta, free: [bool; PARAMS]) -> Option<Theta> {
    for k in (0..PARAMS).filter(|&k| !free[k]) {
        m[k] = [0.0; PARAMS];
        b[k] = 0.0;
        for row in m.iter_mut() {
            row[k] = 0.0;
        }
        m[k][k] = 1.0;
    }
    facade::solve(m, b)
}
