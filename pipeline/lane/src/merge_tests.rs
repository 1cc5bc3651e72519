use super::*;
use std::time::{Instant, SystemTime};
use vigil_core::{AlertKind, CameraId, ObjectRef, PointNorm, PolygonNorm, Raiser, Severity};
use vigil_core::{Size, TrackId, ZoneId};

fn square() -> PolygonNorm {
    let pts = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)];
    PolygonNorm::new(pts.iter().map(|&(x, y)| PointNorm { x, y }).collect()).unwrap()
}

fn dwell(id: &str, zone: &str) -> Rule {
    Rule::new(
        RuleId::new(id),
        CameraId::new("cam"),
        ZoneId::new(zone),
        square(),
        vec!["vehicle".into()],
        Duration::from_secs(30),
    )
}

fn lane(id: &str, zone: &str) -> LaneRule {
    LaneRule {
        id: RuleId::new(id),
        camera: CameraId::new("cam"),
        zone: ZoneId::new(zone),
        polygon: square(),
        dwell_secs: 30.0,
        min_fraction: 0.01,
        passage: None,
        severity: Severity::High,
        schedule: None,
    }
}

fn meta(secs: f64) -> FrameMeta {
    FrameMeta {
        camera: CameraId::new("cam"),
        seq: 0,
        pts: Duration::from_secs_f64(secs),
        pass: 0,
        source_size: Size::new(640, 360),
        wall_time: SystemTime::UNIX_EPOCH,
        arrived: Instant::now(),
    }
}

/// The start of `rule`'s alert (`kind`) about an object at `bbox`, raised at `at`.
fn start(rule: &Rule, kind: AlertKind, object: ObjectRef, bbox: [f32; 4], at: f64) -> Alert {
    let id = rule.id.clone();
    let by = Raiser {
        camera: &rule.camera,
        rule: &id,
        kind,
        severity: Severity::High,
        zone: Some(&rule.zone),
    };
    let o = AlertObject {
        object,
        class: "car".into(),
        score: 0.8,
        bbox_px: BBoxPx::new(bbox[0], bbox[1], bbox[2], bbox[3]),
    };
    Alert::start(by, &meta(at), Duration::from_secs_f64(at - 30.0), vec![o])
}

/// A lane rule's start, as [`start`] makes a dwell rule's (same fields but the id).
fn lane_start(rule: &LaneRule, bbox: [f32; 4], at: f64) -> Alert {
    let as_dwell = Rule {
        id: rule.id.clone(),
        ..dwell("x", rule.zone.as_str())
    };
    start(
        &as_dwell,
        AlertKind::LaneObstructed,
        ObjectRef::Static(1),
        bbox,
        at,
    )
}

/// A dwell rule and a lane rule on one zone, and their merger.
fn partners() -> (Rule, LaneRule, OneAlert) {
    let (d, l) = (dwell("parked", "lane"), lane("blocked", "lane"));
    let merge = OneAlert::new(std::slice::from_ref(&d), std::slice::from_ref(&l));
    (d, l, merge)
}

/// The dwell rule's alert about a parked car (track 4), raised at `at`.
fn car(d: &Rule, at: f64) -> Alert {
    let bbox = [100.0, 100.0, 300.0, 200.0];
    start(d, AlertKind::Dwell, ObjectRef::Track(TrackId(4)), bbox, at)
}

/// The lane rule's alert about the car's roof (inside the car's box), raised at `at`.
fn roof(l: &LaneRule, at: f64) -> Alert {
    lane_start(l, [150.0, 110.0, 260.0, 160.0], at)
}

fn end(a: &Alert, at: f64) -> Alert {
    a.end(&meta(at), Duration::from_secs_f64(at - 1.0), None)
}

#[test]
fn a_car_seen_by_both_rules_is_one_alert_that_ends_when_both_have_ended() {
    let (d, l, mut merge) = partners();
    assert!(merge.has_partners());
    let car = car(&d, 40.0);
    let out = merge.pass(&meta(40.0), vec![car.clone()]);
    assert_eq!(out, vec![car.clone()]);
    // The static object is the car's roof: inside its box.
    let roof = roof(&l, 42.0);
    assert!(merge.pass(&meta(42.0), vec![roof.clone()]).is_empty());
    // The detector loses the car at dusk: the lane is still blocked.
    assert!(merge.pass(&meta(300.0), vec![end(&car, 300.0)]).is_empty());
    let out = merge.pass(&meta(900.0), vec![end(&roof, 900.0)]);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].id, car.id);
    assert_eq!(out[0].event, AlertEvent::End);
    assert_eq!(out[0].kind, AlertKind::Dwell);
    assert_eq!(out[0].ended_pts_secs, Some(899.0));
    assert_eq!(
        out[0].objects.len(),
        2,
        "both views of the car: {:?}",
        out[0].objects
    );
}

#[test]
fn the_end_is_the_latest_members_end_whichever_order_they_come_in() {
    let (d, l, mut merge) = partners();
    let roof = roof(&l, 40.0);
    let car = car(&d, 45.0);
    assert_eq!(
        merge.pass(&meta(40.0), vec![roof.clone()]),
        vec![roof.clone()]
    );
    assert!(merge.pass(&meta(45.0), vec![car.clone()]).is_empty());
    // The track's update (its `update_after`) goes out as the first alert's, once.
    let late = car.update(&meta(400.0), car.objects.clone());
    let out = merge.pass(&meta(400.0), vec![late.clone()]);
    assert_eq!(out.len(), 1);
    assert_eq!(
        (out[0].id.clone(), out[0].event),
        (roof.id.clone(), AlertEvent::Update)
    );
    assert_eq!(out[0].objects.len(), 2);
    let again = roof.update(&meta(450.0), roof.objects.clone());
    assert!(merge.pass(&meta(450.0), vec![again]).is_empty());
    // Both end on one frame, the track a little later than the static object.
    let mut car_end = end(&car, 600.0);
    car_end.ended_pts_secs = Some(600.5);
    let out = merge.pass(&meta(600.0), vec![end(&roof, 600.0), car_end]);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].id, roof.id);
    assert_eq!(out[0].ended_pts_secs, Some(600.5));
}

#[test]
fn different_objects_zones_or_kinds_stay_separate_alerts() {
    let d = dwell("parked", "lane");
    let l = lane("blocked", "lane");
    let other_zone = lane("gate", "gate");
    let mut merge = OneAlert::new(std::slice::from_ref(&d), &[l.clone(), other_zone.clone()]);
    let car = car(&d, 40.0);
    // Boxes left beside the car: their outline barely touches its box.
    let boxes = lane_start(&l, [290.0, 150.0, 400.0, 260.0], 41.0);
    // The same place seen by a lane rule of another zone.
    let gate = lane_start(&other_zone, [150.0, 110.0, 260.0, 160.0], 42.0);
    let all = vec![car.clone(), boxes.clone(), gate.clone()];
    assert_eq!(merge.pass(&meta(42.0), all.clone()), all);
    // Ends pass as they come.
    assert_eq!(
        merge.pass(&meta(50.0), vec![end(&boxes, 50.0)]),
        vec![end(&boxes, 50.0)]
    );
    assert_eq!(
        merge.pass(&meta(50.0), vec![end(&car, 50.0)]),
        vec![end(&car, 50.0)]
    );
    // An `enter` rule is no partner.
    let mut enter = dwell("entered", "lane");
    enter.kind = RuleKind::Enter;
    assert!(!OneAlert::new(&[enter], std::slice::from_ref(&l)).has_partners());
}

#[test]
fn a_member_that_has_ended_is_not_joined_again() {
    let (d, l, mut merge) = partners();
    let car = car(&d, 40.0);
    merge.pass(&meta(40.0), vec![car.clone()]);
    assert_eq!(
        merge.pass(&meta(60.0), vec![end(&car, 60.0)]),
        vec![end(&car, 60.0)]
    );
    // A later car in the same place is a new alert.
    let roof = roof(&l, 200.0);
    assert_eq!(merge.pass(&meta(200.0), vec![roof.clone()]), vec![roof]);
}
