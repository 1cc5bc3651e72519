#!/usr/bin/env python3
"""Reference detections computed with ONNX Runtime's own Python API, for the Rust golden tests.

Independent of the Rust code: preprocessing with OpenCV (cv2.resize INTER_LINEAR), decoding and
group-wise NMS in numpy, written from the contract in the models' README. Run once by hand:

    python3 -m venv /tmp/ref && /tmp/ref/bin/pip install onnxruntime==1.31.1 numpy opencv-python-headless pillow
    VIGIL_ASSETS=../shared /tmp/ref/bin/python pipeline/detect/tests/golden/make_golden.py > pipeline/detect/tests/golden/expected.json

and read the output before committing it.
"""
import json
import math
import os
import sys

import cv2
import numpy as np
import onnxruntime as ort
from PIL import Image, ImageSequence

ASSETS = os.environ["VIGIL_ASSETS"]
ort.set_default_logger_severity(3)
LABELS = [l.strip() for l in open(os.path.join(ASSETS, "models/coco80_labels.txt")) if l.strip()]
GROUPS = {"vehicle": ["car", "bus", "truck", "motorcycle"], "person": ["person"],
          "bag": ["backpack", "handbag", "suitcase"]}
GROUP_OF = list(LABELS)
for g, members in GROUPS.items():
    for m in members:
        GROUP_OF[LABELS.index(m)] = g
THRESHOLD = 0.3
NMS_IOU = 0.45


def iou(a, b):
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def nms(cands):
    cands.sort(key=lambda c: -c[2])
    kept = []
    for box, cls, score in cands:
        if any(GROUP_OF[k[1]] == GROUP_OF[cls] and iou(k[0], box) > NMS_IOU for k in kept):
            continue
        kept.append((box, cls, score))
    return kept


def yolox(session, rgb):
    bgr = rgb[:, :, ::-1]
    h, w = bgr.shape[:2]
    r = min(416 / h, 416 / w)
    resized = cv2.resize(bgr, (int(w * r), int(h * r)), interpolation=cv2.INTER_LINEAR)
    padded = np.full((416, 416, 3), 114, dtype=np.uint8)
    padded[: resized.shape[0], : resized.shape[1]] = resized
    x = padded.astype(np.float32).transpose(2, 0, 1)[None]
    out = session.run(None, {"images": x})[0][0]
    cands = []
    row = 0
    for s in (8, 16, 32):
        g = 416 // s
        for gy in range(g):
            for gx in range(g):
                p = out[row]
                row += 1
                cls = int(np.argmax(p[5:]))
                score = float(p[4] * p[5 + cls])
                if score < THRESHOLD:
                    continue
                cx, cy = (p[0] + gx) * s, (p[1] + gy) * s
                bw, bh = math.exp(p[2]) * s, math.exp(p[3]) * s
                box = [(cx - bw / 2) / r, (cy - bh / 2) / r, (cx + bw / 2) / r, (cy + bh / 2) / r]
                cands.append((box, cls, score))
    return nms(cands), (w, h)


def picodet(session, rgb):
    h, w = rgb.shape[:2]
    resized = cv2.resize(rgb, (416, 416), interpolation=cv2.INTER_LINEAR).astype(np.float32) / 255.0
    x = ((resized - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]).astype(np.float32)
    outs = session.run(None, {"image": x.transpose(2, 0, 1)[None]})
    cands = []
    for i, s in enumerate((8, 16, 32, 64)):
        cls_map, box_map = outs[i][0], outs[i + 4][0]
        g = math.ceil(416 / s)
        bins = box_map.shape[1] // 4
        for k in range(cls_map.shape[0]):
            cls = int(np.argmax(cls_map[k]))
            score = float(cls_map[k][cls])
            if score < THRESHOLD:
                continue
            cx, cy = (k % g + 0.5) * s, (k // g + 0.5) * s
            d = box_map[k].reshape(4, bins)
            e = np.exp(d - d.max(axis=1, keepdims=True))
            dist = (e / e.sum(axis=1, keepdims=True) * np.arange(bins)).sum(axis=1) * s
            box = [cx - dist[0], cy - dist[1], cx + dist[2], cy + dist[3]]
            box = [box[0] * w / 416, box[1] * h / 416, box[2] * w / 416, box[3] * h / 416]
            cands.append((box, cls, score))
    return nms(cands), (w, h)


def clamp(box, size):
    w, h = size
    return [min(max(box[0], 0), w), min(max(box[1], 0), h), min(max(box[2], 0), w), min(max(box[3], 0), h)]


def video_frame(path, index):
    cap = cv2.VideoCapture(path)
    for _ in range(index + 1):
        ok, frame = cap.read()
        assert ok, f"{path}: no frame {index}"
    return frame[:, :, ::-1].copy()


def gif_frame(path, index):
    im = Image.open(path)
    frame = next(f for i, f in enumerate(ImageSequence.Iterator(im)) if i == index)
    return np.array(frame.convert("RGB"))


def main():
    f = lambda p: os.path.join(ASSETS, "footage", p)
    inputs = [
        ("pklot_2012-09-12_07_02_42.jpg", None, np.array(Image.open(f("pklot_2012-09-12_07_02_42.jpg")).convert("RGB"))),
        ("pklot_2013-01-29_20_21_23.jpg", None, np.array(Image.open(f("pklot_2013-01-29_20_21_23.jpg")).convert("RGB"))),
        ("pklot_2013-04-12_16_20_11.jpg", None, np.array(Image.open(f("pklot_2013-04-12_16_20_11.jpg")).convert("RGB"))),
        ("person-bicycle-car-detection.gif", 20, gif_frame(f("person-bicycle-car-detection.gif"), 20)),
        ("bottle-detection.mp4", 10, video_frame(f("bottle-detection.mp4"), 10)),
        ("car-detection.mp4", 80, video_frame(f("car-detection.mp4"), 80)),
    ]
    models = {
        "yolox-nano": (ort.InferenceSession(os.path.join(ASSETS, "models/yolox_nano.onnx"), providers=["CPUExecutionProvider"]), yolox),
        "picodet-s": (ort.InferenceSession(os.path.join(ASSETS, "models/picodet_s_416_coco.onnx"), providers=["CPUExecutionProvider"]), picodet),
    }
    cases = []
    for model, (session, fn) in models.items():
        for name, frame, rgb in inputs:
            dets, size = fn(session, np.ascontiguousarray(rgb))
            cases.append({
                "model": model, "input": name, "frame": frame, "size": list(size),
                "detections": [{"class": LABELS[c], "score": round(s, 4),
                                "bbox_px": [round(float(v), 2) for v in clamp(b, size)]} for b, c, s in dets],
            })
    json.dump({"onnxruntime": ort.__version__, "score_threshold": THRESHOLD, "nms_iou": NMS_IOU,
               "cases": cases}, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
