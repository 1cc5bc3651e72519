//! Rain before a close camera, rendered and run through the detector in memory: drops that a
//! gust pushes, near the lens, are told from falls by the drift — its push steady, or turning
//! while a drop is followed for seconds.

use vigil_falling::ClassifyParams;
use vigil_tools::falls::memory::{Judging, run, run_judged_by};
use vigil_tools::scenes::falls::{Distractor, Placement, SceneSpec, SetKind, placed_spec};

/// Distractor sequence `i` of a close camera's `seed` (development's or the held-out set's), as
/// rendered for `secs` seconds.
fn close_distractors(held_out: bool, seed: u64, i: u32, secs: f64) -> SceneSpec {
    placed_spec(
        Placement::Close { held_out },
        SetKind::Distractors,
        seed,
        i,
        secs,
    )
}

/// Held-out seed 7621's distractor sequence 002 (spent once scored, as rendered; cut at 47 s, a
/// second after what it is kept for): at night in a downpour of 370 drops blown by gusts, a drop
/// near the lens was followed for 2 s (51 sightings) from the frame's top edge to its right
/// edge, its picture speeding up as it neared the lens. A drift that pushed it with one steady
/// acceleration missed it by 1.4 px, the fall by 1.1 px: a false alert (floor 10). The gust
/// that carried it had turned meanwhile; a drift whose push changes at a steady rate misses it
/// by 0.65 px.
#[test]
fn a_drop_followed_while_a_gust_turns_raises_nothing() {
    let mut spec = close_distractors(true, 7621, 2, 60.0);
    spec.duration_secs = 47.0;
    let score = run(
        spec,
        Judging {
            explain: true,
            plane: false,
        },
    );
    assert_eq!(score.false_alerts, 0, "{score:?}");
}

/// Held-out seed 4409's distractor sequence 009 (spent once scored, as rendered): a night
/// downpour of 283 drops at 720p and 30 fps before a five-storey building, seen from 14.5 m
/// through an 84° lens tilted 37° up; the infrared switch lights it at 37 s. Five drops near the
/// lens were each followed from the frame's top edge to its bottom (36–52 sightings over
/// 1.3–1.8 s) and passed as falls from 9–20 m above the roof: a drift missed them by 1.25–1.35
/// times the fall's residual, just past the ratio within which it counts as explaining them as
/// well. The building's highest storey, which the calibration gives, rules them out.
#[test]
fn drops_followed_down_the_whole_frame_from_far_above_the_roof_raise_nothing() {
    let score = run(close_distractors(true, 4409, 9, 60.0), Judging::default());
    assert_eq!(score.false_alerts, 0, "{score:?}");
}

/// A night downpour the infrared switch lights, before the camera of development nearest to the
/// one where held-out seed 7349 raised 41 false alerts a minute (720p at 30 fps, 12.2 m from the
/// wall, a 98° lens tilted 32° up; 400 drops in a 2.6 m/s wind with gusts). Drops near the lens,
/// lagging behind each gust, curve in the picture as falls do, and a path under gravity from high
/// up the wall explains them; a drift — a constant falling speed, pushed along the wall — explains
/// them better.
#[test]
fn a_night_downpour_lit_by_the_infrared_switch_raises_nothing() {
    let mut s = close_distractors(false, 2, 0, 14.0);
    (s.width, s.height, s.fps, s.night, s.noise) = (1280, 720, 30, true, 3.6);
    (s.pitch_deg, s.distance_m, s.hfov_deg) = (32.0, 12.2, 98.0);
    (s.floors, s.columns) = (11, 6);
    s.distractors = vec![
        Distractor::Downpour {
            drops: 400,
            wind: [2.6, -0.8],
        },
        Distractor::LightChange { t: 1.0 },
    ];
    let without = ClassifyParams {
        max_sway_mps2: 0.0,
        ..ClassifyParams::default()
    };
    let falls_raised =
        |classify| run_judged_by(s.clone(), Judging::default(), classify).false_alerts;
    assert_eq!(falls_raised(ClassifyParams::default()), 0);
    let raised = falls_raised(without);
    assert!(
        raised > 0,
        "without the drift, the drops pass as falls: {raised}"
    );
}

/// Throws in a downpour whose verdicts the rain's drift or a moment's break made hard (spent
/// held-out seeds, as rendered):
/// - 4937's 018, a 21 px box dropped from the 7th floor at night in a downpour of 309 drops:
///   its blob broke in two for three frames, the track's centre on one half 12–18 px off the
///   box's. The path through it missed by 3.3 px where the blob's steadiness allowed 2.7.
/// - 1357's 029, a 1 m object dropped from the 12th floor, tumbling, in a downpour of 439
///   drops: a drift pushed at the lens explained it a little better (1.02 px against 1.04 px),
///   though the blob grew as the fall has it and not as the drift does.
/// - 4409's 023, a 0.6 m box (38 px) dropped 1.3 m out from the 4th floor before a camera 8 m
///   from the wall, in a downpour of 312 drops: its track began on specks of rain and took the
///   box 0.3 s after its release. Judged from the box, a drift pushed at the lens explained it as
///   well (0.59 px against the fall's 0.52 px), though the box moved 12 of its breadths a
///   second, where a drop moves hundreds.
/// - 6421's 002, a 13 cm bag (6.4 px) dropped 0.8 m out from the 8th floor before a camera
///   14 m from the wall at 1080p, in a downpour of 333 drops: a drift pushed at the lens
///   explained it as well (1.3 px against 1.4 px), though its 7 px blob moved 66 of its breadths
///   a second.
/// - 7013's 025, a 6.7 px object dropped 1.2 m out from the 7th floor at 1080p, in a downpour
///   of 216 drops: streaks hid it in 31 % of the frames of its 37 sightings, and a track in
///   rain needed 70 %.
///
/// None was found; each is now found once, 4937's 018, 6421's 002 and 7013's 025 with their
/// floors, 1357's 029 within one (the 11th for the 12th) and 4409's 023 too (the 3rd for the
/// 4th).
#[test]
fn throws_in_a_downpour_are_found_once_with_their_floor() {
    let throws = [
        (4937, 18, 0),
        (1357, 29, 1),
        (4409, 23, 1),
        (6421, 2, 0),
        (7013, 25, 0),
    ];
    for (seed, i, off) in throws {
        let spec = placed_spec(
            Placement::Close { held_out: true },
            SetKind::Throws,
            seed,
            i,
            8.0,
        );
        assert!(
            spec.distractors
                .iter()
                .any(|d| matches!(d, Distractor::Downpour { .. }))
        );
        let score = run(spec, Judging::default());
        let [throw] = &score.throws[..] else {
            panic!("one throw: {score:?}");
        };
        assert_eq!(score.duplicates, 0, "{seed} {i}: {score:?}");
        assert_eq!(score.false_alerts, 0, "{seed} {i}: {score:?}");
        assert!(
            throw
                .found_floor
                .is_some_and(|f| f.abs_diff(throw.floor) <= off),
            "{seed} {i}: {throw:?}"
        );
    }
}
