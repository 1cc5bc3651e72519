//! Pushes to WeCom, DingTalk and Feishu group robots, end to end: a replay of real footage with
//! the three robots configured as a site would (URLs and secrets from the environment) against a
//! local server speaking each robot's documented API. Every alert reaches each robot once — in
//! Chinese, with camera, zone, time and a link to the page; WeCom's with the snapshot image (its
//! md5 checked by the server) and DingTalk's and Feishu's signed — across an outage of all three
//! and across WeCom refusing only images (the text is not sent twice).

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use vigil_core::{Alert, AlertEvent};
use vigil_testkit::robots::{DINGTALK_SECRET, FEISHU_SECRET, Robots};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn every_alert_reaches_each_robot_once_across_outages() {
    let robots = Robots::start();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.yaml");
    let outputs = "outputs:
  robots:
    - name: office-wecom
      kind: wecom
      url_env: TEST_WECOM_URL
      link_base: https://vigil.example
    - name: office-dingtalk
      kind: dingtalk
      url_env: TEST_DINGTALK_URL
      secret_env: TEST_DINGTALK_SECRET
      link_base: https://vigil.example
    - name: office-feishu
      kind: feishu
      url_env: TEST_FEISHU_URL
      secret_env: TEST_FEISHU_SECRET
      link_base: https://vigil.example
";
    std::fs::write(
        &config,
        vigil_testkit::overhead_config(&repo().join("models"), outputs),
    )
    .unwrap();
    let out = dir.path().join("out");
    // All three down at first, then only WeCom's images; the replay waits for its outboxes.
    robots.outage();
    let mut replay = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .current_dir(repo())
        .env("RUST_LOG", "warn")
        .env("TEST_WECOM_URL", robots.wecom_url())
        .env("TEST_DINGTALK_URL", robots.dingtalk_url())
        .env("TEST_DINGTALK_SECRET", DINGTALK_SECRET)
        .env("TEST_FEISHU_URL", robots.feishu_url())
        .env("TEST_FEISHU_SECRET", FEISHU_SECRET)
        .args(["replay", "-c"])
        .arg(&config)
        .arg("--out")
        .arg(&out)
        .args(["--drain-secs", "120"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while robots.refused() < 6 {
        assert!(Instant::now() < deadline, "no delivery was attempted");
        std::thread::sleep(Duration::from_millis(100));
    }
    robots.recover();
    robots.refuse_images();
    let refused_so_far = robots.refused();
    while robots.refused() < refused_so_far + 2 {
        assert!(Instant::now() < deadline, "no image was attempted");
        std::thread::sleep(Duration::from_millis(100));
    }
    robots.recover();
    let status = replay.wait().unwrap();
    assert!(status.success(), "replay: {status}");

    let alerts: Vec<Alert> = std::fs::read_to_string(out.join("alerts.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let evidence: Vec<&Alert> = alerts
        .iter()
        .filter(|a| a.event == AlertEvent::Evidence)
        .collect();
    assert!(!evidence.is_empty(), "the replay raised no alert");
    assert!(
        robots.rejected().is_empty(),
        "refused for a bad key, signature or image: {:?}",
        robots.rejected()
    );
    let received = robots.received();
    // Per robot and alert: how many messages of each type.
    let mut seen: HashMap<(&str, String, &str), usize> = HashMap::new();
    for m in &received {
        let text = m.body.to_string();
        let id = evidence
            .iter()
            .find(|a| text.contains(&format!("#alert={}", a.id)))
            .map(|a| a.id.to_string());
        let kind = if m.image.is_some() { "image" } else { "text" };
        let id = match (id, &m.image) {
            (Some(id), _) => id,
            (None, Some(image)) => {
                // An image names no alert: it is the snapshot of one.
                let sha = vigil_deliver::sha256_hex(image);
                evidence
                    .iter()
                    .find(|a| {
                        a.evidence
                            .snapshot
                            .as_ref()
                            .is_some_and(|s| s.sha256 == sha)
                    })
                    .map(|a| a.id.to_string())
                    .unwrap_or_else(|| panic!("an image that is no alert's snapshot"))
            }
            (None, None) => panic!("a message naming no alert: {text}"),
        };
        *seen.entry((m.robot, id, kind)).or_default() += 1;
        if m.image.is_none() {
            for expected in [
                "摄像头",
                "overhead",
                "北京时间",
                "区域",
                "all",
                "https://vigil.example/#alert=",
            ] {
                assert!(
                    text.contains(expected),
                    "{} message without {expected:?}: {text}",
                    m.robot
                );
            }
        }
    }
    for a in &evidence {
        let id = a.id.to_string();
        for (robot, kind) in [
            ("wecom", "text"),
            ("wecom", "image"),
            ("dingtalk", "text"),
            ("feishu", "text"),
        ] {
            assert_eq!(
                seen.get(&(robot, id.clone(), kind)).copied(),
                Some(1),
                "{robot} {kind} of alert {id}: {seen:?}"
            );
        }
    }
    assert_eq!(
        received.len(),
        4 * evidence.len(),
        "only the evidence records (the default), once each"
    );
    eprintln!(
        "{} alerts pushed to three robots; {} requests refused during the outages",
        evidence.len(),
        robots.refused()
    );
}
