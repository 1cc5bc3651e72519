//! Delivery against real receivers: an HTTP server taking webhooks and a mosquitto broker, each
//! stopped for a while, with the store reopened in between as after a crash.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use vigil_core::{Alert, AlertEvent, AlertFilter, CameraId};
use vigil_deliver::mqtt::{Mqtt, MqttSettings};
use vigil_deliver::webhook::{REPLAY_WINDOW, Rejected, Webhook, unix_now, verify};
use vigil_deliver::worker::{self, Backoff, Worker};
use vigil_deliver::{AlertStore, Outbox, Route};
use vigil_testkit::{Mosquitto, MqttSubscriber, WebhookReceiver, eventually};

const SECRET: &[u8] = b"s3cret-for-tests";
const WAIT: Duration = Duration::from_secs(20);

fn fast() -> Backoff {
    Backoff {
        base: Duration::from_millis(50),
        max: Duration::from_millis(400),
    }
}

fn alert(id: &str, camera: &str, event: AlertEvent) -> Alert {
    Alert {
        event,
        ..vigil_testkit::alert(id, camera)
    }
}

fn route(sink: &str) -> Route {
    Route {
        sink: sink.into(),
        filter: AlertFilter::default(),
    }
}

fn start_webhook(db: &Path, url: &str, stop: &Arc<AtomicBool>) -> Worker {
    let outbox = Outbox::open(db, "webhook:office").unwrap();
    let hook = Webhook::new(url, Some(SECRET.to_vec()), Duration::from_secs(2));
    worker::spawn(outbox, Box::new(hook), fast(), stop.clone()).unwrap()
}

/// Accepted deliveries per idempotency key.
fn keys(receiver: &WebhookReceiver) -> HashMap<String, usize> {
    let mut m = HashMap::new();
    for r in receiver.received() {
        *m.entry(r.header("idempotency-key").unwrap().to_string())
            .or_default() += 1;
    }
    m
}

#[test]
fn webhook_delivers_signed_records_in_order_and_outlasts_receiver_outages_and_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("alerts.db");
    let mut receiver = WebhookReceiver::start();
    let mut store = AlertStore::open(&db)
        .unwrap()
        .with_routes(vec![route("webhook:office")]);

    // 1. Up: delivered at once, signed, keyed.
    let stop = Arc::new(AtomicBool::new(false));
    let w = start_webhook(&db, &receiver.url(), &stop);
    store
        .insert(&alert("a1", "gate", AlertEvent::Start))
        .unwrap();
    w.nudger().try_send(()).ok();
    let first = eventually(WAIT, || receiver.received().first().cloned()).expect("delivered");
    assert_eq!(first.header("idempotency-key"), Some("a1:start"));
    assert_eq!(first.header("x-vigil-event"), Some("start"));
    assert_eq!(first.header("content-type"), Some("application/json"));
    let sig = first.header("x-vigil-signature").expect("signed");
    let ts = first.header("x-vigil-timestamp").expect("timestamped");
    assert_eq!(
        verify(SECRET, &first.body, ts, sig, unix_now(), REPLAY_WINDOW),
        Ok(()),
        "signature over timestamp and body, signed just now"
    );
    // The same delivery replayed later than the window is refused by the documented check,
    // and so is one whose timestamp was changed to look fresh.
    let replayed_at = ts.parse::<i64>().unwrap() + REPLAY_WINDOW.as_secs() as i64 + 1;
    assert!(matches!(
        verify(SECRET, &first.body, ts, sig, replayed_at, REPLAY_WINDOW),
        Err(Rejected::OutsideWindow { .. })
    ));
    assert_eq!(
        verify(
            SECRET,
            &first.body,
            &replayed_at.to_string(),
            sig,
            replayed_at,
            REPLAY_WINDOW
        ),
        Err(Rejected::BadSignature)
    );
    let body: Alert = serde_json::from_slice(&first.body).unwrap();
    assert_eq!(body.id, "a1");
    assert_eq!(
        Some(body),
        store.all().unwrap().into_iter().next(),
        "the body is the stored record"
    );

    // 2. Refusing (503): retried with backoff until accepted; nothing lost, order kept.
    receiver.refuse_with(503);
    for (id, cam) in [("a2", "gate"), ("a3", "gate"), ("b1", "lot")] {
        store.insert(&alert(id, cam, AlertEvent::Start)).unwrap();
    }
    w.nudger().try_send(()).ok();
    eventually(WAIT, || (receiver.refused() >= 3).then_some(())).expect("retried");
    receiver.accept();
    eventually(WAIT, || (keys(&receiver).len() == 4).then_some(())).expect("all delivered");

    // 3. Gone (connection refused) while vigil stops and "restarts": the outbox carries over.
    receiver.stop();
    stop.store(true, Ordering::SeqCst);
    w.join();
    drop(store);
    let mut store = AlertStore::open(&db)
        .unwrap()
        .with_routes(vec![route("webhook:office")]);
    store
        .insert(&alert("a4", "gate", AlertEvent::Start))
        .unwrap();
    store.insert(&alert("a2", "gate", AlertEvent::End)).unwrap();
    drop(store);
    let stop = Arc::new(AtomicBool::new(false));
    let w = start_webhook(&db, &receiver.url(), &stop);
    std::thread::sleep(Duration::from_millis(600)); // a few refused attempts
    receiver.restart();
    eventually(WAIT, || (keys(&receiver).len() == 6).then_some(()))
        .expect("delivered after restart");
    stop.store(true, Ordering::SeqCst);
    w.join();

    let keys = keys(&receiver);
    assert!(keys.values().all(|&n| n == 1), "each key once: {keys:?}");
    // Per camera, in the order stored.
    let gate: Vec<String> = receiver
        .received()
        .iter()
        .filter_map(|r| {
            let a: Alert = serde_json::from_slice(&r.body).unwrap();
            (a.camera.as_str() == "gate").then(|| format!("{}:{}", a.id, a.event.as_str()))
        })
        .collect();
    assert_eq!(
        gate,
        ["a1:start", "a2:start", "a3:start", "a4:start", "a2:end"]
    );
    let depth = Outbox::open(&db, "webhook:office")
        .unwrap()
        .depth()
        .unwrap();
    assert_eq!(depth.pending, 0);
}

#[test]
fn webhook_filters_route_records_to_the_endpoints_that_want_them() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("alerts.db");
    let receiver = WebhookReceiver::start();
    let ends_only = Route {
        sink: "webhook:office".into(),
        filter: AlertFilter {
            cameras: vec![CameraId::new("lot")],
            events: vec![AlertEvent::End],
            ..Default::default()
        },
    };
    let mut store = AlertStore::open(&db).unwrap().with_routes(vec![ends_only]);
    store.insert(&alert("x", "lot", AlertEvent::Start)).unwrap();
    store.insert(&alert("x", "lot", AlertEvent::End)).unwrap();
    store.insert(&alert("y", "gate", AlertEvent::End)).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let w = start_webhook(&db, &receiver.url(), &stop);
    eventually(WAIT, || (!receiver.received().is_empty()).then_some(())).expect("delivered");
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::SeqCst);
    w.join();
    let got: Vec<_> = receiver
        .received()
        .iter()
        .map(|r| r.header("idempotency-key").unwrap().to_string())
        .collect();
    assert_eq!(got, ["x:end"]);
}

fn mqtt_settings(port: u16) -> MqttSettings {
    MqttSettings {
        host: "127.0.0.1".into(),
        port,
        client_id: "vigil-test".into(),
        username: None,
        password: None,
        prefix: "vigil".into(),
        keep_alive: Duration::from_secs(5),
        ack_timeout: Duration::from_secs(5),
        liveness: vigil_deliver::mqtt::Liveness::single("vigil"),
        tls: None,
    }
}

#[test]
fn mqtt_publishes_alerts_at_qos1_and_retained_camera_status_and_survives_a_broker_outage() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("alerts.db");
    let mut broker = Mosquitto::start();
    let sub = MqttSubscriber::connect(broker.port, "vigil/#");
    let mut store = AlertStore::open(&db)
        .unwrap()
        .with_routes(vec![route("mqtt")]);
    store
        .record_camera_status(&CameraId::new("gate"), true, "")
        .unwrap();
    store
        .insert(&alert("a1", "gate", AlertEvent::Start))
        .unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let mqtt = Mqtt::start(&mqtt_settings(broker.port)).unwrap();
    let outbox = Outbox::open(&db, "mqtt").unwrap();
    let w = worker::spawn(outbox, Box::new(mqtt), fast(), stop.clone()).unwrap();

    let has = |topic: &str, payload_has: &str| {
        let sub = &sub;
        let (topic, payload_has) = (topic.to_string(), payload_has.to_string());
        move || {
            sub.messages().into_iter().find(|m| {
                m.topic == topic && String::from_utf8_lossy(&m.payload).contains(&payload_has)
            })
        }
    };
    eventually(WAIT, has("vigil/alerts", "\"a1\"")).expect("on vigil/alerts");
    eventually(WAIT, has("vigil/gate/alerts", "\"a1\"")).expect("on vigil/gate/alerts");
    eventually(WAIT, has("vigil/gate/status", "\"state\":\"online\"")).expect("camera status");
    eventually(WAIT, has("vigil/status", "online")).expect("vigil online");

    // The broker goes away; alerts stored meanwhile arrive once it is back.
    broker.stop();
    store
        .insert(&alert("a2", "gate", AlertEvent::Start))
        .unwrap();
    store
        .record_camera_status(&CameraId::new("gate"), false, "connection refused")
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    broker.restart();
    eventually(WAIT, has("vigil/alerts", "\"a2\"")).expect("a2 after the outage");
    eventually(WAIT, has("vigil/gate/status", "offline")).expect("status after the outage");

    // Retained: a subscriber arriving now still learns the camera's state and vigil's.
    let late = MqttSubscriber::connect(broker.port, "vigil/+/status");
    let retained = eventually(WAIT, || {
        late.messages()
            .into_iter()
            .find(|m| m.topic == "vigil/gate/status")
    })
    .expect("retained status");
    assert!(retained.retain);
    let status: serde_json::Value = serde_json::from_slice(&retained.payload).unwrap();
    assert_eq!(status["state"], "offline", "{status}");
    assert_eq!(status["detail"], "connection refused", "{status}");
    assert!(status["at_ms"].as_i64().unwrap() > 0, "{status}");

    stop.store(true, Ordering::SeqCst);
    w.join();
    assert_eq!(
        Outbox::open(&db, "mqtt").unwrap().depth().unwrap().pending,
        0
    );
    // A clean stop says so on vigil/status.
    eventually(WAIT, has("vigil/status", "offline")).expect("vigil offline on stop");
    let a1_count = sub
        .messages()
        .iter()
        .filter(|m| {
            m.topic == "vigil/alerts" && String::from_utf8_lossy(&m.payload).contains("\"a1\"")
        })
        .count();
    assert_eq!(a1_count, 1);
}
