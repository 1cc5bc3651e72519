//! A camera as installed: its sub-stream (640×360 H.264) decoded for detection, its main stream
//! (1280×720 H.265) recorded as the evidence and never decoded, each from its own RTSP server
//! process on 127.0.0.1. The alert's clip and snapshots are the main stream's, with the boxes
//! found on the sub-stream drawn where they lie in it; `/metrics` shows both streams. Then the
//! main stream's server dies: detection carries on, alerts still come, and their evidence
//! record says the record stream is down; when it comes back, the record stream reconnects on
//! its own and clips come from it again.

mod common;

use common::Server;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use vigil_core::Size;
use vigil_ingest::rtsp_server::{Codec, encode};
use vigil_testkit::{free_port, overhead_config};

const TOKEN: &str = "two-streams-viewer-token";

fn metric(api: u16, name: &str, labels: &[&str]) -> Option<f64> {
    let (_, body) = common::api_get(api, "/metrics", TOKEN);
    body.lines()
        .find(|l| l.starts_with(name) && labels.iter().all(|x| l.contains(x)))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

/// The evidence records in `alerts.jsonl` so far.
fn evidence(out: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(out.join("alerts.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|a| a["event"] == "evidence")
        .collect()
}

#[test]
fn a_two_stream_camera_records_its_main_stream_and_says_when_it_is_down() {
    let dir = tempfile::tempdir().unwrap();
    let assets =
        std::env::var("VIGIL_ASSETS").map_or(common::repo().join("../shared"), PathBuf::from);
    let footage = assets.join("footage/car-detection.mp4");
    // At the clip's own 12.5 frames/s, where its cars stay in view long enough to dwell.
    let (sub, main) = (dir.path().join("sub.h264"), dir.path().join("main.h265"));
    encode(&footage, &sub, Codec::H264, Size::new(640, 360), 0, 25, 500).unwrap();
    encode(
        &footage,
        &main,
        Codec::H265,
        Size::new(1280, 720),
        0,
        25,
        1500,
    )
    .unwrap();
    let (sub_port, main_port, api) = (free_port(), free_port(), free_port());
    let (_sub_server, _) = Server::start(sub_port, &[("sub", &sub)]);
    let (main_server, _) = Server::start(main_port, &[("main", &main)]);
    let extra = format!(
        "evidence:\n  pre_roll_secs: 2\n  post_roll_secs: 1\napi:\n  listen: 127.0.0.1:{api}\n  tokens:\n    - name: test\n      role: viewer\n      sha256: {}\n",
        vigil_deliver::sha256_hex(TOKEN.as_bytes())
    );
    let config = dir.path().join("config.yaml");
    let text = overhead_config(&common::repo().join("models"), &extra).replace(
        "file: footage/car-detection.mp4",
        &format!(
            "rtsp: rtsp://127.0.0.1:{sub_port}/sub\n    record: rtsp://127.0.0.1:{main_port}/main\n    detect_fps: 5\n    stall_secs: 2"
        ),
    );
    std::fs::write(&config, text).unwrap();
    let out = dir.path().join("out");
    let mut vigil = common::vigil()
        .args(["run", "-c"])
        .arg(&config)
        .arg("--out")
        .arg(&out)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = common::lines(vigil.stderr.take().unwrap());
    let mut seen = Vec::new();
    let mut wait = |what: &dyn Fn(&[String]) -> bool, within: Duration, failure: &str| {
        let deadline = Instant::now() + within;
        while !what(&seen) {
            assert!(
                Instant::now() < deadline,
                "{failure}; log:\n{}\nalerts:\n{}\nmetrics:\n{}",
                seen.join("\n"),
                std::fs::read_to_string(out.join("alerts.jsonl")).unwrap_or_default(),
                common::api_get(api, "/metrics", TOKEN).1
            );
            if let Ok(l) = log.recv_timeout(Duration::from_millis(100)) {
                seen.push(l);
            }
        }
    };

    // Both streams up; the first alert's evidence comes from the main stream.
    let first = || {
        evidence(&out)
            .into_iter()
            .find(|e| e["evidence"]["clip"].is_object())
    };
    wait(&|_| first().is_some(), Duration::from_secs(90), "no clip");
    let record = first().unwrap();
    let clip = out.join(record["evidence"]["clip"]["path"].as_str().unwrap());
    assert_eq!(
        vigil_evidence::rendition::mp4_video_codec(&clip)
            .unwrap()
            .as_deref(),
        Some("hvc1"),
        "the main stream's H.265, as it came"
    );
    let frame = vigil_evidence::snapshot::frame_at(&clip, Duration::ZERO).unwrap();
    assert_eq!((frame.width, frame.height), (1280, 720));
    let snapshot = &record["evidence"]["snapshot"];
    for key in ["path", "clean_path"] {
        let jpeg = out.join(snapshot[key].as_str().unwrap());
        assert_eq!(
            image::image_dimensions(&jpeg).unwrap(),
            (1280, 720),
            "{key}"
        );
    }
    let up = |stream: &str| {
        metric(
            api,
            "vigil_camera_stream_up{",
            &["camera=\"overhead\"", &format!("stream=\"{stream}\"")],
        )
    };
    assert_eq!((up("detect"), up("record")), (Some(1.0), Some(1.0)));
    // The page's camera list: the camera, and its main stream beside it.
    let cameras = || {
        let (_, body) = common::api_get(api, "/api/cameras", TOKEN);
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["cameras"][0].clone()
    };
    let listed = cameras();
    assert_eq!(
        (&listed["online"], &listed["record"]["online"]),
        (&true.into(), &true.into()),
        "{listed}"
    );
    let units = metric(api, "vigil_stage_received_total{", &["stage=\"record\""]).unwrap();
    assert!(units > 25.0, "{units} access units from the main stream");

    // The main stream's server dies.
    main_server.kill();
    let died = evidence(&out).len();
    wait(
        &|log| log.iter().any(|l| l.contains("record stream offline")),
        Duration::from_secs(20),
        "the record stream was not reported down",
    );
    // The status is stored and the gauge set before the line is logged; the wait keeps the test
    // from depending on that order.
    let down = vigil_testkit::eventually(Duration::from_secs(5), || {
        let both = (up("detect"), up("record"));
        (both == (Some(1.0), Some(0.0))).then_some(both)
    });
    assert!(
        down.is_some(),
        "{:?}: the record stream's gauge still says up",
        (up("detect"), up("record"))
    );
    let listed = cameras();
    assert_eq!(
        (&listed["online"], &listed["record"]["online"]),
        (&true.into(), &false.into()),
        "{listed}"
    );
    assert!(
        !listed["record"]["detail"].as_str().unwrap().is_empty(),
        "{listed}"
    );
    let decoded = || metric(api, "vigil_stage_received_total{", &["stage=\"ingest\""]).unwrap();
    let before = decoded();
    let said_down = || {
        evidence(&out).into_iter().skip(died).find(|e| {
            e["evidence"]["error"]
                .as_str()
                .is_some_and(|m| m.contains("record stream"))
        })
    };
    wait(
        &|_| said_down().is_some(),
        Duration::from_secs(90),
        "no alert whose evidence says the record stream is down",
    );
    assert!(decoded() > before, "detection carried on");

    // The main stream's server comes back on its port: the record stream reconnects on its own
    // and clips come from it again.
    let (_main_again, _) = Server::start(main_port, &[("main", &main)]);
    wait(
        &|log| {
            log.iter()
                .filter(|l| l.contains("record stream online"))
                .count()
                >= 2
        },
        Duration::from_secs(30),
        "the record stream did not come back",
    );
    let back = evidence(&out).len();
    wait(
        &|_| {
            evidence(&out)
                .into_iter()
                .skip(back)
                .any(|e| e["evidence"]["clip"].is_object())
        },
        Duration::from_secs(90),
        "no clip after the record stream came back",
    );
    assert_eq!(up("record"), Some(1.0));
    let _ = Command::new("kill")
        .args(["-INT", &vigil.id().to_string()])
        .status();
    let status = vigil.wait().unwrap();
    assert!(status.success(), "{status}");
}
