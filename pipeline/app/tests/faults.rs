//! Faults injected into a live `vigil run` from outside, with real processes on 127.0.0.1: the
//! RTSP server (`vigil bench-server`, a child the test kills, restarts on the same port, or
//! freezes with SIGSTOP). Each case records what RELIABILITY.md publishes; the figures are
//! also written to `$CARGO_TARGET_TMPDIR/faults-*.json`.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn assets() -> PathBuf {
    PathBuf::from(std::env::var_os("VIGIL_ASSETS").expect("VIGIL_ASSETS must point at the assets"))
}

/// A 320×180, 25 frames/s H.264 stream (a keyframe a second) made once from sample footage.
fn stream(dir: &Path) -> PathBuf {
    let file = dir.join("cam.h264");
    vigil_ingest::rtsp_server::encode_h264(
        &assets().join("footage/car-detection.mp4"),
        &file,
        vigil_core::Size::new(320, 180),
        25,
        25,
        300,
    )
    .unwrap();
    file
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The RTSP server process, serving `stream` at `/cam`.
struct Server {
    child: Child,
}

impl Server {
    /// Starts it on `port` and returns once it says it accepts connections (with that instant).
    fn start(port: u16, stream: &Path) -> (Self, Instant) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let mut child = Command::new(env!("CARGO_BIN_EXE_vigil"))
                .args(["bench-server", "--port", &port.to_string()])
                .arg(format!("cam={}:25/1", stream.display()))
                .env("RUST_LOG", "warn")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let mut line = String::new();
            let _ = BufReader::new(child.stdout.take().unwrap()).read_line(&mut line);
            if line.starts_with("port ") {
                return (Self { child }, Instant::now());
            }
            // The port may still be held by the killed server's socket for a moment.
            let _ = child.kill();
            let _ = child.wait();
            assert!(
                Instant::now() < deadline,
                "RTSP server cannot listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill {sig}");
    }

    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `vigil run` on one RTSP camera, its log lines (ANSI codes removed) as they come.
struct Vigil {
    child: Child,
    log: crossbeam_channel::Receiver<String>,
    _out: tempfile::TempDir,
}

impl Vigil {
    fn start(port: u16, stall_secs: f64) -> Self {
        let out = tempfile::tempdir().unwrap();
        let config = out.path().join("faults.yaml");
        std::fs::write(
            &config,
            format!(
                "cameras:\n  - name: cam\n    rtsp: rtsp://127.0.0.1:{port}/cam\n    detect_fps: 1\n    \
                 stall_secs: {stall_secs}\n    zones:\n      all: [[0, 0], [1, 0], [1, 1], [0, 1]]\n\
                 detector:\n  manifest: {}\n  workers: 1\n\
                 rules:\n  - name: someone_lingers\n    kind: dwell\n    camera: cam\n    zone: all\n    \
                 classes: [person]\n    dwell_secs: 60\n",
                repo().join("models/yolox-nano.yaml").display()
            ),
        )
        .unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_vigil"))
            .arg("run")
            .arg("-c")
            .arg(&config)
            .arg("--out")
            .arg(out.path())
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = common::lines(child.stderr.take().unwrap());
        Self {
            child,
            log,
            _out: out,
        }
    }

    /// Waits for a log line containing `what`; the instant it was read.
    fn wait_for(&mut self, what: &str, within: Duration) -> Instant {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Ok(line) = self.log.recv_timeout(Duration::from_millis(50))
                && plain(&line).contains(what)
            {
                return Instant::now();
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("vigil exited ({status}) while waiting for {what:?}");
            }
        }
        panic!("no {what:?} within {within:?}");
    }

    fn rss_kb(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap()
    }
}

impl Drop for Vigil {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A log line without its ANSI colour codes.
fn plain(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    sorted[((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1]
}

/// Kill/restart cycles: 20 in CI; the soak (RELIABILITY.md) sets `VIGIL_FAULT_CYCLES=200`.
fn cycles() -> usize {
    std::env::var("VIGIL_FAULT_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20)
        .max(3)
}

#[test]
fn a_camera_whose_server_is_killed_20_times_comes_back_each_time_within_2_s_median() {
    let cycles = cycles();
    let dir = tempfile::tempdir().unwrap();
    let stream = stream(dir.path());
    let port = free_port();
    let (mut server, _) = Server::start(port, &stream);
    let mut vigil = Vigil::start(port, 3.0);
    vigil.wait_for("camera online", Duration::from_secs(60));
    let mut reconnect = Vec::new();
    let mut rss = Vec::new();
    for cycle in 0..cycles {
        server.kill();
        vigil.wait_for("camera offline", Duration::from_secs(10));
        // Down for a moment, as a rebooting camera or a flapping link would be.
        std::thread::sleep(Duration::from_millis(300 + 100 * (cycle as u64 % 5)));
        let (restarted, ready) = Server::start(port, &stream);
        server = restarted;
        let online = vigil.wait_for("camera online", Duration::from_secs(20));
        reconnect.push((online - ready).as_secs_f64());
        rss.push(vigil.rss_kb());
    }
    let mut sorted = reconnect.clone();
    sorted.sort_by(f64::total_cmp);
    let (median, p90, max) = (
        quantile(&sorted, 0.5),
        quantile(&sorted, 0.9),
        sorted[sorted.len() - 1],
    );
    // Memory after the second cycle (first reconnect paid) against the last.
    let growth = rss[cycles - 1] as f64 / rss[1] as f64 - 1.0;
    let report = serde_json::json!({
        "cycles": reconnect.len(),
        "reconnect_secs": reconnect,
        "median_secs": median,
        "p90_secs": p90,
        "max_secs": max,
        "rss_kb": rss,
        "rss_growth": growth,
    });
    std::fs::write(
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("faults-reconnect.json"),
        serde_json::to_string_pretty(&report).unwrap(),
    )
    .unwrap();
    eprintln!(
        "reconnect after server restart: median {median:.2} s, p90 {p90:.2} s, max {max:.2} s; RSS growth {:.1} %",
        growth * 100.0
    );
    assert_eq!(reconnect.len(), cycles);
    assert!(median <= 2.0, "median reconnect {median:.2} s: {sorted:?}");
    assert!(growth < 0.05, "RSS grew {:.1} %: {rss:?}", growth * 100.0);
}

#[test]
fn a_server_that_stops_sending_is_a_drop_within_stall_secs_plus_one_and_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let stream = stream(dir.path());
    let port = free_port();
    let (server, _) = Server::start(port, &stream);
    let stall = 2.0;
    let mut vigil = Vigil::start(port, stall);
    vigil.wait_for("camera online", Duration::from_secs(60));
    // Let it run, then freeze the server: the TCP session stays open, nothing arrives.
    std::thread::sleep(Duration::from_secs(2));
    let frozen = Instant::now();
    server.signal("-STOP");
    let offline = vigil.wait_for("camera offline", Duration::from_secs(15));
    let noticed = (offline - frozen).as_secs_f64();
    server.signal("-CONT");
    vigil.wait_for("camera online", Duration::from_secs(30));
    std::fs::write(
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("faults-stall.json"),
        serde_json::json!({ "stall_secs": stall, "noticed_after_secs": noticed }).to_string(),
    )
    .unwrap();
    eprintln!("stall noticed after {noticed:.2} s (stall_secs {stall})");
    assert!(
        noticed <= stall + 1.0,
        "the watchdog took {noticed:.2} s for stall_secs {stall}"
    );
}
