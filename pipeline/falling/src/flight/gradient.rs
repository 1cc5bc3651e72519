//! The Jacobian of a fit's residuals over its unknowns. A path in closed form (a fall with
//! linear drag, a line, a drift, steady or gusting) has each sighting's two rows worked out:
//! how the pixel moves with the position (the projection's derivative) times how the position
//! moves with each unknown. The prior's few rows, and every row of a path with quadratic drag
//! (integrated, with no closed form), are taken by forward differences.
//!
//! Differences took a projection of every sighting for each unknown set free, most of a fit's
//! time: a leaf that no fall explains, fitted from four starts to the cap of steps each, cost a
//! far camera's stage a quarter of its time at 1080p.

use super::{
    Flight, Model, PARAMS, Problem, SERIES_KT, Theta, drag_terms, prior_residuals, residuals,
};
use crate::camera::dot;

/// The forward differences' step in each unknown: 1 mm, 1 mm/s, 0.001/s, 1 mm/s², 1 mm/s³.
const STEP: f64 = 1e-3;

/// The Jacobian of `r`, the residuals of `f` ([`residuals`]), over the `free` unknowns; zero
/// over the rest. `None` when a position falls behind the camera.
pub(super) fn jacobian(
    p: &Problem<'_>,
    f: &Flight,
    r: &[f64],
    free: [bool; PARAMS],
) -> Option<Vec<Theta>> {
    let mut jac = vec![[0.0f64; PARAMS]; r.len()];
    let closed = f.model != Model::FallQuadratic;
    // The rows taken by differences: the prior's, or all of them.
    let from = match closed {
        true => 2 * p.points.len(),
        false => 0,
    };
    if closed {
        for (rows, &(t, _, _)) in jac.chunks_exact_mut(2).zip(p.points) {
            let tau = t - p.t0;
            let pixel = p.camera.project_gradient(f.at(tau))?;
            let position = f.position_gradient(tau);
            for k in (0..PARAMS).filter(|&k| free[k]) {
                for (row, d) in rows.iter_mut().zip(pixel) {
                    row[k] = dot(d, position[k]);
                }
            }
        }
    }
    let theta = f.params();
    let mut moved = Vec::new();
    for k in (0..PARAMS).filter(|&k| free[k]) {
        let mut plus = theta;
        plus[k] += STEP;
        let g = f.with(&plus);
        match closed {
            true => {
                moved.clear();
                prior_residuals(p, &g, &mut moved);
            }
            false => moved = residuals(p, &g)?,
        }
        for (row, (a, b)) in jac[from..].iter_mut().zip(moved.iter().zip(&r[from..])) {
            row[k] = (a - b) / STEP;
        }
    }
    Some(jac)
}

impl Flight {
    /// How its position `tau` seconds after the first sighting moves with each unknown (in
    /// [`Flight::params`]' order), for a path in closed form (not [`Model::FallQuadratic`]).
    pub(super) fn position_gradient(&self, tau: f64) -> [[f64; 3]; PARAMS] {
        let mut d = [[0.0; 3]; PARAMS];
        for (i, row) in d.iter_mut().take(3).enumerate() {
            row[i] = 1.0;
        }
        if self.drifts() {
            let (half, sixth) = (0.5 * tau * tau, tau * tau * tau / 6.0);
            for i in 0..3 {
                d[3 + i][i] = tau;
            }
            d[7][0] = half;
            d[8][2] = half;
            d[9][0] = sixth;
            d[10][2] = sixth;
            return d;
        }
        // p(τ) = p0 + v0 e − g ŷ (τ − e)/k ([`drag_terms`]): how `e` and gravity's
        // `(τ − e)/k` move with k.
        let (g, k) = (self.gravity(), self.drag);
        let kt = k * tau;
        let (e, fall) = drag_terms(k, tau);
        let (de, dfall) = match kt.abs() < SERIES_KT {
            true => {
                let (t2, t3) = (tau * tau, tau * tau * tau);
                (
                    -t2 / 2.0 * (1.0 - kt * 2.0 / 3.0 * (1.0 - kt * 3.0 / 8.0)),
                    -t3 / 6.0 * (1.0 - kt / 2.0 * (1.0 - kt * 3.0 / 10.0)),
                )
            }
            false => {
                let de = (tau * (-kt).exp() - e) / k;
                (de, -(de + fall) / k)
            }
        };
        for i in 0..3 {
            d[3 + i][i] = e;
        }
        d[6] = [
            self.v0[0] * de,
            self.v0[1] * de - g * dfall,
            self.v0[2] * de,
        ];
        d
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{camera, path};
    use super::super::{Prior, free_params};
    use super::*;

    /// Each closed-form model's worked-out rows against central differences of the residuals,
    /// at several drags (none, in the series' range, and strong) and with a drift's sway and
    /// gust: they agree to within the differences' own error.
    #[test]
    fn the_worked_out_rows_match_the_residuals_differences() {
        let camera = camera();
        let points: Vec<(f64, f64, f64)> = (0..30)
            .map(|i| {
                (
                    10.0 + i as f64 / 25.0,
                    600.0 + i as f64,
                    100.0 + 8.0 * i as f64,
                )
            })
            .collect();
        let prior = Prior::NONE;
        let problem = Problem {
            camera: &camera,
            points: &points,
            t0: points[0].0,
            prior: &prior,
        };
        let mut cases = Vec::new();
        for drag in [0.0, 2e-4, 0.3, 1.5] {
            cases.push(path(Model::Fall, [0.5, 12.0, 1.2], [0.4, 1.0, 1.5], drag));
        }
        cases.push(path(Model::Line, [0.5, 12.0, 1.2], [0.4, -3.0, 1.5], 0.0));
        for model in [Model::Drift, Model::Gusting] {
            let mut f = path(model, [0.5, 12.0, 1.2], [0.4, -3.0, 1.5], 0.0);
            f.sway = [0.7, -0.4];
            f.gust = match model {
                Model::Gusting => [0.3, 0.5],
                _ => [0.0; 2],
            };
            cases.push(f);
        }
        for f in cases {
            let free = free_params(f.model, 2.0, &prior);
            let r = residuals(&problem, &f).expect("in front of the camera");
            let jac = jacobian(&problem, &f, &r, free).expect("in front of the camera");
            let theta = f.params();
            for k in (0..PARAMS).filter(|&k| free[k]) {
                // Drag is held at zero or more: at zero, a forward difference, whose own
                // error is larger.
                let (h, central, tol) = match f.drag == 0.0 && k == 6 {
                    true => (1e-4, false, 1e-3),
                    false => (1e-6, true, 1e-4),
                };
                let at = |s: f64| {
                    let mut moved = theta;
                    moved[k] += s * h;
                    residuals(&problem, &f.with(&moved)).expect("in front")
                };
                let (plus, minus) = match central {
                    true => (at(1.0), at(-1.0)),
                    false => (at(1.0), r.clone()),
                };
                let width = if central { 2.0 * h } else { h };
                for i in 0..2 * points.len() {
                    let numeric = (plus[i] - minus[i]) / width;
                    let err = (jac[i][k] - numeric).abs();
                    assert!(
                        err <= tol * numeric.abs().max(1.0),
                        "{:?} drag {}: row {i}, unknown {k}: worked out {}, differences {numeric}",
                        f.model,
                        f.drag,
                        jac[i][k]
                    );
                }
            }
            assert!(
                (0..PARAMS).any(|k| free[k] && jac.iter().any(|row| row[k] != 0.0)),
                "{:?}: some row moves",
                f.model
            );
        }
    }
}
