//! A downpour as a camera at the foot of a building sees it: drops through the whole air between
//! the lens and the wall, each falling at its own terminal speed (4–9 m/s, by its size) and
//! carried by the wind with gusts (which it follows only as fast as its inertia lets it), drawn
//! as the streak it makes while the shutter is open — long and wide near the lens, short and
//! faint far off, all pointing at the vertical's vanishing point. Dense (150–450 streaks a frame), so that a tracker can hop from one streak to another
//! and make what looks like a fall out of them.

use super::draw::Canvas;
use super::world::Camera;
use super::{G, Rng, SceneSpec};

/// One drop.
struct Drop {
    p: [f64; 3],
    /// Its terminal speed, m/s.
    fall: f64,
    /// Its horizontal velocity (across the view, towards the camera), m/s: the wind's, lagging
    /// behind each gust by the drop's inertia.
    drift: [f64; 2],
    /// How much light its streak carries (0–1).
    alpha: f64,
}

/// The drops of one scene, and the wind.
pub(super) struct Downpour {
    drops: Vec<Drop>,
    /// Wind across the view and towards the camera, m/s.
    wind: [f64; 2],
    /// Gusts: their strength (m/s) and period (s).
    gust: (f64, f64),
    /// Nearest and farthest a drop is drawn, metres along the camera's axis.
    near: f64,
    far: f64,
}

/// The shutter stays open this fraction of a frame.
const SHUTTER: f64 = 0.5;

impl Downpour {
    pub(super) fn new(
        rng: &mut Rng,
        camera: &Camera,
        spec: &SceneSpec,
        drops: u32,
        wind: [f64; 2],
    ) -> Self {
        // A 9 m/s drop streaks 40 px at the nearest, a 4 m/s one 5 px at the farthest: up to
        // the wall, and as far again where the sky shows beside it.
        let exposure = SHUTTER / f64::from(spec.fps);
        let near = (camera.f * 9.0 * exposure / 40.0).max(1.0);
        let far = (camera.f * 4.0 * exposure / 5.0).min(2.0 * spec.distance_m);
        let mut rain = Self {
            drops: Vec::new(),
            wind,
            gust: (rng.range(0.5, 2.5), rng.range(2.0, 6.0)),
            near,
            far: far.max(near * 2.0),
        };
        for _ in 0..drops {
            let d = rain.spawn(rng, camera, None, wind);
            rain.drops.push(d);
        }
        rain
    }

    /// A drop somewhere in view (`top`: entering at the frame's top edge). A camera tilted up so
    /// far that the rays above its frame pass the vertical sees no drop come in at the top:
    /// after `TOP_TRIES` such rays, the drop comes in anywhere in view (else this never ends).
    fn spawn(&self, rng: &mut Rng, camera: &Camera, top: Option<()>, wind: [f64; 2]) -> Drop {
        const TOP_TRIES: u32 = 64;
        let mut attempt = 0u32;
        loop {
            attempt = attempt.saturating_add(1);
            let px = rng.range(-0.1, 1.1) * camera.w;
            let py = match top {
                Some(()) if attempt <= TOP_TRIES => rng.range(-0.15, 0.0) * camera.h,
                _ => rng.range(0.0, 1.0) * camera.h,
            };
            // Depth spread so that near and far drops are both common: uniform in its log.
            let z = self.near * (self.far / self.near).powf(rng.unit());
            let Some((x, y)) = camera.on_plane(px, py, z) else {
                continue;
            };
            // Bigger drops fall faster and show brighter.
            let size = rng.unit();
            return Drop {
                p: [x, y, z],
                fall: 4.0 + 5.0 * size,
                drift: wind,
                alpha: 0.18 + 0.3 * size,
            };
        }
    }

    /// Moves every drop by one frame at time `t` and draws its streak.
    pub(super) fn draw(
        &mut self,
        canvas: &mut Canvas<'_>,
        rng: &mut Rng,
        camera: &Camera,
        (t, fps): (f64, f64),
        night: bool,
    ) {
        let dt = 1.0 / fps;
        // Gusts blow along the wind (across the view when it is calm).
        let gust = self.gust.0 * (std::f64::consts::TAU * t / self.gust.1).sin();
        let speed = self.wind[0].hypot(self.wind[1]);
        let along = match speed < 0.1 {
            true => [1.0, 0.0],
            false => self.wind.map(|w| w / speed),
        };
        let wind = [0, 1].map(|k| self.wind[k] + gust * along[k]);
        let c = if night {
            [120, 120, 128]
        } else {
            [235, 238, 245]
        };
        for i in 0..self.drops.len() {
            let d = &mut self.drops[i];
            // Drag pulls the drop's horizontal velocity towards the air's with the time constant
            // of its terminal speed over g (0.4–0.9 s): at terminal speed drag balances its
            // weight, and a small sideways slip costs it that drag in proportion.
            let follow = 1.0 - (-dt * G / d.fall).exp();
            for (v, w) in d.drift.iter_mut().zip(wind) {
                *v += (w - *v) * follow;
            }
            let v = [d.drift[0], -d.fall, d.drift[1]];
            for (p, v) in d.p.iter_mut().zip(v) {
                *p += v * dt;
            }
            let tail = [0, 1, 2].map(|k| d.p[k] - v[k] * dt * SHUTTER);
            let seen = match (camera.project(d.p), camera.project(tail)) {
                (Some(a), Some(b)) if d.p[1] > 0.0 && a.1 < camera.h + 40.0 => Some((a, b)),
                _ => None,
            };
            let Some((a, b)) = seen else {
                self.drops[i] = self.spawn(rng, camera, Some(()), wind);
                continue;
            };
            // Wider and fainter near the lens (out of focus), a hairline far off.
            let r = (0.5 + 1.5 / a.2).min(2.0);
            let alpha = d.alpha * (0.6 + 0.4 / r);
            canvas.segment((b.0, b.1), (a.0, a.1), r, c, alpha);
        }
    }
}
