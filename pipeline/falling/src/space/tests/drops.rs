//! A blob broader than a raindrop's is no drop ([`crate::space::drops`]), in a downpour too.

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
