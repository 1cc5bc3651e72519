//! Real peers for vigil's tests, started on 127.0.0.1 and free ports: a [`Postgres`] server (a
//! fresh Debian PostgreSQL cluster), a [`Mosquitto`] broker (the Debian `mosquitto` binary), a
//! [`WebhookReceiver`] (an axum HTTP server that records what it receives and can refuse, stop
//! and come back on the same port), an [`MqttSubscriber`], and an ONVIF camera
//! ([`onvif::OnvifCamera`]: Profile S over SOAP with WS-Security, and WS-Discovery).
//! Nothing here is a mock: each speaks the real protocol over real sockets.

pub mod onnx;
pub mod onvif;
pub mod postgres;
pub mod robots;

pub use postgres::Postgres;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU16, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A plain `start` record of a dwell alert: rule `no_parking`, started at 1 s, raised at 2 s,
/// at 2026-11-28T00:00:00Z, no objects, no evidence.
pub fn alert(id: &str, camera: &str) -> vigil_core::Alert {
    use vigil_core::{Alert, AlertEvent, AlertKind, CameraId, RuleId};
    Alert {
        id: id.into(),
        camera: CameraId::new(camera),
        rule: RuleId::new("no_parking"),
        kind: AlertKind::Dwell,
        event: AlertEvent::Start,
        severity: Default::default(),
        zone: None,
        names: Default::default(),
        started_pts_secs: 1.0,
        raised_pts_secs: 2.0,
        ended_pts_secs: None,
        updated_pts_secs: None,
        wall_time: "2026-11-28T00:00:00.000Z".into(),
        objects: vec![],
        evidence: Default::default(),
        trajectory: None,
        prev_hash: None,
    }
}

/// A config for `vigil run` with one live camera, `lot`: the parking-lot footage looping at its
/// real rate, with zone `lane` (the driving lane) and PicoDet-S from `models`; `extra` is
/// appended (rules, outputs, api…).
pub fn looping_lot_config(models: &std::path::Path, extra: &str) -> String {
    format!(
        "cameras:
  - name: lot
    file: footage/person-bicycle-car-detection.gif
    loop: true
    zones:
      lane: [[0.0, 0.3], [0.45, 0.3], [0.45, 1.0], [0.0, 1.0]]
detector:
  manifest: {}/picodet-s.yaml
  score_threshold: 0.1
{extra}",
        models.display()
    )
}

/// A config replaying car-detection.mp4 (camera `overhead`, seen from above) with YOLOX-Nano
/// from `models` and rule `anything_in_view`: any vehicle, person or "cell phone" (what the COCO
/// model calls cars from above) in view for 1 s. About four alerts; `extra` is appended.
pub fn overhead_config(models: &std::path::Path, extra: &str) -> String {
    format!(
        "cameras:
  - name: overhead
    file: footage/car-detection.mp4
    zones:
      all: [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]
detector:
  manifest: {}/yolox-nano.yaml
  score_threshold: 0.1
rules:
  - name: anything_in_view
    kind: dwell
    camera: overhead
    zone: all
    classes: [vehicle, person, \"cell phone\"]
    dwell_secs: 1.0
{extra}",
        models.display()
    )
}

/// A rule file holding rule `lane_blocked` on camera `lot`'s zone `lane` (vehicles, score ≥ 0.3)
/// with `dwell_secs` as given; `dwell_secs` is on line 8, column 17.
pub fn lane_blocked_rule(dwell_secs: &str) -> String {
    format!(
        "rules:
  - name: lane_blocked
    kind: dwell
    camera: lot
    zone: lane
    classes: [vehicle]
    min_score: 0.3
    dwell_secs: {dwell_secs}
"
    )
}

/// Waits up to `within` for a child asked to stop; kills it if it has not.
pub(crate) fn reap(mut child: Child, within: Duration) {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Where [`free_port`] hands out ports: below Linux's ephemeral range (32768–60999), so that
/// the kernel never gives one of them to another socket's `bind(0)` or outgoing connection.
const TEST_PORTS: std::ops::Range<u16> = 20_000..32_000;

/// A TCP port nobody listens on right now, for a peer that must be told its port before it
/// binds (a `vigil run` child, an RTSP server on a fixed port).
///
/// Not `bind(127.0.0.1:0)` and release: the kernel may hand that same ephemeral port to any
/// other socket before the peer binds it ("Address already in use" in CI). Each port here is
/// handed out once per process, from an offset of its own in [`TEST_PORTS`] (test binaries of
/// one `cargo test` run one after another, but their children may linger), and only if it
/// binds now.
pub fn free_port() -> u16 {
    static NEXT: std::sync::OnceLock<AtomicU32> = std::sync::OnceLock::new();
    let span = u32::from(TEST_PORTS.end - TEST_PORTS.start);
    let next = NEXT.get_or_init(|| (std::process::id().wrapping_mul(613) % span).into());
    for _ in 0..span {
        let offset = next.fetch_add(1, Ordering::Relaxed) % span;
        let port = TEST_PORTS.start + u16::try_from(offset).expect("offset below span");
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port in 127.0.0.1:{TEST_PORTS:?}");
}

/// Waits until something accepts connections on `port`.
pub fn wait_for_port(port: u16, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// Polls `f` until it returns `Some`, or `None` after `within`.
pub fn eventually<T>(within: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// A mosquitto broker on 127.0.0.1, anonymous, persisting sessions and retained messages in a
/// temporary folder across [`stop`](Mosquitto::stop) and [`restart`](Mosquitto::restart) (as a
/// real broker's service would). Killed on drop.
pub struct Mosquitto {
    pub port: u16,
    child: Option<Child>,
    dir: tempfile::TempDir,
}

impl Mosquitto {
    pub const BINARY: &str = "/usr/sbin/mosquitto";

    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        // Started as root, mosquitto drops to its own user, which must be able to save its
        // sessions here (a root-only temporary folder silently loses them at every stop).
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777))
            .expect("chmod the broker's folder");
        let mut m = Self {
            port: free_port(),
            child: None,
            dir,
        };
        m.restart();
        m
    }

    fn conf(&self) -> PathBuf {
        self.dir.path().join("mosquitto.conf")
    }

    /// Stops the broker with SIGTERM, so it saves its sessions (connections drop; the port
    /// stops answering).
    pub fn stop(&mut self) {
        if let Some(c) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(c.id().to_string())
                .status();
            reap(c, Duration::from_secs(5));
        }
    }

    /// Starts it again on the same port.
    pub fn restart(&mut self) {
        self.stop();
        std::fs::write(
            self.conf(),
            format!(
                "listener {} 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location {}/\n",
                self.port,
                self.dir.path().display()
            ),
        )
        .expect("write mosquitto.conf");
        let child = Command::new(Self::BINARY)
            .arg("-c")
            .arg(self.conf())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {} (run scripts/setup): {e}", Self::BINARY));
        self.child = Some(child);
        assert!(
            wait_for_port(self.port, Duration::from_secs(10)),
            "mosquitto did not listen on {}",
            self.port
        );
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One request the receiver accepted.
#[derive(Clone, Debug)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Bytes,
    pub at: Instant,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

#[derive(Default)]
struct Shared {
    received: Mutex<Vec<Received>>,
    /// Requests answered with this status instead of 200 (0: none).
    refuse_with: AtomicU16,
    refused: std::sync::atomic::AtomicU64,
}

/// An HTTP server taking webhook POSTs at `/hook`, recording the ones it answers 200.
pub struct WebhookReceiver {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl WebhookReceiver {
    /// Starts on a free port of 127.0.0.1 (port 0 bound: the port is the receiver's from the
    /// moment it is chosen).
    pub fn start() -> Self {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    pub fn start_on(addr: SocketAddr) -> Self {
        let mut r = Self {
            addr,
            shared: Arc::new(Shared::default()),
            runtime: None,
        };
        r.restart();
        r
    }

    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    /// Stops serving: connections to the port are refused.
    pub fn stop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_timeout(Duration::from_secs(2));
        }
    }

    /// Serves again on the same port, keeping what was received.
    pub fn restart(&mut self) {
        self.stop();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let shared = self.shared.clone();
        let addr = self.addr;
        let listener = rt
            .block_on(async { tokio::net::TcpListener::bind(addr).await })
            .expect("bind webhook receiver");
        // Port 0 at the start: the port it got, which a restart binds again.
        self.addr = listener.local_addr().expect("bound address");
        rt.spawn(async move {
            let app = Router::new()
                .route("/hook", post(receive))
                .with_state(shared);
            let _ = axum::serve(listener, app).await;
        });
        self.runtime = Some(rt);
    }

    /// Answers every request with `status` (e.g. 503) until [`accept`](Self::accept).
    pub fn refuse_with(&self, status: u16) {
        self.shared.refuse_with.store(status, Ordering::SeqCst);
    }

    pub fn accept(&self) {
        self.shared.refuse_with.store(0, Ordering::SeqCst);
    }

    /// Requests refused so far.
    pub fn refused(&self) -> u64 {
        self.shared.refused.load(Ordering::SeqCst)
    }

    /// What was accepted so far, in arrival order.
    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().expect("lock").clone()
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn receive(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let refuse = shared.refuse_with.load(Ordering::SeqCst);
    if refuse != 0 {
        shared.refused.fetch_add(1, Ordering::SeqCst);
        return StatusCode::from_u16(refuse).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    }
    shared.received.lock().expect("lock").push(Received {
        headers,
        body,
        at: Instant::now(),
    });
    StatusCode::OK
}

/// One MQTT message a subscriber got.
#[derive(Clone, Debug)]
pub struct Message {
    pub topic: String,
    pub payload: Vec<u8>,
    pub retain: bool,
    pub at: Instant,
}

/// An MQTT client subscribed to `topic` (QoS 1) with a persistent session, collecting what
/// arrives: messages published while it or the broker was away reach it when both are back.
pub struct MqttSubscriber {
    messages: Arc<Mutex<Vec<Message>>>,
    client: rumqttc::Client,
    /// Subscriptions the broker acknowledged (one per (re)connection).
    subscribed: Arc<std::sync::atomic::AtomicUsize>,
}

impl MqttSubscriber {
    pub fn connect(port: u16, topic: &str) -> Self {
        let id = format!("vigil-test-{}", free_port());
        let mut options = rumqttc::MqttOptions::new(id, "127.0.0.1", port);
        options.set_keep_alive(Duration::from_secs(5));
        options.set_clean_session(false);
        let (client, mut connection) = rumqttc::Client::new(options, 16);
        let messages = Arc::new(Mutex::new(Vec::new()));
        let (subscribed_tx, subscribed) = crossbeam_channel::bounded(1);
        let acks = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let acks_in = acks.clone();
        let m = messages.clone();
        let sub = client.clone();
        let topic = topic.to_string();
        std::thread::Builder::new()
            .name("mqtt-subscriber".into())
            .spawn(move || {
                for event in connection.iter() {
                    match event {
                        Ok(rumqttc::Event::Incoming(rumqttc::Packet::ConnAck(_))) => {
                            let _ = sub.try_subscribe(topic.as_str(), rumqttc::QoS::AtLeastOnce);
                        }
                        Ok(rumqttc::Event::Incoming(rumqttc::Packet::SubAck(_))) => {
                            acks_in.fetch_add(1, Ordering::SeqCst);
                            let _ = subscribed_tx.try_send(());
                        }
                        Ok(rumqttc::Event::Incoming(rumqttc::Packet::Publish(p))) => {
                            m.lock().expect("lock").push(Message {
                                topic: p.topic.clone(),
                                payload: p.payload.to_vec(),
                                retain: p.retain,
                                at: Instant::now(),
                            });
                        }
                        Ok(rumqttc::Event::Outgoing(rumqttc::Outgoing::Disconnect)) => break,
                        Ok(_) => {}
                        Err(_) => std::thread::sleep(Duration::from_millis(200)),
                    }
                }
            })
            .expect("spawn subscriber");
        subscribed
            .recv_timeout(Duration::from_secs(10))
            .expect("MQTT subscription acknowledged");
        Self {
            messages,
            client,
            subscribed: acks,
        }
    }

    /// Subscriptions acknowledged so far (it resubscribes on every reconnection).
    pub fn subscriptions(&self) -> usize {
        self.subscribed.load(Ordering::SeqCst)
    }

    /// Waits until it has subscribed more than `before` times (back after a broker restart).
    pub fn wait_resubscribed(&self, before: usize, within: Duration) -> bool {
        eventually(within, || (self.subscriptions() > before).then_some(())).is_some()
    }

    pub fn messages(&self) -> Vec<Message> {
        self.messages.lock().expect("lock").clone()
    }
}

impl Drop for MqttSubscriber {
    fn drop(&mut self) {
        let _ = self.client.try_disconnect();
    }
}
