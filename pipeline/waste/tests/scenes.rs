//! Every synthetic bin scene through the waste rules: exactly the expected alerts, at the right
//! times, each ended when its situation ends.

use vigil_core::{AlertEvent, CameraId, RuleId, Severity, Size, ZoneId};
use vigil_rules::test_meta;
use vigil_waste::synth::{bin_zone, cases, ground_zone};
use vigil_waste::{SceneConfig, WasteCheck, WasteEngine, WasteRule};

fn rules(camera: &CameraId) -> Vec<WasteRule> {
    let (bin, line) = bin_zone();
    let rule = |id: &str, zone: &str, polygon, check| WasteRule {
        id: RuleId::new(id),
        camera: camera.clone(),
        zone: ZoneId::new(zone),
        polygon,
        check,
        static_secs: 20.0,
        severity: Severity::Medium,
        schedule: None,
        min_area: 0.0,
        max_area: 0.2,
    };
    vec![
        rule("left", "ground", ground_zone(), WasteCheck::Left),
        rule(
            "overflow",
            "bin",
            bin,
            WasteCheck::Overflow {
                fill_line: Some(line),
                min_above: 0.15,
                max_fill: 0.8,
            },
        ),
    ]
}

/// (kind, started, raised, ended) of each alert.
fn run(
    scene: &vigil_waste::synth::BinScene,
) -> (
    Vec<(String, f64, f64, Option<f64>)>,
    vigil_waste::SceneStats,
) {
    let camera = CameraId::new("bins");
    let mut engine = WasteEngine::new(SceneConfig::default(), rules(&camera));
    let mut out: Vec<(String, String, f64, f64, Option<f64>)> = Vec::new();
    for f in scene.frames() {
        let meta = test_meta(&camera, Size::new(scene.width, scene.height), f.pts);
        for a in engine.step(&meta, &f.image, &f.tracks) {
            match a.event {
                AlertEvent::Start => out.push((
                    a.id,
                    a.kind.as_str().into(),
                    a.started_pts_secs,
                    a.raised_pts_secs,
                    None,
                )),
                AlertEvent::End => {
                    let open = out
                        .iter_mut()
                        .find(|o| o.0 == a.id)
                        .expect("end of a raised alert");
                    assert!(open.4.is_none(), "one end per alert");
                    open.4 = a.ended_pts_secs;
                }
                other => panic!("unexpected record {other:?}"),
            }
        }
    }
    (
        out.into_iter()
            .map(|(_, k, s, r, e)| (k, s, r, e))
            .collect(),
        engine.stats().clone(),
    )
}

#[test]
fn each_scene_raises_exactly_what_it_should() {
    let mut failures = Vec::new();
    let cases = cases(7);
    // The scenes are independent: render and run them on every core.
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = cases
            .iter()
            .map(|(_, scene, _)| s.spawn(|| run(scene)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("scene thread"))
            .collect()
    });
    for ((name, _, expected), (alerts, stats)) in cases.iter().zip(results) {
        eprintln!("{name}: {alerts:?} {stats:?}");
        if alerts.len() != expected.len() {
            failures.push(format!(
                "{name}: expected {} alerts, got {alerts:?}",
                expected.len()
            ));
            continue;
        }
        for (e, (kind, started, raised, ended)) in expected.iter().zip(&alerts) {
            let ok_start = (started - e.start).abs() <= 8.0;
            // Raised after static_secs (20) from the start, within the time the short-term
            // model takes to take it in.
            let ok_raised = *raised >= e.start + 20.0 && *raised <= e.start + 40.0;
            let ok_end = match (e.end, ended) {
                (None, None) => true,
                (Some(want), Some(got)) => (got - want).abs() <= 6.0,
                _ => false,
            };
            if kind != e.kind || !ok_start || !ok_raised || !ok_end {
                failures.push(format!("{name}: expected {e:?}, got {kind} started {started:.1} raised {raised:.1} ended {ended:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
