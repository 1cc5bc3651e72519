//! A large blob is held to its own wobble ([`steady`]), and the few sightings far off its path
//! are left out against that limit as against its size's.

use super::*;

/// A box dropped from the roof of [`view`]'s building (12.6 m), 1 m out, 0.5 m/s towards the
/// camera, seen at 25 fps for 1.4 s as a steady 24 px blob.
fn large_drop() -> FallTrack {
    let v = view();
    let mut tr = track(&v, 25.0, 1.4, |t| {
        [4.0, 12.6 - 0.5 * G * t * t, 1.0 + 0.5 * t]
    });
    for s in &mut tr.points {
        (s.area, s.size_px, s.length_px, s.spread) = (576, 24.0, 30.0, square(24.0));
    }
    tr
}

#[test]
fn a_large_blob_broken_in_two_for_a_few_frames_is_a_fall_from_its_floor() {
    let (camera, facade) = view();
    let whole = large_drop();
    let floor = judged(&whole).expect("a fall").origin.floor;
    assert_eq!(floor, 5);
    // For three frames the blob broke in two, its centre on one half, 16 px to the side (two
    // thirds of its size): the path through the rest misses those, and only those, by far
    // more than the blob's wobble.
    let mut broken = whole.clone();
    let n = broken.points.len();
    for s in &mut broken.points[n / 2..n / 2 + 3] {
        s.x_px += 16.0;
        s.size_px = 18.0;
        on_facade(s, (&camera, &facade));
    }
    // Taken all together, the path misses by more than the blob's steadiness allows, and less
    // than its size does: those three are left out against the steadier limit too.
    let p = ClassifyParams::default();
    let fitted: Vec<&Sighting> = broken.points.iter().collect();
    let (size_limit, steady) = (sized(&p, 24.0), steady(&p, &fitted, 24.0));
    let all = pixels(&fitted);
    let through_all =
        flight::fit(&camera, &all, Model::Fall, p.max_drag, &prior(&p, false)).expect("a path");
    assert!(
        (steady..size_limit).contains(&through_all.rms_px),
        "{} not in {steady}..{size_limit}",
        through_all.rms_px
    );
    assert_eq!(judged(&broken).map(|f| f.origin.floor), Ok(floor));
    // Broken so for more than one frame in six, it is not one thing's path.
    let mut longer = whole;
    assert!(8 > n / 6);
    for s in &mut longer.points[n / 2 - 4..n / 2 + 4] {
        s.x_px += 16.0;
        s.size_px = 18.0;
        on_facade(s, (&camera, &facade));
    }
    assert!(
        matches!(judged(&longer), Err(Reject::Unexplained { .. })),
        "{:?}",
        judged(&longer)
    );
}
