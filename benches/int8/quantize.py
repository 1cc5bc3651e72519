#!/usr/bin/env python3
"""An int8 copy of YOLOX-Nano with ONNX Runtime's quantisation tools — an experiment that did not pay.

Static quantisation calibrated on frames of the sample footage letterboxed exactly as the pipeline
feeds the model (the opset-11 export is first converted to opset 13, which per-channel
DequantizeLinear needs); the detection head's last convolutions stay in float.

    benches/setup && .vigil/pyenv/bin/pip install onnx
    .vigil/pyenv/bin/python benches/int8/quantize.py --model ../shared/models/yolox_nano.onnx \
        --footage ../shared/footage --out /tmp/yolox_nano_int8.onnx --mode qdq-conv

Measured on this 2-vCPU Xeon (AVX-512 VNNI, AMX), onnxruntime 1.31.1, one intra-op thread,
`session.run` CPU per frame next to fp32 in the same minute, and the largest change of a
detection score among cells the fp32 model scores >= 0.3 on the golden frames (the golden test
allows 0.05):

| mode | what is int8 | ms per frame (fp32 alongside) | worst score change |
|---|---|---|---|
| `qdq-all` | every op (QDQ, per channel, Percentile) | 14.4 (14.1) | 0.59 |
| `qdq-conv` | convolutions only (Percentile) | 23.7 (~15) | 0.58 |
| `qoperator` | convolutions only, QLinearConv | 25.9 (~15) | 0.59 |
| `dynamic` | weights only (ConvInteger) | 38.9 (~15) | 0.92 |

Why: every convolution is followed by SiLU (Sigmoid x Mul, 104 of them), which ONNX Runtime's CPU
provider cannot fuse into a quantised convolution, so the graph goes back and forth between int8
and float; 30 of the 113 convolutions are depthwise, where int8 kernels gain little; and the
activations' ranges after SiLU quantise badly. No manifest uses the result. What would: a model
exported with ReLU (or a QAT model), or another runtime's int8 kernels.
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
    quantize_dynamic,
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


def worst_score_change(fp32: str, int8: str, footage: str) -> float:
    """Largest change of a cell's best-class score, over cells fp32 scores >= 0.3, on the
    golden frames (pipeline/detect/tests/golden/expected.json's inputs)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    a = ort.InferenceSession(fp32, options)
    b = ort.InferenceSession(int8, options)
    name = a.get_inputs()[0].name
    images = [cv2.imread(os.path.join(footage, s)) for s in STILLS]
    for clip, index in (("person-bicycle-car-detection.gif", 20), ("bottle-detection.mp4", 10),
                        ("car-detection.mp4", 80)):
        capture = cv2.VideoCapture(os.path.join(footage, clip))
        for _ in range(index + 1):
            _, frame = capture.read()
        images.append(frame)
    worst = 0.0
    for image in images:
        x = letterbox(image)
        ya, yb = a.run(None, {name: x})[0][0], b.run(None, {name: x})[0][0]
        sa, sb = ya[:, 4:5] * ya[:, 5:], yb[:, 4:5] * yb[:, 5:]
        cls = sa.argmax(1)
        keep = sa.max(1) >= 0.3
        if keep.any():
            diff = np.abs(sa.max(1) - sb[np.arange(len(sb)), cls])[keep]
            worst = max(worst, float(diff.max()))
    return worst


def sha256(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True, help="fp32 yolox_nano.onnx")
    p.add_argument("--footage", required=True, help="folder with the sample footage")
    p.add_argument("--out", required=True)
    p.add_argument("--per-clip", type=int, default=8, help="calibration frames per clip")
    p.add_argument("--mode", choices=["qdq-all", "qdq-conv", "qoperator", "dynamic"],
                   default="qdq-all")
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
        common = dict(per_channel=True, activation_type=QuantType.QUInt8,
                      weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.Percentile,
                      nodes_to_exclude=exclude)
        if args.mode == "dynamic":
            quantize_dynamic(prepared, part, weight_type=QuantType.QUInt8,
                             op_types_to_quantize=["Conv"], nodes_to_exclude=exclude)
        elif args.mode == "qdq-all":
            quantize_static(prepared, part, Frames(name, frames), quant_format=QuantFormat.QDQ,
                            **common)
        else:
            fmt = QuantFormat.QOperator if args.mode == "qoperator" else QuantFormat.QDQ
            quantize_static(prepared, part, Frames(name, frames), quant_format=fmt,
                            op_types_to_quantize=["Conv"], **common)
        os.replace(part, args.out)
    print(
        f"{args.out} ({args.mode}): {len(frames)} calibration frames, {len(exclude)} head "
        f"convolutions kept in float, sha256 {sha256(args.out)}; worst score change on the "
        f"golden frames {worst_score_change(args.model, args.out, args.footage):.3f} (0.05 allowed)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
