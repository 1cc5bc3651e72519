//! A camera's class map (`class_map: {cell phone: car, bus: car}`): what a COCO model calls
//! things it sees from an unusual angle, renamed for that camera. Cars seen straight from above
//! come out as "cell phone" or "bus"; on an overhead camera they are cars. A box smaller than
//! `min_area` (a fraction of the frame) keeps its class: a real phone stays a phone.

use std::sync::Arc;
use vigil_core::{Detection, Size};

/// One camera's renaming, resolved against the model's labels.
#[derive(Clone, Debug)]
pub struct ClassRemap {
    /// By class id: the class id it becomes, if any.
    to: Vec<Option<u16>>,
    labels: Vec<Arc<str>>,
    group_of: Vec<Arc<str>>,
    min_area: f64,
    /// Boxes of one group overlapping more than this after renaming are one object.
    nms_iou: f32,
}

impl ClassRemap {
    /// `pairs` are (from, to) labels of the model (`labels`, with `group_of` by class id);
    /// a label that is not the model's is ignored (the config check refuses it first). `None`
    /// when nothing is renamed.
    pub fn new(
        labels: &[Arc<str>],
        group_of: &[Arc<str>],
        pairs: &[(String, String)],
        min_area: f64,
        nms_iou: f32,
    ) -> Option<Self> {
        let id = |label: &str| labels.iter().position(|l| &**l == label);
        let mut to = vec![None; labels.len()];
        for (from, into) in pairs {
            if let (Some(f), Some(t)) = (id(from), id(into)) {
                to[f] = u16::try_from(t).ok();
            }
        }
        to.iter().any(Option::is_some).then(|| Self {
            to,
            labels: labels.to_vec(),
            group_of: group_of.to_vec(),
            min_area,
            nms_iou,
        })
    }

    /// Renames what the map names in `detections` of a `frame`-sized picture. Where a renamed
    /// box now overlaps another of its new group (the model saw a car as both "car" and "cell
    /// phone"), the weaker one goes. Returns how many were renamed.
    pub fn apply(&self, detections: &mut Vec<Detection>, frame: Size) -> usize {
        let frame_area = f64::from(frame.width) * f64::from(frame.height);
        let mut renamed = 0;
        for d in detections.iter_mut() {
            let Some(Some(to)) = self.to.get(usize::from(d.class_id)) else {
                continue;
            };
            if f64::from(d.bbox_px.area()) < self.min_area * frame_area {
                continue;
            }
            d.class_id = *to;
            d.class = self.labels[usize::from(*to)].clone();
            d.group = self.group_of[usize::from(*to)].clone();
            renamed += 1;
        }
        if renamed > 0 {
            detections.sort_by(|a, b| b.score.total_cmp(&a.score));
            let mut kept: Vec<Detection> = Vec::with_capacity(detections.len());
            for d in detections.drain(..) {
                let duplicate = kept
                    .iter()
                    .any(|k| k.group == d.group && k.bbox_px.iou(&d.bbox_px) > self.nms_iou);
                if !duplicate {
                    kept.push(d);
                }
            }
            *detections = kept;
        }
        renamed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_core::BBoxPx;

    fn labels() -> (Vec<Arc<str>>, Vec<Arc<str>>) {
        let labels: Vec<Arc<str>> = ["person", "car", "bus", "cell phone"]
            .into_iter()
            .map(Arc::from)
            .collect();
        let groups = ["person", "vehicle", "vehicle", "cell phone"]
            .into_iter()
            .map(Arc::from)
            .collect();
        (labels, groups)
    }

    fn det(class_id: u16, x: f32, side: f32, score: f32) -> Detection {
        let (labels, groups) = labels();
        Detection {
            bbox_px: BBoxPx::new(x, 10.0, x + side, 10.0 + side),
            class_id,
            class: labels[usize::from(class_id)].clone(),
            group: groups[usize::from(class_id)].clone(),
            score,
        }
    }

    fn remap() -> ClassRemap {
        let (labels, groups) = labels();
        let pairs = [("cell phone".to_string(), "car".to_string())];
        // 1 % of a 400×200 frame: 800 px², a 28.3 px square.
        ClassRemap::new(&labels, &groups, &pairs, 0.01, 0.45).unwrap()
    }

    #[test]
    fn large_boxes_are_renamed_small_ones_keep_their_class() {
        let mut d = vec![det(3, 0.0, 60.0, 0.6), det(3, 200.0, 20.0, 0.5)];
        assert_eq!(remap().apply(&mut d, Size::new(400, 200)), 1);
        let classes: Vec<(&str, &str)> = d.iter().map(|d| (&*d.class, &*d.group)).collect();
        assert_eq!(classes, [("car", "vehicle"), ("cell phone", "cell phone")]);
        assert_eq!(d[0].class_id, 1);
    }

    #[test]
    fn a_renamed_box_over_a_detection_of_its_new_group_is_one_object() {
        // The model saw the same car as "car" (0.4) and "cell phone" (0.7), and a person beside.
        let mut d = vec![
            det(1, 0.0, 60.0, 0.4),
            det(3, 2.0, 60.0, 0.7),
            det(0, 2.0, 60.0, 0.9),
        ];
        remap().apply(&mut d, Size::new(400, 200));
        let kept: Vec<(&str, f32)> = d.iter().map(|d| (&*d.class, d.score)).collect();
        assert_eq!(kept, [("person", 0.9), ("car", 0.7)]);
    }

    #[test]
    fn nothing_to_rename_is_no_map_and_unknown_labels_are_ignored() {
        let (labels, groups) = labels();
        let pairs = [("boat".to_string(), "car".to_string())];
        assert!(ClassRemap::new(&labels, &groups, &pairs, 0.0, 0.45).is_none());
        let mut d = vec![det(1, 0.0, 60.0, 0.4), det(1, 2.0, 60.0, 0.7)];
        // Without a rename, detections are left as they are (NMS already ran).
        assert_eq!(remap().apply(&mut d, Size::new(400, 200)), 0);
        assert_eq!(d.len(), 2);
    }
}
