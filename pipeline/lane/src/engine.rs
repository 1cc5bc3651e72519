//! `lane_obstructed` rules over one camera's [`Scene`]: one alert per obstruction, ended when it
//! is gone.

use std::collections::HashMap;
use vigil_core::{Alert, AlertKind, FrameMeta, Image, Raiser, Track};
use vigil_scene::{Gone, Scene, SceneConfig, SceneStats, StaticObject, stream_time};
use vigil_spec::lane::LaneRule;

/// The static-object detector as lanes need it: only people hide the ground (vehicles and
/// anything else left standing are what the rule is for), and nothing left in the lane is ever
/// absorbed into the background. A car close under a low camera covers much of the frame, so a change of most of it at once
/// (the relearn that follows the light) takes four fifths of the frame, not half.
pub fn scene_config() -> SceneConfig {
    SceneConfig {
        ignore: vec!["person".into()],
        absorb_secs: f64::INFINITY,
        global_change: 0.8,
        min_area: LANE_MIN_AREA,
        ..SceneConfig::default()
    }
}

/// The smallest obstruction, as a fraction of the frame: an e-bike 15–20 m down the lane from a
/// camera looking along it is about 4 × 8 pixels of a 320 × 180 frame (the waste stage's
/// default is half again as large).
const LANE_MIN_AREA: f64 = 0.0003;

/// An obstruction becomes an object after this share of the rule's `dwell_secs` of static time:
/// static time starts once the short-term model has taken it in and pauses while anything
/// passes over it, so an object promoted at the full dwell would alert seconds late (the alert
/// itself still waits until `dwell_secs` after it arrived).
const PROMOTE_SHARE: f64 = 0.7;

/// One camera's `lane_obstructed` rules and the scene they read.
pub struct LaneEngine {
    scene: Scene,
    rules: Vec<LaneRule>,
    /// Per rule: open alerts by object id.
    open: Vec<HashMap<u64, Alert>>,
}

impl LaneEngine {
    /// `config.promote_secs` is lowered to [`PROMOTE_SHARE`] of the shortest `dwell_secs` of the
    /// rules.
    pub fn new(mut config: SceneConfig, rules: Vec<LaneRule>) -> Self {
        if let Some(min) = rules.iter().map(|r| r.dwell_secs).reduce(f64::min) {
            config.promote_secs = config.promote_secs.min(PROMOTE_SHARE * min);
        }
        let zones = rules.iter().map(|r| r.polygon.clone()).collect();
        let open = rules.iter().map(|_| HashMap::new()).collect();
        Self {
            scene: Scene::new(config, zones),
            rules,
            open,
        }
    }

    pub fn rules(&self) -> &[LaneRule] {
        &self.rules
    }

    pub fn stats(&self) -> &SceneStats {
        self.scene.stats()
    }

    pub fn objects(&self) -> &[StaticObject] {
        self.scene.objects()
    }

    /// One frame: the scene, then every rule. Returns this frame's alert records.
    pub fn step(&mut self, meta: &FrameMeta, image: &Image, tracks: &[Track]) -> Vec<Alert> {
        let pts = meta.pts.as_secs_f64();
        let source = meta.source_size;
        let events = self.scene.step(pts, image, source, tracks);
        let mut alerts = Vec::new();
        for (z, (rule, open)) in self.rules.iter().zip(&mut self.open).enumerate() {
            for (o, how) in &events.gone {
                if let Some(alert) = open.remove(&o.id) {
                    if *how == Gone::Absorbed {
                        // Not with lane settings (`absorb_secs` is infinite), but a caller may
                        // pass its own.
                        tracing::info!(camera = %rule.camera, rule = %rule.id, object = o.id, "obstruction there too long: now part of the scene");
                    }
                    let last = stream_time(o.last_seen);
                    alerts.push(alert.end(meta, last, Some(vec![o.alert_object(source)])));
                }
            }
            let active = rule
                .schedule
                .as_ref()
                .is_none_or(|s| s.active(meta.wall_time));
            if !active {
                continue;
            }
            for o in self.scene.objects() {
                if open.contains_key(&o.id)
                    || pts - o.since < rule.dwell_secs
                    || self.scene.covered(z, o.id) < rule.min_fraction
                {
                    continue;
                }
                let by = Raiser {
                    camera: &rule.camera,
                    rule: &rule.id,
                    kind: AlertKind::LaneObstructed,
                    severity: rule.severity,
                    zone: Some(&rule.zone),
                };
                let alert =
                    Alert::start(by, meta, stream_time(o.since), vec![o.alert_object(source)]);
                open.insert(o.id, alert.clone());
                alerts.push(alert);
            }
        }
        alerts
    }
}
