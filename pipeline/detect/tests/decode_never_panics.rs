//! Whatever a model (or a broken model file, or a runtime bug) puts in its output tensors, the
//! decoders return detections or an error — never a panic — and what they return is finite:
//! wrong shapes, tensors shorter or longer than their shape says, NaN, infinities, huge values.

use proptest::prelude::*;
use std::path::PathBuf;
use std::sync::Arc;
use vigil_config::ModelManifest;
use vigil_detect::{decode, nms};

fn manifest(file: &str) -> ModelManifest {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let assets = std::env::var_os("VIGIL_ASSETS").map(PathBuf::from);
    let mut m = ModelManifest::load(&repo.join("models").join(file), assets.as_deref()).unwrap();
    // A 32×32 input keeps the grids small (21 YOLOX cells, 22 PicoDet cells) so each case is
    // cheap; the decoding logic is the same at 416.
    m.input_width = 32;
    m.input_height = 32;
    m
}

fn value() -> impl Strategy<Value = f32> {
    prop_oneof![
        6 => -4.0f32..4.0,
        1 => Just(f32::NAN),
        1 => Just(f32::INFINITY),
        1 => Just(f32::NEG_INFINITY),
        1 => prop::num::f32::ANY,
    ]
}

fn check(out: Result<Vec<decode::Candidate>, String>, groups: &[Arc<str>]) {
    if let Ok(cands) = out {
        for c in &cands {
            assert!(c.score.is_finite(), "{c:?}");
            let b = c.bbox.to_array();
            assert!(b.iter().all(|v| v.is_finite()), "{c:?}");
            assert!((c.class_id as usize) < groups.len(), "{c:?}");
        }
        let _ = nms::nms_by_group(cands, groups, 0.45);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn yolov8_output_of_any_shape_and_content(
        transposed in any::<bool>(),
        len_delta in -3i64..3,
        shape_delta in prop::collection::vec(-1i64..2, 3),
        values in prop::collection::vec(value(), 84 * 6 + 3),
        threshold in 0.0f32..1.0,
    ) {
        // 80 COCO classes in YOLOv8's layout: [1, 84, 6] (or [1, 6, 84]).
        let m = manifest("yolox-nano.yaml");
        let base: [i64; 3] = if transposed { [1, 6, 84] } else { [1, 84, 6] };
        let shape: Vec<i64> = base.iter().zip(&shape_delta).map(|(a, d)| a + d).collect();
        let len = (84 * 6 + len_delta).max(0) as usize;
        let outputs = [(shape, &values[..len.min(values.len())])];
        check(decode::yolov8(&outputs, &m, threshold), &m.group_of);
    }

    #[test]
    fn yolox_output_of_any_shape_and_content(
        len_delta in -3i64..3,
        shape_delta in prop::collection::vec(-1i64..2, 3),
        values in prop::collection::vec(value(), 21 * 85 + 3),
        threshold in 0.0f32..1.0,
    ) {
        let m = manifest("yolox-nano.yaml");
        let shape: Vec<i64> = [1i64, 21, 85].iter().zip(&shape_delta).map(|(a, d)| a + d).collect();
        let len = (21 * 85 + len_delta).max(0) as usize;
        let outputs = [(shape, &values[..len.min(values.len())])];
        check(decode::yolox(&outputs, &m, threshold), &m.group_of);
    }

    #[test]
    fn picodet_maps_of_any_shape_and_content(
        bins in 0i64..10,
        len_delta in -2i64..2,
        drop_map in 0usize..10,
        values in prop::collection::vec(value(), 16 * 80 + 16 * 40),
        threshold in 0.0f32..1.0,
    ) {
        let m = manifest("picodet-s.yaml");
        let mut outputs = Vec::new();
        for n in [16i64, 4, 1, 1] {
            let cls_len = ((n * 80) + len_delta).max(0) as usize;
            outputs.push((vec![1, n, 80], &values[..cls_len.min(values.len())]));
            let box_len = (n * 4 * bins).max(0) as usize;
            outputs.push((vec![1, n, 4 * bins], &values[..box_len.min(values.len())]));
        }
        if drop_map < outputs.len() {
            outputs.remove(drop_map);
        }
        check(decode::picodet(&outputs, &m, threshold), &m.group_of);
    }
}
