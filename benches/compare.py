#!/usr/bin/env python3
"""vigil against the straightforward Python pipeline, side by side in one run.

Alternates `vigil bench` (file replay of the clip, every frame through the model, the limit
measured in the same process) with `benches/reference/pipeline.py` (OpenCV decode -> letterbox
-> onnxruntime with 2 threads -> numpy decode + NMS) on the same clip and model, `--rounds` times,
and prints the medians and their ratio as a Markdown table; everything goes to `--out`.

    benches/setup    # once: .vigil/pyenv with onnxruntime, numpy, OpenCV
    cargo build --release -p vigil
    VIGIL_ASSETS=../shared .vigil/pyenv/bin/python benches/compare.py --rounds 3 --secs 20
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def vigil_binary() -> str:
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    return os.path.join(target, "release", "vigil")


def run_vigil(args, round_dir: str) -> dict:
    cmd = [args.vigil, "bench", "-c", args.config, "--secs", str(args.secs), "--warmup", "3",
           "--out", round_dir]
    if args.manifest:
        cmd += ["--manifest", args.manifest]
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
                   env={**os.environ, "RUST_LOG": "warn"})
    with open(os.path.join(round_dir, "bench.json")) as f:
        return json.load(f)


def run_reference(args, clip: str, model: str) -> dict:
    cmd = [sys.executable, os.path.join(ROOT, "benches/reference/pipeline.py"), "--clip", clip,
           "--model", model, "--secs", str(args.secs), "--threads", str(args.threads)]
    out = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", default="benches/car-detection.yaml")
    p.add_argument("--manifest", help="model manifest for vigil (default: the config's)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--secs", type=float, default=20)
    p.add_argument("--threads", type=int, default=2, help="reference's intra-op threads")
    p.add_argument("--vigil", default=vigil_binary())
    p.add_argument("--out", default=os.path.join(ROOT, "target", "compare"))
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)

    rounds = []
    for i in range(args.rounds):
        v = run_vigil(args, os.path.join(args.out, f"vigil-{i}"))
        # The clip and model vigil resolved, so both read the same files.
        clip = v["clip"]
        r = run_reference(args, clip, v["model"])
        rounds.append({"vigil": v, "reference": r})
        print(f"round {i + 1}: vigil {v['detected_fps']:.1f} frames/s, "
              f"reference {r['fps']:.1f} frames/s, limit {v['limit']['fps']:.1f}", file=sys.stderr)

    med = statistics.median
    vfps = med(x["vigil"]["detected_fps"] for x in rounds)
    rfps = med(x["reference"]["fps"] for x in rounds)
    limit = med(x["vigil"]["limit"]["fps"] for x in rounds)
    summary = {
        "clip": rounds[0]["vigil"]["clip"],
        "model": rounds[0]["vigil"]["model"],
        "rounds": args.rounds,
        "secs": args.secs,
        "vigil_fps": vfps,
        "vigil_cpu_ms_per_frame": med(x["vigil"]["cpu_ms_per_frame"] for x in rounds),
        "vigil_efficiency": med(x["vigil"]["efficiency"] for x in rounds),
        "limit_fps": limit,
        "decode_cpu_ms": med(x["vigil"]["limit"]["decode_cpu_ms"] for x in rounds),
        "infer_cpu_ms": med(x["vigil"]["limit"]["infer_cpu_ms"] for x in rounds),
        "limit_all_cores_fps": med(x["vigil"]["limit"]["fps_all_cores"] for x in rounds),
        "infer_cpu_ms_all_cores": med(x["vigil"]["limit"]["infer_cpu_ms_all_cores"]
                                      for x in rounds),
        "vigil_efficiency_all_cores": med(x["vigil"]["efficiency_all_cores"] for x in rounds),
        "reference_fps": rfps,
        "reference_cpu_ms_per_frame": med(x["reference"]["cpu_ms_per_frame"] for x in rounds),
        "ratio": med(x["vigil"]["detected_fps"] / x["reference"]["fps"] for x in rounds),
        "vigil_latency_p50_ms": med(x["vigil"]["frame_latency"]["p50_ms"] for x in rounds),
        "vigil_latency_p99_ms": med(x["vigil"]["frame_latency"]["p99_ms"] for x in rounds),
        "vigil_rss_mb_peak": max(x["vigil"]["rss_mb_peak"] for x in rounds),
        "reference_rss_mb_peak": max(x["reference"]["peak_rss_mb"] for x in rounds),
        "rounds_detail": rounds,
    }
    with open(os.path.join(args.out, "compare.json"), "w") as f:
        json.dump(summary, f, indent=2)
    s = summary
    print(f"\nclip {os.path.basename(s['clip'])}, model {os.path.basename(s['model'])}, "
          f"median of {args.rounds} alternating rounds of {args.secs:.0f} s\n")
    print("| pipeline | frames/s | CPU ms/frame | vs limit | vs reference | peak RSS MB |")
    print("|---|---|---|---|---|---|")
    print(f"| limit (decode {s['decode_cpu_ms']:.2f} + inference {s['infer_cpu_ms']:.2f} ms CPU) "
          f"| {limit:.1f} | {s['decode_cpu_ms'] + s['infer_cpu_ms']:.1f} | 100 % | | |")
    print(f"| limit, inference with every core busy ({s['infer_cpu_ms_all_cores']:.2f} ms) "
          f"| {s['limit_all_cores_fps']:.1f} | "
          f"{s['decode_cpu_ms'] + s['infer_cpu_ms_all_cores']:.1f} | | | |")
    print(f"| vigil | {vfps:.1f} | {s['vigil_cpu_ms_per_frame']:.1f} | "
          f"{100 * s['vigil_efficiency']:.1f} % ({100 * s['vigil_efficiency_all_cores']:.1f} % of "
          f"the all-cores limit) | {s['ratio']:.2f}x | {s['vigil_rss_mb_peak']:.0f} |")
    print(f"| Python + onnxruntime ({args.threads} threads) | {rfps:.1f} | "
          f"{s['reference_cpu_ms_per_frame']:.1f} | {100 * rfps / limit:.1f} % | 1.00x | "
          f"{s['reference_rss_mb_peak']:.0f} |")
    print(f"\n{os.path.join(args.out, 'compare.json')}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
