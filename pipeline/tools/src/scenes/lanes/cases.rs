//! The named lane scenes, each with what a `lane_obstructed` rule (`dwell_secs` [`DWELL_SECS`],
//! on [`View::lane_zone`]) must report. Each scene's camera is drawn from the seed: 3–10 m up,
//! 20–80° down, a 60–100° lens, up to 3 m to the side of the lane, a lane 3.5–4.5 m wide — so a
//! development seed and a held-out seed see the lanes from different places.

use super::*;
use crate::scenes::falls::Rng;

/// `dwell_secs` of the rule the scenes are scored against.
pub const DWELL_SECS: f64 = 30.0;

/// A camera drawn from `rng` that sees at least 8 m of lane (a view so steep and low that a car
/// fills most of it is left out: the static-object detector takes a change of most of the
/// frame for the light or a moved camera).
fn view(rng: &mut Rng, (height, tilt): Placement) -> View {
    loop {
        let v = View {
            width: 320,
            height: 180,
            height_m: rng.range(height.0, height.1),
            tilt_deg: rng.range(tilt.0, tilt.1),
            hfov_deg: rng.range(60.0, 100.0),
            offset_m: rng.range(-3.0, 3.0),
            lane_m: rng.range(3.5, 4.5),
        };
        let (near, far) = v.stretch();
        if far - near >= 8.0 {
            return v;
        }
    }
}

/// Where things are left in `s`: along the stretch (0 near, 1 far), across the lane (metres
/// from its centre line).
fn at(s: &LaneScene, along: f64, x: f64) -> (f64, f64) {
    let (near, far) = s.view.stretch();
    (x, near + (far - near) * along)
}

fn obstruction(start: f64, end: f64) -> Expected {
    Expected {
        start,
        end: Some(end),
    }
}

fn left(thing: Thing, from: f64, to: f64, (x, z): (f64, f64)) -> Event {
    Event::Left {
        thing,
        from,
        to,
        x,
        z,
    }
}

/// The ranges of camera heights (m) and tilts (°) scenes' cameras are drawn from.
type Placement = ((f64, f64), (f64, f64));

/// A scene-maker for `seed`: each call draws the next camera from the ranges `placement` holds
/// then.
fn scenes(
    seed: u64,
    placement: &std::cell::Cell<Placement>,
) -> impl FnMut(Vec<Event>) -> LaneScene + '_ {
    let mut rng = Rng::new(seed);
    move |events| LaneScene {
        view: view(&mut rng, placement.get()),
        fps: 5.0,
        secs: 160.0,
        seed,
        events,
    }
}

/// The named scenes with what the rule must report.
pub fn cases(seed: u64) -> Vec<(&'static str, LaneScene, Vec<Expected>)> {
    // The ranges of heights and tilts the next scene's camera is drawn from.
    let placement = std::cell::Cell::new(((3.0, 10.0), (20.0, 80.0)));
    let mut scene = scenes(seed, &placement);
    let pass = |mover, at, speed, x, towards, stop| Event::Pass {
        mover,
        at,
        speed,
        x,
        towards,
        stop,
    };
    let white = [215, 215, 220];
    let red = [170, 30, 30];
    let blue = [40, 70, 150];

    let mut out = Vec::new();
    let mut s = scene(vec![]);
    s.events = vec![left(Thing::Car(white), 20.0, 120.0, at(&s, 0.5, 0.2))];
    out.push(("car-parks", s, vec![obstruction(20.0, 120.0)]));

    // Boxes left from `from` to `to` while cloud shadows drift over the lane.
    let boxes_under_clouds = |s: &LaneScene, from: f64, to: f64| {
        vec![
            Event::Clouds {
                from: 0.0,
                to: 160.0,
                speed: 1.5,
            },
            left(Thing::Boxes, from, to, at(s, 0.35, -0.4)),
        ]
    };
    let mut s = scene(vec![]);
    s.events = boxes_under_clouds(&s, 15.0, 130.0);
    out.push(("boxes-left-under-clouds", s, vec![obstruction(15.0, 130.0)]));

    // An e-bike left as the light falls, a lamp beside it switching on half-way.
    let ebike_at_dusk = |s: &LaneScene| {
        vec![
            Event::Dusk { at: 10.0 },
            Event::Lamp { at: 50.0, on: true },
            left(Thing::EBike(blue), 25.0, 140.0, at(s, 0.4, 0.6)),
        ]
    };
    let mut s = scene(vec![]);
    s.events = ebike_at_dusk(&s);
    out.push(("ebike-left-at-dusk", s, vec![obstruction(25.0, 140.0)]));

    out.push((
        "traffic-passes",
        scene(vec![
            pass(Mover::Car(white), 10.0, 6.0, 0.0, true, None),
            pass(Mover::Bike, 20.0, 4.0, 1.0, false, None),
            pass(Mover::Car(red), 30.0, 5.0, -0.3, false, None),
            pass(Mover::Person, 40.0, 1.3, -1.2, true, None),
            // Stops for a delivery, shorter than the rule's dwell.
            pass(Mover::Car(blue), 55.0, 4.0, 0.3, true, Some(12.0)),
            pass(Mover::Bike, 70.0, 5.0, -1.0, true, None),
            pass(Mover::Car(white), 80.0, 8.0, 0.0, false, None),
            pass(Mover::Person, 90.0, 1.1, 1.3, false, None),
            pass(Mover::Car(red), 100.0, 6.0, 0.2, true, None),
            pass(Mover::Bike, 110.0, 4.5, 0.8, false, None),
            pass(Mover::Car(blue), 120.0, 5.0, -0.2, false, None),
        ]),
        vec![],
    ));

    let mut s = scene(vec![]);
    let (x, z) = at(&s, 0.5, 0.0);
    s.events = vec![
        Event::Stand {
            from: 30.0,
            to: 75.0,
            x,
            z,
        },
        pass(Mover::Person, 10.0, 1.2, -0.8, true, None),
        pass(Mover::Person, 50.0, 1.4, 0.9, false, None),
        pass(Mover::Person, 100.0, 1.0, 0.0, true, None),
        pass(Mover::Person, 130.0, 1.3, -1.0, false, None),
        Event::Clouds {
            from: 60.0,
            to: 160.0,
            speed: 2.5,
        },
    ];
    out.push(("people-stand-and-walk", s, vec![]));

    out.push((
        "lights-and-infrared",
        scene(vec![
            Event::Dusk { at: 5.0 },
            Event::Lamp { at: 60.0, on: true },
            Event::Lamp {
                at: 100.0,
                on: false,
            },
            Event::Infrared { at: 120.0 },
        ]),
        vec![],
    ));

    let mut s = scene(vec![]);
    s.events = vec![
        // Night already: dusk (40 s here, twenty minutes in life) is over at the start.
        Event::Dusk { at: -40.0 },
        Event::Lamp { at: 0.0, on: true },
        Event::Rain {
            from: 0.0,
            to: 160.0,
        },
        left(Thing::Car(red), 50.0, 140.0, at(&s, 0.55, -0.2)),
    ];
    out.push((
        "car-parks-in-rain-at-night",
        s,
        vec![obstruction(50.0, 140.0)],
    ));

    let mut s = scene(vec![]);
    s.events = vec![
        left(Thing::Car(blue), 15.0, 60.0, at(&s, 0.5, 0.0)),
        left(Thing::Boxes, 90.0, 150.0, at(&s, 0.45, 0.5)),
    ];
    out.push((
        "car-then-boxes",
        s,
        vec![obstruction(15.0, 60.0), obstruction(90.0, 150.0)],
    ));

    // Seen from above (55–80° down), cloud shadows drift over the boxes' tops.
    placement.set(((3.0, 10.0), (55.0, 80.0)));
    let mut s = scene(vec![]);
    s.events = boxes_under_clouds(&s, 20.0, 135.0);
    out.push((
        "boxes-under-clouds-seen-from-above",
        s,
        vec![obstruction(20.0, 135.0)],
    ));

    // From low down (3–5 m) and shallow (20–30°): the e-bike at dusk, the lamp beside it.
    placement.set(((3.0, 5.0), (20.0, 30.0)));
    let mut s = scene(vec![]);
    s.events = ebike_at_dusk(&s);
    out.push((
        "ebike-left-at-dusk-seen-from-low",
        s,
        vec![obstruction(25.0, 140.0)],
    ));
    out
}

/// The passage a rule with a width calibration keeps open in [`passage_cases`]: the lane's
/// width less this (so 1.8–2.8 m of the 3.5–4.5 m lanes).
pub const PASSAGE_SPARE_M: f64 = 1.7;

/// Scenes for a lane with a width calibration, each with what a rule asking for a passage
/// [`PASSAGE_SPARE_M`] narrower than the lane must report: what stands at the kerb leaves it
/// open and raises nothing, what narrows it — alone, or with something already standing on the
/// other side — raises one alert. Their cameras are drawn apart from [`cases`]' of the same seed.
/// Across the lane an e-bike takes 0.5 m, the boxes 1.25 m and a car 1.8 m; the margins to the
/// passage asked for are written beside each.
pub fn passage_cases(seed: u64) -> Vec<(&'static str, LaneScene, Vec<Expected>)> {
    let placement = std::cell::Cell::new(((3.0, 10.0), (20.0, 80.0)));
    let mut scene = scenes(seed ^ 0x9e37_79b9_7f4a_7c15, &placement);
    let blue = [40, 70, 150];
    let white = [215, 215, 220];
    let half = |s: &LaneScene| s.view.lane_m / 2.0;
    let mut out = Vec::new();

    // 0.1–0.6 m from the kerb: the lane less 0.6 m is open, 1.1 m more than asked.
    let mut s = scene(vec![]);
    s.events = vec![left(
        Thing::EBike(blue),
        20.0,
        130.0,
        at(&s, 0.45, half(&s) - 0.35),
    )];
    out.push(("ebike-at-the-kerb", s, vec![]));

    // Against the other kerb, under drifting cloud shadows: 0.45 m more than asked is open.
    let mut s = scene(vec![]);
    s.events = vec![
        Event::Clouds {
            from: 0.0,
            to: 160.0,
            speed: 1.5,
        },
        left(Thing::Boxes, 15.0, 125.0, at(&s, 0.4, -half(&s) + 0.6)),
    ];
    out.push(("boxes-at-the-kerb", s, vec![]));

    // The boxes against one kerb, then an e-bike beside them 0.35–0.85 m from the other: 0.4 m
    // less than asked is open between them while both stand (each alone leaves more).
    let mut s = scene(vec![]);
    s.events = vec![
        left(Thing::Boxes, 10.0, 145.0, at(&s, 0.4, -half(&s) + 0.6)),
        left(Thing::EBike(blue), 40.0, 110.0, at(&s, 0.4, half(&s) - 0.6)),
    ];
    out.push((
        "boxes-and-ebike-side-by-side",
        s,
        vec![obstruction(40.0, 110.0)],
    ));

    // A car 0.4 m from the kerb: 0.5 m less than asked is open beside it.
    let mut s = scene(vec![]);
    s.events = vec![left(
        Thing::Car(white),
        20.0,
        120.0,
        at(&s, 0.5, half(&s) - 1.3),
    )];
    out.push(("car-parks-at-the-side", s, vec![obstruction(20.0, 120.0)]));
    out
}
