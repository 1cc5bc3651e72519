//! The page's alarm in a real headless Chromium against a real server: an alert below
//! `api.alarm.min_severity` stays quiet; one at it sounds the built-in alarm (the audio element
//! plays it), flashes and raises a notification; a mute silences the sound until it runs out;
//! acknowledging the alert stops it all and closes the notification. An alert at the severity
//! already waiting when the page opens rings from sign-in, and the sound stops only once it is
//! acknowledged too. The notification names the camera and zone as people call them (their
//! display names).

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use vigil_core::Severity;
use vigil_deliver::AlertStore;
use vigil_serve::{Events, LiveEvent};

#[test]
fn a_new_alert_at_the_alarm_severity_sounds_notifies_and_stops_when_acknowledged() {
    let browser = common::browser();
    let dir = tempfile::tempdir().unwrap();
    let events = Events::default();
    let config = vigil_serve::ServeConfig {
        alarm: vigil_config::Alarm {
            min_severity: Severity::High,
        },
        ..common::config(dir.path(), &["gate"])
    };
    let db = config.db.clone();
    // Waiting since five minutes ago, unacknowledged, when the page opens.
    let mut waiting = common::alert(
        "waiting-high",
        "gate",
        &vigil_core::time::rfc3339(
            std::time::SystemTime::now() - std::time::Duration::from_secs(300),
        ),
    );
    waiting.severity = Severity::High;
    AlertStore::open(&db).unwrap().insert(&waiting).unwrap();
    let server = common::start(config, events.clone());
    let mut node = Command::new("timeout")
        .arg("120")
        .arg("node")
        .arg(browser.join("alarm.mjs"))
        .arg(format!("http://{}", server.addr()))
        .arg(common::OPERATOR)
        .arg("waiting-high")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(node.stdout.take().unwrap()).lines();
    let first = lines.next().and_then(Result::ok);
    assert_eq!(first.as_deref(), Some("ready"), "the page did not sign in");
    // Raised as the pipeline raises them: stored, then published.
    let mut store = AlertStore::open(&db).unwrap();
    for (id, severity) in [
        ("quiet-medium", Severity::Medium),
        ("loud-critical", Severity::Critical),
    ] {
        let mut alert = common::alert(id, "gate", "2026-12-03T21:00:00.000Z");
        alert.severity = severity;
        // Named as the writer names it, from the config's display names.
        alert.zone = Some(vigil_core::ZoneId::new("fire_lane"));
        alert.names = vigil_core::DisplayNames {
            camera: Some("3号楼东门".into()),
            zone: Some("消防通道".into()),
            rule: None,
        };
        store.insert(&alert).unwrap();
        events.publish(LiveEvent::Alert {
            record: Box::new(alert),
        });
    }
    let last = lines.map_while(Result::ok).last().unwrap_or_default();
    let status = node.wait().unwrap();
    server.stop();
    assert!(status.success(), "alarm page test failed: {last}");
    let seen: serde_json::Value = serde_json::from_str(&last).unwrap();
    assert_eq!(seen["permission"], "granted");
    assert_eq!(
        (seen["quiet"].as_str(), seen["loud"].as_str()),
        (Some("quiet-medium"), Some("loud-critical"))
    );
    let ringing = &seen["ringing"];
    assert_eq!(ringing["flashing"], true, "{ringing}");
    assert_eq!(ringing["loudOutlined"], true, "{ringing}");
    assert_eq!(ringing["quietOutlined"], false, "{ringing}");
    assert_eq!(ringing["bar"], "2 条告警待处理", "{ringing}");
    assert!(
        ringing["title"].as_str().unwrap().starts_with("(2) "),
        "{ringing}"
    );
    // One notification, for the critical alert only, in Chinese.
    // One notification each for the waiting and the critical alert, none for the medium one.
    let notes = ringing["notes"].as_array().unwrap();
    assert_eq!(notes.len(), 2, "{ringing}");
    assert_eq!(notes[0]["tag"], "waiting-high", "rung at sign-in");
    assert_eq!(notes[0]["title"], "【高】区域滞留");
    let notes = &notes[1..];
    assert_eq!(notes[0]["tag"], "loud-critical");
    assert_eq!(notes[0]["title"], "【紧急】区域滞留");
    assert!(
        notes[0]["body"]
            .as_str()
            .unwrap()
            .starts_with("3号楼东门 · 消防通道 · "),
        "{ringing}"
    );
    // Muted: no sound, still flashing, the mute kept for this account.
    let muted = &seen["muted"];
    assert_eq!(
        (muted["paused"].as_bool(), muted["flashing"].as_bool()),
        (Some(true), Some(true)),
        "{muted}"
    );
    assert!(
        muted["text"].as_str().unwrap().starts_with("已静音至"),
        "{muted}"
    );
    assert_eq!(muted["stored"], serde_json::json!(["vigil.mute.guard"]));
    assert_eq!(
        seen["stillMuted"], true,
        "the sound came back before the mute ran out"
    );
    // Acknowledged: silent, calm, and the notification closed.
    // The critical one acknowledged: the waiting one still sounds.
    let after_loud = &seen["afterLoud"];
    assert_eq!(after_loud["paused"], false, "{after_loud}");
    assert_eq!(after_loud["bar"], "1 条告警待处理", "{after_loud}");
    let after = &seen["after"];
    assert_eq!(
        (
            after["paused"].as_bool(),
            after["flashing"].as_bool(),
            after["bar"].as_bool()
        ),
        (Some(true), Some(false), Some(false)),
        "{after}"
    );
    assert!(
        after["notes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["closed"] == true),
        "{after}"
    );
    assert_eq!(after["title"], "vigil");
    let ack = AlertStore::open(&db)
        .unwrap()
        .ack("loud-critical")
        .unwrap()
        .unwrap();
    assert_eq!(
        (ack.by.as_str(), ack.comment.as_str()),
        ("guard", "已到场处理")
    );
}
