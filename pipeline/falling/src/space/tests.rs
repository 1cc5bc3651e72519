use super::*;
use crate::G;
use crate::classify::classify;
use crate::space::in_part::in_part_may_explain;
use crate::tracker::Sighting;

/// The spread of a square blob `side` pixels a side (as wide as that every way).
pub(crate) fn square(side: f64) -> [f64; 3] {
    [side * side / 12.0, 0.0, side * side / 12.0]
}

/// 7 m from the wall, 1.5 m up, looking 40° up with a 95° lens at 1280×720; the calibration
/// it would have (a 10.8 × 12 m rectangle from the ground, 3 m storeys).
pub(crate) fn view() -> (FacadeCamera, Facade) {
    view_storeys(3.0)
}

/// [`view`], its storeys `storey_m` high.
fn view_storeys(storey_m: f64) -> (FacadeCamera, Facade) {
    let (st, ct) = 40f64.to_radians().sin_cos();
    let camera = FacadeCamera {
        focal_px: 640.0 / (47.5f64.to_radians()).tan(),
        width: 1280.0,
        height: 720.0,
        rotation: [[1.0, 0.0, 0.0], [0.0, -ct, -st], [0.0, st, -ct]],
        centre: [5.4, 1.5, 7.0],
    };
    let (w, h) = (10.8, 12.0);
    let px = |p: [f64; 3]| {
        let (x, y) = camera.project(p).expect("in front");
        (x / camera.width, y / camera.height)
    };
    let facade = Facade::new(
        [
            px([0.0, 0.0, 0.0]),
            px([w, 0.0, 0.0]),
            px([w, h, 0.0]),
            px([0.0, h, 0.0]),
        ],
        w,
        h,
        storey_m,
        1,
        3,
    )
    .expect("a calibration");
    (camera, facade)
}

/// What the tracker would hand over for a body at `p(t)`, seen at `fps` for `secs`.
pub(crate) fn track(
    (camera, facade): &(FacadeCamera, Facade),
    fps: f64,
    secs: f64,
    p: impl Fn(f64) -> [f64; 3],
) -> FallTrack {
    FallTrack {
        id: 1,
        points: (0..(secs * fps) as usize)
            .filter_map(|i| {
                let t = i as f64 / fps;
                let (x, y) = camera.project(p(t))?;
                let wobble = 0.3 * ((i * 7919 % 13) as f64 / 6.0 - 1.0);
                let (x, y) = (x + wobble, y - wobble);
                let (u, h) = facade.to_facade((x / camera.width, y / camera.height))?;
                Some(Sighting {
                    t: 20.0 + t,
                    x_px: x,
                    y_px: y,
                    u,
                    h,
                    area: 36,
                    size_px: 6.0,
                    length_px: 8.0,
                    spread: square(4.5),
                    edge: false,
                    crowd: 1,
                    crowd_lately: 1,
                })
            })
            .collect(),
    }
}

/// The verdict on `tr`, seen in every frame it spans from [`view`], with the default parameters.
fn judged(tr: &FallTrack) -> Result<Fall, Reject> {
    let (camera, facade) = view();
    judge(
        tr,
        (&camera, tr.points.len()),
        &facade,
        &ClassifyParams::default(),
    )
}

/// Puts sighting `s`, moved in the picture, where the facade plane sees it.
fn on_facade(s: &mut Sighting, (camera, facade): (&FacadeCamera, &Facade)) {
    (s.u, s.h) = facade
        .to_facade((s.x_px / camera.width, s.y_px / camera.height))
        .expect("on the facade");
}

#[test]
fn a_push_towards_a_close_camera_is_a_fall_from_its_floor_where_the_plane_sees_none() {
    let v = view();
    // Off the roof of a four-storey building (12 m, released at 12.6 m), 1 m out, pushed
    // 2.5 m/s towards the camera and 1 m/s up.
    let tr = track(&v, 30.0, 1.3, |t| {
        [
            4.0 + 0.3 * t,
            12.6 + 1.0 * t - 0.5 * G * t * t,
            1.0 + 2.5 * t,
        ]
    });
    let p = ClassifyParams::default();
    let fall = judge(&tr, (&v.0, tr.points.len()), &v.1, &p).expect("a fall");
    // Above the fourth storey's top (12 m): the roof, "floor 5".
    assert_eq!(fall.origin.floor, 5, "{:?}", fall.origin);
    assert!(
        (fall.origin.h_m - (12.6 + 1.0 / (2.0 * G))).abs() < 0.3,
        "{:?}",
        fall.origin
    );
    assert_eq!(fall.origin.column, 2);
    assert!(
        fall.origin.out_m.is_some_and(|n| (n - 1.25).abs() < 0.4),
        "{:?}",
        fall.origin
    );
    assert!(fall.origin.floor_range[0] <= 5 && fall.origin.floor_range[1] >= 5);
    // On the facade plane the same track is no fall from there: its acceleration is off g.
    match classify(&tr, &v.1, &p) {
        Err(Reject::TooMuchAcceleration { accel_mps2 }) => assert!(accel_mps2 > 1.6 * G),
        other => panic!("{other:?}"),
    }
}

#[test]
fn rain_a_bird_and_a_jumble_are_rejected_in_3d_with_their_reason() {
    let v = view();
    let p = ClassifyParams::default();
    let reason = |tr: &FallTrack| judge(tr, (&v.0, tr.points.len()), &v.1, &p).unwrap_err();
    // Rain 3 m out at 9 m/s.
    let rain = track(&v, 25.0, 0.8, |t| [3.0 + 0.5 * t, 14.0 - 9.0 * t, 3.0]);
    assert!(
        matches!(reason(&rain), Reject::Straight { .. }),
        "{:?}",
        reason(&rain)
    );
    // A bird climbing away along the wall: it crosses the picture, so it is fitted in 3-D even
    // though it rises on the plane, and no path under gravity follows its steady climb.
    let bird = track(&v, 25.0, 1.2, |t| [1.0 + 6.0 * t, 8.0 + 1.5 * t, 2.0]);
    assert!(
        matches!(reason(&bird), Reject::Unexplained { .. }),
        "{:?}",
        reason(&bird)
    );
    // Sightings of different things: a fall's positions swapped about.
    let mut jumble = track(&v, 25.0, 1.2, |t| [4.0, 12.0 - 0.5 * G * t * t, 1.0]);
    let n = jumble.points.len();
    for i in (0..n).step_by(3) {
        let j = (i * 7) % n;
        let (a, b) = (jumble.points[i].clone(), jumble.points[j].clone());
        (jumble.points[i].x_px, jumble.points[i].y_px) = (b.x_px, b.y_px);
        (jumble.points[j].x_px, jumble.points[j].y_px) = (a.x_px, a.y_px);
    }
    assert!(
        matches!(reason(&jumble), Reject::Unexplained { .. }),
        "{:?}",
        reason(&jumble)
    );
    let straight = Reject::Straight {
        line_rms_px: 0.4,
        fall_rms_px: 0.3,
    };
    assert!(straight.to_string().contains("rain"), "{straight}");
}

/// Seed 1's `throw-000` (a drop from floor 14, 42 m from a 20-storey tower) at 640×360 through
/// H.264, as two encodes came out: each sighting `(x, y, size, length)` in pixels, 30 fps from
/// 1.733 s.
const LOW_RES_DROP: [(f64, f64, f64, u32); 48] = [
    (261.28, 222.86, 9.3, 11),
    (261.37, 223.09, 9.1, 10),
    (261.35, 223.07, 8.9, 10),
    (261.25, 223.25, 8.9, 10),
    (261.11, 223.38, 8.7, 10),
    (261.10, 223.50, 8.2, 9),
    (260.97, 224.51, 8.7, 11),
    (260.98, 224.57, 8.7, 11),
    (260.96, 224.96, 9.1, 11),
    (260.77, 225.03, 8.8, 11),
    (261.50, 227.12, 6.9, 11),
    (261.65, 228.55, 6.2, 10),
    (261.19, 229.50, 5.9, 12),
    (260.76, 230.84, 6.2, 9),
    (260.48, 231.60, 6.5, 10),
    (260.29, 232.54, 7.2, 10),
    (260.21, 233.36, 7.5, 10),
    (259.96, 234.16, 7.8, 10),
    (259.84, 234.71, 8.4, 10),
    (259.75, 235.54, 9.0, 11),
    (259.47, 236.62, 9.5, 11),
    (259.28, 237.76, 9.6, 11),
    (259.09, 239.32, 9.7, 11),
    (259.00, 240.67, 9.7, 11),
    (258.70, 242.43, 9.8, 11),
    (258.60, 244.00, 10.1, 12),
    (258.27, 245.74, 10.0, 12),
    (257.99, 247.54, 9.9, 11),
    (257.79, 249.56, 10.0, 11),
    (257.54, 251.54, 10.0, 11),
    (257.22, 253.48, 10.1, 11),
    (256.94, 255.57, 10.0, 12),
    (256.71, 257.81, 10.2, 12),
    (256.42, 260.06, 10.4, 12),
    (256.16, 262.73, 10.2, 12),
    (255.67, 265.04, 10.4, 12),
    (255.45, 267.58, 10.5, 13),
    (255.13, 270.20, 10.4, 15),
    (254.70, 272.88, 10.4, 12),
    (254.37, 275.72, 10.5, 13),
    (253.87, 278.71, 10.3, 13),
    (253.45, 281.63, 10.6, 13),
    (253.18, 284.78, 10.6, 13),
    (252.71, 287.95, 10.5, 12),
    (252.37, 291.34, 10.7, 13),
    (251.78, 294.49, 10.6, 14),
    (251.42, 297.21, 9.3, 12),
    (251.08, 298.10, 6.6, 10),
];
const LOW_RES_DROP_2: [(f64, f64, f64, u32); 51] = [
    (261.17, 222.88, 9.2, 11),
    (261.14, 223.01, 9.0, 10),
    (261.14, 223.01, 9.0, 10),
    (261.28, 223.12, 8.7, 10),
    (261.09, 223.27, 8.7, 10),
    (261.16, 223.46, 8.4, 10),
    (261.33, 224.10, 8.5, 11),
    (261.10, 224.58, 7.9, 10),
    (260.77, 225.05, 8.8, 11),
    (260.65, 225.18, 8.7, 11),
    (261.12, 227.69, 6.9, 10),
    (260.94, 228.94, 5.7, 10),
    (260.53, 229.83, 6.0, 10),
    (260.57, 230.71, 6.5, 9),
    (260.25, 231.44, 6.9, 10),
    (260.06, 232.33, 7.2, 10),
    (260.00, 233.58, 7.2, 10),
    (259.93, 234.12, 7.8, 10),
    (259.87, 234.76, 8.4, 10),
    (259.83, 235.65, 8.9, 11),
    (259.56, 236.76, 9.4, 11),
    (259.27, 237.69, 9.7, 11),
    (259.09, 239.32, 9.7, 11),
    (258.95, 240.79, 9.7, 12),
    (258.77, 242.44, 9.8, 11),
    (258.49, 244.06, 9.9, 12),
    (258.32, 245.76, 10.0, 12),
    (258.03, 247.55, 9.8, 11),
    (257.78, 249.52, 10.1, 11),
    (257.49, 251.41, 10.0, 11),
    (257.22, 253.48, 10.1, 11),
    (256.99, 255.56, 9.9, 12),
    (256.63, 257.85, 10.2, 12),
    (256.37, 260.15, 10.2, 12),
    (256.10, 262.66, 10.2, 13),
    (255.68, 265.06, 10.3, 12),
    (255.50, 267.61, 10.4, 13),
    (255.16, 270.13, 10.2, 12),
    (254.66, 272.91, 10.4, 12),
    (254.37, 275.78, 10.4, 13),
    (253.83, 278.76, 10.3, 13),
    (253.45, 281.63, 10.6, 13),
    (253.21, 284.84, 10.6, 13),
    (252.63, 288.02, 10.6, 12),
    (252.37, 291.26, 10.7, 13),
    (251.79, 294.41, 10.6, 13),
    (251.24, 297.07, 9.2, 12),
    (250.60, 298.74, 7.0, 10),
    (250.27, 301.81, 3.6, 9),
    (250.62, 308.29, 4.9, 8),
    (249.32, 317.91, 4.7, 11),
];

fn low_res_drop(points: &[(f64, f64, f64, u32)]) -> Result<Fall, Reject> {
    let facade = Facade::new(
        [
            (0.2974, 0.9725),
            (0.7026, 0.9725),
            (0.6259, 0.3722),
            (0.3741, 0.3722),
        ],
        25.2,
        36.0,
        3.0,
        9,
        7,
    )
    .expect("a calibration");
    let camera = FacadeCamera::recover(&facade, (640, 360), None).expect("a camera");
    let tr = FallTrack {
        id: 1,
        points: points
            .iter()
            .enumerate()
            .map(|(i, &(x, y, size_px, length))| {
                let (u, h) = facade
                    .to_facade((x / 640.0, y / 360.0))
                    .expect("on the wall");
                Sighting {
                    t: 1.7333 + i as f64 / 30.0,
                    x_px: x,
                    y_px: y,
                    u,
                    h,
                    area: (size_px * size_px) as u32,
                    size_px,
                    length_px: f64::from(length),
                    spread: square(size_px * size_px / f64::from(length)),
                    edge: false,
                    crowd: 1,
                    crowd_lately: 1,
                }
            })
            .collect(),
    };
    judge(
        &tr,
        (&camera, tr.points.len()),
        &facade,
        &ClassifyParams::default(),
    )
}

#[test]
fn a_long_drop_the_line_misses_by_a_pixel_is_a_fall() {
    // The path explains it within half a pixel, a line towards the camera within one: over 48
    // sightings a miss of a pixel is no wobble.
    let fall = low_res_drop(&LOW_RES_DROP).expect("a fall");
    assert_eq!(fall.origin.floor, 14, "{:?}", fall.origin);
}

#[test]
fn a_drop_the_line_mimics_by_rushing_at_the_lens_is_a_fall_by_its_size() {
    // The line explains the pixels within 1.4× the path (1.1 px against 0.8), by coming at the
    // camera: it would have the blob twice as wide at the end, where it grew a sixth (as the
    // path, falling nearer the tilted camera, has it).
    let fall = low_res_drop(&LOW_RES_DROP_2).expect("a fall");
    assert_eq!(fall.origin.floor, 14, "{:?}", fall.origin);
    // Had it doubled in width as it came (as the line has it), a line it would be; had it shrunk
    // to half its width, its size would speak for neither, and a line it would be too.
    for growth in [2.1, 0.5] {
        let sized: Vec<_> = LOW_RES_DROP_2
            .iter()
            .enumerate()
            .map(|(i, &(x, y, ..))| {
                let w = 6.0 * f64::powf(growth, i as f64 / 50.0);
                (x, y, w, w.round() as u32)
            })
            .collect();
        let verdict = low_res_drop(&sized);
        assert!(
            matches!(verdict, Err(Reject::Straight { .. })),
            "{growth}: {verdict:?}"
        );
    }
}

/// Where the track ends on the facade plane against where it starts (metres, + is up).
fn plane_rise(tr: &FallTrack) -> f64 {
    tr.points[tr.points.len() - 1].h - tr.points[0].h
}

#[test]
fn a_throw_at_the_lens_that_climbs_the_picture_is_a_fall_and_a_toss_up_the_wall_is_not() {
    let v = view();
    let p = ClassifyParams::default();
    // From the third floor's window sill (7 m), 0.8 m out, pushed 4 m/s at the camera and
    // 1.5 m/s up: the camera looks up, so the body climbs the picture as it comes, and rises on
    // the facade plane while it falls in 3-D.
    let at_lens = track(&v, 30.0, 0.9, |t| {
        [5.0, 7.0 + 1.5 * t - 0.5 * G * t * t, 0.8 + 4.0 * t]
    });
    assert!(plane_rise(&at_lens) > 0.0, "{}", plane_rise(&at_lens));
    let fall = judge(&at_lens, (&v.0, at_lens.points.len()), &v.1, &p).expect("a fall");
    assert_eq!(fall.origin.floor, 3, "{:?}", fall.origin);
    // Seen in its last 11 frames only (leaves hid its release): its path's approach is read
    // from two sightings at each end, where it was taken for none, and the track for a bird's
    // (rendered held-out seed 7013's 021, 11 sightings).
    let short = FallTrack {
        id: 1,
        points: at_lens.points[at_lens.points.len() - 11..].to_vec(),
    };
    let fall = judged(&short).expect("a fall");
    assert_eq!(fall.origin.floor, 3, "{:?}", fall.origin);
    // A ball tossed 7 m/s up from a man's hand along the wall, seen while it climbs: a path
    // under gravity explains it, but it keeps its distance from the lens.
    let toss = track(&v, 30.0, 0.5, |t| {
        [5.0, 1.8 + 7.0 * t - 0.5 * G * t * t, 0.8]
    });
    assert!(plane_rise(&toss) > 1.0, "{}", plane_rise(&toss));
    match judge(&toss, (&v.0, toss.points.len()), &v.1, &p) {
        Err(Reject::Climbing { approach }) => assert!(approach < 1.05, "{approach}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn specks_taken_before_and_after_a_fall_are_left_out_by_their_size() {
    let v = view();
    let (camera, facade) = &v;
    let fall = |t: f64| {
        [
            4.0 + 0.3 * t,
            12.6 + 1.0 * t - 0.5 * G * t * t,
            1.0 + 2.5 * t,
        ]
    };
    let mut clean = track(&v, 30.0, 1.3, fall);
    // Two sightings of the object 15 px off its path (merged with something, half hidden).
    for i in [12, 24] {
        let s = &mut clean.points[i];
        s.x_px += 15.0;
        on_facade(s, (camera, facade));
    }
    // Specks of noise taken two frames before the first sighting and four after the last,
    // 40 px off: what a track takes where a codec draws blocks anew (of a speck's size,
    // 1.4 px, or of the object's, 6 px).
    let with_specks = |size_px: f64| {
        let mut tr = clean.clone();
        let (first, last) = (tr.points[0].clone(), tr.points[tr.points.len() - 1].clone());
        let speck = |s: &Sighting, dt: f64| {
            let (x, y) = (s.x_px + 40.0, s.y_px - 20.0);
            let (u, h) = facade
                .to_facade((x / camera.width, y / camera.height))
                .expect("on the facade");
            Sighting {
                t: s.t + dt,
                x_px: x,
                y_px: y,
                u,
                h,
                area: (size_px * size_px).round() as u32,
                size_px,
                length_px: size_px,
                spread: square(size_px),
                ..s.clone()
            }
        };
        for k in 1..=2 {
            tr.points.insert(0, speck(&first, -f64::from(k) / 30.0));
        }
        for k in 1..=4 {
            tr.points.push(speck(&last, f64::from(k) / 30.0));
        }
        tr
    };
    let p = ClassifyParams::default();
    let judged = |tr: &FallTrack| judge(tr, (camera, tr.points.len()), facade, &p);
    let floor = judged(&clean).expect("a fall").origin.floor;
    assert_eq!(floor, 5);
    let specks = with_specks(1.4);
    assert_eq!(
        judged(&specks).map(|f| f.origin.floor),
        Ok(floor),
        "{:?}",
        judged(&specks)
    );
    // Of the object's size, the same sightings are its, with the two off its path too many
    // for a path to leave out.
    assert!(
        matches!(judged(&with_specks(6.0)), Err(Reject::Unexplained { .. })),
        "{:?}",
        judged(&with_specks(6.0))
    );
}

/// A 24 px box at rest on a balcony rail for `rest` seconds, then dropped 1 m out from the wall;
/// the background learns it where it rested, so that for its first size of fall only the part
/// that has moved off that place shows: a smaller blob whose centre lies ahead of the box's by
/// half what is still hidden. `drift_px` moves it along the rail while it rests (a hand pushing
/// it, not a box at rest).
fn dropped_from_rest(rest: f64, drift_px: f64) -> FallTrack {
    let v = view();
    let (camera, facade) = &v;
    let mut tr = track(&v, 30.0, rest + 0.9, |t| {
        let d = (t - rest).max(0.0);
        [4.0, 10.5 - 0.5 * G * d * d, 1.0]
    });
    let size = 24.0;
    let (x0, y0) = (tr.points[0].x_px, tr.points[0].y_px);
    let resting = tr.points.iter().filter(|s| s.t - 20.0 <= rest).count() as f64;
    for (i, s) in tr.points.iter_mut().enumerate() {
        (s.size_px, s.length_px) = (size, size);
        if s.t - 20.0 <= rest {
            s.x_px += drift_px * i as f64 / resting;
        } else {
            let (dx, dy) = (s.x_px - x0, s.y_px - y0);
            let moved = dx.hypot(dy);
            if moved < size {
                let hidden = (size - moved) / 2.0;
                (s.x_px, s.y_px) = (s.x_px + hidden * dx / moved, s.y_px + hidden * dy / moved);
                s.size_px = (size * moved.max(1.0)).sqrt();
            }
        }
        on_facade(s, (camera, facade));
    }
    tr
}

#[test]
fn a_drop_from_rest_seen_in_part_as_it_leaves_where_it_rested_is_judged_from_its_release() {
    let tr = dropped_from_rest(0.3, 0.0);
    let partly = tr.points.iter().filter(|s| s.size_px < 20.0).count();
    assert!((3..=12).contains(&partly), "{partly}");
    // Judged whole, neither the fall nor the drift explains it (the drift 2.8 px, the fall
    // 2.4 px, within the drift's ratio). From its first sighting of the whole box, 0.3 s after the
    // release, it is a fall whose apex, found by going back along the path over the stretch seen
    // in part, lies within a storey of the 4th floor's rail (10.5 m; 3 m storeys).
    let fall = judged(&tr).expect("a fall");
    assert!(fall.t0 > 20.3, "{fall:?}");
    assert!((3..=4).contains(&fall.origin.floor), "{fall:?}");
    // Pushed along the rail by 3 box sizes while it "rests", the start is no rest: the track is
    // judged whole.
    let pushed = dropped_from_rest(0.3, 72.0);
    assert!(judged(&pushed).is_err(), "{:?}", judged(&pushed));
}

#[test]
fn a_track_missed_by_more_than_its_blobs_seen_in_part_explain_is_not_fitted_again() {
    // Tracks whose whole-object retry found a fall, as recorded (miss, sightings and those of
    // the whole object, median size, limit): development seed 2's throw 005 (joined from two
    // tracks, 6 blobs under 3.3 px) and held-out seed 4711's throw 009 (a 2 px speck at its start).
    assert!(in_part_may_explain(6.37, (19, 13), 5.7, 2.13));
    assert!(in_part_may_explain(2.68, (18, 16), 6.3, 2.26));
    // Tracks that hopped between rain streaks in the far distractors of the cost bench at 1080p,
    // whose retries were rejected: 5 blobs seen in part cannot make a miss of 30 px, nor one a
    // miss of 19 px over 70 sightings.
    assert!(!in_part_may_explain(30.5, (18, 13), 10.4, 3.09));
    assert!(!in_part_may_explain(19.1, (70, 69), 3.9, 1.77));
    // A track with no blob seen in part is explained by nothing more than its limit allows.
    assert!(!in_part_may_explain(2.5, (30, 30), 8.0, 2.0));
    assert!(in_part_may_explain(2.0, (30, 30), 8.0, 2.0));
}

mod drops;
mod evidence;
mod in_part;
mod pinned;
mod steady;
