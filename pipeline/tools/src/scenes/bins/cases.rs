//! The named bin scenes of the benchmark, each with what the rules must report.

use super::*;

/// The named benchmark scenes with what the rules (`waste_left` on [`ground_zone`] after
/// `static_secs` 20, `bin_overflow` on [`bin_zone`]) must report.
pub fn cases(seed: u64) -> Vec<(&'static str, BinScene, Vec<Expected>)> {
    let scene = |secs: f64, events: Vec<Event>| BinScene {
        width: 320,
        height: 180,
        fps: 5.0,
        secs,
        seed,
        events,
        sprites: Sprites::default(),
    };
    let bag = |at: f64, picked: Option<f64>, x: f64| Event::Bag {
        at,
        picked,
        x,
        y: 140.0,
        size: (22.0, 16.0),
        colour: [30, 30, 36],
    };
    vec![
        (
            "bag-left-and-picked-up",
            scene(120.0, vec![bag(10.0, Some(90.0), 150.0)]),
            vec![Expected {
                kind: "waste_left",
                start: 10.0,
                end: Some(90.0),
            }],
        ),
        (
            "person-stands-a-minute",
            scene(
                100.0,
                vec![Event::Stand {
                    from: 10.0,
                    to: 75.0,
                    x: 150.0,
                    y: 150.0,
                }],
            ),
            vec![],
        ),
        (
            "car-parks-beside-the-bins",
            scene(
                160.0,
                vec![Event::Park {
                    from: 10.0,
                    to: 130.0,
                    x: 230.0,
                    y: 165.0,
                }],
            ),
            vec![],
        ),
        (
            "lights-at-dusk",
            scene(
                90.0,
                vec![Event::Dusk {
                    at: 30.0,
                    dim: 0.45,
                    x: 250.0,
                    y: 130.0,
                }],
            ),
            vec![],
        ),
        (
            "everything-at-once",
            scene(
                200.0,
                vec![
                    Event::Stand {
                        from: 5.0,
                        to: 70.0,
                        x: 110.0,
                        y: 165.0,
                    },
                    Event::Park {
                        from: 20.0,
                        to: 150.0,
                        x: 250.0,
                        y: 170.0,
                    },
                    bag(40.0, None, 170.0),
                    Event::Dusk {
                        at: 100.0,
                        dim: 0.45,
                        x: 250.0,
                        y: 130.0,
                    },
                ],
            ),
            vec![Expected {
                kind: "waste_left",
                start: 40.0,
                end: None,
            }],
        ),
        (
            "bag-through-the-infrared-switch",
            scene(
                120.0,
                vec![bag(10.0, None, 120.0), Event::Infrared { at: 60.0 }],
            ),
            vec![Expected {
                kind: "waste_left",
                start: 10.0,
                end: None,
            }],
        ),
        (
            "bin-overflows-then-emptied",
            scene(
                120.0,
                vec![Event::Overflow {
                    from: 10.0,
                    to: 80.0,
                }],
            ),
            vec![Expected {
                kind: "bin_overflow",
                start: 10.0,
                end: Some(80.0),
            }],
        ),
    ]
}
