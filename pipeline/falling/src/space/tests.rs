use super::*;
use crate::G;
use crate::classify::classify;
use crate::tracker::Sighting;

/// 7 m from the wall, 1.5 m up, looking 40° up with a 95° lens at 1280×720; the calibration
/// it would have (a 10.8 × 12 m rectangle from the ground, 3 m storeys).
fn view() -> (FacadeCamera, Facade) {
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
        3.0,
        1,
        3,
    )
    .expect("a calibration");
    (camera, facade)
}

/// What the tracker would hand over for a body at `p(t)`, seen at `fps` for `secs`.
fn track(
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
                    edge: false,
                    crowd: 1,
                })
            })
            .collect(),
    }
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
    // A bird climbing away along the wall.
    let bird = track(&v, 25.0, 1.2, |t| [1.0 + 6.0 * t, 8.0 + 1.5 * t, 2.0]);
    assert!(
        matches!(reason(&bird), Reject::NotFalling { .. }),
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
