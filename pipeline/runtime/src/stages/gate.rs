//! Motion-gated detection at the detect workers (`vigil-motion`): per detector camera with the
//! gate on, a motion mask over its rules' zones (and the margin around them) decides, as each
//! frame is taken from its queue, whether the detector looks at it. The track thread stands in
//! for the detector on a skipped frame with what it found last (`track`), and tells the gate
//! when to keep looking through the camera's [`Shared`].
//!
//! The zones follow edited rules: at a new rule generation the watched area is read again.

use crate::reload::RuleUpdates;
use std::sync::Arc;
use vigil_config::{CameraConfig, Config};
use vigil_core::{CameraId, Frame, Gating};
use vigil_motion::{Gate, MotionDetector, Shared, watched_area};

/// One camera's gate, run under its lane's dispatch lock (frames in queue order).
pub struct LaneGate {
    camera: CameraId,
    motion: MotionDetector,
    gate: Gate,
    margin: f64,
    /// Outlines that do not change while running: the camera's waste zones.
    fixed: Vec<Vec<(f64, f64)>>,
    updates: Arc<RuleUpdates>,
    /// The rule generation the watched area was read from.
    generation: u64,
}

impl LaneGate {
    /// The gate of `camera`, when its frames are gated.
    pub fn new(
        config: &Config,
        camera: &CameraConfig,
        shared: Arc<Shared>,
        updates: Arc<RuleUpdates>,
    ) -> Option<Self> {
        let spec = config.motion_gate(camera)?;
        let fixed: Vec<_> = config
            .waste_rules(&camera.id)
            .iter()
            .map(|w| w.outline())
            .collect();
        let mut gate = Self {
            camera: camera.id.clone(),
            motion: MotionDetector::new(spec.threshold, Vec::new()),
            gate: Gate::new(spec, shared),
            margin: spec.margin,
            fixed,
            updates,
            generation: 0,
        };
        gate.watch(&config.rules);
        Some(gate)
    }

    /// Watches the waste zones and the zones of `rules` that are this camera's.
    fn watch(&mut self, rules: &[vigil_config::Rule]) {
        let mut outlines = self.fixed.clone();
        outlines.extend(
            rules
                .iter()
                .filter(|r| r.camera == self.camera)
                .map(|r| r.outline()),
        );
        self.motion
            .set_watched(watched_area(&outlines, self.margin));
    }

    /// Whether the detector looks at `frame` (and whether it moved).
    pub fn look(&mut self, frame: &Frame) -> Gating {
        if self.updates.generation() != self.generation {
            let (generation, rules) = self.updates.latest();
            self.watch(&rules);
            self.generation = generation;
        }
        let motion = self.motion.step(&frame.image, frame.meta.pts).any();
        match self.gate.look(frame.meta.pts, motion) {
            true => Gating::Looked { motion },
            false => Gating::Skipped,
        }
    }
}
