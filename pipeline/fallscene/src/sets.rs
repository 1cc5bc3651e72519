//! The benchmark's sets: sequence `index` of a set of throws or of distractors, its parameters
//! drawn from a seed.

use super::world::Camera;
use super::*;

/// The kinds of sequence in the benchmark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetKind {
    /// One object thrown or dropped per sequence (sometimes with a bird or leaves about).
    Throws,
    /// No throw at all: only things that must not raise an alert.
    Distractors,
}

/// Where the camera stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// On the ground 28–42 m from a tower's facade, a 70° lens tilted 30–60° up; objects leave
    /// a balcony's edge 0.8 m out, pushed at most 2 m/s away from the wall.
    Far,
    /// A phone or CCTV camera close to a low-rise building (4–14 floors): 5–15 m from the wall,
    /// a 70–110° lens tilted 25–60° up. Half the throws are pushed outward and towards the
    /// camera at 0.5–4 m/s, the rest dropped from balconies 0.5–2 m out; objects look larger as
    /// they come nearer. Development cameras come from one half of each range (every other
    /// quarter of it), held-out cameras from the other: no held-out distance, lens or tilt is
    /// one development saw.
    Close { held_out: bool },
}

/// Sequence `index` of a set seen from [`Placement::Far`], its parameters drawn from `seed`.
pub fn scene_spec(kind: SetKind, seed: u64, index: u32, duration_secs: f64) -> SceneSpec {
    placed_spec(Placement::Far, kind, seed, index, duration_secs)
}

/// Sequence `index` of a set seen from `placement`, its parameters drawn from `seed`.
pub fn placed_spec(
    placement: Placement,
    kind: SetKind,
    seed: u64,
    index: u32,
    duration_secs: f64,
) -> SceneSpec {
    let mut rng = Rng::new(seed.wrapping_mul(1_000_003).wrapping_add(u64::from(index)));
    let mut spec = match placement {
        Placement::Far => far_view(&mut rng),
        Placement::Close { held_out } => close_view(&mut rng, held_out),
    };
    spec.name = format!(
        "{}-{index:03}",
        match kind {
            SetKind::Throws => "throw",
            SetKind::Distractors => "distractors",
        }
    );
    spec.seed = seed;
    spec.duration_secs = duration_secs;
    let floors_in_view = floors_in_view(&spec);
    match kind {
        SetKind::Throws => {
            let throw = match placement {
                Placement::Far => far_throw(&mut rng, &spec, &floors_in_view),
                Placement::Close { .. } => close_throw(&mut rng, &spec, &floors_in_view, index),
            };
            spec.throws.push(throw);
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
            // Close cameras: some throws in a downpour, some released behind leaves.
            if matches!(placement, Placement::Close { .. }) {
                if rng.chance(0.2) {
                    spec.distractors.push(downpour(&mut rng));
                }
                let mut leaves = looks(&spec, index, 2);
                if leaves.chance(0.2) {
                    spec.distractors.push(Distractor::Foliage {
                        throw: 0,
                        radius_px: leaves.range(0.02, 0.05) * f64::from(spec.width),
                        offset: [leaves.range(-0.3, 0.3), leaves.range(-0.3, 0.3)],
                    });
                }
                let release = spec.throws[0].t;
                camera_looks(&mut looks(&spec, index, 3), &mut spec, Some(release), 0.25);
            }
        }
        SetKind::Distractors => {
            for _ in 0..3 {
                spec.distractors
                    .push(bird(&mut rng, &floors_in_view, duration_secs));
            }
            // Drawn in this order (the sequences stay as they were rendered).
            let extra = vec![
                Distractor::Leaves {
                    count: 4 + rng.below(8),
                    fall_speed: rng.range(0.8, 2.0),
                },
                match placement {
                    Placement::Far => Distractor::Rain {
                        drops: 100 + rng.below(300),
                    },
                    Placement::Close { .. } => downpour(&mut rng),
                },
                Distractor::Branch {
                    left: rng.chance(0.5),
                    amplitude_deg: rng.range(2.0, 6.0),
                },
                Distractor::Flicker {
                    windows: 3 + rng.below(6),
                },
                Distractor::Shake {
                    t: rng.range(1.0, duration_secs - 1.0),
                    secs: rng.range(0.3, 1.0),
                    amplitude_px: rng.range(2.0, 6.0),
                },
                Distractor::LightChange {
                    t: rng.range(duration_secs * 0.5, duration_secs - 1.0),
                },
            ];
            // Each distractor sequence shows about half of the kinds at once.
            for d in extra {
                if rng.chance(0.55) {
                    spec.distractors.push(d);
                }
            }
            if matches!(placement, Placement::Close { .. }) {
                camera_looks(&mut looks(&spec, index, 4), &mut spec, None, 0.5);
            }
        }
    }
    if matches!(placement, Placement::Close { .. }) {
        // A phone's compression: 1–3 Mbit/s per 720p.
        let per_720p = looks(&spec, index, 5).range(1000.0, 3000.0);
        let pixels = f64::from(spec.width * spec.height) / (1280.0 * 720.0);
        spec.kbps = Some((per_720p * pixels) as u32);
    }
    spec
}

/// What a close camera's own optics and exposure add, each with chance `chance`: the sun in the
/// lens (by day: a sun just beyond the top of the picture — the building stands in front of it
/// in view — 30–90 % of full scale) and one
/// or two auto-exposure steps (to 0.7–1.4 times the gain, over 2–6 frames), from `around` − 0.3 s
/// to `around` + 1 s (a throw's release: the steps come while it falls) or anywhere.
fn camera_looks(rng: &mut Rng, spec: &mut SceneSpec, around: Option<f64>, chance: f64) {
    if !spec.night && rng.chance(chance) {
        spec.distractors.push(Distractor::Flare {
            sun: [rng.range(0.1, 0.9), rng.range(-0.25, -0.02)],
            strength: rng.range(0.3, 0.9),
            shimmer_hz: rng.range(1.0, 4.0),
            fronds: [rng.range(0.1, 0.5), rng.unit()],
        });
    }
    if rng.chance(chance) {
        let steps = 1 + rng.below(2);
        for _ in 0..steps {
            let t = match around {
                Some(t0) => t0 + rng.range(-0.3, 1.0),
                None => rng.range(1.0, (spec.duration_secs - 1.0).max(1.5)),
            };
            spec.distractors.push(Distractor::Exposure {
                t,
                gain: rng.range(0.7, 1.4),
                frames: 2 + rng.below(5),
            });
        }
    }
}

/// A view with no throws or distractors yet (name, seed and length set by the caller): frame
/// size, rate and night; tilt, distance and lens; floors and window columns; sensor noise.
fn view(
    (size, fps, night): ((u32, u32), u32, bool),
    (pitch_deg, distance_m, hfov_deg): (f64, f64, f64),
    (floors, columns): (u32, u32),
    noise: f64,
) -> SceneSpec {
    SceneSpec {
        name: String::new(),
        seed: 0,
        width: size.0,
        height: size.1,
        fps,
        duration_secs: 0.0,
        night,
        pitch_deg,
        distance_m,
        hfov_deg,
        floors,
        columns,
        noise,
        throws: Vec::new(),
        distractors: Vec::new(),
        kbps: None,
        zone_above_roof_m: None,
    }
}

fn sensor_noise(rng: &mut Rng, night: bool) -> f64 {
    if night {
        rng.range(3.0, 6.0)
    } else {
        rng.range(1.5, 3.5)
    }
}

fn far_view(rng: &mut Rng) -> SceneSpec {
    let size = if rng.chance(0.6) {
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
    let noise = sensor_noise(rng, night);
    view(
        (size, fps, night),
        (pitch_deg, distance_m, hfov_deg),
        (floors, columns),
        noise,
    )
}

fn close_view(rng: &mut Rng, held_out: bool) -> SceneSpec {
    // Every other quarter of `lo..hi`: the first and third for development, the second and
    // fourth held out.
    let band = |rng: &mut Rng, lo: f64, hi: f64| {
        let quarter = (hi - lo) / 4.0;
        let k = 2 * rng.below(2) + u32::from(held_out);
        lo + quarter * (f64::from(k) + rng.unit())
    };
    loop {
        let size = if rng.chance(0.6) {
            (1280, 720)
        } else {
            (1920, 1080)
        };
        let fps = [25, 30][rng.below(2) as usize];
        let night = rng.chance(0.3);
        let distance_m = band(rng, 5.0, 15.0);
        let hfov_deg = band(rng, 70.0, 110.0);
        let pitch_deg = band(rng, 25.0, 60.0);
        let floors = 4 + rng.below(11);
        let noise = sensor_noise(rng, night);
        // As many window columns (up to 6) as the calibration can span in view.
        let fitting = (1..=6).rev().find_map(|columns| {
            let spec = view(
                (size, fps, night),
                (pitch_deg, distance_m, hfov_deg),
                (floors, columns),
                noise,
            );
            (super::world::can_calibrate(&spec) && !floors_in_view(&spec).is_empty())
                .then_some(spec)
        });
        if let Some(spec) = fitting {
            return spec;
        }
    }
}

/// Floors whose windows are in view.
fn floors_in_view(spec: &SceneSpec) -> Vec<i32> {
    let camera = Camera::new(spec);
    let visible = |floor: i32| {
        let y = f64::from(floor - 1) * FLOOR_HEIGHT + 1.2;
        camera
            .project([0.0, y, spec.distance_m])
            .is_some_and(|(_, py, _)| py > 0.05 * camera.h && py < 0.7 * camera.h)
    };
    (2..=spec.floors as i32).filter(|&f| visible(f)).collect()
}

fn shade(rng: &mut Rng, night: bool) -> u8 {
    if night {
        [200, 230][rng.below(2) as usize]
    } else {
        [25, 40, 240][rng.below(3) as usize]
    }
}

fn far_throw(rng: &mut Rng, spec: &SceneSpec, floors_in_view: &[i32]) -> ThrowSpec {
    let floor = floors_in_view[rng.below(floors_in_view.len() as u32) as usize];
    let heavy = rng.chance(0.6);
    let thrown = rng.chance(0.5);
    ThrowSpec {
        t: rng.range(1.5, 2.5),
        floor,
        column: 1 + rng.below(spec.columns),
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
        shade: shade(rng, spec.night),
        out_m: None,
        size_m: None,
        tumble: None,
        contrast: None,
    }
}

fn close_throw(rng: &mut Rng, spec: &SceneSpec, floors_in_view: &[i32], index: u32) -> ThrowSpec {
    let floor = floors_in_view[rng.below(floors_in_view.len() as u32) as usize];
    let column = 1 + rng.below(spec.columns);
    let heavy = rng.chance(0.6);
    let (push, out_m) = if rng.chance(0.5) {
        // Pushed outward, towards the camera, and often a little up.
        let push = [
            rng.range(-2.0, 2.0),
            rng.range(0.0, 2.0),
            rng.range(0.5, 4.0),
        ];
        (push, BALCONY_M)
    } else {
        ([0.0; 3], rng.range(0.5, 2.0))
    };
    // 3–40 px where it leaves, small ones more often; its real size from its depth there.
    let mut size_px = 3.0 + 37.0 * rng.unit().powi(2);
    // Its look is drawn from a stream of its own, so that the sequence is otherwise the one
    // rendered before looks were added.
    let (tumble, contrast) = look(&mut looks(spec, index, 1), &mut size_px);
    let camera = Camera::new(spec);
    let depth = camera
        .project(spec.release_point(floor, column, out_m))
        .map_or(spec.distance_m, |p| p.2);
    ThrowSpec {
        t: rng.range(1.5, 2.5),
        floor,
        column,
        size_px,
        drag: if heavy { 0.002 } else { 0.02 },
        push,
        shade: shade(rng, spec.night),
        out_m: Some(out_m),
        size_m: Some(size_px * depth / camera.f),
        tumble,
        contrast,
    }
}

/// The stream a close sequence's looks are drawn from (`part` 1: the object, 2: leaves over its
/// release, 3 and 4: the camera's optics and exposure in a throw's and a distractor sequence,
/// 5: its compression), apart from the sequence's own, so that adding looks left everything else as it was.
fn looks(spec: &SceneSpec, index: u32, part: u64) -> Rng {
    Rng::new(spec.seed.wrapping_mul(0x100C_5EED) ^ (u64::from(index) << 8) ^ part)
}

/// A close throw's look: a quarter tumbling sticks (2–5 px wide, 3–6 times as long) and bags
/// (5–20 px, 1.5–2.5 times as long), a quarter tiny faint things (2–8 px, 5–30 grey levels off
/// what is behind them), the rest balls and boxes as drawn (`size_px`, replaced for the others).
fn look(rng: &mut Rng, size_px: &mut f64) -> (Option<Tumble>, Option<f64>) {
    match rng.below(4) {
        0 => {
            let stick = rng.chance(0.5);
            let (width, aspect, spin_hz) = match stick {
                true => (
                    rng.range(2.0, 5.0),
                    rng.range(3.0, 6.0),
                    rng.range(1.0, 4.0),
                ),
                false => (
                    rng.range(5.0, 20.0),
                    rng.range(1.5, 2.5),
                    rng.range(0.5, 2.0),
                ),
            };
            let (z, phi) = (rng.range(-1.0, 1.0), rng.range(0.0, std::f64::consts::TAU));
            let across = (1.0 - z * z).sqrt();
            *size_px = width;
            let tumble = Tumble {
                aspect,
                spin_hz,
                axis: [across * phi.cos(), z, across * phi.sin()],
                phase: rng.range(0.0, std::f64::consts::TAU),
            };
            (Some(tumble), None)
        }
        1 => {
            let sign = if rng.chance(0.5) { 1.0 } else { -1.0 };
            *size_px = rng.range(2.0, 8.0);
            (None, Some(sign * rng.range(5.0, 30.0)))
        }
        _ => (None, None),
    }
}

/// 150–450 streaks a frame, a wind of up to 4 m/s across the view and 1 m/s towards or away.
fn downpour(rng: &mut Rng) -> Distractor {
    Distractor::Downpour {
        drops: 150 + rng.below(301),
        wind: [rng.range(-4.0, 4.0), rng.range(-1.0, 1.0)],
    }
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
