//! Deterministic synthetic fire-lane scenes: a lane with yellow edge lines and hatching, seen from
//! a camera 3–10 m up and 20–80° down, where cars park, e-bikes and boxes are left, traffic and
//! people pass, clouds drift over, dusk falls, lamps switch on, the camera turns to infrared and
//! it rains. Objects are boxes in 3-D (a car is a body and a cabin), so a steep view sees their
//! tops and a shallow one their fronts. Each frame comes with the tracks an object detector would
//! give for its people and vehicles (with deterministic misses). The same spec renders the same
//! bytes.

pub use super::SynthFrame;
use super::{finish, frame_seen, hash, track};
use vigil_core::{BBoxPx, Size};

mod cases;
mod draw;
mod view;

pub use cases::{DWELL_SECS, PASSAGE_SPARE_M, cases, passage_cases};
pub use view::View;

/// Something left in the lane.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Thing {
    /// Drives in along the lane and leaves the way it came.
    Car([u8; 3]),
    /// Stacked cartons, brought and taken by someone on foot.
    Boxes,
    /// Wheeled in and out by its rider on foot.
    EBike([u8; 3]),
}

/// Something that moves through the lane.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Mover {
    Car([u8; 3]),
    /// A rider on an e-bike.
    Bike,
    Person,
}

/// Something that happens in the scene.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// `thing` stands at `(x, z)` (its centre on the ground, metres) from `from` to `to`.
    Left {
        thing: Thing,
        from: f64,
        to: f64,
        x: f64,
        z: f64,
    },
    /// `mover` goes along the lane at `speed` m/s from `at`, towards the camera or away; with
    /// `stop`, it waits that many seconds half-way.
    Pass {
        mover: Mover,
        at: f64,
        speed: f64,
        x: f64,
        towards: bool,
        stop: Option<f64>,
    },
    /// A person walks in from the side and stands at `(x, z)` from `from` to `to`.
    Stand { from: f64, to: f64, x: f64, z: f64 },
    /// Cloud shadows drift across at `speed` m/s.
    Clouds { from: f64, to: f64, speed: f64 },
    /// The daylight falls to a third over 40 s.
    Dusk { at: f64 },
    /// The street lamp beside the lane switches on (or off).
    Lamp { at: f64, on: bool },
    /// The camera switches to infrared (grey, brighter).
    Infrared { at: f64 },
    /// Rain: streaks at several depths with wind, the ground darker.
    Rain { from: f64, to: f64 },
}

/// A scene to render.
#[derive(Clone, Debug, PartialEq)]
pub struct LaneScene {
    pub view: View,
    pub fps: f64,
    pub secs: f64,
    pub seed: u64,
    pub events: Vec<Event>,
}

/// What the rule should report for a scene.
#[derive(Clone, Debug, PartialEq)]
pub struct Expected {
    /// When the obstruction began and ended (seconds; `None`: still there at the end).
    pub start: f64,
    pub end: Option<f64>,
}

/// A box in the world: centre on the ground `(x, z)`, size across × along × up, lifted `y0`.
#[derive(Clone, Copy, Debug)]
struct Block {
    x: f64,
    z: f64,
    size: (f64, f64, f64),
    y0: f64,
    colour: [f64; 3],
}

/// Something in the scene at one moment: a key for its track, the (group, class) a detector
/// would report for it (none for what it does not name), and its boxes.
type Placed = (usize, Option<(&'static str, &'static str)>, Vec<Block>);

/// Where a walker who comes in from the lane's side is at `t`: there from `arrive` to `leave`,
/// walking 4 s each way.
fn from_side(t: f64, arrive: f64, leave: f64, x: f64, side: f64) -> Option<f64> {
    const WALK: f64 = 4.0;
    if t < arrive - WALK || t > leave + WALK {
        return None;
    }
    let k = if t < arrive {
        (t - (arrive - WALK)) / WALK
    } else if t > leave {
        1.0 - (t - leave) / WALK
    } else {
        1.0
    };
    Some(side + (x - side) * k)
}

impl LaneScene {
    /// Frames at the scene's rate.
    pub fn frames(&self) -> impl Iterator<Item = SynthFrame> + '_ {
        let n = (self.secs * self.fps).round() as u64;
        let base = draw::Background::new(&self.view, self.seed);
        (0..n).map(move |i| self.frame(&base, i))
    }

    /// Everything in the scene at `t`: boxes to draw, and the tracks (key, group, class, its
    /// blocks) a detector would report.
    fn objects(&self, t: f64) -> Vec<Placed> {
        let (near, far) = self.view.stretch();
        let half = self.view.lane_m / 2.0;
        let mut out = Vec::new();
        for (e, event) in self.events.iter().enumerate() {
            match *event {
                Event::Left {
                    thing,
                    from,
                    to,
                    x,
                    z,
                } => match thing {
                    Thing::Car(c) => {
                        let drive = 4.0;
                        if t >= from - drive && t <= to + drive {
                            let off = ((from - t).max(0.0) + (t - to).max(0.0)) / drive * 14.0;
                            out.push((e, Some(("vehicle", "car")), car(x, z + off, c)));
                        }
                    }
                    Thing::Boxes | Thing::EBike(_) => {
                        let side = -half - 3.0;
                        let present = t >= from && t < to;
                        if present {
                            let blocks = match thing {
                                Thing::EBike(c) => ebike(x, z, c),
                                _ => boxes(x, z),
                            };
                            let label = matches!(thing, Thing::EBike(_))
                                .then_some(("vehicle", "motorcycle"));
                            out.push((e + 500, label, blocks));
                        }
                        for (k, (a, l)) in [(from, from + 1.0), (to - 1.0, to)].iter().enumerate() {
                            if let Some(px) = from_side(t, *a, *l, x - 0.7, side) {
                                out.push((
                                    e * 2 + k + 1000,
                                    Some(("person", "person")),
                                    person(px, z),
                                ));
                            }
                        }
                    }
                },
                Event::Pass {
                    mover,
                    at,
                    speed,
                    x,
                    towards,
                    stop,
                } => {
                    let (start, end) = (far + 8.0, near - 4.0);
                    let length = start - end;
                    let wait = stop.unwrap_or(0.0);
                    let run = t - at;
                    let travelled = if run < length / 2.0 / speed {
                        run * speed
                    } else if run < length / 2.0 / speed + wait {
                        length / 2.0
                    } else {
                        (run - wait) * speed
                    };
                    if run < 0.0 || travelled > length {
                        continue;
                    }
                    let z = match towards {
                        true => start - travelled,
                        false => end + travelled,
                    };
                    let (label, blocks) = match mover {
                        Mover::Car(c) => (("vehicle", "car"), car(x, z, c)),
                        Mover::Bike => {
                            let mut b = ebike(x, z, [30, 30, 34]);
                            b.extend(person(x, z).into_iter().map(|mut p| {
                                p.y0 += 0.5;
                                p
                            }));
                            (("person", "person"), b)
                        }
                        Mover::Person => (("person", "person"), person(x, z)),
                    };
                    out.push((e + 2000, Some(label), blocks));
                }
                Event::Stand { from, to, x, z } => {
                    if let Some(px) = from_side(t, from, to, x, -half - 3.0) {
                        // Nobody stands perfectly still.
                        let sway = (t * 1.3).sin() * 0.08;
                        out.push((e + 3000, Some(("person", "person")), person(px + sway, z)));
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// Frame `i`.
    fn frame(&self, base: &draw::Background, i: u64) -> SynthFrame {
        let t = i as f64 / self.fps;
        let v = &self.view;
        let (w, h) = (v.width as usize, v.height as usize);
        let mut px = base.pixels.clone();
        let mut objects = self.objects(t);
        // Far ones first.
        objects.sort_by(|a, b| {
            let z = |o: &Placed| o.2.iter().map(|b| b.z).fold(f64::MIN, f64::max);
            z(b).total_cmp(&z(a))
        });
        let mut tracks = Vec::new();
        for (key, label, blocks) in &objects {
            let mut bounds: Option<(f64, f64, f64, f64)> = None;
            for b in blocks {
                if let Some(bb) = draw::block(&mut px, v, b) {
                    bounds = Some(match bounds {
                        None => bb,
                        Some(o) => (o.0.min(bb.0), o.1.min(bb.1), o.2.max(bb.2), o.3.max(bb.3)),
                    });
                }
            }
            if let (Some((group, class)), Some((x1, y1, x2, y2))) = (label, bounds) {
                let (x1, y1) = (x1.max(0.0), y1.max(0.0));
                let (x2, y2) = (x2.min(w as f64), y2.min(h as f64));
                if x2 - x1 >= 2.0 && y2 - y1 >= 2.0 && frame_seen(self.seed, *key, i) {
                    let bbox = BBoxPx::new(x1 as f32, y1 as f32, x2 as f32, y2 as f32);
                    tracks.push(track(*key as u64, group, class, bbox, 0.0));
                }
            }
        }
        draw::light(&mut px, base, &self.events, t);
        let rain = self
            .events
            .iter()
            .any(|e| matches!(*e, Event::Rain { from, to } if t >= from && t < to));
        if rain {
            draw::rain(&mut px, v, hash(self.seed ^ i.wrapping_mul(0x51ed)));
        }
        let night = draw::daylight(&self.events, t) < 0.6;
        let grain = if night { 6.0 } else { 3.0 };
        let size = Size::new(v.width, v.height);
        finish(&px, size, (self.seed, i, t), grain, tracks)
    }
}

fn rgb(c: [u8; 3]) -> [f64; 3] {
    c.map(f64::from)
}

/// A car: tyres, body and cabin, 1.8 m across, 4.4 m long.
fn car(x: f64, z: f64, colour: [u8; 3]) -> Vec<Block> {
    let c = rgb(colour);
    vec![
        Block {
            x,
            z,
            size: (1.7, 4.0, 0.35),
            y0: 0.0,
            colour: [20.0, 20.0, 22.0],
        },
        Block {
            x,
            z,
            size: (1.8, 4.4, 0.55),
            y0: 0.3,
            colour: c,
        },
        Block {
            x,
            z: z + 0.2,
            size: (1.6, 2.2, 0.5),
            y0: 0.85,
            colour: [c[0] * 0.4 + 20.0, c[1] * 0.4 + 25.0, c[2] * 0.4 + 30.0],
        },
    ]
}

/// An e-bike along the lane: frame and wheels, seat, a rear box.
fn ebike(x: f64, z: f64, colour: [u8; 3]) -> Vec<Block> {
    vec![
        Block {
            x,
            z,
            size: (0.35, 1.7, 0.7),
            y0: 0.0,
            colour: rgb(colour),
        },
        Block {
            x,
            z: z + 0.6,
            size: (0.5, 0.45, 0.4),
            y0: 0.6,
            colour: [170.0, 40.0, 35.0],
        },
    ]
}

/// Three cartons, two on the ground and one on top.
fn boxes(x: f64, z: f64) -> Vec<Block> {
    let carton = [150.0, 110.0, 70.0];
    vec![
        Block {
            x: x - 0.3,
            z,
            size: (0.6, 0.5, 0.45),
            y0: 0.0,
            colour: carton,
        },
        Block {
            x: x + 0.35,
            z: z + 0.1,
            size: (0.6, 0.6, 0.5),
            y0: 0.0,
            colour: [carton[0] * 0.9, carton[1] * 0.9, carton[2] * 0.85],
        },
        Block {
            x,
            z: z + 0.05,
            size: (0.55, 0.45, 0.4),
            y0: 0.48,
            colour: [165.0, 125.0, 80.0],
        },
    ]
}

/// A person: legs, body, head.
fn person(x: f64, z: f64) -> Vec<Block> {
    vec![
        Block {
            x,
            z,
            size: (0.35, 0.25, 0.85),
            y0: 0.0,
            colour: [40.0, 40.0, 70.0],
        },
        Block {
            x,
            z,
            size: (0.45, 0.3, 0.6),
            y0: 0.85,
            colour: [150.0, 60.0, 60.0],
        },
        Block {
            x,
            z,
            size: (0.22, 0.22, 0.25),
            y0: 1.45,
            colour: [200.0, 160.0, 130.0],
        },
    ]
}
