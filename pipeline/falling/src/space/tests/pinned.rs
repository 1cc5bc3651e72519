//! A track seen in too few of its frames to stand alone is a fall only where its path pins the
//! release ([`PINNED_FLOORS`]).

use super::*;

/// A body dropped from 14 m, 2 m out from the wall, under linear drag `drag` (1/s), seen by
/// [`view`] in every third frame at 25 fps for 2 s.
fn sparse_drop(drag: f64) -> FallTrack {
    let v = view();
    let path = |t: f64| {
        let e = (1.0 - (-drag * t).exp()) / drag;
        [4.0 + 0.8 * e, 14.0 - G / drag * (t - e), 2.0]
    };
    let mut tr = track(&v, 25.0, 2.0, path);
    tr.points = tr.points.into_iter().step_by(3).collect();
    tr
}

#[test]
fn a_sparse_track_whose_path_asks_for_more_drag_than_a_thrown_thing_has_pins_nothing() {
    let (camera, facade) = view();
    let p = ClassifyParams::default();
    let judge_in = |tr: &FallTrack, frames: usize| judge(tr, (&camera, frames), &facade, &p);
    // Slowed as a thrown thing can be: in a third of its frames, its path still places the
    // release within half a storey.
    let thrown = sparse_drop(0.5 * p.max_drag);
    let frames = 3 * thrown.points.len();
    let fall = judge_in(&thrown, frames).expect("a fall");
    assert!(judged_sigma_m(&fall, p.max_drag, 2.0) < PINNED_FLOORS * facade.floor_height_m);
    // Slowed as a large raindrop is (a drag of 1/s: 9.8 m/s at most): its path is fitted at the
    // drag's bound, which is no fit of the sightings' to read a spread from.
    let drifting = sparse_drop(1.0);
    let frames = 3 * drifting.points.len();
    match judge_in(&drifting, frames) {
        Err(Reject::Sparse { coverage }) => assert!(coverage < p.min_coverage_clear),
        other => panic!("{other:?}"),
    }
    // Seen in every frame, it needs no pinning, and the path at the bound is judged as any.
    let seen = judge_in(&drifting, drifting.points.len()).expect("a fall");
    assert!(matches!(&seen.motion, Motion::Space(f) if f.drag >= p.max_drag));
    // Followed for less than `DRAG_TOLD_SECS`, its drag is little told: the path at the bound
    // keeps the spread read off it.
    let spread = judged_sigma_m(&seen, p.max_drag, 0.9 * DRAG_TOLD_SECS);
    assert!(spread.is_finite(), "{spread}");
    assert!(judged_sigma_m(&seen, p.max_drag, DRAG_TOLD_SECS).is_infinite());
}
