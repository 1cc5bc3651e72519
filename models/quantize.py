#!/usr/bin/env python3
"""Makes the int8 copy of YOLOX-Nano that `models/yolox-nano-int8.yaml` names.

Static quantisation with ONNX Runtime's tools (QDQ format: int8 weights per output channel,
uint8 activations), calibrated on frames of the sample footage letterboxed exactly as the pipeline
feeds the model. The detection head's last convolutions (box, objectness and class outputs) stay
in float: quantising them moved scores by more than the 0.05 the golden test allows.

    python models/quantize.py --model ../shared/models/yolox_nano.onnx \
        --footage ../shared/footage --out models/yolox_nano_int8.onnx

Deterministic for a given model, footage and onnxruntime version. `scripts/setup` runs it (in the
Python environment it makes) when the int8 model is missing; the Rust golden test
(`pipeline/detect/tests/golden.rs`) checks the result against the fp32 reference detections.
"""

import argparse
import hashlib
import os
import sys
import tempfile

import cv2
import numpy as np
import onnx
import onnx.version_converter
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quantize_static,
)
from onnxruntime.quantization.shape_inference import quant_pre_process

INPUT = 416
CLIPS = ("car-detection.mp4", "bottle-detection.mp4", "person-bicycle-car-detection.gif",
         "worker-zone-detection.gif", "people-detection.gif")
STILLS = ("pklot_2012-09-12_07_02_42.jpg", "pklot_2013-01-29_20_21_23.jpg",
          "pklot_2013-04-12_16_20_11.jpg")


def letterbox(frame: np.ndarray) -> np.ndarray:
    """BGR frame -> the model's input: top-left letterbox, pad 114, NCHW float32, raw 0-255."""
    h, w = frame.shape[:2]
    r = min(INPUT / h, INPUT / w)
    resized = cv2.resize(frame, (int(w * r), int(h * r)), interpolation=cv2.INTER_LINEAR)
    padded = np.full((INPUT, INPUT, 3), 114, dtype=np.uint8)
    padded[: resized.shape[0], : resized.shape[1]] = resized
    return padded.transpose(2, 0, 1)[None].astype(np.float32)


def calibration_frames(footage: str, per_clip: int) -> list[np.ndarray]:
    frames = []
    for name in CLIPS:
        capture = cv2.VideoCapture(os.path.join(footage, name))
        total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or per_clip
        step = max(total // per_clip, 1)
        index = 0
        while len(frames) < 10_000:
            ok, frame = capture.read()
            if not ok:
                break
            if index % step == 0:
                frames.append(letterbox(frame))
            index += 1
        capture.release()
    for name in STILLS:
        image = cv2.imread(os.path.join(footage, name))
        if image is not None:
            frames.append(letterbox(image))
    if not frames:
        raise SystemExit(f"no calibration frames found in {footage}")
    return frames


class Frames(CalibrationDataReader):
    def __init__(self, name: str, frames: list[np.ndarray]):
        self.items = iter([{name: f} for f in frames])

    def get_next(self):
        return next(self.items, None)


def head_outputs(model: onnx.ModelProto) -> list[str]:
    """The convolutions whose outputs are the head's box / objectness / class maps: the Conv
    nodes feeding the graph's final Concat (directly or through a Sigmoid)."""
    producers = {o: n for n in model.graph.node for o in n.output}
    keep = []
    for node in model.graph.node:
        if node.op_type != "Concat":
            continue
        for i in node.input:
            n = producers.get(i)
            if n is not None and n.op_type == "Sigmoid":
                n = producers.get(n.input[0])
            if n is not None and n.op_type == "Conv":
                keep.append(n.name)
    return keep


def sha256(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True, help="fp32 yolox_nano.onnx")
    p.add_argument("--footage", required=True, help="folder with the sample footage")
    p.add_argument("--out", required=True)
    p.add_argument("--per-clip", type=int, default=24, help="calibration frames per clip")
    args = p.parse_args()

    frames = calibration_frames(args.footage, args.per_clip)
    with tempfile.TemporaryDirectory() as tmp:
        # Per-channel scales need DequantizeLinear's `axis` (opset 13); the export is opset 11.
        upgraded = os.path.join(tmp, "opset13.onnx")
        onnx.save(onnx.version_converter.convert_version(onnx.load(args.model), 13), upgraded)
        prepared = os.path.join(tmp, "prepared.onnx")
        quant_pre_process(upgraded, prepared, skip_symbolic_shape=True)
        model = onnx.load(prepared)
        name = model.graph.input[0].name
        exclude = head_outputs(model)
        part = args.out + ".part"
        quantize_static(
            prepared,
            part,
            Frames(name, frames),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax,
            nodes_to_exclude=exclude,
        )
        os.replace(part, args.out)
    print(
        f"{args.out}: {len(frames)} calibration frames, {len(exclude)} head convolutions kept "
        f"in float, sha256 {sha256(args.out)}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
