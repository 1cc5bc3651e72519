//! The detector on rendered sequences, in memory (no encoding): throws are found with their
//! floor, distractor-only sequences raise nothing.

use vigil_tools::falls::memory::run;
use vigil_tools::falls::score::summarise;
use vigil_tools::scenes::falls::{SceneSpec, SetKind, scene_spec};

fn smaller(mut s: SceneSpec) -> SceneSpec {
    // Half of 720p keeps the test quick; the benchmark renders 720p and 1080p.
    s.width = 640;
    s.height = 360;
    for t in &mut s.throws {
        t.size_px = t.size_px.max(8.0) / 2.0 + 3.0;
    }
    s
}

#[test]
fn throws_are_found_with_their_floor() {
    let scores: Vec<_> = (0..6)
        .map(|i| run(smaller(scene_spec(SetKind::Throws, 11, i, 7.0)), true))
        .collect();
    let s = summarise(&scores);
    eprintln!("{s:?}");
    assert_eq!(s.found, s.throws, "{s:?}");
    assert!(s.floor_within_1 >= 1.0, "{s:?}");
    assert_eq!(s.false_alerts_throw_seqs, 0);
}

#[test]
fn distractors_raise_nothing() {
    let scores: Vec<_> = (0..3)
        .map(|i| run(smaller(scene_spec(SetKind::Distractors, 11, i, 20.0)), true))
        .collect();
    let s = summarise(&scores);
    assert_eq!(s.false_alerts_distractor_seqs, 0, "{s:?}");
}
