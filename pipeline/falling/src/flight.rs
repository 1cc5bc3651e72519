//! A track fitted in 3-D: the body's path in front of the wall, seen through the
//! [`FacadeCamera`], fitted to the pixels it was seen at. Where the facade-plane fit reads an
//! object pushed towards a close camera as one falling with far less (or more) than g, this one
//! finds where it left and how fast it came.
//!
//! Two models, in facade metres (`u` along, `h` up, `n` out of the wall), `τ` from the first
//! sighting:
//! - [`Model::Fall`]: under gravity with linear drag `k` (1/s) bounded by the caller,
//!   `v(τ) = v∞ + (v0 − v∞) e^{−kτ}` with `v∞ = (0, −g/k, 0)`, `p(τ) = p0 + v∞ τ + (v0 − v∞)(1 −
//!   e^{−kτ})/k`; at `k = 0` the parabola. Real drag is quadratic in speed; over the second or two
//!   a fall is seen, a linear term bounded to a terminal speed above anything rain or a leaf
//!   keeps bends the path as much.
//! - [`Model::FallQuadratic`]: the same with drag quadratic in speed, `c` (1/m), as real drag
//!   is ([`quadratic`]): integrated, so slower to fit; where a fall has been told from its
//!   alternatives, its path is taken from this fit.
//! - [`Model::Line`]: constant velocity, the alternative a fall must beat (rain, a gliding
//!   bird, a drifting leaf).
//! - [`Model::Drift`]: carried by the air — a constant vertical speed, falling or hanging, never
//!   rising (rain, snow or a leaf at its terminal speed), and a horizontal acceleration (a
//!   gust), bounded by the caller: the other alternative. A drop near a camera that looks up,
//!   pushed sideways by a gust, curves in the picture as a fall does.
//! - [`Model::Gusting`]: a drift whose push changes at a steady rate (a gust turning, over a
//!   track seen for seconds).
//!
//! The unknowns are found by Levenberg–Marquardt on the pixel residuals ([`descent`]), started
//! from the rays of the first and last sightings met at several distances out from the wall.

use crate::camera::FacadeCamera;
use descent::{normal, refine, solve};
use gradient::jacobian;
use vigil_spec::falling::G;

/// Which motion a path follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Model {
    Fall,
    FallQuadratic,
    Line,
    Drift,
    Gusting,
}

/// A fitted path.
#[derive(Clone, Debug, PartialEq)]
pub struct Flight {
    pub model: Model,
    /// Where it was at the first sighting, and its velocity then (facade metres, m/s).
    pub p0: [f64; 3],
    pub v0: [f64; 3],
    /// Linear drag, 1/s (0 for a line); a [`Model::FallQuadratic`]'s quadratic drag, 1/m.
    pub drag: f64,
    /// A drift's horizontal acceleration (along the wall, out from it) at the first sighting,
    /// m/s²; zero otherwise.
    pub sway: [f64; 2],
    /// How fast a [`Model::Gusting`] drift's acceleration changes, m/s²/s; zero otherwise.
    pub gust: [f64; 2],
    /// Root mean square of the pixel residuals.
    pub rms_px: f64,
    /// One standard deviation of the apex's height, metres, from the fit's covariance.
    pub apex_sigma_m: f64,
}

impl Flight {
    /// Carried by the air: a drift, steady or gusting.
    fn drifts(&self) -> bool {
        matches!(self.model, Model::Drift | Model::Gusting)
    }

    /// A drift's horizontal acceleration at the first sighting and its rate of change, as
    /// 3-vectors (nothing vertical).
    fn swaying(&self) -> ([f64; 3], [f64; 3]) {
        let ([a, b], [c, d]) = (self.sway, self.gust);
        ([a, 0.0, b], [c, 0.0, d])
    }

    /// A drift's horizontal acceleration `tau` seconds after the first sighting.
    fn sway_at(&self, tau: f64) -> [f64; 2] {
        [0, 1].map(|i| self.sway[i] + self.gust[i] * tau)
    }

    fn gravity(&self) -> f64 {
        match self.model {
            Model::Fall | Model::FallQuadratic => G,
            Model::Line | Model::Drift | Model::Gusting => 0.0,
        }
    }

    /// Where it is `tau` seconds after the first sighting.
    pub fn at(&self, tau: f64) -> [f64; 3] {
        if self.model == Model::FallQuadratic {
            return quadratic::state(self.drag, (self.p0, self.v0), tau).0;
        }
        if self.drifts() {
            let (a, j) = self.swaying();
            return [0, 1, 2]
                .map(|i| self.p0[i] + tau * (self.v0[i] + tau * (0.5 * a[i] + tau * j[i] / 6.0)));
        }
        let g = self.gravity();
        let (e, fall) = drag_terms(self.drag, tau);
        [
            self.p0[0] + self.v0[0] * e,
            self.p0[1] + self.v0[1] * e - g * fall,
            self.p0[2] + self.v0[2] * e,
        ]
    }

    /// Its velocity `tau` seconds after the first sighting.
    pub fn velocity(&self, tau: f64) -> [f64; 3] {
        if self.model == Model::FallQuadratic {
            return quadratic::state(self.drag, (self.p0, self.v0), tau).1;
        }
        if self.drifts() {
            let (a, j) = self.swaying();
            return [0, 1, 2].map(|i| self.v0[i] + tau * (a[i] + 0.5 * tau * j[i]));
        }
        let (g, k) = (self.gravity(), self.drag);
        let decay = (-k * tau).exp();
        let pull = if k * tau.abs() < 1e-6 {
            g * tau
        } else {
            g * (1.0 - decay) / k
        };
        [
            self.v0[0] * decay,
            self.v0[1] * decay - pull,
            self.v0[2] * decay,
        ]
    }

    /// When (seconds from the first sighting, negative before it) its vertical speed was zero:
    /// the release of a drop, the top of a toss. `None` for a line, or a fall already past its
    /// terminal speed.
    pub fn apex_tau(&self) -> Option<f64> {
        match self.model {
            Model::Fall => {}
            Model::FallQuadratic => return quadratic::apex_tau(self.drag, (self.p0, self.v0)),
            Model::Line | Model::Drift | Model::Gusting => return None,
        }
        let (k, vy) = (self.drag, self.v0[1]);
        if k < 1e-9 {
            return Some(vy / G);
        }
        // v_y(τ) = 0 ⇔ e^{−kτ} = (g/k) / (v0y + g/k).
        let x = 1.0 + k * vy / G;
        (x > 0.0).then(|| x.ln() / k)
    }

    /// Where it is at successive times (seconds after the first sighting, called in time order):
    /// a path with quadratic drag is integrated on from the time before, not again from the first
    /// sighting.
    fn walk(&self) -> impl FnMut(f64) -> [f64; 3] + '_ {
        let mut now = (0.0, (self.p0, self.v0));
        move |tau| match self.model {
            Model::FallQuadratic => {
                now = (tau, quadratic::state(self.drag, now.1, tau - now.0));
                now.1.0
            }
            Model::Fall | Model::Line | Model::Drift | Model::Gusting => self.at(tau),
        }
    }

    /// The top of its path (where it was released, or the apex of a toss); the first sighting
    /// when it has none.
    pub fn apex(&self) -> [f64; 3] {
        self.at(self.apex_tau().unwrap_or(0.0))
    }

    /// How far (pixels) from the sighting `(t, x, y)` the path puts the object then, `t0` being
    /// the first sighting's time.
    pub fn miss_px(&self, camera: &FacadeCamera, t0: f64, (t, x, y): (f64, f64, f64)) -> f64 {
        camera
            .project(self.at(t - t0))
            .map_or(f64::INFINITY, |(px, py)| (px - x).hypot(py - y))
    }

    fn params(&self) -> Theta {
        let (p, v) = (self.p0, self.v0);
        [
            p[0],
            p[1],
            p[2],
            v[0],
            v[1],
            v[2],
            self.drag,
            self.sway[0],
            self.sway[1],
            self.gust[0],
            self.gust[1],
        ]
    }

    fn with(&self, theta: &Theta) -> Flight {
        Flight {
            p0: [theta[0], theta[1], theta[2]],
            v0: [theta[3], theta[4], theta[5]],
            drag: theta[6],
            sway: [theta[7], theta[8]],
            gust: [theta[9], theta[10]],
            ..self.clone()
        }
    }
}

/// Where `kτ` is below this, a fall's drag terms are taken from their series: their closed
/// forms cancel (at `kτ` = 4·10⁻⁶, the pull of gravity came out about 1 % off).
const SERIES_KT: f64 = 1e-3;

/// A fall's drag terms `tau` seconds in with linear drag `k`: `e = (1 − e^{−kτ})/k`, which
/// carries the velocity at the start, and gravity's `(τ − e)/k` (at no drag, `τ` and `τ²/2`).
fn drag_terms(k: f64, tau: f64) -> (f64, f64) {
    let kt = k * tau;
    if kt.abs() < SERIES_KT {
        let t2 = tau * tau;
        let e = tau * (1.0 - kt / 2.0 * (1.0 - kt / 3.0 * (1.0 - kt / 4.0)));
        let fall = t2 / 2.0 * (1.0 - kt / 3.0 * (1.0 - kt / 4.0 * (1.0 - kt / 5.0)));
        return (e, fall);
    }
    let e = (1.0 - (-kt).exp()) / k;
    (e, (tau - e) / k)
}

/// A path's unknowns: where it was and how fast it went at the first sighting, then drag (a
/// fall's) and the horizontal acceleration and its rate of change (a drift's).
type Theta = [f64; PARAMS];
const PARAMS: usize = 11;

/// The unknowns every model sets free: the path's start and velocity.
const MOTION: [bool; PARAMS] = [
    true, true, true, true, true, true, false, false, false, false, false,
];

/// The unknowns a fit of `model` sets free: [`MOTION`], and a fall's drag where `max_drag`
/// allows it, or a drift's sway along each axis `prior` lets it sway (and a gusting drift's
/// change of it).
fn free_params(model: Model, max_drag: f64, prior: &Prior) -> [bool; PARAMS] {
    std::array::from_fn(|k| match (k, model) {
        (0..6, _) => true,
        (6, Model::Fall | Model::FallQuadratic) => max_drag > 0.0,
        (7 | 8, Model::Drift | Model::Gusting) => prior.sway_mps2[k - 7] > 0.0,
        (9 | 10, Model::Gusting) => prior.sway_mps2[k - 9] > 0.0,
        _ => false,
    })
}

/// What is physically likely, held to softly (each metre or m/s beyond costs as much as
/// [`PRIOR_PX`] pixels of residual): where the data cannot tell (how far out from the wall a
/// far camera sees a fall, how fast a line comes at the lens), the likely path is taken; where
/// they can, they win.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Prior {
    /// Where a fall's apex lies, metres out from the wall: within `out_m`, and likeliest at
    /// `likely_out_m` (each metre away from it costs [`LIKELY_PX`]).
    pub out_m: (f64, f64),
    pub likely_out_m: Option<f64>,
    /// Fastest a fall comes towards the wall, m/s.
    pub towards_mps: f64,
    /// Fastest a line or a drift moves, m/s (rain, birds, leaves).
    pub line_speed_mps: f64,
    /// Strongest horizontal acceleration of a drift along the wall and out from it, m/s² (0:
    /// none that way).
    pub sway_mps2: [f64; 2],
}

impl Prior {
    /// Nothing held to.
    pub const NONE: Prior = Prior {
        out_m: (f64::NEG_INFINITY, f64::INFINITY),
        likely_out_m: None,
        towards_mps: f64::INFINITY,
        line_speed_mps: f64::INFINITY,
        sway_mps2: [f64::INFINITY; 2],
    };
}

/// What a metre (or m/s) beyond the prior costs, in pixels of residual.
pub const PRIOR_PX: f64 = 20.0;

/// What a metre away from the likeliest distance out costs, in pixels of residual: enough to
/// settle what a far camera cannot see, too little to bend what a close one can.
pub const LIKELY_PX: f64 = 1.0;

/// One fit's data.
struct Problem<'a> {
    camera: &'a FacadeCamera,
    points: &'a [(f64, f64, f64)],
    t0: f64,
    prior: &'a Prior,
}

/// The path of `model` that best explains `points` (`(t, x_px, y_px)`, at least 4, in time
/// order) as seen by `camera`, with drag at most `max_drag` (1/s; falls only), held to `prior`;
/// `None` when no fit converges in front of the camera. A drift is started from lines.
pub fn fit(
    camera: &FacadeCamera,
    points: &[(f64, f64, f64)],
    model: Model,
    max_drag: f64,
    prior: &Prior,
) -> Option<Flight> {
    if points.len() < 4 {
        return None;
    }
    let t0 = points[0].0;
    let problem = Problem {
        camera,
        points,
        t0,
        prior,
    };
    let (first, last) = (points[0], points[points.len() - 1]);
    let span = last.0 - first.0;
    if span <= 0.0 {
        return None;
    }
    let g = match model {
        Model::Fall | Model::FallQuadratic => G,
        Model::Line | Model::Drift | Model::Gusting => 0.0,
    };
    let mut best: Option<Flight> = None;
    let mut settled: Vec<Theta> = Vec::with_capacity(4);
    for out in [0.3, 1.5, 3.0, 6.0] {
        let (Some(a), Some(b)) = (
            camera.on_plane_n((first.1, first.2), out),
            camera.on_plane_n((last.1, last.2), out),
        ) else {
            continue;
        };
        // Through both ends.
        let start = Flight {
            model,
            p0: a,
            v0: [
                (b[0] - a[0]) / span,
                (b[1] - a[1]) / span + 0.5 * g * span,
                (b[2] - a[2]) / span,
            ],
            drag: 0.0,
            sway: [0.0; 2],
            gust: [0.0; 2],
            rms_px: f64::INFINITY,
            apex_sigma_m: f64::INFINITY,
        };
        // Without drag or sway first; then, for a fall with drag or a drift, those set free
        // from there.
        let Some(f) = refine(&problem, start, (MOTION, 0.0), STEPS) else {
            continue;
        };
        // Starts that settled where an earlier one did would be set free from there again, to
        // the same end: only the first is.
        let theta = f.params();
        if settled.iter().any(|s| {
            s.iter()
                .zip(&theta)
                .all(|(a, b)| (a - b).abs() < SAME_START)
        }) {
            continue;
        }
        settled.push(theta);
        let f = match free_params(model, max_drag, prior) {
            MOTION => f,
            free => refine(&problem, f.clone(), (free, max_drag), STEPS).unwrap_or(f),
        };
        if best.as_ref().is_none_or(|b| f.rms_px < b.rms_px) {
            best = Some(f);
        }
    }
    let mut best = best?;
    best.apex_sigma_m = apex_sigma(&problem, &best, max_drag);
    Some(best)
}

/// The path of `model` that best explains `points` (as [`fit`] takes them), found from `from`,
/// a path fitted to the same points by another model (its drag set aside): slower models are
/// refined from where a faster one settled rather than fitted afresh.
pub fn refit(
    camera: &FacadeCamera,
    points: &[(f64, f64, f64)],
    (from, model): (&Flight, Model),
    max_drag: f64,
    prior: &Prior,
) -> Option<Flight> {
    let problem = Problem {
        camera,
        points,
        t0: points.first()?.0,
        prior,
    };
    let start = Flight {
        model,
        drag: 0.0,
        ..from.clone()
    };
    let free = free_params(model, max_drag, prior);
    let mut f = refine(&problem, start, (free, max_drag), REFIT_STEPS)?;
    f.apex_sigma_m = apex_sigma(&problem, &f, max_drag);
    Some(f)
}

/// Pixel residuals of `f` against the points, then the prior's; `None` when a position falls
/// behind the camera.
fn residuals(p: &Problem<'_>, f: &Flight) -> Option<Vec<f64>> {
    let mut r = Vec::with_capacity(p.points.len() * 2 + 3);
    let mut at = f.walk();
    for &(t, x, y) in p.points {
        let (px, py) = p.camera.project(at(t - p.t0))?;
        r.push(px - x);
        r.push(py - y);
    }
    prior_residuals(p, f, &mut r);
    Some(r)
}

/// The prior's residuals for `f`, pushed onto `r`: where a fall's apex lies and how fast it
/// comes at the wall; how fast a line or a drift moves, and how hard a drift sways.
fn prior_residuals(p: &Problem<'_>, f: &Flight, r: &mut Vec<f64>) {
    let beyond = |v: f64, (lo, hi): (f64, f64)| (lo - v).max(0.0) + (v - hi).max(0.0);
    match f.model {
        Model::Fall | Model::FallQuadratic => {
            let (lo, hi) = p.prior.out_m;
            let out = f.apex()[2];
            r.push(PRIOR_PX * beyond(out, (lo, hi)));
            if let Some(likely) = p.prior.likely_out_m {
                r.push(LIKELY_PX * (out - likely));
            }
            r.push(PRIOR_PX * (-f.v0[2] - p.prior.towards_mps).max(0.0));
        }
        Model::Line | Model::Drift | Model::Gusting => {
            // The faster of its ends (a drift's speed changes).
            let span = p.points.last().map_or(0.0, |l| l.0 - p.t0);
            let speed = [0.0, span]
                .map(|tau| {
                    let v = f.velocity(tau);
                    (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt()
                })
                .into_iter()
                .fold(0.0, f64::max);
            r.push(PRIOR_PX * (speed - p.prior.line_speed_mps).max(0.0));
            if f.drifts() {
                // The strongest the gust blows over the track: at one of its ends.
                let ends = [f.sway, f.sway_at(span)];
                for (i, most) in p.prior.sway_mps2.iter().enumerate() {
                    let a = ends[0][i].abs().max(ends[1][i].abs());
                    r.push(PRIOR_PX * (a - most).max(0.0));
                }
            }
        }
    }
}

/// Root mean square of the pixel residuals alone.
fn rms_px(p: &Problem<'_>, r: &[f64]) -> f64 {
    let n = 2 * p.points.len();
    (cost(&r[..n.min(r.len())]) / n.max(1) as f64).sqrt()
}

fn cost(r: &[f64]) -> f64 {
    r.iter().map(|v| v * v).sum()
}

/// Starts whose paths without drag or sway settled within this of each other (in every unknown:
/// 0.1 mm, 0.1 mm/s) are one start ([`fit`]): four starts often settle in one valley, and
/// setting drag free from there again took most of a fit's time (a leaf that no fall explains
/// crawls along its valley for every step allowed, four times over).
const SAME_START: f64 = 1e-4;

/// Steps of Levenberg–Marquardt a fit takes at most from each start.
const STEPS: usize = 50;

/// Steps a [`refit`] takes at most: it starts from where another model settled, in a valley
/// along which it crawls where the pixels barely tell the distance out (a tumbling stick
/// dropped 0.8 m out from the 10th floor, seen from 7 m below at 50° up: its path with
/// quadratic drag, fitted to the truth's own pixels, came out from 1.8 m out on the 8th floor
/// after 50 steps, and from 1.0 m out on the 10th after 500, where the pixels and the prior
/// both cost less; rendered development seed 2's throw 034).
const REFIT_STEPS: usize = 500;

/// One standard deviation of the apex's height: `σ² gᵀ (JᵀJ)⁻¹ g`, `g` its gradient over the
/// parameters, `σ²` the residual variance (never less than a third of a pixel's).
fn apex_sigma(p: &Problem<'_>, f: &Flight, max_drag: f64) -> f64 {
    let free = free_params(f.model, max_drag, p.prior);
    let Some(r) = residuals(p, f) else {
        return f64::INFINITY;
    };
    let Some(jac) = jacobian(p, f, &r, free) else {
        return f64::INFINITY;
    };
    let (mut jtj, _) = normal(&jac, &r);
    for (a, row) in jtj.iter_mut().enumerate() {
        row[a] += 1e-9;
    }
    let theta = f.params();
    let h = f.apex()[1];
    let mut grad = [0.0f64; PARAMS];
    for (k, g) in grad.iter_mut().enumerate().filter(|(k, _)| free[*k]) {
        let mut plus = theta;
        plus[k] += 1e-4;
        *g = (f.with(&plus).apex()[1] - h) / 1e-4;
    }
    let n = 2 * p.points.len();
    let unknowns = free.iter().filter(|&&x| x).count();
    let dof = n.saturating_sub(unknowns).max(1) as f64;
    let sigma2 = (cost(&r[..n.min(r.len())]) / dof).max(0.1);
    let Some(x) = solve(jtj, grad, free) else {
        return f64::INFINITY;
    };
    let var: f64 = (0..PARAMS).map(|k| grad[k] * x[k]).sum();
    (sigma2 * var.max(0.0)).sqrt()
}

mod descent;
mod gradient;
mod quadratic;
#[cfg(test)]
mod tests;
