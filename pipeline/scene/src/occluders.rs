//! What the detector's tracks tell the scene: cells under the classes that hide the ground
//! (people; for waste, vehicles) are hidden for a while and remembered as where such a one
//! stood; other detections are kept a few seconds to name objects.

use super::*;

/// A detection that can name an object: its box, class and score when last seen.
#[derive(Clone, Debug)]
pub(super) struct Named {
    pub(super) seen: f64,
    pub(super) bbox: BBoxPx,
    pub(super) class: std::sync::Arc<str>,
    pub(super) score: f32,
}

/// Detections name objects for this long after they were last seen (the detector misses a
/// frame now and then, and a region may become an object on such a frame).
const NAMED_MEMORY_SECS: f64 = 5.0;

/// People and vehicles are remembered this long after they were last seen.
const OCCLUDER_MEMORY_SECS: f64 = 900.0;

impl Scene {
    /// Cells under the ignored classes (people; for waste, vehicles — widened by a sixth of
    /// the box each side) are hidden until `hold_secs` after; other detections are kept a few
    /// seconds to name objects.
    pub(super) fn exclude(&mut self, pts: f64, source: Size, tracks: &[Track]) {
        let grid = self.grid.expect("initialised");
        let until = pts + self.config.hold_secs;
        self.occluders
            .retain(|_, (seen, _)| pts - *seen <= OCCLUDER_MEMORY_SECS);
        self.named.retain(|_, n| pts - n.seen <= NAMED_MEMORY_SECS);
        for t in tracks {
            let ignored = self
                .config
                .ignore
                .iter()
                .any(|g| **g == *t.group || **g == *t.class);
            if !ignored {
                let named = Named {
                    seen: pts,
                    bbox: t.bbox_px,
                    class: t.class.clone(),
                    score: t.score,
                };
                self.named.insert(t.id.0, named);
                continue;
            }
            let b = t.bbox_px;
            self.occluders.insert(t.id.0, (pts, b));
            let (mx, my) = (b.width() / 6.0, b.height() / 6.0);
            let wide = BBoxPx::new(b.x1 - mx, b.y1 - my, b.x2 + mx, b.y2 + my);
            let Some((x1, y1, x2, y2)) = grid.cell_range(&wide, source) else {
                continue;
            };
            for y in y1..=y2 {
                for x in x1..=x2 {
                    self.excluded_until[(y * grid.w + x) as usize] = until;
                }
            }
        }
    }
}
