//! `lane_obstructed` rules over one camera's [`Scene`]: one alert per obstruction, ended when it
//! is gone.

use crate::passage::{Footprint, blockages};
use vigil_core::{Alert, AlertKind, FrameMeta, Image, Raiser, Track};
use vigil_scene::{Gone, Scene, SceneConfig, SceneStats, StaticObject, stream_time};
use vigil_spec::lane::{LaneRule, Passage};

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
    /// Per rule: its open alerts.
    open: Vec<Vec<Open>>,
}

/// An open alert and the objects it is about (one, or with a passage, the objects that narrow
/// it together).
struct Open {
    members: Vec<u64>,
    alert: Alert,
}

impl LaneEngine {
    /// `config.promote_secs` is lowered to [`PROMOTE_SHARE`] of the shortest `dwell_secs` of the
    /// rules.
    pub fn new(mut config: SceneConfig, rules: Vec<LaneRule>) -> Self {
        if let Some(min) = rules.iter().map(|r| r.dwell_secs).reduce(f64::min) {
            config.promote_secs = config.promote_secs.min(PROMOTE_SHARE * min);
        }
        let zones = rules.iter().map(|r| r.polygon.clone()).collect();
        let open = rules.iter().map(|_| Vec::new()).collect();
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
        for (o, how) in &events.gone {
            if *how == Gone::Absorbed {
                // Not with lane settings (`absorb_secs` is infinite), but a caller may pass its
                // own.
                tracing::info!(
                    object = o.id,
                    "obstruction there too long: now part of the scene"
                );
            }
        }
        let mut alerts = Vec::new();
        for (z, (rule, open)) in self.rules.iter().zip(&mut self.open).enumerate() {
            let active = rule
                .schedule
                .as_ref()
                .is_none_or(|s| s.active(meta.wall_time));
            let blocking = match &rule.passage {
                // An object alerted on obstructs until it is gone; another is counted (its
                // share of the zone) only once it has stood `dwell_secs`.
                None => self
                    .scene
                    .objects()
                    .iter()
                    .filter(|o| {
                        open.iter().any(|a| a.members.contains(&o.id))
                            || (pts - o.since >= rule.dwell_secs
                                && self.scene.covered(z, o.id) >= rule.min_fraction)
                    })
                    .map(|o| vec![o.id])
                    .collect(),
                Some(p) => narrowing(&self.scene, z, p),
            };
            // Alerts whose objects no longer obstruct (gone, or the passage open again) end.
            open.retain(|o| {
                if blocking
                    .iter()
                    .any(|b| b.iter().any(|id| o.members.contains(id)))
                {
                    return true;
                }
                let gone: Vec<&StaticObject> = events
                    .gone
                    .iter()
                    .map(|(g, _)| g)
                    .filter(|g| o.members.contains(&g.id))
                    .collect();
                let last = gone
                    .iter()
                    .map(|g| g.last_seen)
                    .reduce(f64::max)
                    .unwrap_or(pts);
                let objects = o
                    .members
                    .iter()
                    .filter_map(|id| {
                        let here = self.scene.objects().iter().find(|s| s.id == *id);
                        here.or_else(|| gone.iter().copied().find(|g| g.id == *id))
                    })
                    .map(|s| s.alert_object(source))
                    .collect();
                alerts.push(o.alert.end(meta, stream_time(last), Some(objects)));
                false
            });
            for b in blocking {
                if let Some(o) = open
                    .iter_mut()
                    .find(|o| b.iter().any(|id| o.members.contains(id)))
                {
                    // Still obstructed, perhaps by other objects of the group now.
                    o.members = b;
                    continue;
                }
                let objects: Vec<&StaticObject> = b
                    .iter()
                    .filter_map(|id| self.scene.objects().iter().find(|o| o.id == *id))
                    .collect();
                let Some(since) = objects.iter().map(|o| o.since).reduce(f64::max) else {
                    continue;
                };
                if !active || pts - since < rule.dwell_secs {
                    continue;
                }
                let by = Raiser {
                    camera: &rule.camera,
                    rule: &rule.id,
                    kind: AlertKind::LaneObstructed,
                    severity: rule.severity,
                    zone: Some(&rule.zone),
                };
                let objects = objects.iter().map(|o| o.alert_object(source)).collect();
                let alert = Alert::start(by, meta, stream_time(since), objects);
                alerts.push(alert.clone());
                open.push(Open { members: b, alert });
            }
        }
        alerts
    }
}

/// The groups of objects in zone `z` that leave less than the rule's passage open, each as the
/// ids of the objects at its narrowest cross section.
fn narrowing(scene: &Scene, z: usize, passage: &Passage) -> Vec<Vec<u64>> {
    let ground = &passage.ground;
    let (ids, footprints): (Vec<u64>, Vec<Footprint>) = scene
        .objects()
        .iter()
        .filter(|o| scene.covered(z, o.id) > 0.0)
        .filter_map(|o| Some((o.id, Footprint::on(ground, &scene.columns(o.id))?)))
        .unzip();
    blockages(ground.width_m, passage.min_width_m, &footprints)
        .into_iter()
        .map(|b| b.members.iter().map(|&i| ids[i]).collect())
        .collect()
}
