//! Faults injected into a live `vigil run` from outside, with real processes on 127.0.0.1: the
//! RTSP server (`vigil bench-server`, a child the test kills, restarts on the same port, or
//! freezes with SIGSTOP). Each case records what RELIABILITY.md publishes; the figures are
//! also written to `$CARGO_TARGET_TMPDIR/faults-*.json`.

mod common;

use common::Server;
use vigil_ingest::rtsp_server::{Codec, encode};
use vigil_testkit::free_port;

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
    encode(
        &assets().join("footage/car-detection.mp4"),
        &file,
        Codec::H264,
        vigil_core::Size::new(320, 180),
        25,
        25,
        300,
    )
    .unwrap();
    file
}

/// `vigil run` on one RTSP camera, its log lines (ANSI codes removed) as they come.
struct Vigil {
    child: Child,
    log: crossbeam_channel::Receiver<String>,
    _out: tempfile::TempDir,
}

impl Vigil {
    fn start(port: u16, stall_secs: f64) -> Self {
        Self::start_with(port, stall_secs, "")
    }

    /// With `extra` appended to the config (e.g. an `api:` section).
    fn start_with(port: u16, stall_secs: f64, extra: &str) -> Self {
        let out = tempfile::tempdir().unwrap();
        let config = out.path().join("faults.yaml");
        std::fs::write(
            &config,
            format!(
                "cameras:\n  - name: cam\n    rtsp: rtsp://127.0.0.1:{port}/cam\n    detect_fps: 1\n    \
                 stall_secs: {stall_secs}\n    zones:\n      all: [[0, 0], [1, 0], [1, 1], [0, 1]]\n\
                 detector:\n  manifest: {}\n  workers: 1\n\
                 rules:\n  - name: someone_lingers\n    kind: dwell\n    camera: cam\n    zone: all\n    \
                 classes: [person]\n    dwell_secs: 60\n{extra}",
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

    /// Waits until the camera has decoded `at_least` frames (read from `/metrics` on `api`);
    /// panics with `failure` after `within`, or if vigil exits. The count reached.
    fn wait_decoded(&mut self, api: u16, at_least: u64, within: Duration, failure: &str) -> u64 {
        let deadline = Instant::now() + within;
        loop {
            let n = decoded(api);
            if n >= at_least {
                return n;
            }
            assert!(Instant::now() < deadline, "{failure}");
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("vigil exited ({status}) while waiting: {failure}");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
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
    let (mut server, _) = Server::start(port, &[("cam", &stream)]);
    let mut vigil = Vigil::start(port, 3.0);
    vigil.wait_for("camera online", Duration::from_secs(60));
    let mut reconnect = Vec::new();
    let mut rss = Vec::new();
    for cycle in 0..cycles {
        server.kill();
        vigil.wait_for("camera offline", Duration::from_secs(10));
        // Down for a moment, as a rebooting camera or a flapping link would be.
        std::thread::sleep(Duration::from_millis(300 + 100 * (cycle as u64 % 5)));
        let (restarted, ready) = Server::start(port, &[("cam", &stream)]);
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
    let (server, _) = Server::start(port, &[("cam", &stream)]);
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

/// A TCP relay between vigil and the RTSP server that can corrupt what the server sends: a burst
/// of random bytes spliced into the stream, or random bytes overwritten in passing traffic.
struct Relay {
    port: u16,
    /// 0: pass; 1: overwrite one byte in every ~500 passing; 2: splice a burst of garbage once;
    /// 3: truncate: pass only the first half of each chunk read (RTP packets and NAL units cut
    /// short, the rest of them lost).
    mode: std::sync::Arc<std::sync::atomic::AtomicU8>,
}

impl Relay {
    fn start(upstream: u16) -> Self {
        use std::sync::atomic::{AtomicU8, Ordering};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mode = std::sync::Arc::new(AtomicU8::new(0));
        let m = mode.clone();
        std::thread::Builder::new()
            .name("relay-accept".into())
            .spawn(move || {
                for client in listener.incoming().flatten() {
                    let Ok(server) = std::net::TcpStream::connect(("127.0.0.1", upstream)) else {
                        continue;
                    };
                    let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                    // vigil → server: as it is.
                    let _ = std::thread::Builder::new()
                        .name("relay-up".into())
                        .spawn(move || {
                            let (mut from, mut to) = (c2, s2);
                            let _ = std::io::copy(&mut from, &mut to);
                        });
                    // server → vigil: through the corrupter.
                    let m = m.clone();
                    let _ =
                        std::thread::Builder::new()
                            .name("relay-down".into())
                            .spawn(move || {
                                use std::io::{Read, Write};
                                let (mut from, mut to) = (server, client);
                                let mut buf = vec![0u8; 16 * 1024];
                                let mut seed = 0x2545_f491_4f6c_dd1du64;
                                let mut rand = move || {
                                    seed ^= seed << 13;
                                    seed ^= seed >> 7;
                                    seed ^= seed << 17;
                                    seed
                                };
                                while let Ok(n) = from.read(&mut buf) {
                                    if n == 0 {
                                        break;
                                    }
                                    match m.load(Ordering::Relaxed) {
                                        1 => {
                                            for _ in 0..n.div_ceil(500) {
                                                let i = rand() as usize % n;
                                                buf[i] = rand() as u8;
                                            }
                                        }
                                        2 => {
                                            m.store(0, Ordering::Relaxed);
                                            let garbage: Vec<u8> =
                                                (0..64 * 1024).map(|_| rand() as u8).collect();
                                            if to.write_all(&garbage).is_err() {
                                                break;
                                            }
                                        }
                                        _ => {}
                                    }
                                    let n = match m.load(Ordering::Relaxed) {
                                        3 => n.div_ceil(2),
                                        _ => n,
                                    };
                                    if to.write_all(&buf[..n]).is_err() {
                                        break;
                                    }
                                }
                            });
                }
            })
            .unwrap();
        Self { port, mode }
    }

    fn set(&self, mode: u8) {
        self.mode.store(mode, std::sync::atomic::Ordering::Relaxed);
    }
}

/// The viewer token the tests read `/metrics` with.
const TOKEN: &str = "faults-test-viewer-token";

/// A config's `api:` section on `api`, with [`TOKEN`] as a viewer.
fn api_section(api: u16) -> String {
    format!(
        "api:\n  listen: 127.0.0.1:{api}\n  tokens:\n    - name: test\n      role: viewer\n      sha256: {}\n",
        vigil_deliver::sha256_hex(TOKEN.as_bytes())
    )
}

/// Frames the camera has decoded so far, from `/metrics`.
fn decoded(api: u16) -> u64 {
    let (_, body) = common::api_get(api, "/metrics", TOKEN);
    body.lines()
        .find(|l| {
            l.starts_with("vigil_stage_received_total{")
                && l.contains("stage=\"ingest\"")
                && l.contains("camera=\"cam\"")
        })
        .and_then(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no ingest counter in /metrics:\n{body}")) as u64
}

#[test]
fn garbage_and_corrupted_bytes_in_the_stream_never_crash_vigil_and_frames_flow_again() {
    let dir = tempfile::tempdir().unwrap();
    let stream = stream(dir.path());
    let server_port = free_port();
    let (_server, _) = Server::start(server_port, &[("cam", &stream)]);
    let relay = Relay::start(server_port);
    let api = free_port();
    let extra = api_section(api);
    let mut vigil = Vigil::start_with(relay.port, 2.0, &extra);
    vigil.wait_for("camera online", Duration::from_secs(60));
    std::thread::sleep(Duration::from_secs(1));
    // More than 25 frames decoded after `after`.
    let wait_for_frames = |vigil: &mut Vigil, after: u64, what: &str| {
        let failure = format!("no frames within 20 s after {what}");
        vigil.wait_decoded(api, after + 26, Duration::from_secs(20), &failure)
    };
    let mut n = wait_for_frames(&mut vigil, 0, "start");
    // `/metrics` says which element decodes (`decoder: auto` on a machine without a hardware one:
    // libav).
    let (_, metrics) = common::api_get(api, "/metrics", TOKEN);
    assert!(
        metrics.contains("vigil_camera_decoder{camera=\"cam\",decoder=\"avdec_h264\"} 1"),
        "{metrics}"
    );
    // 64 KB of random bytes spliced into the RTSP/TCP stream: the framing is lost.
    relay.set(2);
    std::thread::sleep(Duration::from_secs(1));
    n = wait_for_frames(&mut vigil, n, "a garbage burst");
    // Three seconds of random bytes overwritten in passing: broken RTP headers and NAL units.
    relay.set(1);
    std::thread::sleep(Duration::from_secs(3));
    relay.set(0);
    n = wait_for_frames(&mut vigil, n, "corrupted packets");
    // Two seconds of truncated packets: half of every chunk the server sends is lost.
    relay.set(3);
    std::thread::sleep(Duration::from_secs(2));
    relay.set(0);
    wait_for_frames(&mut vigil, n, "truncated packets");
    assert!(vigil.child.try_wait().unwrap().is_none(), "vigil exited");
    // What vigil made of it (for RELIABILITY.md): its warnings while the stream was corrupted.
    let seen: Vec<String> = vigil
        .log
        .try_iter()
        .map(|l| plain(&l))
        .filter(|l| l.contains("WARN") || l.contains("ERROR") || l.contains("online"))
        .collect();
    eprintln!("{} warnings/status lines:\n{}", seen.len(), seen.join("\n"));
    assert!(!seen.iter().any(|l| l.contains("panicked")), "{seen:?}");
}

/// `vigil run` on the looping parking-lot GIF: a car stays in the lane, so a dwell alert comes
/// within seconds of the start (and again at each loop).
fn lot_run(out: &Path) -> Child {
    let config = out.join("lot.yaml");
    std::fs::write(
        &config,
        format!(
            "cameras:\n  - name: lot\n    file: {}\n    loop: true\n    zones:\n      \
             lane: [[0.0, 0.3], [0.45, 0.3], [0.45, 1.0], [0.0, 1.0]]\n\
             detector:\n  manifest: {}\n  score_threshold: 0.1\n\
             evidence:\n  post_roll_secs: 3\n\
             rules:\n  - name: lane_blocked\n    kind: dwell\n    camera: lot\n    zone: lane\n    \
             classes: [vehicle]\n    dwell_secs: 1.0\n    min_score: 0.3\n",
            assets()
                .join("footage/person-bicycle-car-detection.gif")
                .display(),
            repo().join("models/picodet-s.yaml").display()
        ),
    )
    .unwrap();
    Command::new(env!("CARGO_BIN_EXE_vigil"))
        .arg("run")
        .arg("-c")
        .arg(&config)
        .arg("--out")
        .arg(out)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[test]
fn a_sigkilled_run_leaves_no_half_written_evidence_and_no_alert_without_its_evidence_record() {
    let out = tempfile::tempdir().unwrap();
    // Run 1: killed (SIGKILL) as soon as its first alert is printed, i.e. stored — its clip
    // (3 s of post-roll) is not written yet.
    let mut first = lot_run(out.path());
    let lines = common::lines(first.stdout.take().unwrap());
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Ok(line) = lines.recv_timeout(Duration::from_millis(100))
            && line.starts_with("ALERT")
        {
            break;
        }
        assert!(Instant::now() < deadline, "no alert within 90 s");
    }
    first.kill().unwrap();
    first.wait().unwrap();
    // A clip cut off mid-write looks like this (clips and snapshots are written under a
    // temporary name and renamed when complete); killing at exactly that moment cannot be timed
    // from outside, so one is left where the recorder would have.
    let lot = out.path().join("evidence/lot");
    std::fs::create_dir_all(&lot).unwrap();
    let planted = lot.join("0000-interrupted.mp4.part");
    std::fs::write(&planted, b"\0\0\0\x18ftypisom").unwrap();

    // Run 2 on the same folder, stopped with SIGTERM after a few seconds.
    let mut second = lot_run(out.path());
    std::thread::sleep(Duration::from_secs(6));
    let term = Instant::now();
    let ok = Command::new("kill")
        .args(["-TERM", &second.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let status = loop {
        if let Some(s) = second.try_wait().unwrap() {
            break s;
        }
        assert!(
            term.elapsed() < Duration::from_secs(5),
            "vigil did not exit within 5 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let stopped_in = term.elapsed();
    assert!(status.success(), "exit status {status}");

    assert!(!planted.exists(), "the half-written file is still there");
    let store = vigil_deliver::AlertStore::open(&out.path().join("alerts.db")).unwrap();
    let records = store.all().unwrap();
    let mut starts = std::collections::BTreeMap::<String, usize>::new();
    let mut evidence = std::collections::BTreeMap::<String, Vec<vigil_core::Alert>>::new();
    for r in &records {
        match r.event {
            vigil_core::AlertEvent::Start => *starts.entry(r.id.to_string()).or_default() += 1,
            vigil_core::AlertEvent::Evidence => evidence
                .entry(r.id.to_string())
                .or_default()
                .push(r.clone()),
            _ => {}
        }
    }
    assert!(!starts.is_empty());
    let mut interrupted = 0;
    for (id, n) in &starts {
        assert_eq!(*n, 1, "alert {id} stored {n} times");
        let ev = evidence.get(id).map(Vec::as_slice).unwrap_or_default();
        assert_eq!(ev.len(), 1, "alert {id} has {} evidence records", ev.len());
        let e = &ev[0].evidence;
        assert!(e.clip.is_some() || e.error.is_some(), "alert {id}: {e:?}");
        if e.error
            .as_deref()
            .is_some_and(|m| m.contains("before this alert's clip was written"))
        {
            interrupted += 1;
        }
    }
    // The alert of the killed run is the one marked; the second run's own alerts (if any) got
    // their clip or were closed on SIGTERM.
    assert!(interrupted >= 1, "{records:#?}");
    let verify = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .arg("verify")
        .arg(out.path())
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
    eprintln!(
        "{} alerts, {interrupted} marked as interrupted; SIGTERM → exit in {:.2} s",
        starts.len(),
        stopped_in.as_secs_f64()
    );
}

#[test]
fn a_resolution_change_mid_stream_is_followed_without_a_reconnect() {
    let dir = tempfile::tempdir().unwrap();
    // One byte stream that switches from 320×180 to 480×270 (new SPS and keyframe), looped: what
    // a camera does when someone changes its resolution in its web page.
    let small = stream(dir.path());
    let large = dir.path().join("large.h264");
    encode(
        &assets().join("footage/bottle-detection.mp4"),
        &large,
        Codec::H264,
        vigil_core::Size::new(480, 270),
        25,
        25,
        400,
    )
    .unwrap();
    let both = dir.path().join("both.h264");
    let mut bytes = std::fs::read(&small).unwrap();
    bytes.extend(std::fs::read(&large).unwrap());
    std::fs::write(&both, bytes).unwrap();
    let port = free_port();
    let (_server, _) = Server::start(port, &[("cam", &both)]);
    let api = free_port();
    let extra = api_section(api);
    let mut vigil = Vigil::start_with(port, 2.0, &extra);
    vigil.wait_for("camera online", Duration::from_secs(60));
    // 377 small frames, then 1190 large ones at 25 frames/s: past the switch after ~16 s.
    let start = decoded(api);
    let failure = "frames stopped after the resolution change";
    vigil.wait_decoded(api, start + 450, Duration::from_secs(40), failure);
    let events: Vec<String> = vigil
        .log
        .try_iter()
        .map(|l| plain(&l))
        .filter(|l| l.contains("offline") || l.contains("panicked"))
        .collect();
    assert!(events.is_empty(), "{events:?}");
}

#[test]
fn a_camera_that_comes_back_with_another_codec_is_decoded_after_the_reconnect() {
    let dir = tempfile::tempdir().unwrap();
    let h264 = stream(dir.path());
    // The same camera after a firmware update that switched it to H.265.
    let h265 = dir.path().join("cam.h265");
    encode(
        &assets().join("footage/car-detection.mp4"),
        &h265,
        Codec::H265,
        vigil_core::Size::new(320, 180),
        0,
        25,
        300,
    )
    .unwrap();
    let port = free_port();
    let api = free_port();
    let extra = api_section(api);
    let (server, _) = Server::start(port, &[("cam", &h264)]);
    let mut vigil = Vigil::start_with(port, 2.0, &extra);
    vigil.wait_for("camera online", Duration::from_secs(60));
    server.kill();
    vigil.wait_for("camera offline", Duration::from_secs(10));
    let (_hevc, _) = Server::start(port, &[("cam", &h265)]);
    vigil.wait_for("camera online", Duration::from_secs(20));
    let start = decoded(api);
    let failure = "no H.265 frames decoded";
    vigil.wait_decoded(api, start + 50, Duration::from_secs(20), failure);
}
