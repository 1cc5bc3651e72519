//! The synthetic benchmark: a residential facade seen from below (30–60° up), day or night,
//! with objects dropped or thrown from chosen floors and windows, and the distractors that
//! fool naive detectors — birds, falling leaves, rain, swaying branches, window lights, cloud
//! and IR switches, camera shake. Deterministic by seed; every sequence carries its ground
//! truth (release time, floor, column, the pixel track, when the object landed or left the
//! frame) and the facade calibration an integrator would write for that view.

use serde::{Deserialize, Serialize};

/// A small deterministic generator (SplitMix64): the same seed renders the same sequence on
/// every machine and with every dependency version.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    pub fn below(&mut self, n: u32) -> u32 {
        (self.unit() * f64::from(n)) as u32 % n.max(1)
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
}

/// One object released from the facade.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ThrowSpec {
    /// Release time, seconds from the start.
    pub t: f64,
    /// Floor (1 = ground storey) and window column (1 = leftmost).
    pub floor: i32,
    pub column: u32,
    /// Apparent diameter in pixels.
    pub size_px: f64,
    /// Quadratic drag coefficient (1/m): 0.002 a brick or bottle, 0.02 a bag of rubbish.
    pub drag: f64,
    /// Initial velocity, m/s: along the facade (right +), up (+), away from the wall (+).
    pub push: [f64; 3],
    /// Grey level of the object.
    pub shade: u8,
}

/// Things that move and are not falling objects.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Distractor {
    /// A bird crossing: constant speed, `climb` m/s upwards (negative: gliding down), wings
    /// beating.
    Bird {
        t: f64,
        floor: f64,
        speed: f64,
        climb: f64,
        size_px: f64,
    },
    /// Leaves or paper fluttering down at `fall_speed` with a sideways swing.
    Leaves { count: u32, fall_speed: f64 },
    /// Rain streaks across the whole frame.
    Rain { drops: u32 },
    /// A branch in front of the camera swaying at a frame edge.
    Branch { left: bool, amplitude_deg: f64 },
    /// Window lights switching on and off.
    Flicker { windows: u32 },
    /// The camera shakes for `secs` from `t`.
    Shake {
        t: f64,
        secs: f64,
        amplitude_px: f64,
    },
    /// A cloud dims the scene (day) or the IR cut filter switches (night) at `t`.
    LightChange { t: f64 },
}

/// A sequence to render.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SceneSpec {
    pub name: String,
    pub seed: u64,
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    pub duration_secs: f64,
    pub night: bool,
    /// Camera tilt above the horizon, degrees.
    pub pitch_deg: f64,
    /// Horizontal distance from the camera to the facade, metres.
    pub distance_m: f64,
    pub hfov_deg: f64,
    pub floors: u32,
    pub columns: u32,
    /// Standard deviation of the sensor noise, grey levels.
    pub noise: f64,
    pub throws: Vec<ThrowSpec>,
    pub distractors: Vec<Distractor>,
}

pub const FLOOR_HEIGHT: f64 = 3.0;
pub const COLUMN_WIDTH: f64 = 3.6;
const CAMERA_HEIGHT: f64 = 1.5;
/// Objects leave from the balcony edge, this far in front of the wall.
const BALCONY_M: f64 = 0.8;
const G: f64 = vigil_spec::falling::G;

/// The calibration written for the view (what `rules/throwing.yaml` holds).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Normalised: bottom-left, bottom-right, top-right, top-left.
    pub corners: [[f64; 2]; 4],
    pub width_m: f64,
    pub height_m: f64,
    pub floor_height_m: f64,
    pub first_floor: i32,
    pub columns: u32,
    /// The zone to watch (normalised polygon).
    pub zone: Vec<[f64; 2]>,
}

impl Calibration {
    /// The detector configuration this calibration gives, with default tuning.
    pub fn fall_config(&self) -> Result<vigil_spec::falling::FallConfig, String> {
        Ok(vigil_spec::falling::FallConfig {
            facade: vigil_spec::facade::Facade::new(
                self.corners.map(|[x, y]| (x, y)),
                self.width_m,
                self.height_m,
                self.floor_height_m,
                self.first_floor,
                self.columns,
            )?,
            zone: self.zone.iter().map(|&[x, y]| (x, y)).collect(),
            foreground: vigil_spec::falling::ForegroundParams::default(),
            tracker: vigil_spec::falling::TrackerParams::default(),
            classify: vigil_spec::falling::ClassifyParams::default(),
        })
    }
}

/// BT.601 luma of packed RGB, as an H.264 encoder stores it (what the decoder's Y plane holds).
pub fn luma(rgb: &[u8]) -> Vec<u8> {
    rgb.chunks_exact(3)
        .map(|p| {
            let y =
                (66 * u32::from(p[0]) + 129 * u32::from(p[1]) + 25 * u32::from(p[2]) + 128) >> 8;
            y as u8 + 16
        })
        .collect()
}

/// What really happened to one thrown object.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ThrowTruth {
    pub release_t: f64,
    pub floor: i32,
    pub column: u32,
    pub size_px: f64,
    /// When it hit the ground or left the frame, whichever came first.
    pub end_t: f64,
    pub landed: bool,
    /// Frame index and centre (source pixels) of each frame it is visible in.
    pub track: Vec<(u32, f64, f64)>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Truth {
    pub scene: SceneSpec,
    pub calibration: Calibration,
    pub throws: Vec<ThrowTruth>,
}

/// The pinhole camera: at `(0, 1.5, 0)`, looking along +z, tilted up by `pitch`.
#[derive(Clone, Copy, Debug)]
struct Camera {
    w: f64,
    h: f64,
    f: f64,
    sin: f64,
    cos: f64,
}

impl Camera {
    fn new(spec: &SceneSpec) -> Self {
        let (w, h) = (f64::from(spec.width), f64::from(spec.height));
        let pitch = spec.pitch_deg.to_radians();
        Self {
            w,
            h,
            f: (w / 2.0) / (spec.hfov_deg.to_radians() / 2.0).tan(),
            sin: pitch.sin(),
            cos: pitch.cos(),
        }
    }

    /// Pixel of a world point, and its depth; `None` behind the camera.
    fn project(&self, [x, y, z]: [f64; 3]) -> Option<(f64, f64, f64)> {
        let ry = y - CAMERA_HEIGHT;
        let yc = ry * self.cos - z * self.sin;
        let zc = ry * self.sin + z * self.cos;
        (zc > 0.1).then(|| {
            (
                self.w / 2.0 + self.f * x / zc,
                self.h / 2.0 - self.f * yc / zc,
                zc,
            )
        })
    }

    /// Where the ray through pixel `(px, py)` meets the plane `z = d`.
    fn on_plane(&self, px: f64, py: f64, d: f64) -> Option<(f64, f64)> {
        let (xc, yc) = ((px - self.w / 2.0) / self.f, -(py - self.h / 2.0) / self.f);
        // Camera ray (xc, yc, 1) in world axes.
        let (dx, dy, dz) = (xc, yc * self.cos + self.sin, -yc * self.sin + self.cos);
        (dz > 1e-6).then(|| {
            let s = d / dz;
            (dx * s, CAMERA_HEIGHT + dy * s)
        })
    }
}

/// A facade with its windows: what a pixel of the wall shows.
struct Building {
    x0: f64,
    floors: u32,
    columns: u32,
    night: bool,
    /// Per (floor, column): lit at night; a tint.
    lit: Vec<bool>,
    tint: Vec<i32>,
}

impl Building {
    fn width(&self) -> f64 {
        f64::from(self.columns) * COLUMN_WIDTH
    }

    fn height(&self) -> f64 {
        f64::from(self.floors) * FLOOR_HEIGHT
    }

    /// Colour at facade point `(x, y)` (metres), or `None` off the building.
    fn colour(&self, x: f64, y: f64) -> Option<[i32; 3]> {
        let fx = x - self.x0;
        if fx < 0.0 || fx >= self.width() || !(0.0..self.height()).contains(&y) {
            return None;
        }
        let (col, floor) = ((fx / COLUMN_WIDTH) as usize, (y / FLOOR_HEIGHT) as usize);
        let cell = floor * self.columns as usize + col;
        let (cx, cy) = (
            fx - col as f64 * COLUMN_WIDTH,
            y - floor as f64 * FLOOR_HEIGHT,
        );
        let tint = self.tint[cell];
        let window = (0.6..COLUMN_WIDTH - 0.6).contains(&cx) && (0.9..2.5).contains(&cy);
        let slab = cy < 0.25;
        let c = match (self.night, window, slab) {
            (false, true, _) => [70 + tint, 88 + tint, 108 + tint],
            (false, false, true) => [212, 206, 196],
            (false, false, false) => [182 + tint / 2, 170 + tint / 2, 150 + tint / 2],
            (true, true, _) if self.lit[cell] => [205 + tint, 172 + tint, 110],
            (true, true, _) => [18, 20, 26],
            (true, false, true) => [52, 50, 46],
            (true, false, false) => [36 + tint / 4, 34 + tint / 4, 31],
        };
        Some(c)
    }

    fn sky(&self, py: f64, h: f64) -> [i32; 3] {
        let k = py / h;
        if self.night {
            [14, 16, 28]
        } else {
            [
                150 + (40.0 * k) as i32,
                185 + (30.0 * k) as i32,
                225 + (15.0 * k) as i32,
            ]
        }
    }
}

/// An object moving through the world.
#[derive(Clone, Debug)]
struct Body {
    p: [f64; 3],
    v: [f64; 3],
    drag: f64,
    landed: bool,
}

impl Body {
    fn advance(&mut self, dt: f64) {
        const STEPS: u32 = 8;
        let h = dt / f64::from(STEPS);
        for _ in 0..STEPS {
            if self.landed {
                return;
            }
            let speed = (self.v[0].powi(2) + self.v[1].powi(2) + self.v[2].powi(2)).sqrt();
            for i in 0..3 {
                let a = -self.drag * speed * self.v[i] - if i == 1 { G } else { 0.0 };
                self.v[i] += a * h;
                self.p[i] += self.v[i] * h;
            }
            if self.p[1] <= 0.0 {
                self.p[1] = 0.0;
                self.landed = true;
            }
        }
    }
}

struct Flicker {
    pixels: Vec<usize>,
    on: bool,
    next_t: f64,
}

struct Drop {
    x: f64,
    y: f64,
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
    flicker: Vec<Flicker>,
    calibration: Calibration,
    frame: u32,
}

impl Scene {
    pub fn new(spec: SceneSpec) -> Self {
        let mut rng = Rng::new(spec.seed);
        let camera = Camera::new(&spec);
        let mut building = Building {
            x0: -f64::from(spec.columns) * COLUMN_WIDTH / 2.0,
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
        let calibration = calibrate(&camera, &building, spec.distance_m);
        let bodies = spec.throws.iter().map(|_| None).collect();
        let truth = spec
            .throws
            .iter()
            .map(|t| ThrowTruth {
                release_t: t.t,
                floor: t.floor,
                column: t.column,
                size_px: t.size_px,
                end_t: spec.duration_secs,
                landed: false,
                track: Vec::new(),
            })
            .collect();
        let mut leaves = Vec::new();
        let mut drops = Vec::new();
        let mut flicker = Vec::new();
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
                _ => {}
            }
        }
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
            flicker,
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
                let x = self.building.x0 + (f64::from(spec.column) - 0.5) * COLUMN_WIDTH;
                let y = f64::from(spec.floor - 1) * FLOOR_HEIGHT + 1.2;
                Body {
                    p: [x, y, self.spec.distance_m - BALCONY_M],
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
            let (Some(a), Some(b)) = (
                self.camera.project(mid(before, after, 0.5)),
                self.camera.project(after),
            ) else {
                continue;
            };
            let r = spec.size_px / 2.0;
            if b.0 < -r || b.1 < -r || b.0 > self.camera.w + r || b.1 > self.camera.h + r {
                if !truth.track.is_empty() {
                    truth.end_t = t;
                }
                continue;
            }
            let c = [spec.shade; 3];
            canvas.segment((a.0, a.1), (b.0, b.1), r, c, 1.0);
            truth.track.push((i, b.0, b.1));
        }
        // A branch swaying in front of the camera.
        for d in &self.spec.distractors {
            if let Distractor::Branch {
                left,
                amplitude_deg,
            } = *d
            {
                let angle = amplitude_deg.to_radians() * (t * 1.7).sin() + 0.2 * (t * 0.6).sin();
                branch(&mut canvas, left, angle, self.spec.night);
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

fn mid(a: [f64; 3], b: [f64; 3], k: f64) -> [f64; 3] {
    [0, 1, 2].map(|i| a[i] + (b[i] - a[i]) * k)
}

fn shift(img: &[u8], w: usize, h: usize, dx: isize, dy: isize) -> Vec<u8> {
    let mut out = vec![0u8; img.len()];
    for y in 0..h {
        let sy = (y as isize - dy).clamp(0, h as isize - 1) as usize;
        for x in 0..w {
            let sx = (x as isize - dx).clamp(0, w as isize - 1) as usize;
            let (d, s) = ((y * w + x) * 3, (sy * w + sx) * 3);
            out[d..d + 3].copy_from_slice(&img[s..s + 3]);
        }
    }
    out
}

/// A branch from a lower corner: a bough with twigs and leaf clusters, rotated by `angle`.
fn branch(canvas: &mut Canvas<'_>, left: bool, angle: f64, night: bool) {
    let (w, h) = (canvas.w as f64, canvas.h as f64);
    let (ax, ay) = (if left { -0.02 * w } else { 1.02 * w }, 0.75 * h);
    let dir = if left { 1.0 } else { -1.0 };
    let c = if night { [10, 12, 10] } else { [40, 60, 35] };
    let rot = |x: f64, y: f64| {
        let (s, co) = angle.sin_cos();
        (ax + dir * (x * co - y * s), ay + x * s * dir + y * co)
    };
    let len = 0.22 * w;
    let tip = rot(len, -0.15 * h);
    canvas.segment((ax, ay), tip, 0.008 * w, c, 1.0);
    for k in 1..6 {
        let f = f64::from(k) / 6.0;
        let base = rot(len * f, -0.15 * h * f);
        let end = rot(
            len * f + 0.04 * w,
            -0.15 * h * f - 0.07 * h * if k % 2 == 0 { 1.0 } else { -1.0 },
        );
        canvas.segment(base, end, 0.003 * w, c, 1.0);
        canvas.disc(end.0, end.1, 0.018 * w, c, 0.95);
    }
}

/// Draws into a packed RGB buffer with coverage-based anti-aliasing.
struct Canvas<'a> {
    w: usize,
    h: usize,
    px: &'a mut [u8],
}

impl Canvas<'_> {
    fn blend(&mut self, x: usize, y: usize, c: [u8; 3], a: f64) {
        let i = (y * self.w + x) * 3;
        for (p, c) in self.px[i..i + 3].iter_mut().zip(c) {
            let v = f64::from(*p);
            *p = (v + (f64::from(c) - v) * a).round() as u8;
        }
    }

    fn disc(&mut self, cx: f64, cy: f64, r: f64, c: [u8; 3], alpha: f64) {
        self.segment((cx, cy), (cx, cy), r, c, alpha);
    }

    /// A capsule of radius `r` from `a` to `b` (a motion-blurred disc).
    fn segment(&mut self, a: (f64, f64), b: (f64, f64), r: f64, c: [u8; 3], alpha: f64) {
        let x0 = (a.0.min(b.0) - r - 1.0).floor().max(0.0) as usize;
        let y0 = (a.1.min(b.1) - r - 1.0).floor().max(0.0) as usize;
        let x1 = ((a.0.max(b.0) + r + 1.0).ceil().max(0.0) as usize).min(self.w);
        let y1 = ((a.1.max(b.1) + r + 1.0).ceil().max(0.0) as usize).min(self.h);
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let len2 = dx * dx + dy * dy;
        // A streak spreads the object's light over its length: fainter when longer.
        let spread = (2.0 * r / (2.0 * r + len2.sqrt())).clamp(0.25, 1.0);
        for y in y0..y1 {
            for x in x0..x1 {
                let (px, py) = (x as f64 + 0.5, y as f64 + 0.5);
                let s = if len2 > 0.0 {
                    (((px - a.0) * dx + (py - a.1) * dy) / len2).clamp(0.0, 1.0)
                } else {
                    0.0
                };
                let d = ((px - a.0 - s * dx).powi(2) + (py - a.1 - s * dy).powi(2)).sqrt();
                let cover = (r + 0.5 - d).clamp(0.0, 1.0);
                if cover > 0.0 {
                    self.blend(x, y, c, cover * alpha * spread);
                }
            }
        }
    }
}

/// The static view, 2×2 supersampled.
fn render_static(camera: &Camera, building: &Building, d: f64) -> Vec<u8> {
    let (w, h) = (camera.w as usize, camera.h as usize);
    let mut out = vec![0u8; w * h * 3];
    for y in 0..h {
        for x in 0..w {
            let mut acc = [0i32; 3];
            for (sx, sy) in [(0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75)] {
                let (px, py) = (x as f64 + sx, y as f64 + sy);
                let c = camera
                    .on_plane(px, py, d)
                    .and_then(|(wx, wy)| building.colour(wx, wy))
                    .unwrap_or_else(|| building.sky(py, camera.h));
                for (a, v) in acc.iter_mut().zip(c) {
                    *a += v;
                }
            }
            for k in 0..3 {
                out[(y * w + x) * 3 + k] = (acc[k] / 4).clamp(0, 255) as u8;
            }
        }
    }
    out
}

/// Pixels showing the glass of one window.
fn window_pixels(camera: &Camera, b: &Building, d: f64, floor: u32, col: u32) -> Vec<usize> {
    let x0 = b.x0 + f64::from(col) * COLUMN_WIDTH;
    let y0 = f64::from(floor) * FLOOR_HEIGHT;
    let corners = [
        [x0 + 0.6, y0 + 0.9, d],
        [x0 + COLUMN_WIDTH - 0.6, y0 + 2.5, d],
    ];
    let (Some(a), Some(c)) = (camera.project(corners[0]), camera.project(corners[1])) else {
        return Vec::new();
    };
    let (w, h) = (camera.w as usize, camera.h as usize);
    let mut out = Vec::new();
    let (ya, yb) = (
        c.1.min(a.1).max(0.0) as usize,
        (c.1.max(a.1).ceil() as usize).min(h),
    );
    let (xa, xb) = (
        a.0.min(c.0).max(0.0) as usize,
        (a.0.max(c.0).ceil() as usize).min(w),
    );
    for y in ya..yb {
        for x in xa..xb {
            if let Some((wx, wy)) = camera.on_plane(x as f64 + 0.5, y as f64 + 0.5, d) {
                let (cx, cy) = (wx - x0, wy - y0);
                if (0.6..COLUMN_WIDTH - 0.6).contains(&cx) && (0.9..2.5).contains(&cy) {
                    out.push(y * w + x);
                }
            }
        }
    }
    out
}

/// The calibration an integrator would draw: the lowest and highest floor lines fully in view,
/// across the whole facade, and a zone from the roof down to the bottom of the frame.
fn calibrate(camera: &Camera, b: &Building, d: f64) -> Calibration {
    let norm = |p: (f64, f64, f64)| [p.0 / camera.w, p.1 / camera.h];
    let inside = |y: f64| {
        let l = camera.project([b.x0, y, d]);
        let r = camera.project([b.x0 + b.width(), y, d]);
        matches!((l, r), (Some(l), Some(r))
            if l.1 > 0.02 * camera.h && l.1 < 0.98 * camera.h && l.0 > 0.0 && r.0 < camera.w)
    };
    let lines: Vec<u32> = (0..=b.floors)
        .filter(|&k| inside(f64::from(k) * FLOOR_HEIGHT))
        .collect();
    let (lo, hi) = (
        *lines.first().expect("a floor line in view"),
        *lines.last().expect("a floor line in view"),
    );
    let (ylo, yhi) = (f64::from(lo) * FLOOR_HEIGHT, f64::from(hi) * FLOOR_HEIGHT);
    let p = |x: f64, y: f64| camera.project([x, y, d]).expect("in front of the camera");
    let (x0, x1) = (b.x0, b.x0 + b.width());
    let corners = [
        norm(p(x0, ylo)),
        norm(p(x1, ylo)),
        norm(p(x1, yhi)),
        norm(p(x0, yhi)),
    ];
    // Zone: everything below a line 2 m above the roof, across the whole frame (a push carries
    // a throw well beyond the facade's sides).
    let roof = b.height() + 2.0;
    let top = norm(p(x0, roof))[1].clamp(0.0, 0.95);
    let zone = vec![[0.0, top], [1.0, top], [1.0, 1.0], [0.0, 1.0]];
    Calibration {
        corners,
        width_m: b.width(),
        height_m: yhi - ylo,
        floor_height_m: FLOOR_HEIGHT,
        first_floor: lo as i32 + 1,
        columns: b.columns,
        zone,
    }
}

/// The kinds of sequence in the benchmark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetKind {
    /// One object thrown or dropped per sequence (sometimes with a bird or leaves about).
    Throws,
    /// No throw at all: only things that must not raise an alert.
    Distractors,
}

/// Sequence `index` of a set, its parameters drawn from `seed`.
pub fn scene_spec(kind: SetKind, seed: u64, index: u32, duration_secs: f64) -> SceneSpec {
    let mut rng = Rng::new(seed.wrapping_mul(1_000_003).wrapping_add(u64::from(index)));
    let (width, height) = if rng.chance(0.6) {
        (1280, 720)
    } else {
        (1920, 1080)
    };
    let fps = [15, 25, 25, 30][rng.below(4) as usize];
    let night = rng.chance(0.3);
    let pitch_deg = rng.range(30.0, 60.0);
    let floors = 18 + rng.below(16);
    let distance_m = rng.range(28.0, 42.0);
    // A building that fills about two thirds of the frame's width at its lowest visible floor.
    let hfov_deg = 70.0;
    let columns = 6 + rng.below(5);
    let noise = if night {
        rng.range(3.0, 6.0)
    } else {
        rng.range(1.5, 3.5)
    };
    let mut spec = SceneSpec {
        name: format!(
            "{}-{index:03}",
            match kind {
                SetKind::Throws => "throw",
                SetKind::Distractors => "distractors",
            }
        ),
        seed,
        width,
        height,
        fps,
        duration_secs,
        night,
        pitch_deg,
        distance_m,
        hfov_deg,
        floors,
        columns,
        noise,
        throws: Vec::new(),
        distractors: Vec::new(),
    };
    let camera = Camera::new(&spec);
    // Floors whose windows are in view.
    let visible = |floor: i32| {
        let y = f64::from(floor - 1) * FLOOR_HEIGHT + 1.2;
        camera
            .project([0.0, y, distance_m])
            .is_some_and(|(_, py, _)| py > 0.05 * camera.h && py < 0.7 * camera.h)
    };
    let floors_in_view: Vec<i32> = (2..=floors as i32).filter(|&f| visible(f)).collect();
    match kind {
        SetKind::Throws => {
            let floor = floors_in_view[rng.below(floors_in_view.len() as u32) as usize];
            let heavy = rng.chance(0.6);
            let thrown = rng.chance(0.5);
            spec.throws.push(ThrowSpec {
                t: rng.range(1.5, 2.5),
                floor,
                column: 1 + rng.below(columns),
                // 4–40 px, small ones more often (an egg or a can is under 10 px).
                size_px: 4.0 + 36.0 * rng.unit().powi(2),
                drag: if heavy { 0.002 } else { 0.02 },
                push: if thrown {
                    [
                        rng.range(-3.0, 3.0),
                        rng.range(0.0, 3.0),
                        rng.range(0.0, 2.0),
                    ]
                } else {
                    [0.0, 0.0, 0.0]
                },
                shade: if night {
                    [200, 230][rng.below(2) as usize]
                } else {
                    [25, 40, 240][rng.below(3) as usize]
                },
            });
            if rng.chance(0.3) {
                spec.distractors
                    .push(bird(&mut rng, &floors_in_view, duration_secs));
            }
            if rng.chance(0.2) {
                spec.distractors.push(Distractor::Leaves {
                    count: 3,
                    fall_speed: rng.range(0.8, 2.0),
                });
            }
        }
        SetKind::Distractors => {
            for _ in 0..3 {
                spec.distractors
                    .push(bird(&mut rng, &floors_in_view, duration_secs));
            }
            let mut extra = Vec::new();
            extra.push(Distractor::Leaves {
                count: 4 + rng.below(8),
                fall_speed: rng.range(0.8, 2.0),
            });
            extra.push(Distractor::Rain {
                drops: 100 + rng.below(300),
            });
            extra.push(Distractor::Branch {
                left: rng.chance(0.5),
                amplitude_deg: rng.range(2.0, 6.0),
            });
            extra.push(Distractor::Flicker {
                windows: 3 + rng.below(6),
            });
            extra.push(Distractor::Shake {
                t: rng.range(1.0, duration_secs - 1.0),
                secs: rng.range(0.3, 1.0),
                amplitude_px: rng.range(2.0, 6.0),
            });
            extra.push(Distractor::LightChange {
                t: rng.range(duration_secs * 0.5, duration_secs - 1.0),
            });
            // Each distractor sequence shows about half of the kinds at once.
            for d in extra {
                if rng.chance(0.55) {
                    spec.distractors.push(d);
                }
            }
        }
    }
    spec
}

fn bird(rng: &mut Rng, floors: &[i32], duration: f64) -> Distractor {
    Distractor::Bird {
        t: rng.range(0.0, (duration - 3.0).max(0.5)),
        floor: f64::from(floors[rng.below(floors.len() as u32) as usize]),
        speed: rng.range(6.0, 14.0),
        climb: rng.range(-2.0, 3.0),
        size_px: rng.range(8.0, 20.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small(kind: SetKind, index: u32) -> SceneSpec {
        let mut s = scene_spec(kind, 7, index, 4.0);
        s.width = 320;
        s.height = 180;
        s
    }

    #[test]
    fn the_same_seed_renders_the_same_frames() {
        let (mut a, mut b) = (
            Scene::new(small(SetKind::Throws, 0)),
            Scene::new(small(SetKind::Throws, 0)),
        );
        for _ in 0..5 {
            assert_eq!(a.next_frame(), b.next_frame());
        }
        let mut c = Scene::new(small(SetKind::Throws, 1));
        assert_ne!(a.next_frame(), c.next_frame());
    }

    #[test]
    fn a_dropped_object_is_tracked_in_the_truth_until_it_leaves() {
        let mut spec = small(SetKind::Throws, 2);
        spec.distractors.clear();
        spec.fps = 25;
        spec.throws[0].push = [0.0; 3];
        spec.duration_secs = 8.0;
        let mut scene = Scene::new(spec);
        for _ in 0..scene.frames() {
            scene.next_frame();
        }
        let truth = scene.truth();
        let t = &truth.throws[0];
        assert!(t.track.len() > 10, "{t:?}");
        // Falling: image y grows frame after frame, faster and faster.
        let ys: Vec<f64> = t.track.iter().map(|p| p.2).collect();
        assert!(ys.windows(2).all(|w| w[1] > w[0]));
        let steps: Vec<f64> = ys.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(steps.last() > steps.first());
        assert!(
            t.end_t > t.release_t && t.end_t < truth.scene.duration_secs,
            "{t:?} {:?}",
            truth.scene
        );
        let cal = &truth.calibration;
        assert!(cal.first_floor >= 1 && cal.height_m > 0.0);
        assert!(
            cal.corners
                .iter()
                .flatten()
                .all(|v| (0.0..=1.0).contains(v))
        );
    }
}
