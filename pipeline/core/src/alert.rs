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
    /// Something new and static (a car, an e-bike, goods, debris) covers part of a lane that must
    /// stay clear; ended when the lane is clear again.
    LaneObstructed,
}

impl AlertKind {
    pub const ALL: [AlertKind; 9] = [
        AlertKind::Dwell,
        AlertKind::Enter,
        AlertKind::Count,
        AlertKind::LineCross,
        AlertKind::FallingObject,
        AlertKind::WasteLeft,
        AlertKind::BinOverflow,
        AlertKind::UnsortedWaste,
        AlertKind::LaneObstructed,
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
            AlertKind::LaneObstructed => "lane_obstructed",
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
    /// `expired` records: the retention rule that deleted the clip, and what it measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<RetentionGrounds>,
}

/// Why retention deleted a clip: the rule, the limit in force, what was measured against it, and
/// when — so `vigil verify` can tell a deletion retention justified from a clip deleted by hand
/// and covered by a made-up `expired` record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionGrounds {
    /// `max_age_days`, `max_mb_per_camera` or `max_total_mb`.
    pub rule: String,
    /// The limit in force: days, or megabytes.
    pub limit: f64,
    /// What exceeded it: the clip's age in days, or the camera's or all clips' megabytes.
    pub measured: f64,
    /// When the clip was deleted (RFC 3339, UTC).
    pub deleted_at: String,
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
    /// What people call the camera, zone and rule (the config's `display_name`s), where set.
    #[serde(default, skip_serializing_if = "DisplayNames::is_empty")]
    pub names: DisplayNames,
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

/// What people call an alert's camera, zone and rule (`3号楼东门`, `消防通道`, `消防通道占用`):
/// any Unicode, from the config's `display_name`s; each absent where none is set, and the id is
/// shown instead.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisplayNames {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub camera: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

impl DisplayNames {
    pub fn is_empty(&self) -> bool {
        self.camera.is_none() && self.zone.is_none() && self.rule.is_none()
    }
}

impl Alert {
    /// The camera as people call it: its display name, else its id.
    pub fn camera_name(&self) -> &str {
        self.names.camera.as_deref().unwrap_or(self.camera.as_str())
    }

    /// The zone as people call it, if the alert has one.
    pub fn zone_name(&self) -> Option<&str> {
        self.names
            .zone
            .as_deref()
            .or(self.zone.as_ref().map(|z| z.as_str()))
    }

    /// The rule as people call it.
    pub fn rule_name(&self) -> &str {
        self.names.rule.as_deref().unwrap_or(self.rule.as_str())
    }
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
            names: DisplayNames::default(),
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
mod tests;
