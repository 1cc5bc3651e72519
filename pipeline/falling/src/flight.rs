//! A track fitted in 3-D: the body's path under gravity in front of the wall, seen through the
//! [`FacadeCamera`], fitted to the pixels it was seen at. Where the facade-plane fit reads an
//! object pushed towards a close camera as one falling with far less (or more) than g, this one
//! finds where it left and how fast it came.
//!
//! The path is `p(τ) = p0 + v0 τ + ½ a τ²` in facade metres (`u` along, `h` up, `n` out of the
//! wall), `a = (0, −g, 0)`, `τ` from the first sighting. Its six unknowns are found by
//! Levenberg–Marquardt on the pixel residuals, started from the rays of the first and last
//! sightings met at several distances out from the wall. Drag is left out: over the second
//! or two a fall is seen, a heavy object's is small; a light one's shows as a larger residual.

use crate::camera::FacadeCamera;
use vigil_spec::facade::solve;
use vigil_spec::falling::G;

/// A fitted path.
#[derive(Clone, Debug, PartialEq)]
pub struct Flight {
    /// Where it was at the first sighting, and its velocity then (facade metres, m/s).
    pub p0: [f64; 3],
    pub v0: [f64; 3],
    /// Root mean square of the pixel residuals.
    pub rms_px: f64,
}

impl Flight {
    /// Where it is `tau` seconds after the first sighting.
    pub fn at(&self, tau: f64) -> [f64; 3] {
        let a = [0.0, -G, 0.0];
        [0, 1, 2].map(|k| self.p0[k] + self.v0[k] * tau + 0.5 * a[k] * tau * tau)
    }

    /// The top of its path (where it was released, or the apex of a toss), at or before the
    /// first sighting's height.
    pub fn apex(&self) -> [f64; 3] {
        // Rising at the first sighting: the apex is v0_h / g later; falling: it rose before.
        self.at(self.v0[1] / G)
    }
}

/// The path under gravity that best explains `points` (`(t, x_px, y_px)`, at least 4, in time
/// order) as seen by `camera`; `None` when no fit converges in front of the camera.
pub fn fit(camera: &FacadeCamera, points: &[(f64, f64, f64)]) -> Option<Flight> {
    if points.len() < 4 {
        return None;
    }
    let t0 = points[0].0;
    let (first, last) = (points[0], points[points.len() - 1]);
    let span = last.0 - first.0;
    if span <= 0.0 {
        return None;
    }
    let mut best: Option<Flight> = None;
    for out in [0.5, 1.5, 3.0, 6.0] {
        let (Some(a), Some(b)) = (
            camera.on_plane_n((first.1, first.2), out),
            camera.on_plane_n((last.1, last.2), out),
        ) else {
            continue;
        };
        // Through both ends under gravity.
        let v0 = [
            (b[0] - a[0]) / span,
            (b[1] - a[1]) / span + 0.5 * G * span,
            (b[2] - a[2]) / span,
        ];
        let Some(f) = refine(camera, points, t0, a, v0) else {
            continue;
        };
        if best.as_ref().is_none_or(|b| f.rms_px < b.rms_px) {
            best = Some(f);
        }
    }
    best
}

/// Levenberg–Marquardt from `(p0, v0)`.
fn refine(
    camera: &FacadeCamera,
    points: &[(f64, f64, f64)],
    t0: f64,
    p0: [f64; 3],
    v0: [f64; 3],
) -> Option<Flight> {
    let residuals = |theta: &[f64; 6]| -> Option<Vec<f64>> {
        let f = Flight {
            p0: [theta[0], theta[1], theta[2]],
            v0: [theta[3], theta[4], theta[5]],
            rms_px: 0.0,
        };
        let mut r = Vec::with_capacity(points.len() * 2);
        for &(t, x, y) in points {
            let (px, py) = camera.project(f.at(t - t0))?;
            r.push(px - x);
            r.push(py - y);
        }
        Some(r)
    };
    let cost = |r: &[f64]| r.iter().map(|v| v * v).sum::<f64>();
    let mut theta = [p0[0], p0[1], p0[2], v0[0], v0[1], v0[2]];
    let mut r = residuals(&theta)?;
    let mut lambda = 1e-3;
    for _ in 0..50 {
        // Numeric Jacobian, 1 mm and 1 mm/s steps.
        let mut jac = vec![[0.0f64; 6]; r.len()];
        for k in 0..6 {
            let mut plus = theta;
            plus[k] += 1e-3;
            let rp = residuals(&plus)?;
            for (row, (a, b)) in jac.iter_mut().zip(rp.iter().zip(&r)) {
                row[k] = (a - b) / 1e-3;
            }
        }
        let mut jtj = [[0.0f64; 6]; 6];
        let mut jtr = [0.0f64; 6];
        for (row, ri) in jac.iter().zip(&r) {
            for a in 0..6 {
                jtr[a] += row[a] * ri;
                for b in 0..6 {
                    jtj[a][b] += row[a] * row[b];
                }
            }
        }
        let now = cost(&r);
        let mut improved = false;
        for _ in 0..8 {
            let mut m = jtj;
            for (a, row) in m.iter_mut().enumerate() {
                row[a] *= 1.0 + lambda;
            }
            let Some(step) = solve(m, jtr) else {
                lambda *= 10.0;
                continue;
            };
            let next: [f64; 6] = std::array::from_fn(|k| theta[k] - step[k]);
            if let Some(rn) = residuals(&next)
                && cost(&rn) < now
            {
                let small = step.iter().map(|s| s.abs()).fold(0.0, f64::max) < 1e-6;
                theta = next;
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
    let rms_px = (cost(&r) / r.len() as f64).sqrt();
    Some(Flight {
        p0: [theta[0], theta[1], theta[2]],
        v0: [theta[3], theta[4], theta[5]],
        rms_px,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 7 m from the wall, 1.5 m up, looking 40° up with a 95° lens at 1280×720.
    fn camera() -> FacadeCamera {
        let (st, ct) = 40f64.to_radians().sin_cos();
        let forward = [0.0, st, -ct];
        let right = [1.0, 0.0, 0.0];
        let down = [0.0, -ct, -st];
        FacadeCamera {
            focal_px: 640.0 / (47.5f64.to_radians()).tan(),
            width: 1280.0,
            height: 720.0,
            rotation: [right, down, forward],
            centre: [0.0, 1.5, 7.0],
        }
    }

    fn seen(c: &FacadeCamera, truth: &Flight, fps: f64, secs: f64) -> Vec<(f64, f64, f64)> {
        (0..(secs * fps) as usize)
            .filter_map(|i| {
                let t = i as f64 / fps;
                let (x, y) = c.project(truth.at(t))?;
                // A third of a pixel of wobble, as blob centres have.
                let wobble = 0.33 * ((i * 7919 % 13) as f64 / 6.0 - 1.0);
                Some((t, x + wobble, y - wobble))
            })
            .collect()
    }

    #[test]
    fn a_throw_towards_a_close_camera_is_fitted_with_where_it_left() {
        let c = camera();
        // Off a fourth-floor balcony 0.8 m out, pushed 3 m/s towards the camera and 1 m/s up.
        let truth = Flight {
            p0: [1.0, 10.2, 0.8],
            v0: [0.4, 1.0, 3.0],
            rms_px: 0.0,
        };
        let points = seen(&c, &truth, 30.0, 1.1);
        let got = fit(&c, &points).expect("a fit");
        assert!(got.rms_px < 0.5, "{got:?}");
        for k in 0..3 {
            assert!((got.p0[k] - truth.p0[k]).abs() < 0.15, "{got:?}");
            assert!((got.v0[k] - truth.v0[k]).abs() < 0.3, "{got:?}");
        }
        // Its apex is about 5 cm above the release: the floor it came from.
        assert!((got.apex()[1] - truth.apex()[1]).abs() < 0.15, "{got:?}");
    }

    #[test]
    fn a_drop_close_to_the_wall_is_fitted_too_and_too_few_points_are_none() {
        let c = camera();
        let truth = Flight {
            p0: [-2.0, 13.0, 1.5],
            v0: [0.0, 0.0, 0.0],
            rms_px: 0.0,
        };
        let points = seen(&c, &truth, 25.0, 1.2);
        let got = fit(&c, &points).expect("a fit");
        assert!(got.rms_px < 0.5, "{got:?}");
        // From one view, height, distance out and a small vertical speed trade against each
        // other under the blob centres' wobble: a quarter of a metre, a twelfth of a storey.
        let apex = got.apex();
        assert!(
            (apex[1] - 13.0).abs() < 0.25 && (apex[2] - 1.5).abs() < 0.25,
            "{got:?}"
        );
        assert!(fit(&c, &points[..3]).is_none());
    }
}
