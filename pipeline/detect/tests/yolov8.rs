//! A custom model in the YOLOv8/YOLO11 export format (`[1, 4 + C, N]`, no objectness), built
//! byte by byte in the test (`vigil_testkit::onnx`) with outputs known exactly, loaded through a
//! manifest with its own labels and category groups, run by ONNX Runtime: boxes come back in
//! source pixels, scores as the graph computes them, and nothing under the threshold.

use std::path::Path;
use vigil_config::ModelManifest;
use vigil_core::{Image, PixelFormat, Size};
use vigil_detect::{Detector, DetectorOptions};
use vigil_testkit::onnx::{Anchor, yolov8_detector};

/// Writes the model, its labels and manifest into `dir`; returns the manifest's path.
pub fn waste_model(dir: &Path) -> std::path::PathBuf {
    let anchors = [
        // A battery wherever the top-left region is bright (its score is that brightness).
        Anchor {
            bbox: [16.0, 16.0, 12.0, 12.0],
            class: 3,
            base: 0.0,
            region: Some(([10, 10, 22, 22], 1.0)),
        },
        // A bottle, always.
        Anchor {
            bbox: [48.0, 48.0, 20.0, 10.0],
            class: 0,
            base: 0.9,
            region: None,
        },
        // Food, never above the threshold.
        Anchor {
            bbox: [40.0, 20.0, 8.0, 8.0],
            class: 4,
            base: 0.1,
            region: None,
        },
    ];
    std::fs::write(dir.join("bins.onnx"), yolov8_detector(64, 64, 5, &anchors)).unwrap();
    std::fs::write(dir.join("bins.txt"), "bottle\ncan\npaper\nbattery\nfood\n").unwrap();
    let manifest = dir.join("bins.yaml");
    std::fs::write(
        &manifest,
        "name: bins-test\nfamily: yolov8\nfile: bins.onnx\ninput:\n  width: 64\n  height: 64\n  colour: rgb\n  resize: letterbox_top_left\n  pad_value: 114\n  normalise: { scale: 0.00392156862745098 }\nlabels: bins.txt\ngroups:\n  recyclable: [bottle, can, paper]\n  hazardous: [battery]\n  kitchen: [food]\n",
    )
    .unwrap();
    manifest
}

#[test]
fn a_yolov8_format_model_detects_what_its_graph_says() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = ModelManifest::load(&waste_model(dir.path()), None).unwrap();
    assert_eq!(manifest.group_of[3].as_ref(), "hazardous");
    let options = DetectorOptions {
        score_threshold: 0.3,
        nms_iou: 0.45,
        intra_threads: 1,
        execution_provider: Default::default(),
    };
    let mut det = Detector::new(&manifest, options).unwrap();
    // A 128×128 source: the letterbox scales it by 0.5 into the 64×64 input.
    let size = Size::new(128, 128);
    let dark = Image::from_packed(size, PixelFormat::Rgb8, vec![0; 128 * 128 * 3]);
    let (d, _) = det.detect(&dark, size).unwrap();
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(&*d[0].class, "bottle");
    assert_eq!(&*d[0].group, "recyclable");
    assert!((d[0].score - 0.9).abs() < 1e-5);
    let b = d[0].bbox_px.to_array();
    for (got, want) in b.iter().zip([76.0, 86.0, 116.0, 106.0]) {
        assert!((got - want).abs() < 0.01, "{b:?}");
    }
    // A bright square over source 20..44 (input 10..22): the battery, scored by its brightness.
    let mut px = vec![0u8; 128 * 128 * 3];
    for y in 20..44 {
        for x in 20..44 {
            px[(y * 128 + x) * 3..(y * 128 + x) * 3 + 3].fill(204);
        }
    }
    let lit = Image::from_packed(size, PixelFormat::Rgb8, px);
    let (d, _) = det.detect(&lit, size).unwrap();
    let battery = d.iter().find(|d| &*d.class == "battery").expect("battery");
    assert_eq!(&*battery.group, "hazardous");
    assert!((battery.score - 0.8).abs() < 0.01, "{battery:?}");
    let b = battery.bbox_px.to_array();
    for (got, want) in b.iter().zip([20.0, 20.0, 44.0, 44.0]) {
        assert!((got - want).abs() < 0.01, "{b:?}");
    }
    assert_eq!(d.len(), 2, "{d:?}");
}
