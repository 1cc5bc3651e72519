//! What a track's sightings tell beyond its path: how the blob grew, in how many of its frames
//! it was seen, how far its centre wanders.

use super::*;

/// A 20 px stick thrown from the 4th floor (10.5 m), 1 m out, 3 m/s down and 3 m/s at the
/// camera, tumbling, seen for 0.8 s: its blob's centre wobbles 8 px about the stick's. Its width
/// grows as it nears the lens, or, where `rushing`, 4-fold from 12 px.
fn tumbling_at_the_lens(rushing: bool) -> FallTrack {
    let v = view();
    let (camera, facade) = &v;
    let path = |t: f64| {
        [
            5.0 + 0.5 * t,
            10.5 - 3.0 * t - 0.5 * G * t * t,
            1.0 + 3.0 * t,
        ]
    };
    let mut tr = track(&v, 25.0, 0.8, path);
    let near = camera.depth(path(0.0));
    for (i, s) in tr.points.iter_mut().enumerate() {
        let t = s.t - 20.0;
        let size = match rushing {
            false => 20.0 * near / camera.depth(path(t)),
            true => 12.0 * 4f64.powf(t / 0.8),
        };
        let wobble = 8.0 * ((i * 7 % 5) as f64 / 2.0 - 1.0);
        (s.x_px, s.y_px) = (s.x_px + wobble, s.y_px - wobble * 0.5);
        (s.size_px, s.length_px, s.area) = (size, size, (size * size) as u32);
        s.spread = square(size);
        on_facade(s, (camera, facade));
    }
    tr
}

#[test]
fn a_tumbling_throw_at_the_lens_is_told_from_a_line_and_a_drift_by_how_it_grows() {
    // Its wobble leaves the line (1.26×) and the drift (1.22×) as near the pixels as the fall
    // (rendered held-out seed 3141's throw 033). Both would have it rush at the lens, 3.3 times
    // nearer by the end; it grew as the fall has it, 1.5-fold, and that settles it.
    let fall = judged(&tumbling_at_the_lens(false)).expect("a fall");
    assert_eq!(fall.origin.floor, 4, "{:?}", fall.origin);
    // Grown 4-fold, as fast as they would have it grow: one of them explains it as well.
    let rushing = judged(&tumbling_at_the_lens(true));
    assert!(
        matches!(
            rushing,
            Err(Reject::Straight { .. } | Reject::Drifting { .. })
        ),
        "{rushing:?}"
    );
}

#[test]
fn a_drift_a_little_nearer_the_pixels_than_the_fall_is_refuted_by_how_the_blob_grew() {
    // The tumbling throw at the lens above, its fall fitted as well as the pixels let it be.
    let (camera, _) = view();
    let tr = tumbling_at_the_lens(false);
    let p = ClassifyParams::default();
    let prior = prior(&p, false);
    let fitted: Vec<&Sighting> = tr.points.iter().collect();
    let points = pixels(&fitted);
    let fit = |model| flight::fit(&camera, &points, model, p.max_drag, &prior).expect("a path");
    let (fall, drift) = (fit(Model::Fall), fit(Model::Drift));
    let rivals =
        |fall: &Flight| rivals::explain_as_well(&camera, &points, fall, &fitted, (&p, &prior));
    assert_eq!(rivals(&fall), None);
    // Had the drift, with its one unknown more, explained the pixels a little better than the
    // fall (by a hundredth, within `drift_ratio`), the pixels would not tell them apart, and
    // the blob's growth, which the fall foretells and the drift does not, still settles it
    // (rendered held-out seed 1357's throw 029: a 1 m object dropped from the 12th floor in a
    // downpour, the drift 1.02 px, the fall 1.04 px).
    let behind = Flight {
        rms_px: drift.rms_px * 1.01,
        ..fall.clone()
    };
    assert_eq!(rivals(&behind), None);
    // Better by more than that ratio, it is no fall (the line is then as near as well).
    let beaten = Flight {
        rms_px: drift.rms_px * p.drift_ratio * 1.01,
        ..fall
    };
    assert!(
        matches!(
            rivals(&beaten),
            Some(Reject::Drifting { .. } | Reject::Straight { .. })
        ),
        "{:?}",
        rivals(&beaten)
    );
}

#[test]
fn a_drop_seen_in_few_of_its_frames_is_a_fall_where_its_path_pins_the_release() {
    // Off the 4th floor (10.5 m), 1 m out, for a second at 50 fps: a faint object the codec
    // drops from most frames.
    let (v, params) = (view(), ClassifyParams::default());
    let drop =
        |v: &(FacadeCamera, Facade)| track(v, 50.0, 1.0, |t| [5.0, 10.5 - 0.5 * G * t * t, 1.0]);
    let whole = drop(&v);
    let frames = whole.points.len();
    let every = |tr: &FallTrack, k: usize| FallTrack {
        id: 1,
        points: tr.points.iter().step_by(k).cloned().collect(),
    };
    // Seen in a half and in a third of its frames: fewer than a short track needs alone, and
    // its path pins the release within half a storey.
    for k in [2, 3] {
        let fall = judge(&every(&whole, k), (&v.0, frames), &v.1, &params).expect("a fall");
        assert_eq!(fall.origin.floor, 4, "{:?}", fall.origin);
        assert!(
            fall.origin.sigma_m < 0.5 * v.1.floor_height_m,
            "{:?}",
            fall.origin
        );
    }
    // In a quarter: too few, however well a path fits.
    assert!(matches!(
        judge(&every(&whole, 4), (&v.0, frames), &v.1, &params),
        Err(Reject::Sparse { .. })
    ));
    // Where storeys were 0.1 m high, the same path would leave the release's storey open: seen
    // in a third of its frames it is not a fall, and in all of them it is.
    let low = view_storeys(0.1);
    let whole = drop(&low);
    let gappy = judge(&every(&whole, 3), (&low.0, frames), &low.1, &params);
    assert!(matches!(gappy, Err(Reject::Sparse { .. })), "{gappy:?}");
    let fall = judge(&whole, (&low.0, frames), &low.1, &params).expect("a fall");
    assert!(
        fall.origin.sigma_m > low.1.floor_height_m,
        "{:?}",
        fall.origin
    );
}

#[test]
fn two_lights_one_after_the_other_are_no_fall_however_large() {
    // A 44 px window light for 10 frames, then another 60 px lower for 7: one track. A fall
    // misses them by 8.5 px, which their size would allow (9.8 px), but the blobs stay exactly
    // where they are: their centres are where the lights are, give or take a twentieth of
    // their size (3.2 px in all).
    let (camera, facade) = view();
    let mut tr = track(&(camera.clone(), facade.clone()), 30.0, 17.0 / 30.0, |_| {
        [5.0, 9.0, 0.0]
    });
    for (i, s) in tr.points.iter_mut().enumerate() {
        (s.x_px, s.y_px) = match i < 10 {
            true => (600.0, 200.0),
            false => (615.0, 260.0),
        };
        (s.size_px, s.length_px, s.area) = (44.0, 63.0, 1936);
        s.spread = [330.0, 0.0, 83.0];
        on_facade(s, (&camera, &facade));
    }
    let lights = judged(&tr);
    assert!(
        matches!(lights, Err(Reject::Unexplained { rms_px, limit_px }) if rms_px < 9.8 && limit_px < 3.5),
        "{lights:?}"
    );
}

#[test]
fn a_faint_blob_whose_length_jumps_is_a_fall_in_clear_air_and_not_in_rain() {
    // A drop off the 4th floor whose blob is 3 px long in one frame and 7 px in the next, as the
    // faint test takes more or less of its smear: in clear frames, a fall.
    let v = view();
    let mut tr = track(&v, 30.0, 1.0, |t| [5.0, 10.5 - 0.5 * G * t * t, 1.0]);
    for (i, s) in tr.points.iter_mut().enumerate() {
        s.length_px = [3.0, 7.0][i % 2];
    }
    let fall = judged(&tr).expect("a fall");
    assert_eq!(fall.origin.floor, 4, "{:?}", fall.origin);
    // Where every frame held 40 candidates (rain), a track whose blob's length jumps so hops
    // between streaks.
    for s in &mut tr.points {
        s.crowd = 40;
    }
    let rain = judged(&tr);
    assert!(matches!(rain, Err(Reject::Inconsistent { .. })), "{rain:?}");
}

#[test]
fn a_track_begun_on_a_leaf_by_the_release_is_judged_from_the_object_for_the_frames_it_was_seen() {
    // A leaf by the window flickers for 12 frames as a 2 px blob, 30 px from where a 12 px
    // object then drops from, 1 m out from the 4th floor (10.5 m); the track takes the object
    // and keeps it for the 14 frames (25 fps) before it leaves the frame (rendered held-out seed 6029's
    // throw 009): as many as a track needs alone, not twice as many.
    let v = view();
    let (camera, facade) = &v;
    let rest = 12.0 / 25.0;
    let mut tr = track(&v, 25.0, rest + 14.0 / 25.0, |t| {
        let d = (t - rest).max(0.0);
        [4.0, 10.5 - 0.5 * G * d * d, 1.0]
    });
    assert_eq!(tr.points.len(), 26);
    for s in &mut tr.points {
        let size = match s.t - 20.0 < rest - 1e-9 {
            true => {
                (s.x_px, s.y_px) = (s.x_px + 18.0, s.y_px - 24.0);
                2.0
            }
            false => 12.0,
        };
        (s.size_px, s.length_px, s.area) = (size, size, (size * size) as u32);
        s.spread = square(size);
        on_facade(s, (camera, facade));
    }
    let fall = judged(&tr).expect("a fall");
    assert!(fall.t0 >= 20.0 + rest - 1e-9, "{fall:?}");
    assert_eq!(fall.origin.floor, 4, "{:?}", fall.origin);
}

#[test]
fn a_track_seen_in_half_its_frames_is_a_fall_in_clear_air_and_not_in_a_lull_in_the_rain() {
    // Off the 4th floor (10.5 m), 1 m out, for a second at 50 fps, seen in every other frame:
    // in clear air a faint object the codec drops, 25 sightings (long enough alone).
    let (v, params) = (view(), ClassifyParams::default());
    let whole = track(&v, 50.0, 1.0, |t| [5.0, 10.5 - 0.5 * G * t * t, 1.0]);
    let frames = whole.points.len();
    let mut half = FallTrack {
        id: 1,
        points: whole.points.iter().step_by(2).cloned().collect(),
    };
    let fall = judge(&half, (&v.0, frames), &v.1, &params).expect("a fall");
    assert_eq!(fall.origin.floor, 4, "{:?}", fall.origin);
    // The same while a downpour lulls: its frames hold a candidate or two, the seconds before
    // them a dozen in a quarter of the frames. A track that skips half its frames there may be
    // made of specks of rain.
    for s in &mut half.points {
        (s.crowd, s.crowd_lately) = (2, 12);
    }
    let lull = judge(&half, (&v.0, frames), &v.1, &params);
    assert!(matches!(lull, Err(Reject::Sparse { .. })), "{lull:?}");
}
