//! A case run with motion-gated detection, as the pipeline gates a camera: the scripted scene
//! stands in for the picture (an object appearing, leaving or moving in or near a zone is
//! motion; a detector miss is not, the scene did not change), and on a frame the gate skips
//! the rules get what the detector found at its last look ([`Carry`]). The alerts must be the
//! ones the case expects, as without the gate.

use vigil_config::cases::Case;
use vigil_core::{BBoxPx, Track};
use vigil_motion::{Carry, Gate, MotionGate, RectNorm, Shared, score_floor, watched_area};

/// The frames' tracks as the rules see them with the gate on, frame by frame.
pub struct GatedScene<'a> {
    case: &'a Case,
    gate: Gate,
    carry: Carry<Track>,
    shared: std::sync::Arc<Shared>,
    watched: Vec<RectNorm>,
    /// Per object, where the scene had it on the previous frame.
    previous: Vec<Option<BBoxPx>>,
}

impl<'a> GatedScene<'a> {
    pub fn new(case: &'a Case, spec: &MotionGate) -> Self {
        let shared = std::sync::Arc::new(Shared::default());
        let outlines: Vec<_> = case.rules.iter().map(|r| r.outline()).collect();
        Self {
            case,
            gate: Gate::new(spec, shared.clone()),
            carry: Carry::new(spec, shared.clone())
                .with_floor(score_floor(case.rules.iter().map(|r| r.min_score))),
            shared,
            watched: watched_area(&outlines, spec.margin),
            previous: vec![None; case.objects.len()],
        }
    }

    /// The tracks the rules get at `t`.
    pub fn tracks_at(&mut self, t: f64) -> Vec<Track> {
        let mut motion = false;
        for (i, o) in self.case.objects.iter().enumerate() {
            let (now, prev) = (o.in_scene(t).map(|tr| tr.bbox_px), self.previous[i]);
            if now != prev {
                motion |= [now, prev].iter().flatten().any(|b| self.touches(b));
            }
            self.previous[i] = now;
        }
        let pts = std::time::Duration::from_secs_f64(t);
        if !self.gate.look(pts, motion) {
            return self.carry.skipped();
        }
        let found: Vec<Track> = self
            .case
            .objects
            .iter()
            .filter_map(|o| o.track_at(t))
            .collect();
        self.carry.looked(&found, pts, motion);
        found
    }

    /// The share of frames the gate kept from the detector.
    pub fn skipped_share(&self) -> f64 {
        let (looked, skipped) = (self.shared.looked(), self.shared.skipped());
        skipped as f64 / (looked + skipped).max(1) as f64
    }

    fn touches(&self, b: &BBoxPx) -> bool {
        let (w, h) = (
            f64::from(self.case.size.width.max(1)),
            f64::from(self.case.size.height.max(1)),
        );
        let r = [
            f64::from(b.x1) / w,
            f64::from(b.y1) / h,
            f64::from(b.x2) / w,
            f64::from(b.y2) / h,
        ];
        vigil_motion::touches(&r, &self.watched)
    }
}
