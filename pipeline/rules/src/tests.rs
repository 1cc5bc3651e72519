use super::*;
use std::sync::Arc;
use vigil_core::{AlertEvent, AlertKind, PointNorm, PolygonNorm, ZoneId};

const SIZE: Size = Size::new(400, 200);

fn rule(dwell_ms: u64) -> Rule {
    // Left half of the frame.
    let polygon = PolygonNorm::new(
        [(0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0)]
            .iter()
            .map(|&(x, y)| PointNorm { x, y })
            .collect(),
    )
    .unwrap();
    Rule {
        min_score: 0.3,
        severity: vigil_core::Severity::High,
        ..Rule::new(
            RuleId::new("no_parking"),
            CameraId::new("cam"),
            ZoneId::new("left"),
            polygon,
            vec!["vehicle".into()],
            Duration::from_millis(dwell_ms),
        )
    }
}

fn track(id: u64, x: f32, class: &str, group: &str) -> Track {
    Track {
        id: TrackId(id),
        group: Arc::from(group),
        class: Arc::from(class),
        score: 0.8,
        bbox_px: BBoxPx::new(x, 50.0, x + 40.0, 90.0),
        hits: 5,
        first_seen_pts: Duration::ZERO,
        matched: true,
    }
}

/// Steps `frames` at 100 ms; returns (frame index, alert) pairs.
fn run(engine: &mut RuleEngine, frames: &[Vec<Track>]) -> Vec<(usize, Alert)> {
    let cam = CameraId::new("cam");
    frames
        .iter()
        .enumerate()
        .flat_map(|(i, tracks)| {
            let meta = test_meta(&cam, SIZE, Duration::from_millis(100 * i as u64));
            engine.step(&meta, tracks).into_iter().map(move |a| (i, a))
        })
        .collect()
}

/// `n` frames of car 1 parked in the zone.
fn parked(n: usize) -> Vec<Vec<Track>> {
    (0..n)
        .map(|_| vec![track(1, 50.0, "car", "vehicle")])
        .collect()
}

/// Each record's frame and event.
fn events(alerts: &[(usize, Alert)]) -> Vec<(usize, AlertEvent)> {
    alerts.iter().map(|(i, a)| (*i, a.event)).collect()
}

#[test]
fn raises_once_after_dwell() {
    let mut e = RuleEngine::new(vec![rule(2000)]);
    let frames: Vec<_> = parked(100);
    let alerts = run(&mut e, &frames);
    assert_eq!(alerts.len(), 1);
    let (at, a) = &alerts[0];
    assert_eq!(*at, 20, "raised when 2 s of stream time have passed");
    assert_eq!(a.started_pts_secs, 0.0);
    assert!((a.raised_pts_secs - 2.0).abs() < 1e-9);
    assert_eq!(a.objects[0].object, ObjectRef::Track(TrackId(1)));
    assert_eq!(a.kind, AlertKind::Dwell);
}

#[test]
fn leaving_before_dwell_raises_nothing() {
    let mut e = RuleEngine::new(vec![rule(2000)]);
    // Inside for 1.5 s, then on the right half (outside) for the rest.
    let frames: Vec<_> = (0..60)
        .map(|i| {
            vec![track(
                1,
                if i < 15 { 50.0 } else { 300.0 },
                "car",
                "vehicle",
            )]
        })
        .collect();
    assert!(run(&mut e, &frames).is_empty());
    assert_eq!(e.open_stays(), 0, "the stay ended and was evicted");
}

#[test]
fn flicker_shorter_than_max_gap_is_one_stay() {
    let mut e = RuleEngine::new(vec![rule(2000)]);
    // Detected in 2 of every 3 frames, and entirely missing for 0.8 s once.
    let frames: Vec<_> = (0..100)
        .map(|i| {
            if i % 3 == 2 || (40..48).contains(&i) {
                vec![]
            } else {
                vec![track(1, 50.0, "car", "vehicle")]
            }
        })
        .collect();
    assert_eq!(run(&mut e, &frames).len(), 1);
}

#[test]
fn lost_and_refound_id_at_the_same_place_is_one_stay() {
    let mut e = RuleEngine::new(vec![rule(2000)]);
    // The tracker loses the parked car repeatedly and gives it a new id each time.
    let frames: Vec<_> = (0..200)
        .map(|i: u64| vec![track(1 + i / 15, 50.0, "car", "vehicle")])
        .collect();
    let alerts = run(&mut e, &frames);
    assert_eq!(alerts.len(), 1, "{alerts:?}");
}

/// Three passes of 3 s of looping footage where a car drives across the zone (x 10 → 150, far
/// from where it started by the end); at each loop it is back at x 10 under a new id, its old
/// track coasting at the far end for two frames. With `passes`, the frames say so.
fn looped_drive(passes: bool) -> Vec<(usize, Alert)> {
    let mut e = RuleEngine::new(vec![rule(1000)]);
    let cam = CameraId::new("cam");
    let mut alerts = Vec::new();
    for i in 0..90_u64 {
        let (pass, n) = (i / 30, i % 30);
        let mut tracks = vec![track(
            1 + pass,
            10.0 + 140.0 * n as f32 / 29.0,
            "car",
            "vehicle",
        )];
        if pass > 0 && n < 2 {
            tracks.push(Track {
                matched: false,
                ..track(pass, 150.0, "car", "vehicle")
            });
        }
        let meta = FrameMeta {
            pass: if passes { pass as u32 } else { 0 },
            ..test_meta(&cam, SIZE, Duration::from_millis(100 * i))
        };
        alerts.extend(e.step(&meta, &tracks).into_iter().map(|a| (i as usize, a)));
    }
    alerts
}

#[test]
fn a_stay_open_when_looping_footage_starts_over_goes_on() {
    let alerts = looped_drive(true);
    assert_eq!(events(&alerts), [(10, AlertEvent::Start)], "{alerts:?}");
    // The same scene without the pass marked: the jump back is a new car each time.
    let unmarked = looped_drive(false);
    assert_eq!(
        events(&unmarked),
        [
            (10, AlertEvent::Start),
            (40, AlertEvent::Start),
            (40, AlertEvent::End),
            (70, AlertEvent::Start),
            (70, AlertEvent::End)
        ],
        "{unmarked:?}"
    );
}

#[test]
fn a_new_stay_after_leaving_raises_again() {
    let mut e = RuleEngine::new(vec![rule(1000)]);
    let mut frames: Vec<Vec<Track>> = parked(20);
    frames.extend((0..20).map(|_| vec![])); // gone for 2 s > max_gap
    frames.extend((0..20).map(|_| vec![track(7, 60.0, "car", "vehicle")]));
    let alerts = run(&mut e, &frames);
    let events = events(&alerts);
    // Raised at 1.0 s; last inside at 1.9 s, gone for more than max_gap by 3.0 s: its end;
    // the second car's stay is a new alert.
    assert_eq!(
        events,
        [
            (10, AlertEvent::Start),
            (30, AlertEvent::End),
            (50, AlertEvent::Start)
        ]
    );
    let (first, end) = (&alerts[0].1, &alerts[1].1);
    assert_eq!(end.id, first.id, "the end is reported under the alert's id");
    assert_eq!(end.ended_pts_secs, Some(1.9));
    assert_ne!(alerts[2].1.id, first.id);
}

#[test]
fn a_stay_that_goes_on_gets_one_update() {
    let mut r = rule(1000);
    r.update_after = Some(Duration::from_secs(3));
    let mut e = RuleEngine::new(vec![r]);
    let mut frames: Vec<Vec<Track>> = (0..100)
        .map(|i| vec![track(1 + i / 30, 50.0 + (i % 3) as f32, "car", "vehicle")])
        .collect();
    frames.extend((0..20).map(|_| vec![]));
    let alerts = run(&mut e, &frames);
    let events = events(&alerts);
    // Raised at 1.0 s, still there 3 s later (under a new track id by then): one update.
    assert_eq!(
        events,
        [
            (10, AlertEvent::Start),
            (40, AlertEvent::Update),
            (110, AlertEvent::End)
        ]
    );
    assert!(alerts.iter().all(|(_, a)| a.id == alerts[0].1.id));
    assert_eq!(
        alerts[1].1.objects[0].object,
        ObjectRef::Track(TrackId(2)),
        "where it is now"
    );
    assert_eq!(alerts[1].1.updated_pts_secs, Some(4.0));
}

#[test]
fn cooldown_holds_back_the_next_alert_of_the_rule() {
    let mut r = rule(1000);
    r.cooldown = Duration::from_secs(5);
    let mut e = RuleEngine::new(vec![r]);
    let mut frames: Vec<Vec<Track>> = parked(20);
    frames.extend((0..20).map(|_| vec![])); // gone: its end at 3.0 s
    frames.extend((0..80).map(|_| vec![track(7, 60.0, "car", "vehicle")])); // back at 4.0 s
    let events = events(&run(&mut e, &frames));
    // Without the cooldown the second stay would raise at 5.0 s; it waits until 3.0 + 5 s.
    assert_eq!(
        events,
        [
            (10, AlertEvent::Start),
            (30, AlertEvent::End),
            (80, AlertEvent::Start)
        ]
    );
}

#[test]
fn boxes_outside_the_area_range_are_ignored() {
    let mut r = rule(500);
    // The test boxes are 40×40 px of a 400×200 frame: 2 % of it.
    r.min_area = 0.05;
    let mut e = RuleEngine::new(vec![r.clone()]);
    let frames: Vec<_> = parked(30);
    assert!(run(&mut e, &frames).is_empty());
    r.min_area = 0.01;
    r.max_area = 0.015;
    assert!(run(&mut RuleEngine::new(vec![r.clone()]), &frames).is_empty());
    r.max_area = 0.03;
    assert_eq!(run(&mut RuleEngine::new(vec![r]), &frames).len(), 1);
}

#[test]
fn other_classes_and_weak_scores_are_ignored() {
    let mut e = RuleEngine::new(vec![rule(500)]);
    let mut weak = track(2, 50.0, "car", "vehicle");
    weak.score = 0.1;
    let frames: Vec<_> = (0..30)
        .map(|_| vec![track(1, 50.0, "person", "person"), weak.clone()])
        .collect();
    assert!(run(&mut e, &frames).is_empty());
}

#[test]
fn anchor_is_the_bottom_centre() {
    let mut e = RuleEngine::new(vec![rule(500)]);
    // Box spans x 180..220: its bottom-centre x = 200 is exactly on the zone edge (0.5 × 400);
    // at x 170..210 the anchor (190) is inside.
    let frames: Vec<_> = (0..10)
        .map(|_| vec![track(1, 170.0, "car", "vehicle")])
        .collect();
    assert_eq!(run(&mut e, &frames).len(), 1);
    let mut e = RuleEngine::new(vec![rule(500)]);
    let frames: Vec<_> = (0..10)
        .map(|_| vec![track(1, 190.0, "car", "vehicle")])
        .collect();
    assert!(
        run(&mut e, &frames).is_empty(),
        "anchor at x = 210 is outside"
    );
}

#[test]
fn out_of_schedule_nothing_starts_but_an_alert_in_force_runs_to_its_end() {
    use vigil_spec::schedule::{Schedule, Window, parse_days, parse_time};
    // Frames carry wall time 2027-01-15 08:00:00 UTC + pts: Friday 16:00 in Shanghai.
    let mut r = rule(30_000);
    r.max_gap = Duration::from_secs(2);
    r.schedule = Some(Schedule {
        tz: chrono_tz::Asia::Shanghai,
        windows: vec![Window {
            days: parse_days(&["fri"]).unwrap(),
            from_min: parse_time("16:01").unwrap(),
            to_min: parse_time("16:03").unwrap(),
        }],
    });
    let mut e = RuleEngine::new(vec![r]);
    let cam = CameraId::new("cam");
    let mut events = Vec::new();
    for s in 0..320u64 {
        let mut tracks = Vec::new();
        if s < 300 {
            tracks.push(track(1, 50.0, "car", "vehicle")); // there from before the window
        }
        if s >= 200 {
            tracks.push(track(2, 120.0, "car", "vehicle")); // arrives after it
        }
        let meta = test_meta(&cam, SIZE, Duration::from_secs(s));
        for a in e.step(&meta, &tracks) {
            events.push((s, a.event, a.objects[0].object));
        }
    }
    // The first car's dwell counts from 16:01 (60 s): raised at 90 s; it stays past the
    // window's end (180 s) and its end is still reported. The second car, out of schedule,
    // raises nothing.
    assert_eq!(
        events,
        [
            (90, AlertEvent::Start, ObjectRef::Track(TrackId(1))),
            (302, AlertEvent::End, ObjectRef::Track(TrackId(1)))
        ]
    );
}

#[test]
fn reloading_keeps_stays_of_kept_rules_and_ends_alerts_of_removed_ones() {
    let cam = CameraId::new("cam");
    let mut e = RuleEngine::new(vec![rule(2000)]);
    let car = vec![track(1, 50.0, "car", "vehicle")];
    let mut events = Vec::new();
    for i in 0..15 {
        let meta = test_meta(&cam, SIZE, Duration::from_millis(100 * i));
        events.extend(e.step(&meta, &car));
    }
    // 1.5 s in, the rule is reloaded with a shorter dwell: the stay keeps its start (0 s).
    let mut shorter = rule(1000);
    shorter.severity = vigil_core::Severity::Critical;
    let meta = test_meta(&cam, SIZE, Duration::from_millis(1500));
    assert!(e.replace_rules(vec![shorter], &meta).is_empty());
    let meta = test_meta(&cam, SIZE, Duration::from_millis(1600));
    let raised = e.step(&meta, &car);
    assert_eq!(raised.len(), 1, "counted from 0 s, not from the reload");
    assert_eq!(raised[0].started_pts_secs, 0.0);
    assert_eq!(raised[0].severity, vigil_core::Severity::Critical);
    // The rule is removed: its alert ends now.
    let meta = test_meta(&cam, SIZE, Duration::from_millis(1700));
    let ends = e.replace_rules(vec![], &meta);
    assert_eq!(ends.len(), 1);
    assert_eq!(
        (ends[0].event, ends[0].id.as_str()),
        (AlertEvent::End, raised[0].id.as_str())
    );
    assert_eq!(e.open_stays(), 0);
}

#[test]
fn entering_raises_at_once_and_ends_on_leaving() {
    let mut r = rule(60_000);
    r.kind = RuleKind::Enter;
    let mut e = RuleEngine::new(vec![r]);
    // Right half (outside) for 1 s, then in the left half for 2 s, then gone.
    let frames: Vec<_> = (0..60)
        .map(|i| match i {
            0..10 => vec![track(1, 300.0, "car", "vehicle")],
            10..30 => vec![track(1, 50.0, "car", "vehicle")],
            _ => vec![],
        })
        .collect();
    let events: Vec<(usize, AlertEvent, AlertKind)> = run(&mut e, &frames)
        .iter()
        .map(|(i, a)| (*i, a.event, a.kind))
        .collect();
    assert_eq!(
        events,
        [
            (10, AlertEvent::Start, AlertKind::Enter),
            (40, AlertEvent::End, AlertKind::Enter)
        ]
    );
}

#[test]
fn count_raises_once_per_crowded_spell_with_every_object() {
    let mut r = rule(1000);
    r.kind = RuleKind::Count { more_than: 2 };
    let mut e = RuleEngine::new(vec![r]);
    let crowd = |n: u64| -> Vec<Track> {
        (0..n)
            .map(|k| {
                let mut t = track(k + 1, 10.0 + 45.0 * k as f32, "person", "person");
                t.group = Arc::from("vehicle"); // the test rule counts the vehicle group
                t
            })
            .collect()
    };
    // 2 objects (allowed), then 3 for 3 s (a spell), 2 again, then 4 for 0.5 s (too short).
    let mut frames: Vec<Vec<Track>> = (0..10).map(|_| crowd(2)).collect();
    frames.extend((0..30).map(|_| crowd(3)));
    frames.extend((0..20).map(|_| crowd(2)));
    frames.extend((0..5).map(|_| crowd(4)));
    frames.extend((0..20).map(|_| crowd(2)));
    let alerts = run(&mut e, &frames);
    let events = events(&alerts);
    assert_eq!(events, [(20, AlertEvent::Start), (50, AlertEvent::End)]);
    assert_eq!(alerts[0].1.objects.len(), 3, "every object in the crowd");
    assert_eq!(alerts[0].1.kind, AlertKind::Count);
}

#[test]
fn line_crossings_count_once_each_and_respect_direction() {
    // A vertical line down the middle, drawn top to bottom: walking it, the left hand points to
    // the image's right.
    let line = (PointNorm { x: 0.5, y: 0.0 }, PointNorm { x: 0.5, y: 1.0 });
    assert_eq!(
        crossing((200.0, 0.0), (200.0, 200.0), (300.0, 90.0), (100.0, 90.0)),
        Some(Crossed::LeftToRight),
        "image right → image left"
    );
    assert_eq!(
        crossing((200.0, 0.0), (200.0, 200.0), (100.0, 90.0), (300.0, 90.0)),
        Some(Crossed::RightToLeft)
    );
    assert_eq!(
        crossing((200.0, 0.0), (200.0, 200.0), (100.0, 90.0), (150.0, 90.0)),
        None
    );
    let mut r = rule(0);
    r.kind = RuleKind::LineCross {
        from: line.0,
        to: line.1,
        direction: Direction::LeftToRight,
    };
    let mut e = RuleEngine::new(vec![r]);
    // Car 1 drives right → left (counts), then back left → right (does not); car 2 stays put.
    let frames: Vec<Vec<Track>> = (0..40)
        .map(|i| {
            let x = if i < 20 {
                330.0 - 15.0 * i as f32
            } else {
                45.0 + 15.0 * (i - 20) as f32
            };
            vec![
                track(1, x, "car", "vehicle"),
                track(2, 20.0, "car", "vehicle"),
            ]
        })
        .collect();
    let alerts = run(&mut e, &frames);
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    let (at, a) = &alerts[0];
    assert_eq!(
        (a.kind, a.objects[0].object),
        (AlertKind::LineCross, ObjectRef::Track(TrackId(1)))
    );
    // The box centre (x + 20) passes 200 between frames 9 (x = 195 → 215) and 10 (x = 180 → 200).
    assert!((9..=11).contains(at), "crossed at frame {at}");
}

#[test]
fn inertia_ignores_objects_that_only_touch_the_zone() {
    let mut r = rule(0);
    r.kind = RuleKind::Enter;
    r.inertia = 3;
    let mut e = RuleEngine::new(vec![r]);
    // In for two frames, out, in for two, out: never three in a row. Then in for good.
    let xs = [50.0, 50.0, 300.0, 50.0, 50.0, 300.0, 50.0, 50.0, 50.0, 50.0];
    let frames: Vec<_> = xs
        .iter()
        .map(|&x| vec![track(1, x, "car", "vehicle")])
        .collect();
    let events = events(&run(&mut e, &frames));
    assert_eq!(events, [(8, AlertEvent::Start)]);
}

#[test]
fn repeat_after_raises_again_for_a_long_stay_and_ends_every_alert_with_it() {
    let mut r = rule(1000);
    r.repeat_after = Some(Duration::from_secs(3));
    let mut e = RuleEngine::new(vec![r]);
    let mut frames: Vec<Vec<Track>> = parked(80);
    frames.extend((0..20).map(|_| vec![]));
    let alerts = run(&mut e, &frames);
    let events = events(&alerts);
    assert_eq!(
        events,
        [
            (10, AlertEvent::Start),
            (40, AlertEvent::Start),
            (70, AlertEvent::Start),
            (90, AlertEvent::End),
            (90, AlertEvent::End),
            (90, AlertEvent::End)
        ]
    );
    let starts: Vec<&str> = alerts[..3].iter().map(|(_, a)| a.id.as_str()).collect();
    let ends: Vec<&str> = alerts[3..].iter().map(|(_, a)| a.id.as_str()).collect();
    assert_eq!(starts, ends, "each alert ends");
}

#[test]
fn exclusion_masks_and_the_overlap_anchor() {
    let poly = |pts: &[(f64, f64)]| {
        PolygonNorm::new(pts.iter().map(|&(x, y)| PointNorm { x, y }).collect()).unwrap()
    };
    // A parking bay (x 0.1–0.2) inside the left-half zone is excluded.
    let mut r = rule(500);
    r.exclude = vec![poly(&[(0.1, 0.0), (0.2, 0.0), (0.2, 1.0), (0.1, 1.0)])];
    let frames: Vec<_> = (0..20)
        .map(|_| vec![track(1, 40.0, "car", "vehicle")])
        .collect(); // anchor x = 60 px = 0.15
    assert!(run(&mut RuleEngine::new(vec![r.clone()]), &frames).is_empty());
    r.exclude.clear();
    assert_eq!(run(&mut RuleEngine::new(vec![r.clone()]), &frames).len(), 1);
    // Overlap: a box straddling the zone's edge (x 190–230 of 200) is 25 % inside.
    let straddling: Vec<_> = (0..20)
        .map(|_| vec![track(1, 190.0, "car", "vehicle")])
        .collect();
    r.anchor = Anchor::Overlap { min_fraction: 0.5 };
    assert!(run(&mut RuleEngine::new(vec![r.clone()]), &straddling).is_empty());
    r.anchor = Anchor::Overlap { min_fraction: 0.2 };
    assert_eq!(run(&mut RuleEngine::new(vec![r]), &straddling).len(), 1);
}

#[test]
fn unsorted_waste_alerts_for_items_of_categories_the_bin_does_not_take() {
    // A recyclables bin (the left half): bottles are fine, a battery or food is not, and a
    // person is no waste category at all.
    let mut r = rule(0);
    r.classes = vec!["recyclable".into(), "hazardous".into(), "kitchen".into()];
    r.kind = RuleKind::Unsorted {
        accepts: vec!["recyclable".into()],
    };
    let mut e = RuleEngine::new(vec![r]);
    let frames: Vec<Vec<Track>> = (0..40)
        .map(|i| {
            let mut f = vec![
                track(1, 20.0, "bottle", "recyclable"),
                track(2, 300.0, "battery", "hazardous"),
                track(3, 60.0, "person", "person"),
            ];
            // The battery is dropped into the bin at frame 10 and is gone at frame 20.
            if (10..20).contains(&i) {
                f[1] = track(2, 100.0, "battery", "hazardous");
            } else if i >= 20 {
                f.remove(1);
            }
            f
        })
        .collect();
    let alerts = run(&mut e, &frames);
    let events = events(&alerts);
    assert_eq!(events.len(), 2, "a start and its end: {alerts:?}");
    assert_eq!(events[0], (10, AlertEvent::Start));
    assert_eq!(events[1].1, AlertEvent::End);
    let a = &alerts[0].1;
    assert_eq!(a.kind, AlertKind::UnsortedWaste);
    assert_eq!(a.objects[0].class, "battery");
    assert_eq!(alerts[1].1.id, a.id);
}
