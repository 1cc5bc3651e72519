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

#[test]
fn a_long_track_in_rain_seen_in_two_thirds_of_its_frames_is_a_fall_where_its_path_pins_the_release()
{
    // Off the 4th floor (10.5 m), 1 m out, at 50 fps, in a downpour (a dozen candidates a
    // frame): streaks hide it in every third frame.
    let (v, params) = (view(), ClassifyParams::default());
    let in_rain = |secs: f64, v: &(FacadeCamera, Facade)| {
        let whole = track(v, 50.0, secs, |t| [5.0, 10.5 - 0.5 * G * t * t, 1.0]);
        let frames = whole.points.len();
        let mut seen = FallTrack {
            id: 1,
            points: (whole.points.iter().enumerate())
                .filter(|(i, _)| i % 3 != 2)
                .map(|(_, p)| p.clone())
                .collect(),
        };
        for s in &mut seen.points {
            (s.crowd, s.crowd_lately) = (12, 12);
        }
        (seen, frames)
    };
    // For 1.2 s: 40 sightings, twice what a track in rain needs, hold one path.
    let (long, frames) = in_rain(1.2, &v);
    assert!(long.points.len() >= 4 * params.min_frames);
    let fall = judge(&long, (&v.0, frames), &v.1, &params).expect("a fall");
    assert_eq!(fall.origin.floor, 4, "{:?}", fall.origin);
    // For 0.7 s: 24 sightings, as many as chance tracks between streaks hold.
    let (short, frames) = in_rain(0.7, &v);
    let sparse = judge(&short, (&v.0, frames), &v.1, &params);
    assert!(matches!(sparse, Err(Reject::Sparse { .. })), "{sparse:?}");
    // Where storeys were 0.1 m high, the long track's path leaves the release's storey open.
    let low = view_storeys(0.1);
    let (long, frames) = in_rain(1.2, &low);
    let open = judge(&long, (&low.0, frames), &low.1, &params);
    assert!(matches!(open, Err(Reject::Sparse { .. })), "{open:?}");
}
