#!/usr/bin/env python3
"""Consecutive `vigil bench` rounds, as a new user runs them one after another, to show that no
round loses part of its window (issue 20: 2 of 16 rounds once lost 10-17 s of their 20 s to a
looped file's next session that did not start).

    python3 benches/rounds.py [--vigil target/release/vigil] [--rounds 50] [--secs 20]
                              [--config benches/car-detection.yaml]

Each round is a fresh `vigil bench -c CONFIG --secs SECS --no-limits` process (5 s warm-up). It
prints every round's frames detected per second and CPU cores used, then the median, the lowest
round and its ratio to the median; it exits 1 when a round is below 80 % of the median.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vigil", default=os.path.join(REPO, "target/release/vigil"))
    ap.add_argument("--rounds", type=int, default=50)
    ap.add_argument("--secs", type=float, default=20.0)
    ap.add_argument("--config", default=os.path.join(REPO, "benches/car-detection.yaml"))
    args = ap.parse_args()
    if args.rounds < 1 or not 1.0 <= args.secs <= 3600.0:
        sys.exit("--rounds must be at least 1 and --secs within 1-3600")
    rates = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(1, args.rounds + 1):
            out = os.path.join(tmp, f"round-{n}")
            cmd = [args.vigil, "bench", "-c", args.config, "--secs", str(args.secs),
                   "--no-limits", "--out", out]
            done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            if done.returncode != 0:
                sys.exit(f"round {n} failed ({done.returncode}): {done.stderr[-2000:]}")
            with open(os.path.join(out, "bench.json")) as f:
                report = json.load(f)
            rates.append(report["detected_fps"])
            print(f"round {n:3d}: {report['detected_fps']:6.1f} frames/s detected, "
                  f"{report['cpu_cores_used']:.2f} cores", flush=True)
    median = statistics.median(rates)
    low = min(rates)
    print(f"median {median:.1f} frames/s over {len(rates)} rounds of {args.secs:g} s; "
          f"lowest {low:.1f} ({low / median:.0%} of the median), highest {max(rates):.1f}")
    if low < 0.8 * median:
        sys.exit(f"a round fell below 80 % of the median")


if __name__ == "__main__":
    main()
