//! Which sightings saw the object whole, by the breadth and size the path gives it at each
//! distance.

use super::*;
use crate::space::in_part::{Blob, seen_whole};

/// A box dropped from 10 m, 1 m out, pushed 4 m/s at the camera of [`view`], seen for 1.2 s at
/// 30 fps: each sighting as a blob that saw the whole box (20 px at the first sighting, growing
/// as it nears the lens).
fn pushed_at_the_lens() -> (FacadeCamera, Flight, Vec<Blob>) {
    let (camera, _) = view();
    let fall = Flight {
        model: Model::Fall,
        p0: [5.0, 10.0, 1.0],
        v0: [0.0, 0.0, 4.0],
        drag: 0.0,
        sway: [0.0; 2],
        gust: [0.0; 2],
        rms_px: 0.0,
        apex_sigma_m: 0.0,
    };
    let near = camera.depth(fall.at(0.0));
    let seen = (0..36)
        .map(|i| {
            let t = f64::from(i) / 30.0;
            let p = fall.at(t);
            let (x, y) = camera.project(p).expect("in front");
            let size = 20.0 * near / camera.depth(p);
            Blob {
                at: (t, x, y),
                breadth: size,
                size_px: size,
            }
        })
        .collect();
    (camera, fall, seen)
}

#[test]
fn blobs_narrower_than_the_object_at_their_distance_saw_it_in_part() {
    let (camera, fall, mut seen) = pushed_at_the_lens();
    let view = (&camera, &fall, 0.0);
    // It came nearer: the blob grew 2.5-fold, the median one 1.4 times the first; all saw it
    // whole.
    assert!(seen[35].breadth > 2.5 * seen[0].breadth);
    assert!(seen[18].breadth > 1.4 * seen[0].breadth);
    assert_eq!(seen_whole(view, &seen, 8), None);
    // Half hidden beside its path by a frond at first (6, 9 and 12 px across of 20), and once
    // a pixel and a half narrower than it is by noise: the first three saw it in part, and
    // only those.
    for (b, breadth) in seen.iter_mut().zip([6.0, 9.0, 12.0]) {
        b.breadth = breadth;
    }
    seen[15].breadth -= 1.5;
    let whole = seen_whole(view, &seen, 8).expect("some in part");
    assert_eq!(whole.len(), 33);
    assert_eq!(whole[0], seen[3].at);
    // Where most of the track saw it half as wide, that breadth is the object's.
    let (_, _, whole) = pushed_at_the_lens();
    for (b, w) in seen.iter_mut().zip(&whole).take(19) {
        b.breadth = 0.5 * w.breadth;
    }
    assert_eq!(seen_whole(view, &seen, 8), None);
}

#[test]
fn the_first_blobs_smaller_than_the_object_saw_it_coming_into_view() {
    let (camera, fall, mut seen) = pushed_at_the_lens();
    let view = (&camera, &fall, 0.0);
    // Its lower part first, over the zone's edge: as wide as the box, and of a sixth, a third
    // and three quarters of its area (blobs of 0.4, 0.6 and 0.87 of its size).
    for (b, share) in seen.iter_mut().zip([1.0f64 / 6.0, 1.0 / 3.0, 0.75]) {
        b.size_px *= share.sqrt();
    }
    // Later, a blob as small is not the object coming into view (a breadth tells in part).
    seen[20].size_px *= 0.5;
    let whole = seen_whole(view, &seen, 8).expect("some in part");
    assert_eq!(whole.len(), 34);
    assert_eq!(whole[0], seen[2].at);
}
