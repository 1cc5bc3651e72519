use super::*;

fn det(x: f32, y: f32, w: f32, h: f32, score: f32, class: &str, group: &str) -> Detection {
    Detection {
        bbox_px: BBoxPx::new(x, y, x + w, y + h),
        class_id: 0,
        class: Arc::from(class),
        group: Arc::from(group),
        score,
    }
}

fn car(x: f32, score: f32) -> Detection {
    det(x, 100.0, 60.0, 40.0, score, "car", "vehicle")
}

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

/// Runs frames at 12.5 fps (80 ms); returns each frame's track ids.
fn run(tracker: &mut Tracker, frames: &[Vec<Detection>]) -> Vec<Vec<u64>> {
    frames
        .iter()
        .enumerate()
        .map(|(i, dets)| {
            tracker
                .step(ms(80 * i as u64), dets)
                .iter()
                .filter(|t| t.matched)
                .map(|t| t.id.0)
                .collect()
        })
        .collect()
}

#[test]
fn moving_car_keeps_one_id() {
    let mut tr = Tracker::new(TrackerConfig::default());
    let frames: Vec<_> = (0..40)
        .map(|i| vec![car(10.0 + 6.0 * i as f32, 0.8)])
        .collect();
    let ids = run(&mut tr, &frames);
    assert!(ids[0].is_empty(), "a track is reported from its second hit");
    for f in &ids[1..] {
        assert_eq!(f, &vec![1]);
    }
}

#[test]
fn missed_frames_do_not_change_the_id() {
    let mut tr = Tracker::new(TrackerConfig::default());
    let frames: Vec<_> = (0..30)
        .map(|i| {
            if (10..14).contains(&i) {
                vec![]
            } else {
                vec![car(10.0 + 5.0 * i as f32, 0.8)]
            }
        })
        .collect();
    let ids = run(&mut tr, &frames);
    assert!(ids[10..14].iter().all(Vec::is_empty));
    assert!(ids[14..].iter().all(|f| f == &vec![1]), "{ids:?}");
}

#[test]
fn low_score_dip_is_bridged_by_the_second_stage() {
    let mut tr = Tracker::new(TrackerConfig::default());
    let frames: Vec<_> = (0..20)
        .map(|i| {
            vec![car(
                10.0 + 5.0 * i as f32,
                if (8..12).contains(&i) { 0.2 } else { 0.8 },
            )]
        })
        .collect();
    let ids = run(&mut tr, &frames);
    assert!(ids[1..].iter().all(|f| f == &vec![1]), "{ids:?}");
}

#[test]
fn class_flicker_within_a_group_keeps_the_id() {
    let mut tr = Tracker::new(TrackerConfig::default());
    let frames: Vec<_> = (0..10)
        .map(|i| {
            let class = if i % 3 == 0 { "truck" } else { "car" };
            vec![det(50.0, 50.0, 80.0, 50.0, 0.7, class, "vehicle")]
        })
        .collect();
    let ids = run(&mut tr, &frames);
    assert!(ids[1..].iter().all(|f| f == &vec![1]), "{ids:?}");
}

#[test]
fn groups_never_share_a_track() {
    let mut tr = Tracker::new(TrackerConfig::default());
    let frames: Vec<_> = (0..6)
        .map(|_| {
            vec![
                det(50.0, 50.0, 80.0, 50.0, 0.7, "car", "vehicle"),
                det(52.0, 52.0, 78.0, 48.0, 0.7, "person", "person"),
            ]
        })
        .collect();
    let ids = run(&mut tr, &frames);
    assert_eq!(ids[5], vec![1, 2]);
}

#[test]
fn two_cars_passing_keep_their_ids() {
    let mut tr = Tracker::new(TrackerConfig::default());
    // Two cars in separate lanes moving in opposite directions.
    let frames: Vec<_> = (0..30)
        .map(|i| {
            let i = i as f32;
            vec![
                det(10.0 + 8.0 * i, 100.0, 60.0, 40.0, 0.8, "car", "vehicle"),
                det(300.0 - 8.0 * i, 160.0, 60.0, 40.0, 0.8, "car", "vehicle"),
            ]
        })
        .collect();
    let mut tr2 = Tracker::new(TrackerConfig::default());
    let ids = run(&mut tr, &frames);
    assert!(ids[1..].iter().all(|f| f == &vec![1, 2]), "{ids:?}");
    // Same with the detections listed in the other order: ids follow the objects.
    let swapped: Vec<_> = frames
        .iter()
        .map(|f| vec![f[1].clone(), f[0].clone()])
        .collect();
    let out: Vec<Vec<Track>> = swapped
        .iter()
        .enumerate()
        .map(|(i, d)| tr2.step(ms(80 * i as u64), d))
        .collect();
    let first_lane_id = out[1].iter().find(|t| t.bbox_px.y1 < 130.0).unwrap().id;
    for f in &out[1..] {
        assert_eq!(
            f.iter().find(|t| t.bbox_px.y1 < 130.0).unwrap().id,
            first_lane_id
        );
    }
}

#[test]
fn state_is_evicted_after_max_lost() {
    let mut tr = Tracker::new(TrackerConfig::default());
    for i in 0..5 {
        tr.step(ms(80 * i), &[car(10.0, 0.9)]);
    }
    assert_eq!(tr.len(), 1);
    tr.step(ms(400 + 1000), &[]);
    assert_eq!(tr.len(), 1, "still within max_lost");
    tr.step(ms(400 + 1600), &[]);
    assert!(tr.is_empty(), "evicted after max_lost");
}

#[test]
fn one_off_false_positive_never_becomes_a_track() {
    let mut tr = Tracker::new(TrackerConfig::default());
    assert!(tr.step(ms(0), &[car(10.0, 0.9)]).is_empty());
    assert!(tr.step(ms(80), &[]).is_empty());
    assert!(tr.is_empty(), "a tentative track dies on its first miss");
}
