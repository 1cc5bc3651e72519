//! Alerts from a replay reach a real webhook receiver and a real mosquitto subscriber exactly once
//! per idempotency key, though both are down while the first run is killed with SIGKILL; a run
//! killed while connected leaves its last will on `vigil/status`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use vigil_core::Alert;
use vigil_deliver::webhook::{REPLAY_WINDOW, unix_now, verify};
use vigil_deliver::{AlertStore, Outbox};
use vigil_testkit::{Mosquitto, MqttSubscriber, WebhookReceiver, eventually, overhead_config};

const SECRET: &str = "e2e-webhook-secret";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn config(dir: &Path, hook: &str, mqtt_port: u16) -> PathBuf {
    let path = dir.join("config.yaml");
    let outputs = format!(
        "outputs:
  webhooks:
    - name: office
      url: {hook}
      secret: {SECRET}
      timeout_secs: 2
  mqtt:
    host: 127.0.0.1
    port: {mqtt_port}
    client_id: vigil-e2e
"
    );
    let text = overhead_config(&repo().join("models"), &outputs);
    std::fs::write(&path, text).unwrap();
    path
}

fn replay(config: &Path, out: &Path, drain_secs: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vigil"));
    c.current_dir(repo())
        .env("RUST_LOG", "warn")
        .args(["replay", "-c"])
        .arg(config)
        .arg("--out")
        .arg(out)
        .args(["--drain-secs", drain_secs])
        .stdout(Stdio::null());
    c
}

fn key(a: &Alert) -> String {
    format!("{}:{}", a.id, a.event.as_str())
}

#[test]
fn every_alert_reaches_webhook_and_mqtt_once_across_outages_and_a_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let db = out.join("alerts.db");
    let mut receiver = WebhookReceiver::start();
    let mut broker = Mosquitto::start();
    let sub = MqttSubscriber::connect(broker.port, "vigil/alerts");
    let cfg = config(dir.path(), &receiver.url(), broker.port);

    // Run 1, with the receiver and the broker down: alerts are stored and queued, then vigil is
    // killed (SIGKILL) while it waits for them.
    receiver.stop();
    broker.stop();
    let mut child = replay(&cfg, &out, "120").spawn().unwrap();
    let queued = eventually(Duration::from_secs(120), || {
        let pending = Outbox::open(&db, "webhook:office")
            .ok()?
            .depth()
            .ok()?
            .pending;
        (pending >= 3).then_some(pending)
    });
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(queued.is_some(), "run 1 stored no alerts");
    let after_kill = AlertStore::open(&db).unwrap().all().unwrap().len();

    // Both come back; run 2 delivers what run 1 left, and its own alerts.
    receiver.restart();
    let subscribed = sub.subscriptions();
    broker.restart();
    assert!(
        sub.wait_resubscribed(subscribed, Duration::from_secs(30)),
        "the test's subscriber is back"
    );
    let status = replay(&cfg, &out, "60").status().unwrap();
    assert!(status.success());

    let stored: BTreeSet<String> = AlertStore::open(&db)
        .unwrap()
        .all()
        .unwrap()
        .iter()
        .map(key)
        .collect();
    assert!(stored.len() > after_kill, "run 2 added records");

    let mut hooked: BTreeMap<String, usize> = BTreeMap::new();
    for r in receiver.received() {
        let sig = r.header("x-vigil-signature").expect("signed");
        let ts = r.header("x-vigil-timestamp").expect("timestamped");
        let checked = verify(
            SECRET.as_bytes(),
            &r.body,
            ts,
            sig,
            unix_now(),
            REPLAY_WINDOW,
        );
        assert_eq!(checked, Ok(()));
        let a: Alert = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(r.header("idempotency-key"), Some(key(&a).as_str()));
        *hooked.entry(key(&a)).or_default() += 1;
    }
    assert_eq!(hooked.keys().cloned().collect::<BTreeSet<_>>(), stored);
    assert!(hooked.values().all(|&n| n == 1), "{hooked:?}");

    let mqtt = eventually(Duration::from_secs(20), || {
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for m in sub.messages() {
            let a: Alert = serde_json::from_slice(&m.payload).unwrap();
            *seen.entry(key(&a)).or_default() += 1;
        }
        (seen.len() == stored.len()).then_some(seen)
    })
    .expect("every record on vigil/alerts");
    assert_eq!(mqtt.keys().cloned().collect::<BTreeSet<_>>(), stored);
    assert!(mqtt.values().all(|&n| n == 1), "{mqtt:?}");
    for sink in ["webhook:office", "mqtt"] {
        assert_eq!(Outbox::open(&db, sink).unwrap().depth().unwrap().pending, 0);
    }

    // Run 3 is killed while connected: the broker publishes vigil's last will.
    let status = MqttSubscriber::connect(broker.port, "vigil/status");
    let said = |what: &str| {
        status
            .messages()
            .iter()
            .filter(|m| m.payload == what.as_bytes())
            .count()
    };
    let (online_before, offline_before) = (said("online"), said("offline"));
    let mut child = replay(&cfg, &out, "120").spawn().unwrap();
    let connected = eventually(Duration::from_secs(60), || {
        (said("online") > online_before).then_some(())
    });
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(connected.is_some(), "run 3 never said online");
    eventually(Duration::from_secs(20), || {
        (said("offline") > offline_before).then_some(())
    })
    .expect("last will 'offline' on vigil/status after SIGKILL");
}
