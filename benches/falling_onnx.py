"""The falling-object foreground model as an ONNX graph, timed with ONNX Runtime on this CPU.

The issue asked to choose between the Rust foreground (pipeline/falling/src/foreground.rs) and
an ONNX graph that ONNX Runtime could move to a GPU unchanged, by measuring both. This builds the
same per-pixel running Gaussian (foreground test, selective mean/variance update, clamping) as a
graph and times session.run at 720p and 1080p with one intra-op thread, the Rust stage's budget.
The graph does the per-pixel part only (no zone spans, no displaced-background check, no blob
grouping), so it is a lower bound on the ONNX path's cost.

    python3 -m venv /tmp/onnx-bench && /tmp/onnx-bench/bin/pip install onnx onnxruntime==1.31.1 numpy
    /tmp/onnx-bench/bin/python benches/falling_onnx.py
"""

import statistics
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper


def graph(h, w):
    f32 = TensorProto.FLOAT
    inputs = [
        helper.make_tensor_value_info("frame", TensorProto.UINT8, [h, w]),
        helper.make_tensor_value_info("mean", f32, [h, w]),
        helper.make_tensor_value_info("var", f32, [h, w]),
    ]
    outputs = [
        helper.make_tensor_value_info("mask", TensorProto.BOOL, [h, w]),
        helper.make_tensor_value_info("mean_out", f32, [h, w]),
        helper.make_tensor_value_info("var_out", f32, [h, w]),
    ]
    c = lambda name, v: helper.make_tensor(name, f32, [], [v])  # noqa: E731
    consts = [c("k2", 3.5 * 3.5), c("min_diff", 12.0), c("rate", 0.02), c("fg_rate", 0.005),
              c("vmin", 4.0), c("vmax", 1600.0)]
    n = helper.make_node
    nodes = [
        n("Cast", ["frame"], ["x"], to=f32),
        n("Sub", ["x", "mean"], ["d"]),
        n("Mul", ["d", "d"], ["d2"]),
        n("Mul", ["k2", "var"], ["kv"]),
        n("Greater", ["d2", "kv"], ["far"]),
        n("Abs", ["d"], ["ad"]),
        n("Greater", ["ad", "min_diff"], ["big"]),
        n("And", ["far", "big"], ["mask"]),
        n("Where", ["mask", "fg_rate", "rate"], ["r"]),
        n("Mul", ["r", "d"], ["rd"]),
        n("Add", ["mean", "rd"], ["mean_out"]),
        n("Sub", ["d2", "var"], ["dv"]),
        n("Mul", ["r", "dv"], ["rdv"]),
        n("Add", ["var", "rdv"], ["v1"]),
        n("Clip", ["v1", "vmin", "vmax"], ["var_out"]),
    ]
    g = helper.make_graph(nodes, "foreground", inputs, outputs, initializer=consts)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def main():
    rng = np.random.default_rng(1)
    print("size        ms/frame p50   core share at 25 fps")
    for h, w in [(720, 1280), (1080, 1920)]:
        model = graph(h, w)
        onnx.checker.check_model(model)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        s = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
        frame = rng.integers(0, 255, (h, w), dtype=np.uint8)
        mean = frame.astype(np.float32)
        var = np.full((h, w), 36.0, dtype=np.float32)
        times = []
        for _ in range(60):
            t = time.perf_counter()
            _, mean, var = s.run(None, {"frame": frame, "mean": mean, "var": var})
            times.append((time.perf_counter() - t) * 1e3)
        p50 = statistics.median(times[10:])
        print(f"{w}x{h:<6} {p50:12.2f}   {p50 * 25 / 10:5.1f} %")


if __name__ == "__main__":
    main()
