//! The alert record: stored, appended to `alerts.jsonl`, printed and (later) delivered.
//! README.md documents the JSON schema; a test below pins it.

use crate::frame::FrameMeta;
use crate::geom::BBoxPx;
use crate::ids::{AlertId, CameraId, RuleId, TrackId, ZoneId};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// What kind of situation the alert reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// An object of a class group stayed in a zone for at least the rule's `dwell_secs`.
    Dwell,
    /// An object entered a zone.
    Enter,
    /// More objects than the rule allows were in a zone at once.
    Count,
    /// An object crossed a line (in the rule's direction).
    LineCross,
    /// Something fell or was thrown from height; the alert carries its trajectory and origin.
    FallingObject,
    /// A new object stayed in a bin zone (a bag left beside the bins); ended when removed.
    WasteLeft,
    /// Static rubbish above a bin's fill line or covering much of its zone; ended when cleared.
    BinOverflow,
    /// An item of a category the bin does not accept went into or lies at it.
    UnsortedWaste,
}

impl AlertKind {
    pub const ALL: [AlertKind; 8] = [
        AlertKind::Dwell,
        AlertKind::Enter,
        AlertKind::Count,
        AlertKind::LineCross,
        AlertKind::FallingObject,
        AlertKind::WasteLeft,
        AlertKind::BinOverflow,
        AlertKind::UnsortedWaste,
    ];

    /// The kind named `name` (as written in JSON), if any.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// An event without duration (an object fell): no `end` record follows its `start`.
    pub fn is_instant(self) -> bool {
        matches!(self, AlertKind::FallingObject)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Dwell => "dwell",
            AlertKind::Enter => "enter",
            AlertKind::Count => "count",
            AlertKind::LineCross => "line_cross",
            AlertKind::FallingObject => "falling_object",
            AlertKind::WasteLeft => "waste_left",
            AlertKind::BinOverflow => "bin_overflow",
            AlertKind::UnsortedWaste => "unsorted_waste",
        }
    }
}

/// How urgent an alert is, set by its rule (`medium` unless the rule says otherwise). Receivers
/// filter on it (`min_severity`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    #[default]
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 4] = [
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// The severity named `name` (as written in JSON and config), if any.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// Where in its lifecycle an alert record is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertEvent {
    /// The alert was raised.
    Start,
    /// The situation is over (e.g. the vehicle left the zone); `ended_pts_secs` says when.
    End,
    /// The situation still holds `update_after_secs` after the alert (e.g. still blocking the
    /// fire lane after 5 minutes): once per alert, with the object where it is now.
    Update,
    /// Its evidence is complete (the clip ends `post_roll` after the alert); the record repeats
    /// the alert with `evidence` filled.
    Evidence,
    /// Its clip was deleted by retention; `evidence.clip` names it, `evidence.error` says why.
    Expired,
    /// A long alert's end has its own clip (the start clip ended `post_roll` after it was
    /// raised); the record repeats the `end` record with `evidence` filled.
    EndEvidence,
    /// The end clip was deleted by retention.
    EndExpired,
}

impl AlertEvent {
    pub const ALL: [AlertEvent; 7] = [
        AlertEvent::Start,
        AlertEvent::Update,
        AlertEvent::End,
        AlertEvent::Evidence,
        AlertEvent::Expired,
        AlertEvent::EndEvidence,
        AlertEvent::EndExpired,
    ];

    /// The event named `name` (as written in JSON), if any.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AlertEvent::Start => "start",
            AlertEvent::Update => "update",
            AlertEvent::End => "end",
            AlertEvent::Evidence => "evidence",
            AlertEvent::Expired => "expired",
            AlertEvent::EndEvidence => "end_evidence",
            AlertEvent::EndExpired => "end_expired",
        }
    }

    /// Whether the record reports a clip written (`evidence`, `end_evidence`).
    pub fn has_evidence(self) -> bool {
        matches!(self, AlertEvent::Evidence | AlertEvent::EndEvidence)
    }

    /// The record that reports the deletion of this record's clip.
    pub fn expiry(self) -> AlertEvent {
        match self {
            AlertEvent::EndEvidence | AlertEvent::EndExpired => AlertEvent::EndExpired,
            _ => AlertEvent::Expired,
        }
    }
}

/// A clip cut from the camera's own encoded stream.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClipRef {
    /// Path of the MP4 file.
    pub path: String,
    pub duration_secs: f64,
    /// Stream time of the clip's first frame (the file's own timestamps start at 0).
    pub first_pts_secs: f64,
    pub sha256: String,
}

/// Which object an alert is about: each engine numbers its objects its own way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ObjectRef {
    /// A tracker's track (`dwell`, `enter`, `count`, `line_cross`, `unsorted_waste`): JSON
    /// `track_id`.
    Track(TrackId),
    /// A static object of the waste scene (`waste_left`): JSON `static_id`.
    Static(u64),
    /// A falling object's track on the facade (`falling_object`): JSON `fall_id`.
    Fall(u64),
    /// Part of a zone rather than one object (`bin_overflow`: the rubbish above the fill line):
    /// no id in JSON.
    Region,
}

impl fmt::Display for ObjectRef {
    /// `#7` (a track), `static #3`, `fall #12`, `region`: as snapshots and the terminal label them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ObjectRef::Track(id) => write!(f, "#{id}"),
            ObjectRef::Static(id) => write!(f, "static #{id}"),
            ObjectRef::Fall(id) => write!(f, "fall #{id}"),
            ObjectRef::Region => f.write_str("region"),
        }
    }
}

/// One object the alert is about.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "WireObject", into = "WireObject")]
pub struct AlertObject {
    pub object: ObjectRef,
    pub class: String,
    pub score: f32,
    /// `[x1, y1, x2, y2]` in source-frame pixels.
    pub bbox_px: BBoxPx,
}

/// [`AlertObject`] as JSON: the object's id under the name of its kind, at most one of them.
/// Records stored before [`ObjectRef`] carried every id as `track_id`; they read as tracks.
#[derive(Clone, Serialize, Deserialize)]
struct WireObject {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    track_id: Option<TrackId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    static_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fall_id: Option<u64>,
    class: String,
    score: f32,
    bbox_px: BBoxPx,
}

impl TryFrom<WireObject> for AlertObject {
    type Error = String;

    fn try_from(w: WireObject) -> Result<Self, String> {
        let object = match (w.track_id, w.static_id, w.fall_id) {
            (Some(t), None, None) => ObjectRef::Track(t),
            (None, Some(s), None) => ObjectRef::Static(s),
            (None, None, Some(f)) => ObjectRef::Fall(f),
            (None, None, None) => ObjectRef::Region,
            _ => return Err("an alert object has one of track_id, static_id, fall_id".into()),
        };
        Ok(Self {
            object,
            class: w.class,
            score: w.score,
            bbox_px: w.bbox_px,
        })
    }
}

impl From<AlertObject> for WireObject {
    fn from(o: AlertObject) -> Self {
        let (mut track_id, mut static_id, mut fall_id) = (None, None, None);
        match o.object {
            ObjectRef::Track(t) => track_id = Some(t),
            ObjectRef::Static(s) => static_id = Some(s),
            ObjectRef::Fall(f) => fall_id = Some(f),
            ObjectRef::Region => {}
        }
        Self {
            track_id,
            static_id,
            fall_id,
            class: o.class,
            score: o.score,
            bbox_px: o.bbox_px,
        }
    }
}

/// The frame at the alert: annotated (zone, boxes, labels, track ids) and clean.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotRef {
    pub path: String,
    pub sha256: String,
    pub clean_path: String,
    pub clean_sha256: String,
}

/// Files backing an alert. Filled by the evidence stage; empty until it exists.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clip: Option<ClipRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<SnapshotRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Unique and stable for the alert's whole life (a UUIDv7: sortable by creation).
    pub id: AlertId,
    pub camera: CameraId,
    pub rule: RuleId,
    pub kind: AlertKind,
    pub event: AlertEvent,
    /// From the rule; records stored before severities existed read as `medium`.
    #[serde(default)]
    pub severity: Severity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<ZoneId>,
    /// Stream time at which the condition began (e.g. the object entered the zone).
    pub started_pts_secs: f64,
    /// Stream time at which the alert was raised (e.g. entered + dwell_secs).
    pub raised_pts_secs: f64,
    /// Stream time the condition ended (last seen in the zone); on `end` records only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_pts_secs: Option<f64>,
    /// Stream time of an `update` record (on those only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_pts_secs: Option<f64>,
    /// Wall-clock time of the frame that raised the alert (on `end`: that ended it), RFC 3339.
    pub wall_time: String,
    pub objects: Vec<AlertObject>,
    /// The path and origin of a falling object (`falling_object` alerts only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trajectory: Option<Box<Trajectory>>,
    pub evidence: Evidence,
    /// Hash of the previous record in the store (a hash chain: `vigil verify` detects records
    /// deleted, inserted, reordered or edited). Set by the store; absent before storing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev_hash: Option<String>,
}

/// The rule an alert comes from, as its records name it.
#[derive(Clone, Copy, Debug)]
pub struct Raiser<'a> {
    pub camera: &'a CameraId,
    pub rule: &'a RuleId,
    pub kind: AlertKind,
    pub severity: Severity,
    /// The rule's zone (none for a line).
    pub zone: Option<&'a ZoneId>,
}

/// Every engine's alert records come from these three constructors: ids, times and wall-clock
/// text are made in one place.
impl Alert {
    /// The `start` record of a new alert (a fresh UUIDv7 id), raised on the frame `meta` for a
    /// condition that began at stream time `started`.
    pub fn start(
        by: Raiser<'_>,
        meta: &FrameMeta,
        started: Duration,
        objects: Vec<AlertObject>,
    ) -> Self {
        Self {
            id: AlertId::fresh(),
            camera: by.camera.clone(),
            rule: by.rule.clone(),
            kind: by.kind,
            event: AlertEvent::Start,
            severity: by.severity,
            zone: by.zone.cloned(),
            started_pts_secs: started.as_secs_f64(),
            raised_pts_secs: meta.pts.as_secs_f64(),
            ended_pts_secs: None,
            updated_pts_secs: None,
            wall_time: crate::time::rfc3339(meta.wall_time),
            objects,
            trajectory: None,
            evidence: Evidence::default(),
            prev_hash: None,
        }
    }

    /// The `update` record of this alert: the situation still holds on the frame `meta`, its
    /// objects where they are now.
    pub fn update(&self, meta: &FrameMeta, objects: Vec<AlertObject>) -> Self {
        Self {
            event: AlertEvent::Update,
            updated_pts_secs: Some(meta.pts.as_secs_f64()),
            wall_time: crate::time::rfc3339(meta.wall_time),
            objects,
            ..self.clone()
        }
    }

    /// The `end` record of this alert: the situation ended at stream time `ended`, seen on the
    /// frame `meta`; `objects` as last seen, when given (else those of the `start`).
    pub fn end(
        &self,
        meta: &FrameMeta,
        ended: Duration,
        objects: Option<Vec<AlertObject>>,
    ) -> Self {
        Self {
            event: AlertEvent::End,
            ended_pts_secs: Some(ended.as_secs_f64()),
            updated_pts_secs: None,
            wall_time: crate::time::rfc3339(meta.wall_time),
            objects: objects.unwrap_or_else(|| self.objects.clone()),
            ..self.clone()
        }
    }
}

/// Where and when a falling object was seen.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrajectoryPoint {
    pub pts_secs: f64,
    /// Centre in source-frame pixels.
    pub x_px: f64,
    pub y_px: f64,
}

/// Where a fall started, from the facade calibration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FallOrigin {
    pub floor: i32,
    /// Window column, 1 = leftmost in the calibration.
    pub column: u32,
    /// In source-frame pixels.
    pub x_px: f64,
    pub y_px: f64,
    /// Metres above the calibration rectangle's bottom edge.
    pub height_m: f64,
    /// One standard deviation of that height, metres.
    pub uncertainty_m: f64,
    /// Floors within two standard deviations: `[lowest, highest]`.
    pub floor_range: [i32; 2],
    /// Stream time of the release (extrapolated).
    pub pts_secs: f64,
    /// `apex` (extrapolated back to zero vertical speed) or `first_sighting`.
    pub method: String,
}

/// A falling object's path: the sightings, the fitted motion, and the origin.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trajectory {
    pub points: Vec<TrajectoryPoint>,
    /// Fitted downward acceleration on the facade, m/s² (9.8 without drag).
    pub acceleration_mps2: f64,
    /// Metres dropped while tracked.
    pub drop_m: f64,
    /// Speed at the last sighting, m/s.
    pub speed_mps: f64,
    pub origin: FallOrigin,
}

/// Which alert records a receiver wants (a webhook endpoint, say). Each set left empty matches
/// everything; a record must match every set that is not empty.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AlertFilter {
    pub cameras: Vec<CameraId>,
    pub kinds: Vec<AlertKind>,
    pub events: Vec<AlertEvent>,
    /// Only alerts at least this severe.
    pub min_severity: Option<Severity>,
}

impl AlertFilter {
    pub fn matches(&self, alert: &Alert) -> bool {
        (self.cameras.is_empty() || self.cameras.contains(&alert.camera))
            && (self.kinds.is_empty() || self.kinds.contains(&alert.kind))
            && (self.events.is_empty() || self.events.contains(&alert.event))
            && self.min_severity.is_none_or(|m| alert.severity >= m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(pts_ms: u64) -> FrameMeta {
        FrameMeta {
            camera: CameraId::new("lot"),
            seq: 0,
            pts: Duration::from_millis(pts_ms),
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
}
