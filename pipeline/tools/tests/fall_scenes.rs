//! The detector on rendered sequences, in memory (no encoding): throws are found with their
//! floor, distractor-only sequences raise nothing.

use vigil_falling::{FallDetector, GrayFrame};
use vigil_tools::falls::score::{Detection, score, summarise};
use vigil_tools::scenes::falls::{Scene, SceneSpec, SetKind, luma, scene_spec};

fn run(spec: SceneSpec) -> vigil_tools::falls::score::SequenceScore {
    let mut scene = Scene::new(spec);
    let mut det = FallDetector::new(scene.calibration().fall_config().unwrap());
    let (w, h) = (scene.spec().width, scene.spec().height);
    let fps = f64::from(scene.spec().fps);
    let mut found = Vec::new();
    for i in 0..scene.frames() {
        let y = luma(&scene.next_frame());
        let frame = GrayFrame {
            width: w,
            height: h,
            stride: w as usize,
            data: &y,
        };
        let t = f64::from(i) / fps;
        for v in det.process(t, &frame, (w, h)) {
            match &v.outcome {
                Ok(fall) => found.push({
                    let p = &v.track.points;
                    eprintln!(
                        "{}: FALL n={} t={:.2}..{:.2} px=({:.0},{:.0})..({:.0},{:.0}) area={} accel={:.1} drop={:.1} rms={:.2} lat={:.2} floor={}",
                        scene.spec().name, p.len(), p[0].t, p[p.len()-1].t, p[0].x_px, p[0].y_px,
                        p[p.len()-1].x_px, p[p.len()-1].y_px, p[p.len()/2].area, fall.accel_mps2, fall.drop_m,
                        fall.height_fit.rms, fall.lateral_fit.rms, fall.origin.floor
                    );
                    Detection {
                    raised_t: t,
                    floor: fall.origin.floor,
                    column: fall.origin.column,
                    points: v.track.points.iter().map(|p| (p.t, p.x_px, p.y_px)).collect(),
                }}),
                Err(r) if v.track.points.len() >= 8 => {
                    eprintln!("{}: track of {} rejected: {r}", scene.spec().name, v.track.points.len())
                }
                Err(_) => {}
            }
        }
    }
    let s = score(&scene.truth(), &found);
    eprintln!("{} {:?} stats {:?}", scene.spec().name, s, det.stats());
    s
}

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
        .map(|i| run(smaller(scene_spec(SetKind::Throws, 11, i, 7.0))))
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
        .map(|i| run(smaller(scene_spec(SetKind::Distractors, 11, i, 20.0))))
        .collect();
    let s = summarise(&scores);
    assert_eq!(s.false_alerts_distractor_seqs, 0, "{s:?}");
}
