//! Waste rules over one camera's [`Scene`]: `waste_left` (one alert per new static object in a
//! bin zone, ended when it is removed) and `bin_overflow` (static rubbish above a bin's fill
//! line or over much of its zone; one alert per spell, ended when cleared).

use std::collections::HashMap;
use vigil_core::{
    Alert, AlertObject, BBoxPx, FrameMeta, Image, ObjectRef, PointNorm, Raiser, Track,
};
use vigil_scene::{Gone, Scene, SceneConfig, SceneStats, StaticObject, stream_time};
pub use vigil_spec::waste::{WasteCheck, WasteRule};

/// Whether the normalised point is above (smaller y than) the line through `a` and `b` at its x.
fn above((a, b): (PointNorm, PointNorm), x: f64, y: f64) -> bool {
    if (b.x - a.x).abs() < 1e-9 {
        return y < a.y.min(b.y);
    }
    let t = (x - a.x) / (b.x - a.x);
    y < a.y + t * (b.y - a.y)
}

#[derive(Default)]
struct RuleState {
    /// `waste_left`: open alerts by object id.
    open: HashMap<u64, Alert>,
    /// `bin_overflow`: the spell in progress.
    spell: Option<Spell>,
}

struct Spell {
    last_full: f64,
    bbox: BBoxPx,
    alert: Option<Alert>,
}

/// A spell ends once the bin has looked cleared for this long.
const CLEAR_SECS: f64 = 3.0;

/// One camera's waste rules and the scene they read.
pub struct WasteEngine {
    scene: Scene,
    rules: Vec<WasteRule>,
    state: Vec<RuleState>,
}

impl WasteEngine {
    /// `config.promote_secs` is lowered to the shortest `static_secs` of the rules.
    pub fn new(mut config: SceneConfig, rules: Vec<WasteRule>) -> Self {
        if let Some(min) = rules.iter().map(|r| r.static_secs).reduce(f64::min) {
            config.promote_secs = config.promote_secs.min(min);
        }
        let zones = rules.iter().map(|r| r.polygon.clone()).collect();
        let state = rules.iter().map(|_| RuleState::default()).collect();
        Self {
            scene: Scene::new(config, zones),
            rules,
            state,
        }
    }

    pub fn rules(&self) -> &[WasteRule] {
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
        for (z, (rule, state)) in self.rules.iter().zip(&mut self.state).enumerate() {
            let active = rule
                .schedule
                .as_ref()
                .is_none_or(|s| s.active(meta.wall_time));
            match &rule.check {
                WasteCheck::Left => {
                    for (o, how) in &events.gone {
                        if let Some(alert) = state.open.remove(&o.id) {
                            if *how == Gone::Absorbed {
                                tracing::info!(camera = %rule.camera, rule = %rule.id, object = o.id, "object there too long: now part of the scene");
                            }
                            alerts.push(end(
                                alert,
                                o.last_seen,
                                Some(o.alert_object(source)),
                                meta,
                            ));
                        }
                    }
                    for o in self.scene.objects() {
                        if state.open.contains_key(&o.id)
                            || !active
                            || pts - o.since < rule.static_secs
                            || rule.polygon.fraction_of_box_inside(o.bbox_px, source) < 0.5
                        {
                            continue;
                        }
                        let area = f64::from(o.bbox_px.area())
                            / (f64::from(source.width) * f64::from(source.height));
                        if !(rule.min_area..=rule.max_area).contains(&area) {
                            continue;
                        }
                        let alert = start(rule, meta, o.since, o.alert_object(source));
                        state.open.insert(o.id, alert.clone());
                        alerts.push(alert);
                    }
                }
                WasteCheck::Overflow {
                    fill_line,
                    min_above,
                    max_fill,
                } => {
                    let [whole, upper] = self.scene.fill(z, rule.static_secs, source, |x, y| {
                        fill_line.is_some_and(|line| above(line, x, y))
                    });
                    let (whole, whole_box, top, top_box) =
                        (whole.fraction, whole.bbox, upper.fraction, upper.bbox);
                    let full = (fill_line.is_some() && top >= *min_above) || whole >= *max_fill;
                    if full {
                        let bbox = top_box.or(whole_box).unwrap_or_default();
                        let spell = state.spell.get_or_insert(Spell {
                            last_full: pts,
                            bbox,
                            alert: None,
                        });
                        spell.last_full = pts;
                        spell.bbox = bbox;
                        if spell.alert.is_none() && active {
                            let o = AlertObject {
                                object: ObjectRef::Region,
                                class: "overflow".into(),
                                score: whole.max(top) as f32,
                                bbox_px: bbox,
                            };
                            let alert = start(rule, meta, pts - rule.static_secs, o);
                            spell.alert = Some(alert.clone());
                            alerts.push(alert);
                        }
                    } else if let Some(spell) = &state.spell
                        && pts - spell.last_full >= CLEAR_SECS
                    {
                        let spell = state.spell.take().expect("checked");
                        if let Some(alert) = spell.alert {
                            alerts.push(end(alert, spell.last_full, None, meta));
                        }
                    }
                }
            }
        }
        alerts
    }
}

fn start(rule: &WasteRule, meta: &FrameMeta, started: f64, object: AlertObject) -> Alert {
    let by = Raiser {
        camera: &rule.camera,
        rule: &rule.id,
        kind: rule.check.alert_kind(),
        severity: rule.severity,
        zone: Some(&rule.zone),
    };
    Alert::start(by, meta, stream_time(started), vec![object])
}

fn end(alert: Alert, last: f64, object: Option<AlertObject>, meta: &FrameMeta) -> Alert {
    alert.end(meta, stream_time(last), object.map(|o| vec![o]))
}
