//! The score of rendered throws run through the detector in memory: an alert is matched to the
//! throw wherever the renderer drew the body while the shutter was open.

use vigil_tools::falls::memory::{Judging, run};
use vigil_tools::scenes::falls::{Placement, SetKind, placed_spec};

/// Spent held-out seed 6197's throw 022 (as rendered): a 6 px dark object tossed up before a
/// close camera under a flare, found from its apex to the ground with its floor (the 4th). Its
/// smear grew to 68 px a frame as it neared the lens, and the track's blob centred up to 28 px
/// behind the point where the renderer records it (the shutter's close), past the 12 px the
/// score allows about that point: the one alert was scored as a miss and a false alert.
#[test]
fn a_throw_smeared_as_it_nears_the_lens_is_found_once_with_its_floor() {
    let spec = placed_spec(
        Placement::Close { held_out: true },
        SetKind::Throws,
        6197,
        22,
        8.0,
    );
    let score = run(spec, Judging::default());
    let [throw] = &score.throws[..] else {
        panic!("one throw: {score:?}");
    };
    assert_eq!(throw.found_floor, Some(throw.floor), "{score:?}");
    assert_eq!((score.false_alerts, score.duplicates), (0, 0), "{score:?}");
}
