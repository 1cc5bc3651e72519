//! A fall under drag quadratic in speed, `a = −g ŷ − c |v| v` with `c` in 1/m (a brick or a
//! bottle 0.002, a bag of rubbish 0.02: 22 m/s at most), which has no closed form in 3-D: it is
//! integrated (classic Runge–Kutta, steps of at most [`STEP_S`]) from the first sighting.

use vigil_spec::falling::G;

/// Longest integration step, seconds: the position at 2 s off by under a millimetre at
/// `c = 0.05`.
const STEP_S: f64 = 1.0 / 30.0;

/// How far (seconds) before the first sighting an apex is looked for.
const BACK_S: f64 = 5.0;

type State = ([f64; 3], [f64; 3]);

fn accel(c: f64, v: [f64; 3]) -> [f64; 3] {
    let speed = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
    [-c * speed * v[0], -G - c * speed * v[1], -c * speed * v[2]]
}

/// One Runge–Kutta step of `h` seconds (negative: back in time).
fn step(c: f64, (p, v): State, h: f64) -> State {
    let add = |a: [f64; 3], b: [f64; 3], k: f64| [0, 1, 2].map(|i| a[i] + k * b[i]);
    // Each stage's velocity is the position's slope there, and its acceleration the velocity's.
    let k1p = v;
    let k1v = accel(c, k1p);
    let k2p = add(v, k1v, h / 2.0);
    let k2v = accel(c, k2p);
    let k3p = add(v, k2v, h / 2.0);
    let k3v = accel(c, k3p);
    let k4p = add(v, k3v, h);
    let k4v = accel(c, k4p);
    let mix = |a: [f64; 3], b: [f64; 3], c: [f64; 3], d: [f64; 3]| {
        [0, 1, 2].map(|i| (a[i] + 2.0 * b[i] + 2.0 * c[i] + d[i]) * h / 6.0)
    };
    (
        add(p, mix(k1p, k2p, k3p, k4p), 1.0),
        add(v, mix(k1v, k2v, k3v, k4v), 1.0),
    )
}

/// The state `tau` seconds after `start` (before it where negative).
pub(super) fn state(c: f64, start: State, tau: f64) -> State {
    let n = (tau.abs() / STEP_S).ceil().max(1.0);
    let h = tau / n;
    (0..n as usize).fold(start, |s, _| step(c, s, h))
}

/// When (seconds from `start`) the vertical speed is zero: it only falls ever faster, or rises
/// ever slower, so there is one such time; `None` where it lies more than [`BACK_S`] before.
pub(super) fn apex_tau(c: f64, start: State) -> Option<f64> {
    let h = if start.1[1] > 0.0 { STEP_S } else { -STEP_S };
    let (mut tau, mut s) = (0.0f64, start);
    while tau.abs() <= BACK_S {
        let next = step(c, s, h);
        // The zero lies in this step: where the vertical speed, linear over it, crosses.
        if (next.1[1] <= 0.0) != (s.1[1] <= 0.0) || next.1[1] == 0.0 {
            let k = s.1[1] / (s.1[1] - next.1[1]);
            return Some(tau + k * h);
        }
        (tau, s) = (tau + h, next);
    }
    None
}
