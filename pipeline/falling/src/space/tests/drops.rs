//! Drops blown by gusts are rain, not falls; and a blob broader than a raindrop's is no drop
//! ([`crate::space::drops`]), in a downpour too.

use super::*;

/// A body let go from 19.5 m (the 7th storey's middle, with [`view`]'s 3 m storeys), 1 m out
/// from the wall and pushed 2 m/s at the camera, slowed by a linear drag of 1/s (a board, a
/// bag), seen from 1 s after its release for 1.2 s at 30 fps in a downpour's crowded frames,
/// its blob `side` pixels every way.
fn pushed_in_rain(side: f64) -> FallTrack {
    let v = view();
    let path = |t: f64| {
        let t = t + 1.0;
        let e = 1.0 - (-t).exp();
        [4.0 + 0.3 * e, 19.5 - G * (t - e), 1.0 + 2.0 * e]
    };
    let mut tr = track(&v, 30.0, 1.2, path);
    for s in &mut tr.points {
        (s.size_px, s.length_px, s.area) = (side, side, (side * side) as u32);
        s.spread = square(side);
        (s.crowd, s.crowd_lately) = (20, 20);
    }
    tr
}

#[test]
fn a_board_pushed_at_the_lens_in_a_downpour_is_a_fall_where_a_speck_on_its_path_is_rain() {
    // A 40 px board moves 3-5 px a frame, a few of its breadths a second: no drop is that
    // broad, and its fall is taken, from its floor.
    let board = pushed_in_rain(40.0);
    let fall = judged(&board).expect("a fall");
    assert_eq!(fall.origin.floor, 7, "{:?}", fall.origin);
    // A 1.5 px speck along the same path in the same rain may be a drop near the lens that a
    // gust pushes at it (a speck's breadth tells nothing): that drift explains it as well, and
    // it is given up. A 200 px blob on the same path neither crosses the picture (4 of its
    // sizes) nor grows: no drop either, but it may be anything that stays in place, and the
    // drift is kept.
    for side in [1.5, 200.0] {
        match judged(&pushed_in_rain(side)) {
            Err(Reject::Drifting { .. }) => {}
            other => panic!("{side} px: {other:?}"),
        }
    }
}

#[test]
fn a_drop_near_the_lens_that_a_gust_pushes_along_the_wall_is_rain_not_a_fall() {
    let v = view();
    // 2.5 m from the lens (4.5 m out from the wall), above it, at a terminal speed of 6 m/s;
    // blown 3 m/s along the wall by a wind that a gust slows at 3 m/s². Only what is in the
    // picture is seen: the top left corner, which it leaves by the left edge.
    let mut drop = track(&v, 30.0, 1.5, |t| {
        [3.0 * t - 1.5 * t * t, 9.0 - 6.0 * t, 4.5]
    });
    drop.points
        .retain(|q| (0.0..1280.0).contains(&q.x_px) && (0.0..720.0).contains(&q.y_px));
    assert!(drop.points.len() >= 20, "{}", drop.points.len());
    // Without the drift to rival it, a path under gravity explains it (a fast fall from high up
    // the wall, slowed by drag).
    let n = drop.points.len();
    let no_drift = ClassifyParams {
        max_sway_mps2: 0.0,
        ..ClassifyParams::default()
    };
    assert!(judge(&drop, (&v.0, n), &v.1, &no_drift).is_ok());
    let (drift, fall) = drifting(judged(&drop));
    assert!(drift < fall, "{drift} {fall}");
}

/// The residuals of the drift and of the fall where `verdict` is that a drift explains the
/// track as well.
fn drifting(verdict: Result<Fall, Reject>) -> (f64, f64) {
    match verdict {
        Err(Reject::Drifting {
            drift_rms_px,
            fall_rms_px,
        }) => (drift_rms_px, fall_rms_px),
        other => panic!("{other:?}"),
    }
}

/// A drop at its terminal speed of 4 m/s, 3 m out from the wall (4 m from the lens) and 14 m up,
/// blown towards the camera by a gust of 4 m/s that dies down to 1 m/s (the drop follows the
/// air with a time constant of 0.7 s), seen as a 2 px speck for 1.6 s in clear frames. A path
/// under gravity explains it with all the drag a fall may have: it is at its terminal speed, and
/// a drift towards the camera explains it as well. The same path seen as a 12 px blob, too broad
/// for a drop moving so slowly across the picture, is a fall at its terminal speed, as a bag of
/// rubbish is.
#[test]
fn a_speck_at_its_terminal_speed_in_clear_frames_may_be_a_drop_in_a_gust_towards_the_lens() {
    let mut drop = track(&view(), 30.0, 1.6, |t| {
        [
            5.0 + 0.3 * t,
            14.0 - 4.0 * t,
            3.0 + t + 3.0 * 0.7 * (1.0 - (-t / 0.7).exp()),
        ]
    });
    assert_eq!(drop.points.len(), 48);
    let bag = drop.clone();
    for s in &mut drop.points {
        (s.size_px, s.length_px, s.spread) = (2.0, 5.0, square(1.7));
    }
    let (drift, fall) = drifting(judged(&drop));
    assert!(drift < 1.25 * fall, "{drift} {fall}");
    let fall = judged(&bag).expect("a fall");
    let max_drag = ClassifyParams::default().max_drag;
    match fall.motion {
        Motion::Space(path) => assert!(path.drag >= max_drag, "{}", path.drag),
        other => panic!("{other:?}"),
    }
}
