use super::*;

/// 7 m from the wall, 1.5 m up, looking 40° up with a 95° lens at 1280×720.
pub(super) fn camera() -> FacadeCamera {
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

pub(super) fn path(model: Model, p0: [f64; 3], v0: [f64; 3], drag: f64) -> Flight {
    Flight {
        model,
        p0,
        v0,
        drag,
        sway: [0.0; 2],
        gust: [0.0; 2],
        rms_px: 0.0,
        apex_sigma_m: 0.0,
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
fn the_path_with_drag_matches_its_velocity_and_tends_to_the_parabola() {
    let f = path(Model::Fall, [1.0, 20.0, 1.0], [0.5, 2.0, 1.0], 0.4);
    // Velocity is the derivative of position.
    let (a, b) = (f.at(0.8), f.at(0.8 + 1e-6));
    let v = f.velocity(0.8);
    for k in 0..3 {
        assert!(((b[k] - a[k]) / 1e-6 - v[k]).abs() < 1e-4, "{k}");
    }
    // At the apex the vertical speed is zero.
    let tau = f.apex_tau().unwrap();
    assert!(tau > 0.0 && f.velocity(tau)[1].abs() < 1e-9);
    // Without drag: the parabola.
    let p = path(Model::Fall, [0.0, 10.0, 0.0], [0.0, 3.0, 0.0], 0.0);
    assert!((p.at(1.0)[1] - (13.0 - 0.5 * G)).abs() < 1e-12);
    assert!((p.apex()[1] - (10.0 + 9.0 / (2.0 * G))).abs() < 1e-12);
    let tiny = path(Model::Fall, [0.0, 10.0, 0.0], [0.0, 3.0, 0.0], 1e-9);
    assert!((tiny.at(1.0)[1] - p.at(1.0)[1]).abs() < 1e-6);
    // A line has no apex.
    assert_eq!(
        path(Model::Line, [0.0; 3], [0.0, -9.0, 0.0], 0.0).apex_tau(),
        None
    );
}

#[test]
fn a_throw_towards_a_close_camera_is_fitted_with_where_it_left() {
    let c = camera();
    // Off a fourth-floor balcony 0.8 m out, pushed 3 m/s towards the camera and 1 m/s up.
    let truth = path(Model::Fall, [1.0, 10.2, 0.8], [0.4, 1.0, 3.0], 0.0);
    let points = seen(&c, &truth, 30.0, 1.1);
    let got = fit(&c, &points, Model::Fall, 0.0, &Prior::NONE).expect("a fit");
    assert!(got.rms_px < 0.5, "{got:?}");
    for k in 0..3 {
        assert!((got.p0[k] - truth.p0[k]).abs() < 0.15, "{got:?}");
        assert!((got.v0[k] - truth.v0[k]).abs() < 0.3, "{got:?}");
    }
    // Its apex is about 5 cm above the release: the floor it came from, known to a fraction
    // of a storey.
    assert!((got.apex()[1] - truth.apex()[1]).abs() < 0.15, "{got:?}");
    assert!(got.apex_sigma_m > 0.0 && got.apex_sigma_m < 0.5, "{got:?}");
}

#[test]
fn a_bag_slowed_by_drag_is_fitted_with_its_drag() {
    let c = camera();
    let truth = path(Model::Fall, [-1.0, 14.0, 1.2], [0.0, 0.5, 1.5], 0.5);
    let points = seen(&c, &truth, 25.0, 1.4);
    let with = fit(&c, &points, Model::Fall, 0.8, &Prior::NONE).expect("a fit");
    let without = fit(&c, &points, Model::Fall, 0.0, &Prior::NONE).expect("a fit");
    assert!(with.rms_px < 0.5, "{with:?}");
    assert!(with.rms_px < without.rms_px, "{with:?} {without:?}");
    // Drag, distance out and speed trade against each other from one view: drag is found,
    // not exactly; the apex, within a sixth of a storey.
    assert!(with.drag > 0.2, "{with:?}");
    assert!(
        (with.apex()[1] - truth.apex()[1]).abs() < 0.5,
        "{:?} {with:?}",
        with.apex()
    );
}

#[test]
fn rain_at_constant_speed_is_a_line_that_no_fall_explains() {
    let c = camera();
    // A drop 2 m out at 9 m/s, its terminal speed, over 0.6 s.
    let truth = path(Model::Line, [2.0, 12.0, 2.0], [0.8, -9.0, 0.0], 0.0);
    let points = seen(&c, &truth, 25.0, 0.6);
    let line = fit(&c, &points, Model::Line, 0.0, &Prior::NONE).expect("a line");
    let fall = fit(&c, &points, Model::Fall, 0.8, &Prior::NONE);
    assert!(line.rms_px < 0.5, "{line:?}");
    // A fall fits it only far behind the wall (where gravity's pull is a few pixels) or worse.
    if let Some(f) = fall {
        assert!(
            f.p0[2] < -3.0 || f.rms_px > 2.0 * line.rms_px,
            "{f:?} {line:?}"
        );
    }
}

#[test]
fn a_drop_close_to_the_wall_is_fitted_too_and_too_few_points_are_none() {
    let c = camera();
    let truth = path(Model::Fall, [-2.0, 13.0, 1.5], [0.0; 3], 0.0);
    let points = seen(&c, &truth, 25.0, 1.2);
    let got = fit(&c, &points, Model::Fall, 0.0, &Prior::NONE).expect("a fit");
    assert!(got.rms_px < 0.5, "{got:?}");
    // From one view, height, distance out and a small vertical speed trade against each
    // other under the blob centres' wobble: a quarter of a metre, a twelfth of a storey.
    let apex = got.apex();
    assert!(
        (apex[1] - 13.0).abs() < 0.25 && (apex[2] - 1.5).abs() < 0.25,
        "{got:?}"
    );
    assert!(fit(&c, &points[..3], Model::Fall, 0.0, &Prior::NONE).is_none());
}

#[test]
fn a_drop_a_gust_pushes_along_the_wall_is_a_drift_with_its_sway() {
    let c = camera();
    // 3 m from the lens, at a terminal speed of 6 m/s, blown along the wall by a wind that a
    // gust slows at 3 m/s².
    let truth = Flight {
        sway: [-3.0, 0.0],
        ..path(Model::Drift, [1.0, 6.0, 4.0], [2.0, -6.0, 0.0], 0.0)
    };
    // Velocity is the derivative of position; the vertical speed stays.
    let (a, b) = (truth.at(0.4), truth.at(0.4 + 1e-6));
    let v = truth.velocity(0.4);
    for k in 0..3 {
        assert!(((b[k] - a[k]) / 1e-6 - v[k]).abs() < 1e-4, "{k}");
    }
    assert_eq!(v[1], -6.0);
    assert_eq!(truth.apex_tau(), None);
    let points = seen(&c, &truth, 30.0, 0.6);
    let prior = Prior {
        sway_mps2: [5.0, 0.0],
        ..Prior::NONE
    };
    let drift = fit(&c, &points, Model::Drift, 0.0, &prior).expect("a drift");
    let line = fit(&c, &points, Model::Line, 0.0, &prior).expect("a line");
    assert!(drift.rms_px < 0.5, "{drift:?}");
    assert!(line.rms_px > 2.0 * drift.rms_px, "{line:?} {drift:?}");
    // One view cannot tell a near drop from a far one as fast: the sway is found in proportion
    // to the speed.
    assert!((drift.sway[0] / drift.v0[1] - 0.5).abs() < 0.1, "{drift:?}");
    // Held to no sway out from the wall, it has none.
    assert_eq!(drift.sway[1], 0.0);
}

#[test]
fn a_drift_never_rises() {
    let c = camera();
    // Something rising at a steady 3 m/s, 3 m from the lens, pushed along the wall at 3 m/s²:
    // nothing the air carries at its terminal speed (rain, snow, a leaf) moves so.
    let rising = Flight {
        sway: [3.0, 0.0],
        ..path(Model::Drift, [-1.0, 6.0, 4.0], [1.0, 3.0, 0.0], 0.0)
    };
    let points = seen(&c, &rising, 30.0, 0.6);
    let prior = Prior {
        sway_mps2: [5.0, 0.0],
        ..Prior::NONE
    };
    // The drift that explains it best hangs at most, and misses it by pixels.
    let drift = fit(&c, &points, Model::Drift, 0.0, &prior).expect("a drift");
    assert!(drift.v0[1] <= 0.0, "{drift:?}");
    assert!(drift.rms_px > 1.0, "{drift:?}");
    // A line is no drift: it rises where the pixels do (a bird climbing).
    let line = fit(&c, &points, Model::Line, 0.0, &prior).expect("a line");
    assert!(line.v0[1] > 0.0, "{line:?}");
}

#[test]
fn a_drop_followed_while_a_gust_turns_is_a_drift_whose_push_changes() {
    let c = camera();
    // 3 m from the lens at 6 m/s, pushed along the wall at 2 m/s² by a gust that turns at
    // 1.2 m/s³ (pushing the other way after 1.7 s).
    let truth = Flight {
        sway: [2.0, 0.0],
        gust: [-1.2, 0.0],
        ..path(Model::Gusting, [-2.0, 14.0, 4.0], [1.0, -6.0, 0.0], 0.0)
    };
    // Velocity is the derivative of position; the vertical speed stays.
    let (a, b) = (truth.at(1.1), truth.at(1.1 + 1e-6));
    let v = truth.velocity(1.1);
    for k in 0..3 {
        assert!(((b[k] - a[k]) / 1e-6 - v[k]).abs() < 1e-4, "{k}");
    }
    assert_eq!(v[1], -6.0);
    let prior = Prior {
        sway_mps2: [5.0, 0.0],
        ..Prior::NONE
    };
    // Seen for 2 s: the push's change is found (along the wall only, as the prior allows), and
    // explains what a steady push does not.
    let points = seen(&c, &truth, 25.0, 2.0);
    assert!(points.len() >= 45, "{}", points.len());
    let gusting = fit(&c, &points, Model::Gusting, 0.0, &prior).expect("a gusting drift");
    assert!(gusting.rms_px < 0.5, "{gusting:?}");
    assert!(
        gusting.gust[0] < 0.0 && gusting.gust[1] == 0.0,
        "{gusting:?}"
    );
    let steady = fit(&c, &points, Model::Drift, 0.0, &prior).expect("a drift");
    assert_eq!(steady.gust, [0.0; 2], "{steady:?}");
    assert!(
        steady.rms_px > 2.0 * gusting.rms_px,
        "{steady:?} {gusting:?}"
    );
}

/// Where a body under gravity and drag quadratic in speed (`c`, 1/m) is at `times` after leaving
/// `p` at `v`: stepped a tenth of a millisecond at a time, each step moving it at the mean of
/// its speeds before and after.
fn dragged(p: [f64; 3], v: [f64; 3], c: f64, times: &[f64]) -> Vec<[f64; 3]> {
    const DT: f64 = 1e-4;
    let (mut p, mut v, mut t) = (p, v, 0.0);
    times
        .iter()
        .map(|&until| {
            while t < until - 1e-9 {
                let speed = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
                for k in 0..3 {
                    let before = v[k];
                    v[k] -= DT * (c * speed * v[k] + if k == 1 { G } else { 0.0 });
                    p[k] += DT * 0.5 * (before + v[k]);
                }
                t += DT;
            }
            p
        })
        .collect()
}

#[test]
fn a_bag_slowed_as_real_drag_slows_it_is_placed_where_it_was_dropped() {
    // A bag of rubbish (0.02/m: 22 m/s at most) dropped from rest at 16 m, 0.9 m out, seen at
    // 30 fps from its release for 1.6 s, by then falling at 13 m/s and slowed by 3.4 m/s².
    let c = camera();
    let times: Vec<f64> = (0..48).map(|i| f64::from(i) / 30.0).collect();
    let points: Vec<(f64, f64, f64)> = dragged([1.0, 16.0, 0.9], [0.0; 3], 0.02, &times)
        .into_iter()
        .zip(&times)
        .map(|(p, &t)| {
            let (x, y) = c.project(p).expect("in front");
            (t, x, y)
        })
        .collect();
    let prior = Prior {
        out_m: (-0.5, 3.0),
        towards_mps: 1.5,
        ..Prior::NONE
    };
    // Linear drag bends the path otherwise, and the fit reads the difference as distance: it
    // puts the release 1.4 m lower, half a storey, and 0.5 m nearer the camera.
    let linear = fit(&c, &points, Model::Fall, 0.4, &prior).expect("a fall");
    let apex = linear.apex();
    assert!(apex[1] < 15.0 && apex[2] > 1.3, "{apex:?} {linear:?}");
    // Quadratic drag, refined from there, finds the release within a twelfth of a storey, and
    // the bag's drag.
    let quadratic =
        refit(&c, &points, (&linear, Model::FallQuadratic), 0.05, &prior).expect("a fall");
    let apex = quadratic.apex();
    assert!(
        (apex[1] - 16.0).abs() < 0.25 && (apex[2] - 0.9).abs() < 0.25,
        "{apex:?} {quadratic:?}"
    );
    assert!((quadratic.drag - 0.02).abs() < 0.003, "{quadratic:?}");
    assert!(quadratic.rms_px < 0.1 && linear.rms_px > 2.0 * quadratic.rms_px);
    // Its integration follows the closed forms: the parabola without drag.
    let parabola = path(Model::FallQuadratic, [0.0, 10.0, 0.0], [1.0, 3.0, 0.0], 0.0);
    let exact = path(Model::Fall, [0.0, 10.0, 0.0], [1.0, 3.0, 0.0], 0.0);
    for tau in [-0.7, 0.3, 1.9] {
        let (a, b) = (parabola.at(tau), exact.at(tau));
        assert!((0..3).all(|k| (a[k] - b[k]).abs() < 1e-9), "{tau}");
    }
    assert!((parabola.apex_tau().unwrap() - 3.0 / G).abs() < 1e-6);
}
