//! A sequence rendered frame by frame: the static view, then throws, leaves, rain, lights,
//! branches, shake and sensor noise on top, with the truth of every throw.

use super::draw::{Canvas, branch, foliage, render_static, shift};
use super::optics::{Flare, expose, exposure_gain};
use super::rain::Downpour;
use super::throw::{self, Seen};
use super::world::{Body, Building, Camera, calibrate, window_pixels};
use super::*;

pub(super) struct Flicker {
    pub(super) pixels: Vec<usize>,
    pub(super) on: bool,
    pub(super) next_t: f64,
}

pub(super) struct Drop {
    pub(super) x: f64,
    pub(super) y: f64,
}

/// A sequence being rendered frame by frame.
pub struct Scene {
    spec: SceneSpec,
    camera: Camera,
    building: Building,
    background: Vec<u8>,
    rng: Rng,
    bodies: Vec<Option<Body>>,
    truth: Vec<ThrowTruth>,
    leaves: Vec<(Body, f64, f64)>,
    drops: Vec<Drop>,
    downpour: Option<Downpour>,
    flicker: Vec<Flicker>,
    flare: Option<Flare>,
    /// Auto-exposure steps: start, gain, frames (in time order).
    exposure: Vec<(f64, f64, u32)>,
    calibration: Calibration,
    frame: u32,
}

impl Scene {
    pub fn new(spec: SceneSpec) -> Self {
        let mut rng = Rng::new(spec.seed);
        let camera = Camera::new(&spec);
        let mut building = Building {
            x0: spec.facade_left(),
            floors: spec.floors,
            columns: spec.columns,
            night: spec.night,
            lit: Vec::new(),
            tint: Vec::new(),
        };
        let cells = (spec.floors * spec.columns) as usize;
        building.lit = (0..cells).map(|_| rng.chance(0.35)).collect();
        building.tint = (0..cells).map(|_| rng.below(21) as i32 - 10).collect();
        let background = render_static(&camera, &building, spec.distance_m);
        let calibration = calibrate(
            &camera,
            &building,
            (spec.distance_m, spec.zone_above_roof_m),
        );
        let bodies = spec.throws.iter().map(|_| None).collect();
        let truth = spec
            .throws
            .iter()
            .map(|t| ThrowTruth {
                release_t: t.t,
                floor: t.floor,
                column: t.column,
                size_px: t.apparent_px(),
                end_t: spec.duration_secs,
                landed: false,
                track: Vec::new(),
                sizes: Vec::new(),
            })
            .collect();
        let mut leaves = Vec::new();
        let mut drops = Vec::new();
        let mut downpour = None;
        let mut flicker = Vec::new();
        let mut flare = None;
        let mut exposure = Vec::new();
        for d in &spec.distractors {
            match d {
                Distractor::Leaves { count, fall_speed } => {
                    for _ in 0..*count {
                        // Terminal speed from the start: drag balances gravity.
                        let v = fall_speed * rng.range(0.7, 1.3);
                        let body = Body {
                            p: [
                                rng.range(building.x0, building.x0 + building.width()),
                                rng.range(0.3, 1.0) * building.height(),
                                spec.distance_m - rng.range(1.0, 4.0),
                            ],
                            v: [0.0, -v, 0.0],
                            drag: G / (v * v),
                            landed: false,
                        };
                        leaves.push((body, rng.range(0.3, 1.0), rng.range(2.0, 6.0)));
                    }
                }
                Distractor::Rain { drops: n } => {
                    for _ in 0..*n {
                        drops.push(Drop {
                            x: rng.range(0.0, camera.w),
                            y: rng.range(0.0, camera.h),
                        });
                    }
                }
                Distractor::Downpour { drops, wind } => {
                    downpour = Some(Downpour::new(&mut rng, &camera, &spec, *drops, *wind));
                }
                Distractor::Flicker { windows } => {
                    for _ in 0..*windows {
                        let floor = rng.below(spec.floors);
                        let col = rng.below(spec.columns);
                        let pixels = window_pixels(&camera, &building, spec.distance_m, floor, col);
                        flicker.push(Flicker {
                            pixels,
                            on: rng.chance(0.5),
                            next_t: rng.range(0.5, 4.0),
                        });
                    }
                }
                Distractor::Flare {
                    sun,
                    strength,
                    shimmer_hz,
                    fronds,
                } => {
                    let size = (spec.width as usize, spec.height as usize);
                    let motion = (*shimmer_hz, fronds[0], fronds[1]);
                    flare = Some(Flare::new(size, *sun, *strength, motion));
                }
                Distractor::Exposure { t, gain, frames } => exposure.push((*t, *gain, *frames)),
                _ => {}
            }
        }
        exposure.sort_by(|a, b| a.0.total_cmp(&b.0));
        Self {
            spec,
            camera,
            building,
            background,
            rng,
            bodies,
            truth,
            leaves,
            drops,
            downpour,
            flicker,
            flare,
            exposure,
            calibration,
            frame: 0,
        }
    }

    pub fn spec(&self) -> &SceneSpec {
        &self.spec
    }

    pub fn frames(&self) -> u32 {
        (self.spec.duration_secs * f64::from(self.spec.fps)).round() as u32
    }

    pub fn calibration(&self) -> &Calibration {
        &self.calibration
    }

    /// The ground truth so far (complete once every frame is rendered).
    pub fn truth(&self) -> Truth {
        Truth {
            scene: self.spec.clone(),
            calibration: self.calibration.clone(),
            throws: self.truth.clone(),
        }
    }

    /// Renders the next frame: packed RGB, `width × height × 3` bytes.
    pub fn next_frame(&mut self) -> Vec<u8> {
        let i = self.frame;
        self.frame += 1;
        let fps = f64::from(self.spec.fps);
        let t = f64::from(i) / fps;
        let dt = 1.0 / fps;
        let (w, h) = (self.spec.width as usize, self.spec.height as usize);
        let mut img = self.background.clone();

        // Window lights.
        for fl in &mut self.flicker {
            if t >= fl.next_t {
                fl.on = !fl.on;
                fl.next_t = t + self.rng.range(1.0, 6.0);
            }
            let c: [u8; 3] = if fl.on {
                [215, 180, 115]
            } else if self.spec.night {
                [18, 20, 26]
            } else {
                [60, 78, 98]
            };
            for &p in &fl.pixels {
                img[p * 3..p * 3 + 3].copy_from_slice(&c);
            }
        }

        let ink = |night: bool, day: u8| if night { day / 4 } else { day };
        let mut canvas = Canvas { w, h, px: &mut img };
        // Leaves fluttering down.
        for (leaf, swing, period) in &mut self.leaves {
            leaf.advance(dt);
            let mut p = leaf.p;
            p[0] += *swing * (std::f64::consts::TAU * t / *period).sin();
            if let Some((x, y, _)) = self.camera.project(p) {
                let size = 3.0 + 3.0 * (t * 3.0 + *swing * 10.0).sin().abs();
                canvas.disc(
                    x,
                    y,
                    size / 2.0,
                    [120, 90, 40].map(|c| ink(self.spec.night, c)),
                    0.9,
                );
            }
        }
        // Birds.
        for d in &self.spec.distractors {
            if let Distractor::Bird {
                t: t0,
                floor,
                speed,
                climb,
                size_px,
            } = *d
            {
                let s = t - t0;
                if s < 0.0 {
                    continue;
                }
                let x = self.building.x0 - 5.0 + speed * s;
                let y = floor * FLOOR_HEIGHT + climb * s;
                let p = [x, y, self.spec.distance_m - 4.0];
                if let Some((px, py, _)) = self.camera.project(p) {
                    let flap = (s * std::f64::consts::TAU * 5.0).sin();
                    let span = size_px * (0.6 + 0.4 * flap.abs());
                    let c = [40, 38, 36].map(|c| ink(self.spec.night, c));
                    canvas.segment(
                        (px - span / 2.0, py - flap * size_px * 0.2),
                        (px + span / 2.0, py - flap * size_px * 0.2),
                        (size_px * 0.25).max(1.5),
                        c,
                        1.0,
                    );
                    canvas.disc(px, py, size_px * 0.22, c, 1.0);
                }
            }
        }
        // Thrown objects, with motion blur over half a frame.
        for (k, spec) in self.spec.throws.iter().enumerate() {
            if t < spec.t {
                continue;
            }
            let body = self.bodies[k].get_or_insert_with(|| {
                let out = spec.out_m.unwrap_or(BALCONY_M);
                Body {
                    p: self.spec.release_point(spec.floor, spec.column, out),
                    v: [spec.push[0], spec.push[1], -spec.push[2]],
                    drag: spec.drag,
                    landed: false,
                }
            });
            // Released between frames: advance to this frame's time first.
            let since = t - spec.t;
            let step = if since < dt { since } else { dt };
            let before = body.p;
            body.advance(step);
            let after = body.p;
            let truth = &mut self.truth[k];
            if truth.end_t < self.spec.duration_secs {
                continue;
            }
            if body.landed {
                truth.end_t = t;
                truth.landed = true;
                continue;
            }
            let seen = throw::draw(
                &mut canvas,
                (&self.camera, &self.background),
                spec,
                (before, after),
                (since, step),
            );
            match seen {
                Seen::At(x, y, size) => {
                    truth.track.push((i, x, y));
                    truth.sizes.push(size);
                }
                Seen::Out if !truth.track.is_empty() => truth.end_t = t,
                Seen::Out | Seen::Hidden => {}
            }
        }
        // A branch swaying in front of the camera; leaves hiding where a throw leaves.
        for d in &self.spec.distractors {
            match *d {
                Distractor::Branch {
                    left,
                    amplitude_deg,
                } => {
                    let angle =
                        amplitude_deg.to_radians() * (t * 1.7).sin() + 0.2 * (t * 0.6).sin();
                    branch(&mut canvas, left, angle, self.spec.night);
                }
                Distractor::Foliage {
                    throw,
                    radius_px,
                    offset,
                } => {
                    let Some(s) = self.spec.throws.get(throw) else {
                        continue;
                    };
                    let out = s.out_m.unwrap_or(BALCONY_M);
                    let release = self.spec.release_point(s.floor, s.column, out);
                    if let Some((x, y, _)) = self.camera.project(release) {
                        let centre = (x + offset[0] * radius_px, y + offset[1] * radius_px);
                        let sway = (t * 2.3).sin() * 0.7 + (t * 0.9).sin() * 0.3;
                        foliage(&mut canvas, centre, radius_px, sway, self.spec.night);
                    }
                }
                _ => {}
            }
        }
        // Rain.
        let rain_speed = h as f64 / 14.0;
        for drop in &mut self.drops {
            drop.y += rain_speed;
            drop.x += rain_speed * 0.15;
            if drop.y > h as f64 {
                drop.y -= h as f64 + rain_speed;
                drop.x = self.rng.range(0.0, w as f64);
            }
            let c = if self.spec.night {
                [90, 90, 95]
            } else {
                [235, 238, 245]
            };
            canvas.segment(
                (drop.x, drop.y),
                (drop.x - rain_speed * 0.06, drop.y - rain_speed * 0.4),
                0.7,
                c,
                0.35,
            );
        }

        if let Some(rain) = &mut self.downpour {
            rain.draw(
                &mut canvas,
                &mut self.rng,
                &self.camera,
                (t, fps),
                self.spec.night,
            );
        }

        // The sun in the lens, then the exposure the camera chose: light adds, then the gain.
        if let Some(flare) = &self.flare {
            flare.draw(&mut canvas, t);
        }
        expose(&mut img, exposure_gain(&self.exposure, t, fps));

        // Light change and shake act on the whole picture.
        for d in &self.spec.distractors {
            match *d {
                Distractor::LightChange { t: t0 } if t >= t0 => {
                    if self.spec.night {
                        // IR mode: grey and brighter.
                        for p in img.chunks_exact_mut(3) {
                            let y =
                                (u32::from(p[0]) * 3 + u32::from(p[1]) * 5 + u32::from(p[2]) * 2)
                                    / 10;
                            p.fill((y * 2 + 30).min(255) as u8);
                        }
                    } else {
                        let k = 1.0 - 0.35 * ((t - t0) / 0.6).min(1.0);
                        for v in img.iter_mut() {
                            *v = (f64::from(*v) * k) as u8;
                        }
                    }
                }
                Distractor::Shake {
                    t: t0,
                    secs,
                    amplitude_px,
                } if (t0..t0 + secs).contains(&t) => {
                    let dx = self.rng.range(-amplitude_px, amplitude_px).round() as isize;
                    let dy = self.rng.range(-amplitude_px, amplitude_px).round() as isize;
                    img = shift(&img, w, h, dx, dy);
                }
                _ => {}
            }
        }

        // Sensor noise (luma), one draw per pixel.
        let sigma = self.spec.noise;
        if sigma > 0.0 {
            for p in img.chunks_exact_mut(3) {
                let r = self.rng.next_u64();
                // Sum of four uniform bytes: near-Gaussian, mean 510, σ ≈ 147.8.
                let s = (r & 0xFF) + (r >> 8 & 0xFF) + (r >> 16 & 0xFF) + (r >> 24 & 0xFF);
                let n = ((s as f64 - 510.0) / 147.8 * sigma) as i32;
                for c in p {
                    *c = (i32::from(*c) + n).clamp(0, 255) as u8;
                }
            }
        }
        img
    }
}
