#!/usr/bin/env python3
"""The straightforward Python detection loop vigil is compared with.

OpenCV decodes the clip, each frame is letterboxed (top-left, pad 114) for YOLOX, ONNX Runtime
runs the model with N intra-op threads, numpy decodes the grid output and cv2.dnn.NMSBoxes keeps
the best boxes per class — the loop people write first (Frigate-style detectors are this loop in
a process per camera). It loops the clip until `--secs` have passed and prints one JSON line:
frames, frames/s, CPU seconds (user + system of this process) and the time spent in each step.

    python benches/reference/pipeline.py --clip footage/car-detection.mp4 \
        --model models/yolox_nano.onnx --secs 30 --threads 2
"""

import argparse
import json
import os
import resource
import sys
import time

import cv2
import numpy as np
import onnxruntime as ort

INPUT = 416
STRIDES = (8, 16, 32)


def letterbox(frame: np.ndarray) -> tuple[np.ndarray, float]:
    h, w = frame.shape[:2]
    r = min(INPUT / h, INPUT / w)
    resized = cv2.resize(frame, (int(w * r), int(h * r)), interpolation=cv2.INTER_LINEAR)
    padded = np.full((INPUT, INPUT, 3), 114, dtype=np.uint8)
    padded[: resized.shape[0], : resized.shape[1]] = resized
    # HWC BGR uint8 -> NCHW float32, raw 0-255 (the model's contract).
    blob = padded.transpose(2, 0, 1)[None].astype(np.float32)
    return blob, r


def grids() -> tuple[np.ndarray, np.ndarray]:
    cells, strides = [], []
    for s in STRIDES:
        n = INPUT // s
        ys, xs = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
        cells.append(np.stack((xs, ys), axis=-1).reshape(-1, 2))
        strides.append(np.full((n * n, 1), s))
    return np.concatenate(cells).astype(np.float32), np.concatenate(strides).astype(np.float32)


def decode(out: np.ndarray, r: float, cells, strides, threshold: float, iou: float):
    out = out[0]
    xy = (out[:, :2] + cells) * strides
    wh = np.exp(out[:, 2:4]) * strides
    scores = out[:, 4:5] * out[:, 5:]
    cls = scores.argmax(axis=1)
    best = scores[np.arange(len(cls)), cls]
    keep = best > threshold
    if not keep.any():
        return []
    xy, wh, cls, best = xy[keep], wh[keep], cls[keep], best[keep]
    boxes = np.concatenate((xy - wh / 2, wh), axis=1) / r
    chosen = cv2.dnn.NMSBoxesBatched(boxes.tolist(), best.tolist(), cls.tolist(), threshold, iou)
    return [(int(cls[i]), float(best[i]), boxes[i].tolist()) for i in np.array(chosen).reshape(-1)]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clip", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--secs", type=float, default=30.0)
    p.add_argument("--threads", type=int, default=2, help="ONNX Runtime intra-op threads")
    p.add_argument("--threshold", type=float, default=0.1)
    p.add_argument("--iou", type=float, default=0.45)
    args = p.parse_args()

    cv2.setNumThreads(1)
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(args.model, options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    cells, strides = grids()

    capture = cv2.VideoCapture(args.clip)
    if not capture.isOpened():
        print(f"cannot open {args.clip}", file=sys.stderr)
        return 1
    spent = {"decode": 0.0, "letterbox": 0.0, "inference": 0.0, "postprocess": 0.0}
    frames = detections = 0
    usage0 = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    while time.perf_counter() - start < args.secs:
        t0 = time.perf_counter()
        ok, frame = capture.read()
        if not ok:  # loop the clip
            capture.release()
            capture = cv2.VideoCapture(args.clip)
            continue
        t1 = time.perf_counter()
        blob, r = letterbox(frame)
        t2 = time.perf_counter()
        (out,) = session.run(None, {name: blob})
        t3 = time.perf_counter()
        detections += len(decode(out, r, cells, strides, args.threshold, args.iou))
        t4 = time.perf_counter()
        spent["decode"] += t1 - t0
        spent["letterbox"] += t2 - t1
        spent["inference"] += t3 - t2
        spent["postprocess"] += t4 - t3
        frames += 1
    elapsed = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (usage.ru_utime - usage0.ru_utime) + (usage.ru_stime - usage0.ru_stime)
    print(
        json.dumps(
            {
                "pipeline": "python-reference",
                "frames": frames,
                "secs": elapsed,
                "fps": frames / elapsed,
                "cpu_secs": cpu,
                "cpu_ms_per_frame": 1000 * cpu / max(frames, 1),
                "ms_per_frame": {k: 1000 * v / max(frames, 1) for k, v in spent.items()},
                "detections": detections,
                "threads": args.threads,
                "peak_rss_mb": usage.ru_maxrss / 1024,
                "versions": {
                    "onnxruntime": ort.__version__,
                    "opencv": cv2.__version__,
                    "numpy": np.__version__,
                    "python": sys.version.split()[0],
                },
                "pid": os.getpid(),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
