//! What the API tests share: tokens, alerts with evidence, and a running server on a store.
#![allow(dead_code)] // each test file uses its own part

use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::Arc;
use vigil_config::{ApiToken, Role};
use vigil_core::{Alert, AlertEvent, ClipRef, SnapshotRef};

pub const VIEWER: &str = "viewer-token-0123456789";
pub const OPERATOR: &str = "operator-token-9876543210";

pub fn token(name: &str, role: Role, secret: &str) -> ApiToken {
    ApiToken {
        name: name.into(),
        role,
        sha256: Sha256::digest(secret.as_bytes()).into(),
    }
}

/// The viewer `desk` and the operator `guard`.
pub fn tokens() -> Vec<ApiToken> {
    vec![
        token("desk", Role::Viewer, VIEWER),
        token("guard", Role::Operator, OPERATOR),
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
    let config = vigil_serve::ServeConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        tokens: tokens(),
        db: out.join("alerts.db"),
        out_dir: out.to_path_buf(),
        cameras: cameras.iter().map(|c| c.to_string()).collect(),
        district,
    };
    let metrics: vigil_serve::MetricsFn = Arc::new(|_: &mut String| {});
    vigil_serve::start(config, vigil_serve::Events::default(), metrics).unwrap()
}
