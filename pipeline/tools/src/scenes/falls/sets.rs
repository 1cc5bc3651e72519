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
