//! What the API tests share: tokens, alerts with evidence, and a running server on a store.
#![allow(dead_code)] // each test file uses its own part

use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use vigil_config::{ApiToken, Role};
use vigil_core::{Alert, AlertEvent, ClipRef, SnapshotRef};
use vigil_deliver::AlertStore;
use vigil_deliver::outbox::OutboxItem;
use vigil_deliver::shared::presence::{Announce, PresenceCounters};
use vigil_deliver::shared::{Database, SharedStore};
use vigil_deliver::worker::Transport;

pub const VIEWER: &str = "viewer-token-0123456789";
pub const OPERATOR: &str = "operator-token-9876543210";
pub const ADMIN: &str = "admin-token-5555555555";

pub fn token(name: &str, role: Role, secret: &str) -> ApiToken {
    ApiToken {
        name: name.into(),
        role,
        sha256: Sha256::digest(secret.as_bytes()).into(),
    }
}

/// The viewer `desk`, the operator `guard` and the admin `chief`.
pub fn tokens() -> Vec<ApiToken> {
    vec![
        token("desk", Role::Viewer, VIEWER),
        token("guard", Role::Operator, OPERATOR),
        token("chief", Role::Admin, ADMIN),
    ]
}

pub fn alert(id: &str, camera: &str, wall: &str) -> Alert {
    Alert {
        wall_time: wall.into(),
        ..vigil_testkit::alert(id, camera)
    }
}

pub fn with_clip(mut a: Alert, path: &str) -> Alert {
    a.event = AlertEvent::Evidence;
    a.evidence.clip = Some(ClipRef {
        path: path.into(),
        duration_secs: 1.0,
        first_pts_secs: 0.0,
        sha256: "0".repeat(64),
    });
    a.evidence.snapshot = Some(SnapshotRef {
        path: "evidence/snap.jpg".into(),
        sha256: "0".repeat(64),
        clean_path: "evidence/../alerts.db".into(),
        clean_sha256: "0".repeat(64),
    });
    a
}

/// A server on the store in `out` (`out/alerts.db`, evidence under `out/evidence`).
pub fn serve(
    out: &Path,
    cameras: &[&str],
    district: Option<vigil_serve::district::DistrictConfig>,
) -> vigil_serve::Server {
    serve_with(out, cameras, district, None)
}

/// [`serve`], over HTTPS with `tls`'s certificate when given.
#[allow(dead_code)]
pub fn serve_with(
    out: &Path,
    cameras: &[&str],
    district: Option<vigil_serve::district::DistrictConfig>,
    tls: Option<vigil_config::TlsFiles>,
) -> vigil_serve::Server {
    let config = vigil_serve::ServeConfig {
        district,
        tls,
        ..config(out, cameras)
    };
    start(config, vigil_serve::Events::default())
}

/// What [`serve`] serves: the store in `out`, the three tokens, `cameras`, on a free port.
pub fn config(out: &Path, cameras: &[&str]) -> vigil_serve::ServeConfig {
    vigil_serve::ServeConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        tokens: tokens(),
        db: out.join("alerts.db"),
        out_dir: out.to_path_buf(),
        cameras: cameras.iter().map(|c| c.to_string()).collect(),
        district: None,
        tls: None,
        users: None,
        alarm: Default::default(),
        names: Default::default(),
        live: None,
        rules: None,
        transcoder: None,
    }
}

/// Starts `config`, its live events published on `events`.
pub fn start(config: vigil_serve::ServeConfig, events: vigil_serve::Events) -> vigil_serve::Server {
    let metrics: vigil_serve::MetricsFn = Arc::new(|_: &mut String| {});
    vigil_serve::start(config, events, metrics).unwrap()
}

/// A key for instance `name` in `dir` (made the first time), and its public half.
pub fn instance_key(dir: &Path, name: &str) -> (std::path::PathBuf, String) {
    let path = dir.join(format!("{name}.key"));
    if !path.exists() {
        vigil_deliver::keys::generate(&path).unwrap();
    }
    let public = vigil_deliver::keys::SigningKey::load(&path)
        .unwrap()
        .public_hex();
    (path, public)
}

/// The district side of instance `me` on the shared store `database`: its identity (its key in
/// `dir`) registering `peers` — (name, API url).
pub fn district(
    database: &Database,
    dir: &Path,
    me: &str,
    peers: &[(&str, String)],
) -> Option<vigil_serve::district::DistrictConfig> {
    district_with(database, dir, me, peers, None)
}

/// [`district`], reaching `https://` peers with TLS trusting the CA in `ca_file`.
pub fn district_with(
    database: &Database,
    dir: &Path,
    me: &str,
    peers: &[(&str, String)],
    ca_file: Option<&Path>,
) -> Option<vigil_serve::district::DistrictConfig> {
    let tls = ca_file.map(|ca| Arc::new(vigil_deliver::tls::client_config(ca, None).unwrap()));
    Some(vigil_serve::district::DistrictConfig {
        database: database.clone(),
        instance: me.into(),
        identity: Some(identity(dir, me, peers, tls)),
    })
}

/// The shared store on the PostgreSQL `pg`, plain TCP.
pub fn database(pg: &vigil_testkit::Postgres) -> Database {
    Database {
        url: pg.url(),
        password: None,
        ca_file: None,
    }
}

/// Instance `me`'s identity (its key in `dir`) registering `peers`: (name, API url).
fn identity(
    dir: &Path,
    me: &str,
    peers: &[(&str, String)],
    tls: Option<Arc<rustls::ClientConfig>>,
) -> Arc<vigil_serve::peers::Identity> {
    use vigil_serve::peers::{Identity, Peer};
    let key = vigil_deliver::keys::SigningKey::load(&instance_key(dir, me).0).unwrap();
    Arc::new(Identity {
        key: Arc::new(key),
        peers: peers
            .iter()
            .map(|(name, url)| Peer {
                name: name.to_string(),
                url: url.clone(),
                key: vigil_deliver::keys::PublicKey::parse(&instance_key(dir, name).1).unwrap(),
            })
            .collect(),
        tls,
    })
}

pub const CLIP_BYTES: usize = 24 << 20;

/// A store in `out` holding alert `id` with a clip of `CLIP_BYTES`.
pub fn holder_store(out: &Path, id: &str) -> Vec<vigil_core::Alert> {
    std::fs::create_dir_all(out.join("evidence")).unwrap();
    let clip: Vec<u8> = (0..CLIP_BYTES).map(|i| (i % 251) as u8).collect();
    std::fs::write(out.join("evidence/clip.mp4"), clip).unwrap();
    let start = alert(id, "gate", "2026-12-03T08:00:00.000Z");
    let evidence = with_clip(start.clone(), "evidence/clip.mp4");
    let mut store = AlertStore::open(&out.join("alerts.db")).unwrap();
    store.insert(&start).unwrap();
    store.insert(&evidence).unwrap();
    vec![start, evidence]
}

/// Writes `records` to the shared store as instance `instance`'s.
pub fn share(db: &Database, instance: &str, records: &[vigil_core::Alert]) {
    let mut shared = SharedStore::new(db, instance).unwrap();
    for (i, r) in records.iter().enumerate() {
        let item = OutboxItem {
            seq: i as i64 + 1,
            alert_seq: i as i64 + 1,
            camera: r.camera.to_string(),
            alert_id: r.id.to_string(),
            event: r.event.as_str().to_string(),
            json: serde_json::to_string(r).unwrap(),
            attempts: 0,
            created_ms: 0,
        };
        shared.send(&item).unwrap();
    }
}

/// Keeps `instance`'s presence row: reachable at `url`. Returns once the row is in the shared
/// store (the presence thread writes it a moment after it starts; a request forwarded before
/// then is refused as "never said it is up").
pub fn announce(
    out: &Path,
    db: &Database,
    instance: &str,
    url: String,
) -> vigil_deliver::shared::presence::Presence {
    let presence = vigil_deliver::shared::presence::spawn(
        &out.join("alerts.db"),
        db,
        Announce {
            instance: instance.into(),
            url: Some(url),
            shard: None,
            cameras: vec!["gate".into()],
        },
        Arc::new(PresenceCounters::default()),
    )
    .unwrap();
    let mut reader = vigil_deliver::shared::SharedReader::new(db).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !reader
        .instances()
        .unwrap_or_default()
        .iter()
        .any(|i| i.instance == instance)
    {
        assert!(
            std::time::Instant::now() < deadline,
            "{instance}'s presence row did not appear"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    presence
}

/// A GET with the viewer's token; (status, headers, body) — the body cut at `max` bytes.
pub fn get(addr: SocketAddr, path: &str, max: usize) -> (u16, String, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {VIEWER}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 65536];
    while out.len() < max {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&out).to_string();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let head_end = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(out.len(), |p| p + 4);
    let head = String::from_utf8_lossy(&out[..head_end]).to_string();
    (status, head, out[head_end..].to_vec())
}

pub fn metric(addr: SocketAddr, line: &str) -> f64 {
    let (_, _, body) = get(addr, "/metrics", 1 << 20);
    let text = String::from_utf8_lossy(&body).to_string();
    text.lines()
        .find_map(|l| l.strip_prefix(line)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {line} in:\n{text}"))
}

/// The page drivers' folder (`tests/browser`), with playwright-core and Chromium installed.
#[allow(dead_code)]
pub fn browser() -> std::path::PathBuf {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    assert!(
        dir.join("node_modules/playwright-core").is_dir()
            && Path::new("/usr/bin/chromium").exists(),
        "playwright-core or chromium missing: run scripts/setup"
    );
    dir
}
