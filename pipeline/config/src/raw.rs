//! Phase one: the YAML as written, with locations on every value validation talks about.

use crate::raw_falling::{RawFacade, RawFalling};
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::BTreeMap;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfig {
    pub cameras: Spanned<Vec<RawCamera>>,
    pub detector: RawDetector,
    #[serde(default)]
    pub rules: Vec<RawRule>,
    /// Rule files (zones and rules), relative to the config.
    #[serde(default)]
    pub rule_files: Vec<Spanned<String>>,
    #[serde(default)]
    pub outputs: RawOutputs,
    #[serde(default)]
    pub evidence: Option<RawEvidence>,
    #[serde(default)]
    pub tracker: Option<RawTracker>,
    #[serde(default)]
    pub api: Option<RawApi>,
    /// The decoder of every camera without its own `decoder:`.
    #[serde(default)]
    pub decoder: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTracker {
    pub high_score: Option<Spanned<f32>>,
    pub low_score: Option<Spanned<f32>>,
    pub new_track_score: Option<Spanned<f32>>,
    pub match_iou: Option<Spanned<f32>>,
    pub low_match_iou: Option<Spanned<f32>>,
    pub max_lost_secs: Option<Spanned<f64>>,
    pub min_hits: Option<Spanned<u32>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEvidence {
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub pre_roll_secs: Option<Spanned<f64>>,
    #[serde(default)]
    pub post_roll_secs: Option<Spanned<f64>>,
    #[serde(default)]
    pub max_clip_secs: Option<Spanned<f64>>,
    #[serde(default)]
    pub max_ring_mb: Option<Spanned<f64>>,
    #[serde(default)]
    pub max_age_days: Option<Spanned<f64>>,
    #[serde(default)]
    pub max_mb_per_camera: Option<Spanned<f64>>,
    #[serde(default)]
    pub max_total_mb: Option<Spanned<f64>>,
    #[serde(default)]
    pub keep_unacknowledged_longest: Option<bool>,
    /// Sign the chain's head off the box.
    #[serde(default)]
    pub anchor: Option<RawAnchor>,
    /// The font snapshot captions are drawn in (found on the system without it).
    #[serde(default)]
    pub font_file: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAnchor {
    /// The ed25519 key (`vigil keygen`), outside the output folder.
    pub key_file: Spanned<String>,
    /// Where anchors are appended: another mount.
    pub file: Spanned<String>,
    #[serde(default)]
    pub every_records: Option<Spanned<u32>>,
    #[serde(default)]
    pub every_secs: Option<Spanned<f64>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RawTransport {
    #[default]
    Tcp,
    Udp,
}

/// Zone name → polygon `[[x, y], …]` in normalised coordinates.
pub(crate) type RawZones = BTreeMap<String, Spanned<Vec<[f64; 2]>>>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCamera {
    pub name: Spanned<String>,
    /// What people call it (`3号楼东门`): any Unicode, shown on the page, in pushes, on snapshots.
    #[serde(default)]
    pub display_name: Option<Spanned<String>>,
    /// Zone name → what people call the zone (`消防通道`).
    #[serde(default)]
    pub zone_names: BTreeMap<String, Spanned<String>>,
    /// Model label → the label it stands for on this camera (`cell phone: car` for a view
    /// from straight above, where COCO models call cars phones).
    #[serde(default)]
    pub class_map: BTreeMap<String, Spanned<String>>,
    /// The smallest box `class_map` renames, as a fraction of the frame (smaller ones keep
    /// their class).
    #[serde(default)]
    pub class_map_min_area: Option<Spanned<f64>>,
    /// The stream decoded for detection: the camera's sub-stream when it has one.
    #[serde(default)]
    pub rtsp: Option<Spanned<String>>,
    /// The camera's main stream, recorded as evidence and never decoded (same credentials,
    /// transport and latency as `rtsp:`).
    #[serde(default)]
    pub record: Option<Spanned<String>>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    /// The password from this environment variable (a Kubernetes Secret, say).
    #[serde(default)]
    pub password_env: Option<Spanned<String>>,
    #[serde(default)]
    pub transport: RawTransport,
    #[serde(default)]
    pub latency_ms: Option<Spanned<u32>>,
    #[serde(default)]
    pub file: Option<Spanned<String>>,
    #[serde(default, rename = "loop")]
    pub looping: bool,
    #[serde(default)]
    pub detect_fps: Option<Spanned<f64>>,
    /// A live camera connected but sending nothing this long is treated as dropped.
    #[serde(default)]
    pub stall_secs: Option<Spanned<f64>>,
    /// `auto`, `software`, `vaapi` or `nvdec`.
    #[serde(default)]
    pub decoder: Option<Spanned<String>>,
    /// Turns motion-gated detection off (or on) for this camera.
    #[serde(default)]
    pub motion_gate: Option<bool>,
    /// Zone name → polygon `[[x, y], …]` in normalised coordinates.
    #[serde(default)]
    pub zones: RawZones,
    #[serde(default)]
    pub privacy: Option<RawPrivacy>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPrivacy {
    /// The view looks at residents' windows: blur people in snapshots unless `blur` says else.
    #[serde(default)]
    pub faces_windows: bool,
    #[serde(default)]
    pub blur: Option<Vec<Spanned<String>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDetector {
    pub manifest: Spanned<String>,
    #[serde(default)]
    pub score_threshold: Option<Spanned<f32>>,
    #[serde(default)]
    pub nms_iou: Option<Spanned<f32>>,
    #[serde(default)]
    pub detect_fps: Option<Spanned<f64>>,
    #[serde(default)]
    pub intra_threads: Option<Spanned<usize>>,
    #[serde(default)]
    pub workers: Option<Spanned<usize>>,
    /// `cpu` (default), `cuda`, `cuda:N`.
    #[serde(default)]
    pub execution_provider: Option<Spanned<String>>,
    #[serde(default)]
    pub motion_gate: Option<RawMotionGate>,
}

/// `detector.motion_gate`: when the detector may skip a frame in which nothing moved.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMotionGate {
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub stationary_check_secs: Option<Spanned<f64>>,
    #[serde(default)]
    pub threshold: Option<Spanned<f32>>,
    #[serde(default)]
    pub margin: Option<Spanned<f64>>,
    #[serde(default)]
    pub settle_frames: Option<Spanned<u32>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RawRuleKind {
    Dwell,
    Enter,
    Count,
    LineCross,
    FallingObject,
    Waste,
    LaneObstructed,
}

impl RawRuleKind {
    pub fn name(self) -> &'static str {
        match self {
            RawRuleKind::Dwell => "dwell",
            RawRuleKind::Enter => "enter",
            RawRuleKind::Count => "count",
            RawRuleKind::LineCross => "line_cross",
            RawRuleKind::FallingObject => "falling_object",
            RawRuleKind::Waste => "waste",
            RawRuleKind::LaneObstructed => "lane_obstructed",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRule {
    pub name: Spanned<String>,
    /// What people call the rule (`消防通道占用`): any Unicode.
    #[serde(default)]
    pub display_name: Option<Spanned<String>>,
    pub kind: Spanned<RawRuleKind>,
    pub camera: Spanned<String>,
    /// `dwell`, `enter`, `count`.
    #[serde(default)]
    pub zone: Option<Spanned<String>>,
    /// Detector rules (required there); not for `falling_object`.
    #[serde(default)]
    pub classes: Option<Spanned<Vec<Spanned<String>>>>,
    /// `dwell` (required), `count` (default 0).
    #[serde(default)]
    pub dwell_secs: Option<Spanned<f64>>,
    /// `count`: alert when more objects than this are in the zone.
    #[serde(default)]
    pub more_than: Option<Spanned<usize>>,
    /// `line_cross`: `[[x, y], [x, y]]`, normalised.
    #[serde(default)]
    pub line: Option<Spanned<[[f64; 2]; 2]>>,
    /// `line_cross`: `any` (default), `left_to_right`, `right_to_left`.
    #[serde(default)]
    pub direction: Option<Spanned<String>>,
    /// `bottom_centre` (default), `centre` or `overlap` (with `min_overlap`).
    #[serde(default)]
    pub anchor: Option<Spanned<String>>,
    /// `overlap` anchor: the fraction of the box that must be inside (default 0.5).
    #[serde(default)]
    pub min_overlap: Option<Spanned<f64>>,
    /// Zones of the camera where objects do not count.
    #[serde(default)]
    pub exclude: Vec<Spanned<String>>,
    /// Consecutive frames inside before an object counts.
    #[serde(default)]
    pub inertia: Option<Spanned<u32>>,
    #[serde(default)]
    pub repeat_after_secs: Option<Spanned<f64>>,
    #[serde(default)]
    pub min_score: Option<Spanned<f64>>,
    #[serde(default)]
    pub max_gap_secs: Option<Spanned<f64>>,
    #[serde(default)]
    pub severity: Option<Spanned<String>>,
    #[serde(default)]
    pub update_after_secs: Option<Spanned<f64>>,
    #[serde(default)]
    pub cooldown_secs: Option<Spanned<f64>>,
    #[serde(default)]
    pub min_area: Option<Spanned<f64>>,
    #[serde(default)]
    pub max_area: Option<Spanned<f64>>,
    #[serde(default)]
    pub schedule: Option<RawSchedule>,
    /// `falling_object`: the facade calibration (required).
    #[serde(default)]
    pub facade: Option<Spanned<RawFacade>>,
    /// `falling_object`: detector tuning.
    #[serde(default)]
    pub falling: Option<Spanned<RawFalling>>,
    /// `waste`: `waste_left`, `bin_overflow` or `unsorted_waste` (required).
    #[serde(default)]
    pub check: Option<Spanned<String>>,
    /// `waste_left`, `bin_overflow`: how long it must stay before it alerts.
    #[serde(default)]
    pub static_secs: Option<Spanned<f64>>,
    /// `bin_overflow`: `[[x, y], [x, y]]`, normalised: the bin's rim or fill line.
    #[serde(default)]
    pub fill_line: Option<Spanned<[[f64; 2]; 2]>>,
    /// `bin_overflow`: fraction of the zone above the fill line that must be filled.
    #[serde(default)]
    pub min_above: Option<Spanned<f64>>,
    /// `bin_overflow`: fraction of the whole zone that counts as overflowing.
    #[serde(default)]
    pub max_fill: Option<Spanned<f64>>,
    /// `unsorted_waste`: the categories (groups or classes) the bin takes.
    #[serde(default)]
    pub accepts: Option<Spanned<Vec<Spanned<String>>>>,
    /// `lane_obstructed`: the smallest part of the zone an obstruction covers.
    #[serde(default)]
    pub min_fraction: Option<Spanned<f64>>,
    /// `lane_obstructed` with `ground` (its width calibration): the passage it must leave open.
    #[serde(default)]
    pub min_width_m: Option<Spanned<f64>>,
    #[serde(default)]
    pub ground: Option<Spanned<RawGround>>,
}

/// A lane's ground: four image points (normalised), the first two across it, then along it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawGround {
    pub corners: Spanned<[[f64; 2]; 4]>,
    pub width_m: Spanned<f64>,
    pub length_m: Spanned<f64>,
}

/// When a rule is in force: weekly windows in a time zone.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSchedule {
    /// IANA name (`Asia/Shanghai`, the default).
    #[serde(default)]
    pub timezone: Option<Spanned<String>>,
    pub windows: Spanned<Vec<RawWindow>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWindow {
    /// `mon` … `sun`, `weekdays`, `weekends`, `daily`.
    pub days: Spanned<Vec<Spanned<String>>>,
    /// `HH:MM`.
    pub from: Spanned<String>,
    pub to: Spanned<String>,
}

/// A rule file: more zones (camera → zone → polygon) and rules.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRuleFile {
    #[serde(default)]
    pub zones: BTreeMap<String, RawZones>,
    /// Camera → zone → what people call the zone.
    #[serde(default)]
    pub zone_names: BTreeMap<String, BTreeMap<String, Spanned<String>>>,
    #[serde(default)]
    pub rules: Vec<RawRule>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOutputs {
    #[serde(default)]
    pub dir: Option<String>,
    #[serde(default)]
    pub stdout: Option<bool>,
    #[serde(default)]
    pub webhooks: Vec<RawWebhook>,
    #[serde(default)]
    pub mqtt: Option<RawMqtt>,
    /// The shared store: every record also written to one PostgreSQL table.
    #[serde(default)]
    pub postgres: Option<RawPostgres>,
    /// WeCom, DingTalk and Feishu group robots.
    #[serde(default)]
    pub robots: Vec<RawRobot>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRobot {
    pub name: Spanned<String>,
    /// `wecom`, `dingtalk` or `feishu`.
    pub kind: Spanned<String>,
    /// The robot's webhook URL (it holds the robot's key: prefer `url_env`).
    #[serde(default)]
    pub url: Option<Spanned<String>>,
    #[serde(default)]
    pub url_env: Option<Spanned<String>>,
    /// The signing secret (DingTalk "加签", Feishu "签名校验").
    #[serde(default)]
    pub secret_env: Option<Spanned<String>>,
    /// The page's address, for a link to the alert.
    #[serde(default)]
    pub link_base: Option<Spanned<String>>,
    #[serde(default)]
    pub filter: Option<RawFilter>,
    /// An `http://` url beyond loopback, on purpose.
    #[serde(default)]
    pub insecure_plaintext: Option<Spanned<bool>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPostgres {
    /// `postgres://user@host:port/database`.
    pub url: Spanned<String>,
    #[serde(default)]
    pub password_env: Option<Spanned<String>>,
    /// PEM CA certificate(s) of the server's certificate, relative to the config's folder.
    #[serde(default)]
    pub ca_file: Option<Spanned<String>>,
    #[serde(default)]
    pub filter: RawFilter,
    /// This instance's ed25519 key (`vigil keygen`): it signs the requests forwarded to others.
    #[serde(default)]
    pub identity_key: Option<Spanned<String>>,
    /// The district's instances, kept by an admin: the only ones requests are forwarded to, or
    /// taken from.
    #[serde(default)]
    pub instances: Vec<RawInstance>,
    /// PEM CA certificate(s) that signed the `https://` instances' certificates.
    #[serde(default)]
    pub instances_ca_file: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawInstance {
    pub name: Spanned<String>,
    /// `http[s]://host:port` of its API.
    pub url: Spanned<String>,
    /// Its identity key's public half, 64 hex digits.
    pub public_key: Spanned<String>,
}

/// Which records a receiver wants; every list left out matches all.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFilter {
    #[serde(default)]
    pub cameras: Vec<Spanned<String>>,
    #[serde(default)]
    pub kinds: Vec<Spanned<String>>,
    #[serde(default)]
    pub events: Vec<Spanned<String>>,
    #[serde(default)]
    pub min_severity: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWebhook {
    pub name: Spanned<String>,
    pub url: Spanned<String>,
    /// Environment variable holding the HMAC secret (preferred to `secret`).
    #[serde(default)]
    pub secret_env: Option<Spanned<String>>,
    #[serde(default)]
    pub secret: Option<Spanned<String>>,
    #[serde(default)]
    pub timeout_secs: Option<Spanned<f64>>,
    #[serde(default)]
    pub filter: RawFilter,
    /// An `http://` url beyond loopback, on purpose (alerts and their signature in the clear).
    #[serde(default)]
    pub insecure_plaintext: Option<Spanned<bool>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMqtt {
    pub host: Spanned<String>,
    #[serde(default)]
    pub port: Option<Spanned<u16>>,
    #[serde(default)]
    pub client_id: Option<Spanned<String>>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password_env: Option<Spanned<String>>,
    #[serde(default)]
    pub topic_prefix: Option<Spanned<String>>,
    /// Seconds between keep-alives; the broker publishes vigil's last will after 1.5 of them
    /// without word.
    #[serde(default)]
    pub keep_alive_secs: Option<Spanned<u64>>,
    #[serde(default)]
    pub filter: RawFilter,
    #[serde(default)]
    pub tls: Option<RawMqttTls>,
    /// A broker beyond loopback without TLS, on purpose.
    #[serde(default)]
    pub insecure_plaintext: Option<Spanned<bool>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMqttTls {
    pub ca_file: Spanned<String>,
    #[serde(default)]
    pub cert_file: Option<Spanned<String>>,
    #[serde(default)]
    pub key_file: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawApi {
    /// `host:port` to listen on.
    pub listen: Spanned<String>,
    #[serde(default)]
    pub tokens: Vec<RawToken>,
    /// HTTPS: the certificate chain and key (PEM).
    #[serde(default)]
    pub tls: Option<RawTls>,
    /// Plain HTTP on an address other than loopback, on purpose (a TLS proxy in front).
    #[serde(default)]
    pub insecure_plaintext: Option<Spanned<bool>>,
    /// The named accounts' database (`vigil user …`), relative to the config's folder.
    #[serde(default)]
    pub users: Option<Spanned<String>>,
    /// The page's alarm for new alerts.
    #[serde(default)]
    pub alarm: Option<RawAlarm>,
    /// The page's live view.
    #[serde(default)]
    pub live: Option<RawLive>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLive {
    /// Pictures a second per watched camera.
    #[serde(default)]
    pub fps: Option<Spanned<f64>>,
    /// Viewers watching at once on this box.
    #[serde(default)]
    pub max_viewers: Option<Spanned<u32>>,
    /// JPEG quality, 30–95.
    #[serde(default)]
    pub quality: Option<Spanned<u32>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAlarm {
    /// The least severity that sounds (`low`, `medium`, `high`, `critical`).
    pub min_severity: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTls {
    pub cert_file: Spanned<String>,
    pub key_file: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawToken {
    /// Who holds the token (shown as the acknowledger).
    pub name: Spanned<String>,
    pub role: Spanned<String>,
    /// Hex sha256 of the token; the token itself is never written in the file.
    pub sha256: Spanned<String>,
}
