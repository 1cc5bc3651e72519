//! A sun's glare over a close camera's picture, rendered and run through the detector in
//! memory. Where a frond crossing the sun dims it, or the exposure steps under it, the picture
//! moves most near the sun: the foreground follows that as a veil of light with the exposure's
//! curve. Refused as no exposure, it was learnt over a second, and the frames meanwhile broke
//! up into hundreds of candidates.

use vigil_tools::falls::memory::{Judging, run};
use vigil_tools::falls::score::ThrowResult;
use vigil_tools::scenes::falls::{Distractor, Placement, SceneSpec, SetKind, placed_spec};

/// Sequence `i` of `kind` of a close camera's held-out `seed`, as rendered for `secs` seconds,
/// with a sun's flare in it.
fn flared(kind: SetKind, seed: u64, i: u32, secs: f64) -> SceneSpec {
    let spec = placed_spec(Placement::Close { held_out: true }, kind, seed, i, secs);
    assert!(
        spec.distractors
            .iter()
            .any(|d| matches!(d, Distractor::Flare { .. })),
        "{seed} {i}: a flare"
    );
    spec
}

/// The throw of `spec`, raised once and nothing else raised: its result.
fn found_once(spec: SceneSpec) -> ThrowResult {
    let score = run(spec, Judging::default());
    let [throw] = &score.throws[..] else {
        panic!("one throw: {score:?}");
    };
    assert_eq!((score.duplicates, score.false_alerts), (0, 0), "{score:?}");
    throw.clone()
}

/// Held-out seed 3571's throw 025 (spent once scored, as rendered): a 19 px object dropped from
/// the 7th floor at 1080p, under a sun's flare, while the auto-exposure stepped the gain up by a
/// third over four frames. The frame's quadrants disagreed on the step, so it was never
/// followed, and the track that took the object was cut where the step's frames flooded it. It
/// is found once, within a floor (the 6th).
#[test]
fn a_throw_through_an_exposure_step_under_a_flare_is_found_once_within_a_floor() {
    let throw = found_once(flared(SetKind::Throws, 3571, 25, 8.0));
    assert!(
        throw
            .found_floor
            .is_some_and(|f| f.abs_diff(throw.floor) <= 1),
        "{throw:?}"
    );
}

/// Held-out seed 2903's distractor sequence 009 (spent once scored, as rendered; cut at 12 s,
/// past what it is kept for): a downpour of 349 drops under a sun's flare, with seven windows'
/// lights switching. The exposure's curve was refused on every frame before 8.8 s (the bands
/// the windows fill moved by 60–70 levels, more than an exposure step), and frame 219 broke up
/// into 268 candidates: a track begun there passed as a fall from the 5th floor (±2 m). With
/// the veil, frames 199, 205, 216 and 218 are followed, and frame 219 holds no candidate.
#[test]
fn a_downpour_under_a_dimming_flare_raises_nothing() {
    let mut spec = flared(SetKind::Distractors, 2903, 9, 60.0);
    spec.duration_secs = 12.0;
    let score = run(spec, Judging::default());
    assert_eq!(score.false_alerts, 0, "{score:?}");
}

/// Objects 7–8 px a few grey levels off a sky that a sun's flare shimmered over, moving the
/// sky about them by about as much (spent 8647's 001, 7.8 levels darker; 6029's 001, 6.4
/// brighter): faint blocks judged against the background alone made the sky itself hundreds of
/// faint blobs, whose clutter held faint objects off for the whole fall. Neither was found;
/// each is found once, on its own floor.
#[test]
fn faint_throws_under_a_shimmering_flare_are_found_once_with_their_floor() {
    for (seed, i) in [(8647, 1), (6029, 1)] {
        let throw = found_once(flared(SetKind::Throws, seed, i, 8.0));
        assert_eq!(
            throw.found_floor,
            Some(throw.floor),
            "{seed} {i}: {throw:?}"
        );
    }
}
