#!/usr/bin/env python3
"""Two streams per camera against one, at the same load, in one run (issue 20).

    python3 benches/streams.py [--vigil target/release/vigil] [--cameras 16] [--secs 60]
                               [--config benches/live-720p.yaml] [--rounds 1]
                               [--idle FROM-TO:SECS] [--stagger]

Each camera is served by `vigil bench --rtsp` as a camera sends it: a main stream
(1920x1080@25 H.265) and a sub-stream (640x360@25 H.264). Two modes alternate, each a fresh
`vigil bench` process with the motion gate on and 5 frames/s per camera to the detector:

- two streams: the sub-stream decoded for detection, the main stream recorded (`record:`);
- one stream (vigil before two streams): the main stream decoded for detection and recorded.

With --idle and --stagger (passed to `vigil bench`) each pass of the footage starts with a
still stretch of it and each camera starts at another point of it: a fleet where motion comes
now and then, at different times on different cameras.

It prints, per mode and round: frames decoded per second, sampled frames detected / skipped by
the motion gate / neither (the shortfall), process CPU, frame -> rules and condition -> alert
p99, RSS at the window's start and end and its peak, and the RTSP server's CPU. Every figure
comes from that round's bench.json (kept under --out).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODES = {
    "two streams": ["--stream", "640x360@25", "--record", "1920x1080@25:h265"],
    "one stream": ["--stream", "1920x1080@25:h265"],
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vigil", default=os.path.join(REPO, "target/release/vigil"))
    ap.add_argument("--config", default=os.path.join(REPO, "benches/live-720p.yaml"))
    ap.add_argument("--cameras", type=int, default=16)
    ap.add_argument("--secs", type=float, default=60.0)
    ap.add_argument("--warmup", type=float, default=15.0)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--idle", metavar="FROM-TO:SECS",
                    help="a still stretch before each pass (vigil bench --idle)")
    ap.add_argument("--stagger", action="store_true",
                    help="cameras out of step (vigil bench --stagger)")
    ap.add_argument("--out", help="keep each round's bench.json here [default: a temporary folder]")
    args = ap.parse_args()
    if args.rounds < 1 or args.cameras < 1 or not 1.0 <= args.secs <= 3600.0:
        sys.exit("--rounds and --cameras must be at least 1, --secs within 1-3600")
    with tempfile.TemporaryDirectory() as tmp:
        out_root = args.out or tmp
        # The streams are encoded once and shared by every round (the server reads them).
        streams = os.path.join(out_root, "streams")
        print(f"{'mode':12} {'round':>5} {'decoded/s':>9} {'sampled':>7} {'detected':>8} "
              f"{'gated':>6} {'shortfall':>9} {'cores':>5} {'frame p99':>9} {'alert p99':>9} "
              f"{'alerts':>6} {'RSS MB start/end/peak':>22} {'server':>6}", flush=True)
        for n in range(1, args.rounds + 1):
            for mode, flags in MODES.items():
                out = os.path.join(out_root, f"{mode.replace(' ', '-')}-{n}")
                os.makedirs(out, exist_ok=True)
                link = os.path.join(out, "streams")
                if not os.path.exists(link):
                    os.makedirs(streams, exist_ok=True)
                    os.symlink(streams, link)
                cmd = [args.vigil, "bench", "-c", args.config, "--cameras", str(args.cameras),
                       "--rtsp", *flags, "--detect-fps", "5", "--motion-gate", "on",
                       "--secs", str(args.secs), "--warmup", str(args.warmup), "--no-limits",
                       "--out", out]
                if args.idle:
                    cmd += ["--idle", args.idle]
                if args.stagger:
                    cmd.append("--stagger")
                done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                      text=True)
                if done.returncode != 0:
                    sys.exit(f"{mode} round {n} failed ({done.returncode}): {done.stderr[-2000:]}")
                with open(os.path.join(out, "bench.json")) as f:
                    r = json.load(f)
                print(f"{mode:12} {n:5d} {r['decoded_fps']:9.1f} {r['sampled']:7d} "
                      f"{r['detected']:8d} {r['gate_skipped']:6d} {r['detect_shortfall']:9.2%} "
                      f"{r['cpu_cores_used']:5.2f} {ms(r['frame_latency'])['p99']:>9} "
                      f"{ms(r['alert_latency'])['p99']:>9} {r['alerts']:6d} "
                      f"{r['rss_mb_start']:6.0f}/{r['rss_mb_end']:6.0f}/{r['rss_mb_peak']:6.0f}   "
                      f"{r['server_cpu_cores'] or 0:6.2f}", flush=True)


def ms(latency):
    """p50/p99 of a bench.json latency summary ('-' when nothing was measured)."""
    return {k: ("-" if latency.get(f"{k}_ms") is None else f"{latency[f'{k}_ms']:.0f} ms")
            for k in ("p50", "p99")}


if __name__ == "__main__":
    main()
