use super::*;

fn meta(pts_ms: u64) -> FrameMeta {
    FrameMeta {
        camera: CameraId::new("lot"),
        seq: 0,
        pts: Duration::from_millis(pts_ms),
        pass: 0,
        source_size: crate::Size::new(640, 360),
        wall_time: std::time::UNIX_EPOCH + Duration::from_millis(1_796_240_100_000 + pts_ms),
        arrived: std::time::Instant::now(),
    }
}

fn object_at(x: f32) -> AlertObject {
    AlertObject {
        object: ObjectRef::Track(TrackId(7)),
        class: "car".into(),
        score: 0.9,
        bbox_px: BBoxPx::new(x, 10.0, x + 20.0, 30.0),
    }
}

#[test]
fn start_update_end_share_the_id_and_say_when() {
    let (camera, rule, zone) = (CameraId::new("lot"), RuleId::new("r"), ZoneId::new("lane"));
    let by = Raiser {
        camera: &camera,
        rule: &rule,
        kind: AlertKind::Dwell,
        severity: Severity::High,
        zone: Some(&zone),
    };
    let start = Alert::start(
        by,
        &meta(62_000),
        Duration::from_secs(2),
        vec![object_at(1.0)],
    );
    let again = Alert::start(
        by,
        &meta(62_000),
        Duration::from_secs(2),
        vec![object_at(1.0)],
    );
    assert_ne!(start.id, again.id, "every alert gets its own id");
    assert_eq!(
        uuid::Uuid::parse_str(start.id.as_str()).map(|u| u.get_version_num()),
        Ok(7)
    );
    assert_eq!(
        (start.event, start.started_pts_secs, start.raised_pts_secs),
        (AlertEvent::Start, 2.0, 62.0)
    );
    assert_eq!(start.wall_time, "2026-12-02T19:36:02.000Z");
    assert_eq!(
        (start.severity, start.zone.as_ref()),
        (Severity::High, Some(&zone))
    );

    let update = start.update(&meta(362_000), vec![object_at(5.0)]);
    assert_eq!(
        (update.id.as_str(), update.event),
        (start.id.as_str(), AlertEvent::Update)
    );
    assert_eq!(update.updated_pts_secs, Some(362.0));
    assert_eq!(update.objects, vec![object_at(5.0)]);
    assert_eq!(update.raised_pts_secs, 62.0);

    // An end made from the update forgets the update's time; without objects it keeps the
    // ones it had.
    let end = update.end(&meta(400_000), Duration::from_millis(399_500), None);
    assert_eq!(
        (end.id.as_str(), end.event),
        (start.id.as_str(), AlertEvent::End)
    );
    assert_eq!(
        (end.ended_pts_secs, end.updated_pts_secs),
        (Some(399.5), None)
    );
    assert_eq!(end.objects, vec![object_at(5.0)]);
    assert_eq!(end.wall_time, "2026-12-02T19:41:40.000Z");
}

#[test]
fn alert_json_schema_is_stable() {
    let alert = Alert {
        id: "0192f7a4-0000-7000-8000-000000000000".into(),
        camera: CameraId::new("lot"),
        rule: RuleId::new("no_parking"),
        kind: AlertKind::Dwell,
        event: AlertEvent::Start,
        severity: Severity::High,
        zone: Some(ZoneId::new("lane")),
        names: Default::default(),
        started_pts_secs: 0.4,
        raised_pts_secs: 1.4,
        ended_pts_secs: None,
        updated_pts_secs: None,
        wall_time: "2026-11-28T12:00:00.000Z".into(),
        objects: vec![AlertObject {
            object: ObjectRef::Track(TrackId(3)),
            class: "car".into(),
            score: 0.5,
            bbox_px: BBoxPx::new(1.0, 2.0, 3.0, 4.0),
        }],
        trajectory: None,
        evidence: Evidence::default(),
        prev_hash: None,
    };
    let json = serde_json::to_string(&alert).unwrap();
    assert_eq!(
        json,
        r#"{"id":"0192f7a4-0000-7000-8000-000000000000","camera":"lot","rule":"no_parking","kind":"dwell","event":"start","severity":"high","zone":"lane","started_pts_secs":0.4,"raised_pts_secs":1.4,"wall_time":"2026-11-28T12:00:00.000Z","objects":[{"track_id":3,"class":"car","score":0.5,"bbox_px":[1.0,2.0,3.0,4.0]}],"evidence":{}}"#
    );
    let back: Alert = serde_json::from_str(&json).unwrap();
    assert_eq!(back, alert);
}

#[test]
fn each_kind_of_object_has_its_own_id_in_json_and_reads_back() {
    let cases = [
        (ObjectRef::Track(TrackId(3)), r#""track_id":3,"#),
        (ObjectRef::Static(4), r#""static_id":4,"#),
        (ObjectRef::Fall(5), r#""fall_id":5,"#),
        (ObjectRef::Region, ""),
    ];
    for (object, id) in cases {
        let o = AlertObject {
            object,
            ..object_at(1.0)
        };
        let json = serde_json::to_string(&o).unwrap();
        assert_eq!(
            json,
            format!(r#"{{{id}"class":"car","score":0.9,"bbox_px":[1.0,10.0,21.0,30.0]}}"#)
        );
        assert_eq!(serde_json::from_str::<AlertObject>(&json).unwrap(), o);
    }
    let two = r#"{"track_id":1,"fall_id":2,"class":"car","score":0.9,"bbox_px":[1,2,3,4]}"#;
    let err = serde_json::from_str::<AlertObject>(two).unwrap_err();
    assert!(err.to_string().contains("one of track_id"), "{err}");
}

#[test]
fn filter_matches_every_non_empty_set() {
    let alert: Alert = serde_json::from_str(
        r#"{"id":"a","camera":"lot","rule":"r","kind":"dwell","event":"end","started_pts_secs":0,"raised_pts_secs":1,"wall_time":"t","objects":[],"evidence":{}}"#,
    )
    .unwrap();
    assert!(AlertFilter::default().matches(&alert));
    let lot = AlertFilter {
        cameras: vec![CameraId::new("gate"), CameraId::new("lot")],
        ..Default::default()
    };
    assert!(lot.matches(&alert));
    let starts = AlertFilter {
        events: vec![AlertEvent::Start],
        ..lot.clone()
    };
    assert!(!starts.matches(&alert));
    let gate = AlertFilter {
        cameras: vec![CameraId::new("gate")],
        kinds: vec![AlertKind::Dwell],
        ..Default::default()
    };
    assert!(!gate.matches(&alert));
    // Records without a severity read as medium.
    assert_eq!(alert.severity, Severity::Medium);
    let urgent = AlertFilter {
        min_severity: Some(Severity::High),
        ..Default::default()
    };
    assert!(!urgent.matches(&alert));
    let mut critical = alert.clone();
    critical.severity = Severity::Critical;
    assert!(urgent.matches(&critical));
}
