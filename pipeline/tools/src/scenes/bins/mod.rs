//! Deterministic synthetic bin scenes: a paved bin point with three sorting bins, where bags
//! are dropped and picked up, people stand about, a car parks, the lights change at dusk and the
//! camera switches to infrared. Each frame comes with the tracks an object detector would give
//! for its people and vehicles (with deterministic misses), so the static-object detector and
//! the waste rules can be scored exactly. Nothing is random: the same spec renders the same
//! bytes.

pub use super::SynthFrame;
use super::{finish, frame_seen, noise, track};
use vigil_core::{BBoxPx, PointNorm, PolygonNorm, Size};

mod cases;

pub use cases::cases;

/// Something that happens in the scene.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// A person walks in carrying a bag, puts it down at `(x, y)` (its bottom centre, pixels)
    /// at `at`, walks off; if `picked` is set someone comes back and takes it then.
    Bag {
        at: f64,
        picked: Option<f64>,
        x: f64,
        y: f64,
        size: (f64, f64),
        colour: [u8; 3],
    },
    /// A person walks to `(x, y)` (feet), stands there from `from` to `to`, walks off.
    Stand { from: f64, to: f64, x: f64, y: f64 },
    /// A car drives in, parks with its bottom centre at `(x, y)` from `from` to `to`, leaves.
    Park { from: f64, to: f64, x: f64, y: f64 },
    /// The lights change: the scene dims to `dim` and a street lamp lights a pool around
    /// `(x, y)`.
    Dusk { at: f64, dim: f64, x: f64, y: f64 },
    /// The camera switches to infrared (grey, brighter).
    Infrared { at: f64 },
    /// Bags piled on the first bin, above its rim, from `from` to `to` (emptied).
    Overflow { from: f64, to: f64 },
}

/// A scene to render.
#[derive(Clone, Debug, PartialEq)]
pub struct BinScene {
    pub width: u32,
    pub height: u32,
    pub fps: f64,
    pub secs: f64,
    pub seed: u64,
    pub events: Vec<Event>,
    /// Real images of a person and a car to draw instead of block figures (so that a real
    /// object detector sees them); none: block figures.
    pub sprites: Sprites,
}

/// An RGBA image pasted into the scene (alpha ≥ 128 is drawn).
#[derive(Clone, Debug, PartialEq)]
pub struct Sprite {
    pub width: u32,
    pub height: u32,
    pub rgba: Vec<u8>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sprites {
    /// Upright, feet at the bottom.
    pub person: Option<Sprite>,
    /// A car, wheels at the bottom.
    pub car: Option<Sprite>,
}

/// Draws `sprite` scaled to `w × h` pixels with its top-left at `(x, y)` into `px` (RGB, a
/// frame of `fw × fh`).
fn paste(
    px: &mut [f64],
    (fw, fh): (usize, usize),
    sprite: &Sprite,
    (x, y, w, h): (f64, f64, f64, f64),
) {
    let (x0, y0) = (x.round() as i64, y.round() as i64);
    let (w, h) = (w.round().max(1.0) as i64, h.round().max(1.0) as i64);
    for dy in 0..h {
        for dx in 0..w {
            let (tx, ty) = (x0 + dx, y0 + dy);
            if tx < 0 || ty < 0 || tx >= fw as i64 || ty >= fh as i64 {
                continue;
            }
            let sx = (dx * i64::from(sprite.width) / w) as usize;
            let sy = (dy * i64::from(sprite.height) / h) as usize;
            let p = &sprite.rgba[(sy * sprite.width as usize + sx) * 4..][..4];
            if p[3] < 128 {
                continue;
            }
            let o = (ty as usize * fw + tx as usize) * 3;
            for c in 0..3 {
                px[o + c] = f64::from(p[c]);
            }
        }
    }
}

/// What a rule should report for a scene.
#[derive(Clone, Debug, PartialEq)]
pub struct Expected {
    /// `waste_left` or `bin_overflow`.
    pub kind: &'static str,
    /// When the situation began and ended (seconds; `None`: still there at the end).
    pub start: f64,
    pub end: Option<f64>,
}

/// Bins: x range, top (rim) and bottom, colour. Pixels at 320×180.
const BINS: [(f64, f64, f64, f64, [u8; 3]); 3] = [
    (60.0, 108.0, 50.0, 110.0, [40, 140, 60]),
    (120.0, 168.0, 50.0, 110.0, [40, 80, 170]),
    (180.0, 228.0, 50.0, 110.0, [95, 95, 95]),
];

/// The bin point's ground zone (normalised): in front of and beside the bins.
pub fn ground_zone() -> PolygonNorm {
    polygon(&[(0.06, 0.40), (0.94, 0.40), (0.94, 0.97), (0.06, 0.97)])
}

/// The first bin and the space above it (normalised), with its fill line just above the rim.
pub fn bin_zone() -> (PolygonNorm, (PointNorm, PointNorm)) {
    (
        polygon(&[(0.18, 0.10), (0.34, 0.10), (0.34, 0.60), (0.18, 0.60)]),
        (
            PointNorm { x: 0.18, y: 0.26 },
            PointNorm { x: 0.34, y: 0.26 },
        ),
    )
}

fn polygon(p: &[(f64, f64)]) -> PolygonNorm {
    PolygonNorm::new(p.iter().map(|&(x, y)| PointNorm { x, y }).collect()).expect("a valid polygon")
}

/// Where a walker is at `t` on a trip: in from the left edge over 4 s to `(x, y)`, there until
/// `leave`, out to the left over 4 s.
fn walker(t: f64, arrive: f64, leave: f64, x: f64, y: f64) -> Option<(f64, f64)> {
    const WALK: f64 = 4.0;
    if t < arrive - WALK || t > leave + WALK {
        return None;
    }
    let from = -20.0;
    let k = if t < arrive {
        (t - (arrive - WALK)) / WALK
    } else if t > leave {
        1.0 - (t - leave) / WALK
    } else {
        1.0
    };
    Some((from + (x - from) * k, y))
}

impl BinScene {
    /// Frames at the scene's rate.
    pub fn frames(&self) -> impl Iterator<Item = SynthFrame> + '_ {
        let n = (self.secs * self.fps).round() as u64;
        (0..n).map(move |i| self.frame(i))
    }

    /// Frame `i`.
    pub fn frame(&self, i: u64) -> SynthFrame {
        let t = i as f64 / self.fps;
        let (w, h) = (self.width as usize, self.height as usize);
        let k = f64::from(self.width) / 320.0;
        let mut px = vec![0f64; w * h * 3];
        // Ground and wall, with a fixed texture.
        for y in 0..h {
            for x in 0..w {
                let (sx, sy) = (x as f64 / k, y as f64 / k);
                let base = if sy < 40.0 {
                    [150.0, 150.0, 145.0]
                } else {
                    let tile = (sx as i64 % 24 == 0) || (sy as i64 % 24 == 0);
                    let v = if tile { 92.0 } else { 122.0 };
                    [v, v + 2.0, v + 4.0]
                };
                let tex = 9.0 * noise(self.seed ^ ((x as u64) << 20) ^ y as u64);
                let o = (y * w + x) * 3;
                for c in 0..3 {
                    px[o + c] = base[c] + tex;
                }
            }
        }
        let fill =
            |px: &mut [f64], x1: f64, y1: f64, x2: f64, y2: f64, colour: [f64; 3], round: bool| {
                let (x1, y1, x2, y2) = (x1 * k, y1 * k, x2 * k, y2 * k);
                let (cx, cy, rx, ry) = (
                    (x1 + x2) / 2.0,
                    (y1 + y2) / 2.0,
                    (x2 - x1) / 2.0,
                    (y2 - y1) / 2.0,
                );
                for y in (y1.max(0.0) as usize)..(y2.min(h as f64).max(0.0) as usize) {
                    for x in (x1.max(0.0) as usize)..(x2.min(w as f64).max(0.0) as usize) {
                        if round {
                            let (dx, dy) = ((x as f64 + 0.5 - cx) / rx, (y as f64 + 0.5 - cy) / ry);
                            if dx * dx + dy * dy > 1.0 {
                                continue;
                            }
                        }
                        let o = (y * w + x) * 3;
                        px[o..o + 3].copy_from_slice(&colour);
                    }
                }
            };
        for (x1, x2, top, bottom, c) in BINS {
            fill(&mut px, x1, top, x2, bottom, c.map(f64::from), false);
            fill(
                &mut px,
                x1 - 2.0,
                top - 4.0,
                x2 + 2.0,
                top,
                [30.0, 30.0, 30.0],
                false,
            );
        }
        let mut tracks = Vec::new();
        let mut people = Vec::new();
        let mut cars = Vec::new();
        for (e, event) in self.events.iter().enumerate() {
            match *event {
                Event::Bag {
                    at,
                    picked,
                    x,
                    y,
                    size: (bw, bh),
                    colour,
                } => {
                    let down = t >= at && picked.is_none_or(|p| t < p);
                    let c = colour.map(f64::from);
                    if down {
                        fill(&mut px, x - bw / 2.0, y - bh, x + bw / 2.0, y, c, true);
                    }
                    // The one who drops it, and the one who picks it up.
                    if let Some(p) = walker(t, at, at + 1.0, x - 10.0, y) {
                        people.push((e * 2, p, (t < at).then_some((bw, bh, c))));
                    }
                    if let Some(pick) = picked
                        && let Some(p) = walker(t, pick - 1.0, pick, x - 10.0, y)
                    {
                        people.push((e * 2 + 1, p, (t >= pick).then_some((bw, bh, c))));
                    }
                }
                Event::Stand { from, to, x, y } => {
                    if let Some((px_, py)) = walker(t, from, to, x, y) {
                        // Nobody stands perfectly still.
                        let sway = (t * 1.3).sin() * 1.5;
                        people.push((e * 2, (px_ + sway, py), None));
                    }
                }
                Event::Park { from, to, x, y } => {
                    let drive = 5.0;
                    if t >= from - drive && t <= to + drive {
                        let off = if t < from {
                            (from - t) / drive * 200.0
                        } else if t > to {
                            (t - to) / drive * 200.0
                        } else {
                            0.0
                        };
                        let cx = x + off;
                        let cw = 76.0;
                        let ch = match &self.sprites.car {
                            Some(car) => cw * f64::from(car.height) / f64::from(car.width),
                            None => 34.0,
                        };
                        let (left, right) = (cx - cw / 2.0, cx + cw / 2.0);
                        match &self.sprites.car {
                            Some(car) => cars.push((car, (left, y - ch, cw, ch))),
                            None => {
                                let (body, glass) = ([205.0, 205.0, 215.0], [40.0, 50.0, 60.0]);
                                let tyre = [15.0, 15.0, 15.0];
                                fill(&mut px, left, y - ch, right, y - 6.0, body, false);
                                let top = y - ch;
                                fill(
                                    &mut px,
                                    left + 12.0,
                                    top + 4.0,
                                    right - 12.0,
                                    top + 14.0,
                                    glass,
                                    false,
                                );
                                fill(&mut px, left + 6.0, y - 12.0, left + 18.0, y, tyre, true);
                                fill(&mut px, right - 18.0, y - 12.0, right - 6.0, y, tyre, true);
                            }
                        }
                        if frame_seen(self.seed, e, i) {
                            tracks.push(track(
                                e as u64 * 2 + 1000,
                                "vehicle",
                                "car",
                                BBoxPx::new(
                                    ((cx - cw / 2.0) * k) as f32,
                                    ((y - ch) * k) as f32,
                                    ((cx + cw / 2.0) * k) as f32,
                                    (y * k) as f32,
                                ),
                                from,
                            ));
                        }
                    }
                }
                Event::Overflow { from, to } => {
                    if t >= from && t < to {
                        let (x1, x2, top, _, _) = BINS[0];
                        fill(
                            &mut px,
                            x1 + 2.0,
                            top - 18.0,
                            x1 + 26.0,
                            top + 2.0,
                            [25.0, 25.0, 28.0],
                            true,
                        );
                        fill(
                            &mut px,
                            x1 + 18.0,
                            top - 22.0,
                            x2 - 2.0,
                            top + 2.0,
                            [200.0, 190.0, 60.0],
                            true,
                        );
                    }
                }
                Event::Dusk { .. } | Event::Infrared { .. } => {}
            }
        }
        for (car, at) in cars {
            paste(
                &mut px,
                (w, h),
                car,
                (at.0 * k, at.1 * k, at.2 * k, at.3 * k),
            );
        }
        for (key, (x, y), carried) in people {
            // Legs, body, head (or the person's image); carrying a bag at the side.
            let half = match &self.sprites.person {
                Some(p) => {
                    let ph = 49.0;
                    let pw = ph * f64::from(p.width) / f64::from(p.height);
                    let at = ((x - pw / 2.0) * k, (y - ph) * k, pw * k, ph * k);
                    paste(&mut px, (w, h), p, at);
                    pw / 2.0
                }
                None => {
                    fill(
                        &mut px,
                        x - 5.0,
                        y - 20.0,
                        x + 5.0,
                        y,
                        [40.0, 40.0, 70.0],
                        false,
                    );
                    fill(
                        &mut px,
                        x - 7.0,
                        y - 40.0,
                        x + 7.0,
                        y - 20.0,
                        [150.0, 60.0, 60.0],
                        false,
                    );
                    fill(
                        &mut px,
                        x - 4.0,
                        y - 49.0,
                        x + 4.0,
                        y - 40.0,
                        [200.0, 160.0, 130.0],
                        true,
                    );
                    7.0
                }
            };
            let mut right = x + half;
            if let Some((bw, bh, c)) = carried {
                fill(
                    &mut px,
                    x + 7.0,
                    y - 22.0 - bh / 2.0,
                    x + 7.0 + bw,
                    y - 22.0 + bh / 2.0,
                    c,
                    true,
                );
                right += bw;
            }
            if frame_seen(self.seed, key, i) {
                tracks.push(track(
                    key as u64,
                    "person",
                    "person",
                    BBoxPx::new(
                        ((x - half) * k) as f32,
                        ((y - 49.0) * k) as f32,
                        (right * k) as f32,
                        (y * k) as f32,
                    ),
                    0.0,
                ));
            }
        }
        // Light: dusk dims the scene and a lamp lights a pool; infrared turns it grey.
        for event in &self.events {
            match *event {
                Event::Dusk { at, dim, x, y } if t >= at => {
                    for py in 0..h {
                        for pxx in 0..w {
                            let (dx, dy) = (pxx as f64 / k - x, py as f64 / k - y);
                            let lamp = 0.6 * (-(dx * dx + dy * dy) / (2.0 * 45.0 * 45.0)).exp();
                            let o = (py * w + pxx) * 3;
                            for c in 0..3 {
                                px[o + c] *= dim + lamp;
                            }
                        }
                    }
                }
                Event::Infrared { at } if t >= at => {
                    for p in px.chunks_exact_mut(3) {
                        let l = 0.3 * p[0] + 0.59 * p[1] + 0.11 * p[2];
                        p.fill(l * 0.8 + 35.0);
                    }
                }
                _ => {}
            }
        }
        // Sensor noise.
        let size = Size::new(self.width, self.height);
        finish(&px, size, (self.seed, i, t), 3.0, tracks)
    }
}
