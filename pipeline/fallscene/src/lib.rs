//! The synthetic benchmark: a residential facade seen from below (30–60° up), day or night,
//! with objects dropped or thrown from chosen floors and windows, and the distractors that
//! fool naive detectors — birds, falling leaves, rain, swaying branches, window lights, cloud
//! and IR switches, camera shake. Deterministic by seed; every sequence carries its ground
//! truth (release time, floor, column, the pixel track, when the object landed or left the
//! frame) and the facade calibration an integrator would write for that view.
//!
//! A crate of its own, apart from the product: `vigil synth` and `vigil eval-falls` (in
//! `vigil-tools`, as `scenes::falls`) render through it, and so does the falling-object stage's
//! cost bench (`cargo bench -p vigil-falling`).

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
    /// How far in front of the wall it leaves, metres (a balcony's edge; [`BALCONY_M`] when not
    /// set).
    #[serde(default)]
    pub out_m: Option<f64>,
    /// Its real diameter, metres: it then looks larger as it comes nearer the camera
    /// (`size_px` is its size where it leaves). Without it, `size_px` throughout.
    #[serde(default)]
    pub size_m: Option<f64>,
    /// An elongated body turning as it falls (a stick, a bag): its blob changes shape from
    /// frame to frame. Without it, a ball.
    #[serde(default)]
    pub tumble: Option<Tumble>,
    /// Grey levels it stands off what lies behind it (negative: darker), instead of `shade`:
    /// a light object against sky or glass, 5–30 levels.
    #[serde(default)]
    pub contrast: Option<f64>,
}

impl ThrowSpec {
    /// Its size as a blob at release, pixels: the diameter, or for a tumbling body the side of
    /// the square of its area (width × length).
    pub fn apparent_px(&self) -> f64 {
        self.size_px * self.tumble.map_or(1.0, |t| t.aspect.sqrt())
    }
}

/// How an elongated body turns: its length `aspect` × its width (`size_px`, `size_m`), turning
/// `spin_hz` times a second about `axis` (a unit vector, world axes), from angle `phase`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tumble {
    pub aspect: f64,
    pub spin_hz: f64,
    pub axis: [f64; 3],
    pub phase: f64,
}

impl Tumble {
    /// The body's long axis (a unit vector) `tau` seconds after release.
    pub(crate) fn direction(&self, tau: f64) -> [f64; 3] {
        let a = self.axis;
        let cross = |u: [f64; 3], v: [f64; 3]| {
            [
                u[1] * v[2] - u[2] * v[1],
                u[2] * v[0] - u[0] * v[2],
                u[0] * v[1] - u[1] * v[0],
            ]
        };
        let norm = |u: [f64; 3]| {
            let n = (u[0] * u[0] + u[1] * u[1] + u[2] * u[2]).sqrt().max(1e-12);
            u.map(|v| v / n)
        };
        // Any unit vector across the axis, and the one across both.
        let across = if a[1].abs() < 0.9 {
            [0.0, 1.0, 0.0]
        } else {
            [1.0, 0.0, 0.0]
        };
        let e1 = norm(cross(a, across));
        let e2 = norm(cross(a, e1));
        let (s, c) = (self.phase + std::f64::consts::TAU * self.spin_hz * tau).sin_cos();
        [0, 1, 2].map(|i| e1[i] * c + e2[i] * s)
    }
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
    /// A downpour in 3-D: drops at every depth between the lens and the wall, at their own
    /// speeds, blown by `wind` (m/s across the view and towards the camera) with gusts.
    Downpour { drops: u32, wind: [f64; 2] },
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
    /// Leaves in front of the lens hiding where throw `throw` leaves: a clump of `radius_px`
    /// around its release point's pixel, shifted by `offset` (× the radius), swaying.
    Foliage {
        throw: usize,
        radius_px: f64,
        offset: [f64; 2],
    },
    /// The sun in the lens: veiling glare and ghosts from a sun at `sun` (fractions of the
    /// frame's width and height; its disc is drawn where it is in view), `strength` 0–1 of full
    /// scale,
    /// shimmering at `shimmer_hz`, dimmed while a frond crosses the sun (`fronds`: how often,
    /// Hz, and where in that cycle the sequence starts).
    Flare {
        sun: [f64; 2],
        strength: f64,
        shimmer_hz: f64,
        fronds: [f64; 2],
    },
    /// The auto-exposure moves the picture's gain to `gain` from `t`, in `frames` equal steps a
    /// frame apart (the gain before is that of the sequence's earlier steps, or 1).
    Exposure { t: f64, gain: f64, frames: u32 },
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
    /// The H.264 bitrate when the sequence is written to a file, kbit/s (none: about 2.2 Mbit/s
    /// per 720p, as residential cameras stream; close views draw a phone's 1–3 Mbit/s per 720p).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kbps: Option<u32>,
    /// Where the integrator's zone stops, metres above the roof on the wall's plane (none: 2 m
    /// for a camera far off, the top of the frame for one close by).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone_above_roof_m: Option<f64>,
}

pub const FLOOR_HEIGHT: f64 = 3.0;
pub const COLUMN_WIDTH: f64 = 3.6;
const CAMERA_HEIGHT: f64 = 1.5;
/// Objects leave from the balcony edge, this far in front of the wall.
const BALCONY_M: f64 = 0.8;
const G: f64 = vigil_spec::falling::G;

impl SceneSpec {
    /// The facade's left edge (world x, metres): the building stands centred on the camera.
    pub(crate) fn facade_left(&self) -> f64 {
        -f64::from(self.columns) * COLUMN_WIDTH / 2.0
    }

    /// Where an object leaves window `column` (1 = leftmost) of `floor`, `out_m` in front of
    /// the wall (world metres).
    pub(crate) fn release_point(&self, floor: i32, column: u32, out_m: f64) -> [f64; 3] {
        [
            self.facade_left() + (f64::from(column) - 0.5) * COLUMN_WIDTH,
            f64::from(floor - 1) * FLOOR_HEIGHT + 1.2,
            self.distance_m - out_m,
        ]
    }
}

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
    /// The building's highest storey (the integrator knows how many it has).
    #[serde(default)]
    pub top_floor: Option<i32>,
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
            hfov_deg: None,
            top_floor: self.top_floor,
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
    /// Frame index and centre (source pixels) of each frame it is visible in, where the shutter
    /// closed: its smear runs back from there halfway to the frame before's.
    pub track: Vec<(u32, f64, f64)>,
    /// Its drawn diameter (pixels) at each point of `track`.
    #[serde(default)]
    pub sizes: Vec<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Truth {
    pub scene: SceneSpec,
    pub calibration: Calibration,
    pub throws: Vec<ThrowTruth>,
}

mod draw;
mod optics;
mod rain;
mod render;
mod sets;
mod throw;
mod world;

pub use render::Scene;
pub use sets::{Placement, SetKind, placed_spec, scene_spec};

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
    #[test]
    fn close_cameras_for_development_and_held_out_never_share_a_distance_lens_or_tilt() {
        // Which quarter of each range a camera's distance, lens and tilt fall in.
        let quarters = |s: &SceneSpec| {
            let q = |v: f64, lo: f64, hi: f64| ((v - lo) / (hi - lo) * 4.0).floor() as i32;
            [
                q(s.distance_m, 5.0, 15.0),
                q(s.hfov_deg, 70.0, 110.0),
                q(s.pitch_deg, 25.0, 60.0),
            ]
        };
        for held_out in [false, true] {
            for i in 0..40 {
                let s = placed_spec(Placement::Close { held_out }, SetKind::Throws, 5, i, 6.0);
                for q in quarters(&s) {
                    assert_eq!(q % 2 == 1, held_out, "{s:?}");
                }
                assert!((4..=14).contains(&s.floors) && (1..=6).contains(&s.columns));
                let scene = Scene::new(s);
                let cal = scene.calibration();
                assert!(cal.height_m > 0.0 && cal.width_m > 0.0, "{cal:?}");
            }
        }
    }

    #[test]
    fn an_object_thrown_towards_a_close_camera_looks_larger_as_it_comes() {
        // A close camera's throw pushed outward at 2 m/s or more: the drawn object's size is its
        // real size over its depth, which shrinks as it comes.
        let mut found = false;
        for i in 0..40 {
            let mut spec = placed_spec(
                Placement::Close { held_out: false },
                SetKind::Throws,
                9,
                i,
                4.0,
            );
            if spec.throws[0].push[2] < 2.0 {
                continue;
            }
            spec.distractors.clear();
            spec.noise = 0.0;
            let t = &spec.throws[0];
            let (size_m, out_m) = (t.size_m.expect("a real size"), t.out_m.expect("out"));
            assert!(size_m > 0.0 && (0.5..=2.0).contains(&out_m), "{t:?}");
            let mut scene = Scene::new(spec);
            for _ in 0..scene.frames() {
                scene.next_frame();
            }
            let truth = scene.truth();
            // Followed, and larger at the end than where it left.
            let t = &truth.throws[0];
            assert!(t.track.len() > 5, "{t:?}");
            let (first, last) = (t.sizes[0], t.sizes[t.sizes.len() - 1]);
            assert!(last > first * 1.1, "{first} → {last}: {t:?}");
            found = true;
            break;
        }
        assert!(found, "a throw pushed at 2 m/s or more among 40");
    }
    #[test]
    fn the_camera_behind_a_rendered_calibration_is_the_renderer_s() {
        // Far and close views: the focal length, tilt and place the detector recovers from the
        // calibration alone are the renderer's camera.
        for placement in [Placement::Far, Placement::Close { held_out: false }] {
            for i in 0..8 {
                let spec = placed_spec(placement, SetKind::Throws, 3, i, 4.0);
                let scene = Scene::new(spec.clone());
                let cal = scene.calibration();
                let facade = cal.fall_config().unwrap().facade;
                let got =
                    vigil_falling::FacadeCamera::recover(&facade, (spec.width, spec.height), None)
                        .expect("recovered");
                let f = f64::from(spec.width) / 2.0 / (spec.hfov_deg.to_radians() / 2.0).tan();
                assert!((got.focal_px - f).abs() / f < 1e-3, "{got:?} {spec:?}");
                assert!((got.tilt_up_deg() - spec.pitch_deg).abs() < 0.05, "{got:?}");
                // At the camera's height (1.5 m), facing the facade's middle, d m out.
                let bottom = f64::from(cal.first_floor - 1) * FLOOR_HEIGHT;
                let want = [cal.width_m / 2.0, CAMERA_HEIGHT - bottom, spec.distance_m];
                for k in 0..3 {
                    assert!((got.centre[k] - want[k]).abs() < 0.02, "{got:?} {want:?}");
                }
            }
        }
    }
    #[test]
    fn a_close_throw_s_true_track_fitted_in_3d_names_its_floor_more_often_than_the_plane() {
        // The renderer's own pixel track of each close throw (no detector), fitted under gravity
        // in front of the wall through the camera recovered from the calibration: the apex is
        // on the floor the object left from more often than the facade plane's reading of the
        // first sighting.
        let mut exact = 0;
        let mut dragged_exact = 0;
        let mut planar_exact = 0;
        let n = 12;
        for i in 0..n {
            let mut spec = placed_spec(
                Placement::Close { held_out: false },
                SetKind::Throws,
                4,
                i,
                5.0,
            );
            spec.distractors.clear();
            let mut scene = Scene::new(spec.clone());
            for _ in 0..scene.frames() {
                scene.next_frame();
            }
            let truth = scene.truth();
            let t = &truth.throws[0];
            let fps = f64::from(spec.fps);
            let points: Vec<(f64, f64, f64)> = t
                .track
                .iter()
                .map(|&(f, x, y)| (f64::from(f) / fps, x, y))
                .collect();
            let facade = truth.calibration.fall_config().unwrap().facade;
            let camera =
                vigil_falling::FacadeCamera::recover(&facade, (spec.width, spec.height), None)
                    .unwrap();
            let flight = vigil_falling::flight::fit(
                &camera,
                &points,
                vigil_falling::flight::Model::Fall,
                0.0,
                &vigil_falling::flight::Prior::NONE,
            )
            .expect("a fit");
            let floor = facade.floor_at(flight.apex()[1]);
            exact += usize::from(floor == t.floor);
            let dragged = vigil_falling::flight::refit(
                &camera,
                &points,
                (&flight, vigil_falling::flight::Model::FallQuadratic),
                0.05,
                &vigil_falling::flight::Prior::NONE,
            )
            .expect("a fit");
            let dragged_floor = facade.floor_at(dragged.apex()[1]);
            dragged_exact += usize::from(dragged_floor == t.floor);
            // A bag's drag (0.02/m) is told from a brick's (0.002/m).
            let drag = spec.throws[0].drag;
            assert!((dragged.drag - drag).abs() < 0.009, "{dragged:?} {drag}");
            // The facade plane's reading of the first sighting, for comparison.
            let (x, y) = (
                points[0].1 / f64::from(spec.width),
                points[0].2 / f64::from(spec.height),
            );
            let planar = facade.floor_at(facade.to_facade((x, y)).unwrap().1);
            planar_exact += usize::from(planar == t.floor);
            eprintln!(
                "{}: floor {} → 3-D {floor} (rms {:.2} px, out {:.2} m), with quadratic drag \
                 {dragged_floor} (rms {:.2} px, out {:.2} m), plane {planar}",
                spec.name,
                t.floor,
                flight.rms_px,
                flight.p0[2],
                dragged.rms_px,
                dragged.apex()[2]
            );
        }
        eprintln!(
            "3-D exact {exact}/{n}, with quadratic drag {dragged_exact}/{n}, plane exact \
             {planar_exact}/{n}"
        );
        // Measured at its writing: 10 of 12 in 3-D, 7 of 12 on the plane (the two 3-D misses
        // are a floor low, their distance out fitted 2.3–2.5 m). The path without drag reads a
        // bag's slowing as distance: with drag quadratic in speed, as the renderer's bodies
        // have it, every one (12 of 12).
        assert!(
            exact >= 10 && exact > planar_exact && dragged_exact == n as usize,
            "3-D exact {exact}/{n}, with drag {dragged_exact}/{n}, plane {planar_exact}/{n}"
        );
    }
}
