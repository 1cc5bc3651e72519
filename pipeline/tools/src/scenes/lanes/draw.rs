//! Drawing a lane scene: the fixed background (asphalt, yellow edge lines and hatching, paving
//! beside the lane, a building wall at the far end), boxes in 3-D, light (clouds, dusk, the
//! lamp, infrared) and rain.

use super::{Block, Event, View};
use crate::scenes::{hash, noise};

/// The empty scene, and where each pixel's ray meets the ground (for light that falls on it).
pub(super) struct Background {
    pub pixels: Vec<f64>,
    /// Per pixel: ground `(x, z)`, or `None` for the wall and sky.
    ground: Vec<Option<(f64, f64)>>,
}

/// The wall closing the view this far past the lane's stretch.
const WALL_BEYOND_M: f64 = 10.0;

impl Background {
    pub fn new(view: &View, seed: u64) -> Self {
        let (w, h) = (view.width as usize, view.height as usize);
        let (_, far) = view.stretch();
        let wall = far + WALL_BEYOND_M;
        let half = view.lane_m / 2.0;
        let mut pixels = vec![0.0; w * h * 3];
        let mut ground = vec![None; w * h];
        for y in 0..h {
            for x in 0..w {
                let (u, v) = (x as f64 + 0.5, y as f64 + 0.5);
                let hit = view.ground(u, v).filter(|&(_, z)| z < wall);
                let colour = match hit {
                    Some((gx, gz)) => {
                        ground[y * w + x] = Some((gx, gz));
                        let grain = 8.0
                            * noise(
                                seed ^ hash(
                                    ((gx * 25.0) as i64 as u64) << 24 ^ (gz * 25.0) as i64 as u64,
                                ),
                            );
                        let c = surface(gx, gz, half);
                        c.map(|c| c + grain)
                    }
                    None => {
                        // The wall: plaster with rows of windows, by where the ray meets it.
                        let d = view.ray(u, v);
                        let t = (wall - 0.0) / d[2].max(1e-6);
                        let (wx, wy) = (view.offset_m + t * d[0], view.height_m + t * d[1]);
                        let window = (wx.rem_euclid(3.0) < 1.4) && (wy.rem_euclid(3.0) > 1.2);
                        let c = if window {
                            [70.0, 85.0, 100.0]
                        } else {
                            [175.0, 165.0, 150.0]
                        };
                        c.map(|c| c + 4.0 * noise(seed ^ (x as u64) << 20 ^ y as u64))
                    }
                };
                pixels[(y * w + x) * 3..][..3].copy_from_slice(&colour);
            }
        }
        Self { pixels, ground }
    }
}

/// The ground's colour at `(x, z)`: asphalt with yellow edge lines and diagonal hatching in the
/// lane, grey paving with joints beside it.
fn surface(x: f64, z: f64, half: f64) -> [f64; 3] {
    const YELLOW: [f64; 3] = [200.0, 170.0, 40.0];
    let ax = x.abs();
    if ax > half + 0.3 {
        let joint = x.rem_euclid(0.6) < 0.05 || z.rem_euclid(0.6) < 0.05;
        return if joint {
            [120.0, 118.0, 112.0]
        } else {
            [150.0, 148.0, 140.0]
        };
    }
    if (half - 0.15..=half).contains(&ax) {
        return YELLOW;
    }
    // Hatching: diagonals every 3 m, 0.15 m wide, inside the lane.
    if ax < half - 0.15 && (x + z).rem_euclid(3.0) < 0.15 {
        return YELLOW;
    }
    [92.0, 92.0, 96.0]
}

/// Draws `b` with its faces shaded (top brightest, the face towards the camera next, the sides
/// darkest); returns its pixel bounds.
pub(super) fn block(px: &mut [f64], view: &View, b: &Block) -> Option<(f64, f64, f64, f64)> {
    let (sx, sz, sy) = b.size;
    let (x0, x1) = (b.x - sx / 2.0, b.x + sx / 2.0);
    let (z0, z1) = (b.z - sz / 2.0, b.z + sz / 2.0);
    let (y0, y1) = (b.y0, b.y0 + sy);
    let corners: Vec<(f64, f64)> = [
        [x0, y0, z0],
        [x1, y0, z0],
        [x1, y0, z1],
        [x0, y0, z1],
        [x0, y1, z0],
        [x1, y1, z0],
        [x1, y1, z1],
        [x0, y1, z1],
    ]
    .into_iter()
    .map(|p| view.project(p))
    .collect::<Option<_>>()?;
    let shade = |k: f64| b.colour.map(|c| c * k);
    let hull = convex_hull(&corners);
    fill(px, view, &hull, shade(0.7));
    fill(
        px,
        view,
        &[corners[0], corners[1], corners[5], corners[4]],
        shade(0.85),
    );
    fill(
        px,
        view,
        &[corners[4], corners[5], corners[6], corners[7]],
        shade(1.0),
    );
    let xs = hull.iter().map(|p| p.0);
    let ys = hull.iter().map(|p| p.1);
    Some((
        xs.clone().fold(f64::MAX, f64::min),
        ys.clone().fold(f64::MAX, f64::min),
        xs.fold(f64::MIN, f64::max),
        ys.fold(f64::MIN, f64::max),
    ))
}

/// Andrew's monotone chain; counter-clockwise in pixel coordinates.
fn convex_hull(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut p = points.to_vec();
    p.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let cross = |o: (f64, f64), a: (f64, f64), b: (f64, f64)| {
        (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0)
    };
    let mut hull: Vec<(f64, f64)> = Vec::new();
    for pass in 0..2 {
        let start = hull.len();
        let iter: Box<dyn Iterator<Item = &(f64, f64)>> = match pass {
            0 => Box::new(p.iter()),
            _ => Box::new(p.iter().rev()),
        };
        for &q in iter {
            while hull.len() >= start + 2
                && cross(hull[hull.len() - 2], hull[hull.len() - 1], q) <= 0.0
            {
                hull.pop();
            }
            hull.push(q);
        }
        hull.pop();
    }
    hull
}

/// Fills the convex polygon `poly` (either winding).
fn fill(px: &mut [f64], view: &View, poly: &[(f64, f64)], colour: [f64; 3]) {
    if poly.len() < 3 {
        return;
    }
    let (w, h) = (view.width as i64, view.height as i64);
    let min_x = poly
        .iter()
        .map(|p| p.0)
        .fold(f64::MAX, f64::min)
        .floor()
        .max(0.0) as i64;
    let max_x = poly
        .iter()
        .map(|p| p.0)
        .fold(f64::MIN, f64::max)
        .ceil()
        .min(w as f64) as i64;
    let min_y = poly
        .iter()
        .map(|p| p.1)
        .fold(f64::MAX, f64::min)
        .floor()
        .max(0.0) as i64;
    let max_y = poly
        .iter()
        .map(|p| p.1)
        .fold(f64::MIN, f64::max)
        .ceil()
        .min(h as f64) as i64;
    for y in min_y..max_y {
        for x in min_x..max_x {
            let (cx, cy) = (x as f64 + 0.5, y as f64 + 0.5);
            let (mut pos, mut neg) = (false, false);
            for (i, a) in poly.iter().enumerate() {
                let b = poly[(i + 1) % poly.len()];
                let c = (b.0 - a.0) * (cy - a.1) - (b.1 - a.1) * (cx - a.0);
                pos |= c > 0.0;
                neg |= c < 0.0;
            }
            if !(pos && neg) {
                px[((y * w + x) * 3) as usize..][..3].copy_from_slice(&colour);
            }
        }
    }
}

/// The share of daylight at `t` (1 by day, a third after dusk).
pub(super) fn daylight(events: &[Event], t: f64) -> f64 {
    events
        .iter()
        .filter_map(|e| match *e {
            Event::Dusk { at } if t >= at => Some(1.0 - 0.67 * ((t - at) / 40.0).min(1.0)),
            _ => None,
        })
        .fold(1.0, f64::min)
}

/// Light over the frame: daylight, cloud shadows on the ground, the lamp's pool, the infrared
/// switch, wet ground.
pub(super) fn light(px: &mut [f64], base: &Background, events: &[Event], t: f64) {
    let day = daylight(events, t);
    let mut lamp = false;
    let mut infrared = false;
    let mut clouds = None;
    let mut wet = 1.0f64;
    for e in events {
        match *e {
            Event::Lamp { at, on } if t >= at => lamp = on,
            Event::Infrared { at } if t >= at => infrared = true,
            Event::Clouds { from, to, speed } if t >= from && t < to => {
                clouds = Some((t - from) * speed)
            }
            Event::Rain { from, to } if t >= from => {
                let k = ((t - from) / 20.0).min(1.0) * if t < to { 1.0 } else { 0.0 };
                wet = wet.min(1.0 - 0.2 * k);
            }
            _ => {}
        }
    }
    for (i, g) in base.ground.iter().enumerate() {
        let mut k = [day; 3];
        if let Some((x, z)) = *g {
            if let Some(shift) = clouds {
                // Soft shadows 8 m across drifting sideways, 14 m apart.
                let u = (x + shift).rem_euclid(14.0) - 7.0;
                let shadow =
                    0.4 * (-(u * u) / (2.0 * 2.5 * 2.5)).exp() * (0.7 + 0.3 * (z * 0.3).sin());
                k = k.map(|v| v * (1.0 - shadow));
            }
            if lamp {
                let (dx, dz) = (x - 3.0, z - 8.0);
                let pool = 0.7 * (-(dx * dx + dz * dz) / (2.0 * 4.0 * 4.0)).exp();
                k = [k[0] + pool, k[1] + pool * 0.9, k[2] + pool * 0.7];
            }
            k = k.map(|v| v * wet);
        }
        let p = &mut px[i * 3..][..3];
        for c in 0..3 {
            p[c] *= k[c];
        }
        if infrared {
            let l = 0.3 * p[0] + 0.59 * p[1] + 0.11 * p[2];
            p.fill(l * 0.9 + 40.0);
        }
    }
}

/// Rain: streaks near the lens (long, bright, few) and far (short, faint, many), slanted by the
/// wind; about 110 per 320×180 frame (400 at 720p).
pub(super) fn rain(px: &mut [f64], view: &View, key: u64) {
    let (w, h) = (view.width as i64, view.height as i64);
    let scale = f64::from(view.width) / 320.0;
    let n = (110.0 * scale * scale) as u64;
    let wind = 0.25 + 0.15 * noise(key);
    for s in 0..n {
        let r = |k: u64| (noise(key ^ hash(s * 7 + k)) + 1.0) / 2.0;
        let depth = r(1);
        let len = (2.0 + 18.0 * depth * depth) * scale;
        let bright = 25.0 + 45.0 * depth;
        let (x0, y0) = (r(2) * w as f64, r(3) * h as f64);
        let steps = len.ceil() as i64;
        for k in 0..steps {
            let (x, y) = ((x0 + wind * k as f64) as i64, (y0 + k as f64) as i64);
            if x < 0 || y < 0 || x >= w || y >= h {
                continue;
            }
            let p = &mut px[((y * w + x) * 3) as usize..][..3];
            for c in p.iter_mut() {
                *c = *c * 0.6 + (*c + bright) * 0.4;
            }
        }
    }
}
