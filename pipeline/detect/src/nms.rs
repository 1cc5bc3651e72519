//! Non-maximum suppression across class groups.
//!
//! COCO detectors put car, truck and bus boxes on the same vehicle; class-aware NMS keeps all of
//! them. Here boxes compete within their *group* (from the manifest; ungrouped classes are their
//! own group), so the best-scoring label wins and the others are suppressed.

use crate::decode::Candidate;
use std::sync::Arc;

/// Greedy NMS: highest score first; a box is dropped when it overlaps a kept box of the same
/// group by more than `iou`. Returns kept candidates, highest score first.
pub fn nms_by_group(mut cands: Vec<Candidate>, group_of: &[Arc<str>], iou: f32) -> Vec<Candidate> {
    cands.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<Candidate> = Vec::new();
    for c in cands {
        let g = &group_of[c.class_id as usize];
        let suppressed = kept
            .iter()
            .any(|k| group_of[k.class_id as usize] == *g && k.bbox.iou(&c.bbox) > iou);
        if !suppressed {
            kept.push(c);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use vigil_core::BBoxPx;

    fn groups() -> Vec<Arc<str>> {
        // 0 person, 1 car, 2 truck, 3 bus: vehicles grouped.
        let v: Arc<str> = Arc::from("vehicle");
        vec![Arc::from("person"), v.clone(), v.clone(), v]
    }

    fn cand(class_id: u16, score: f32, x: f32) -> Candidate {
        Candidate {
            bbox: BBoxPx::new(x, 10.0, x + 50.0, 40.0),
            class_id,
            score,
        }
    }

    #[test]
    fn one_vehicle_is_not_car_and_truck() {
        let kept = nms_by_group(
            vec![cand(1, 0.6, 0.0), cand(2, 0.7, 2.0), cand(3, 0.3, 1.0)],
            &groups(),
            0.45,
        );
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].class_id, 2);
    }

    #[test]
    fn different_groups_do_not_suppress_each_other() {
        let kept = nms_by_group(vec![cand(0, 0.9, 0.0), cand(1, 0.8, 0.0)], &groups(), 0.45);
        assert_eq!(kept.len(), 2);
    }

    proptest! {
        #[test]
        fn kept_boxes_of_a_group_never_overlap_beyond_threshold(
            boxes in proptest::collection::vec((0u16..4, 0.0f32..1.0, 0.0f32..200.0, 0.0f32..200.0, 5.0f32..60.0), 0..40)
        ) {
            let g = groups();
            let cands: Vec<Candidate> = boxes.iter().map(|&(c, s, x, y, w)| Candidate {
                bbox: BBoxPx::new(x, y, x + w, y + w * 0.7), class_id: c, score: s }).collect();
            let n = cands.len();
            let kept = nms_by_group(cands, &g, 0.45);
            prop_assert!(kept.len() <= n);
            for (i, a) in kept.iter().enumerate() {
                for b in &kept[i + 1..] {
                    if g[a.class_id as usize] == g[b.class_id as usize] {
                        prop_assert!(a.bbox.iou(&b.bbox) <= 0.45);
                    }
                }
            }
            for w in kept.windows(2) { prop_assert!(w[0].score >= w[1].score); }
        }
    }
}
