#!/usr/bin/env python3
"""What the page's live view costs per viewer, at 720p and 1080p: the JPEG pictures vigil makes
from the detect frames (measured on a running `vigil run`) against fMP4 remuxed from the camera's
own H.264 stream (the alternative, measured as the remux alone).

    python3 benches/live-view.py [--vigil target/debug/vigil] [--secs 10] [--rounds 3]

For each size it renders a 25 fps H.264 camera from footage/car-detection.mp4 (x264, 3 Mbit/s
at 720p, 6 Mbit/s at 1080p), runs `vigil run` on it (looping, YOLOX-Nano, api.live.fps 5) and
reads the process's CPU (/proc/PID/stat) over `--secs` windows with 0, 1 and 4 viewers, each a
client long-polling /api/cameras/cam/live as the page does; bytes received per viewer are
counted. The medians of `--rounds` windows are printed side by side, as a Markdown table.
For fMP4 it times `gst-launch-1.0 … ! h264parse ! mp4mux fragment-duration=500 ! fakesink` over
the same file (CPU seconds per second of video) and takes the file's bitrate as the bandwidth.
"""
import argparse
import hashlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOKEN = "live-bench-token"
TICK = os.sysconf("SC_CLK_TCK")


def footage():
    assets = os.environ.get("VIGIL_ASSETS", os.path.join(REPO, "..", "shared"))
    return os.path.join(assets, "footage", "car-detection.mp4")


def render(out, width, height, kbps, secs=20):
    subprocess.run(
        ["gst-launch-1.0", "-q", "filesrc", f"location={footage()}", "!", "decodebin", "!",
         "videoconvert", "!", "videoscale", "!", "videorate", "!",
         f"video/x-raw,width={width},height={height},framerate=25/1", "!",
         "x264enc", f"bitrate={kbps}", "key-int-max=50", "speed-preset=veryfast", "!",
         "h264parse", "!", "mp4mux", "!", "filesink", f"location={out}"],
        check=True, timeout=600)
    return out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_secs(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


class Viewer(threading.Thread):
    """Long-polls the live pictures as the page does; counts bytes and pictures."""

    def __init__(self, port, name):
        super().__init__(daemon=True)
        self.port, self.name = port, name
        self.bytes = self.pictures = 0
        self.stop = False

    def run(self):
        seq = 0
        while not self.stop:
            url = f"http://127.0.0.1:{self.port}/api/cameras/cam/live?after={seq}&viewer={self.name}"
            req = urllib.request.Request(url, headers={"Authorization": f"Bearer {TOKEN}"})
            try:
                with urllib.request.urlopen(req, timeout=10) as res:
                    body = res.read()
                    if res.status == 200:
                        seq = int(res.headers["x-vigil-seq"])
                        self.bytes += len(body) + sum(len(k) + len(v) + 4 for k, v in res.headers.items())
                        self.pictures += 1
            except OSError:
                time.sleep(0.2)


def measure_jpeg(vigil, clip, work, secs, rounds):
    port = free_port()
    models = os.path.join(REPO, "models")
    config = os.path.join(work, "live.yaml")
    sha = hashlib.sha256(TOKEN.encode()).hexdigest()
    with open(config, "w") as f:
        f.write(f"""cameras:
  - name: cam
    file: {clip}
    loop: true
    zones:
      all: [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]
detector:
  manifest: {models}/yolox-nano.yaml
rules:
  - name: anything
    kind: dwell
    camera: cam
    zone: all
    classes: [vehicle, person]
    dwell_secs: 3600
evidence:
  enabled: false
api:
  listen: 127.0.0.1:{port}
  live:
    fps: 5
  tokens:
    - name: bench
      role: viewer
      sha256: {sha}
""")
    out = os.path.join(work, "out-" + os.path.basename(clip))
    env = {**os.environ, "RUST_LOG": "warn"}
    ort = os.path.join(REPO, ".vigil", "onnxruntime", "libonnxruntime.so")
    if "VIGIL_ORT_LIB" not in env and os.path.exists(ort):
        env["VIGIL_ORT_LIB"] = ort  # where scripts/setup puts it
    child = subprocess.Popen([vigil, "run", "-c", config, "--out", out], cwd=REPO,
                             stdout=subprocess.DEVNULL, env=env)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.5)
        time.sleep(8)  # past start-up
        if child.poll() is not None:
            sys.exit(f"vigil run ended ({child.returncode}); see its errors above")
        rows = {}
        for n in (0, 1, 4):
            viewers = [Viewer(port, f"v{i}") for i in range(n)]
            for v in viewers:
                v.start()
            time.sleep(3)  # the first pictures
            cores, kbps, fps = [], [], []
            for _ in range(rounds):
                c0, b0, p0, t0 = cpu_secs(child.pid), sum(v.bytes for v in viewers), sum(v.pictures for v in viewers), time.time()
                time.sleep(secs)
                dt = time.time() - t0
                cores.append((cpu_secs(child.pid) - c0) / dt)
                if n:
                    kbps.append((sum(v.bytes for v in viewers) - b0) * 8 / 1000 / dt / n)
                    fps.append((sum(v.pictures for v in viewers) - p0) / dt / n)
            for v in viewers:
                v.stop = True
            for v in viewers:
                v.join(timeout=15)
            rows[n] = (statistics.median(cores), statistics.median(kbps) if kbps else 0.0,
                       statistics.median(fps) if fps else 0.0)
            time.sleep(6)  # the camera goes back to unwatched
        return rows
    finally:
        child.terminate()
        child.wait(timeout=30)


def measure_fmp4(clip, secs_of_video=20):
    started = os.times()
    subprocess.run(["gst-launch-1.0", "-q", "filesrc", f"location={clip}", "!", "qtdemux", "!",
                    "h264parse", "!", "mp4mux", "fragment-duration=500", "streamable=true", "!",
                    "fakesink"], check=True, timeout=300)
    ended = os.times()
    cpu = (ended.children_user - started.children_user) + (ended.children_system - started.children_system)
    kbps = os.path.getsize(clip) * 8 / 1000 / secs_of_video
    return cpu / secs_of_video, kbps


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--vigil", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(REPO, "target")), "debug", "vigil"))
    p.add_argument("--secs", type=float, default=10)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    if not shutil.which("gst-launch-1.0"):
        sys.exit("gst-launch-1.0 missing: run scripts/setup")
    work = tempfile.mkdtemp(prefix="vigil-live-bench-")
    print(f"| size | viewers | vigil CPU (cores) | added per viewer (cores) | JPEG pictures/s per viewer | kbit/s per viewer | fMP4 remux CPU (cores per viewer) | fMP4 kbit/s per viewer |")
    print("|---|---|---|---|---|---|---|---|")
    for (w, h, kbps) in ((1280, 720, 3000), (1920, 1080, 6000)):
        clip = render(os.path.join(work, f"cam-{h}p.mp4"), w, h, kbps)
        rows = measure_jpeg(args.vigil, clip, work, args.secs, args.rounds)
        remux_cores, remux_kbps = measure_fmp4(clip)
        base = rows[0][0]
        for n, (cores, kb, fps) in rows.items():
            added = (cores - base) / n if n else 0.0
            print(f"| {h}p | {n} | {cores:.3f} | {added:+.3f} | {fps:.1f} | {kb:.0f} | "
                  f"{remux_cores:.4f} | {remux_kbps:.0f} |", flush=True)
    shutil.rmtree(work, ignore_errors=True)
    print(json.dumps({"secs": args.secs, "rounds": args.rounds}), file=sys.stderr)


if __name__ == "__main__":
    main()
