//! The HTTP API over a real socket: auth and roles, listing and filters, acknowledgement,
//! evidence with Range and refusal of anything outside the evidence folder, live events, metrics.

mod common;

use common::{OPERATOR, VIEWER, alert, tokens, with_clip};
use std::io::{BufRead, BufReader};
use std::sync::Arc;
use std::time::Duration;
use vigil_core::CameraId;
use vigil_deliver::AlertStore;
use vigil_serve::{Events, LiveEvent, ServeConfig, Server};

struct Fixture {
    server: Option<Server>,
    events: Events,
    _dir: tempfile::TempDir,
    base: String,
    agent: ureq::Agent,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if let Some(s) = self.server.take() {
            s.stop();
        }
    }
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    std::fs::create_dir_all(out.join("evidence")).unwrap();
    let clip: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(out.join("evidence/clip.mp4"), &clip).unwrap();
    std::fs::write(out.join("evidence/snap.jpg"), b"\xff\xd8\xff\xe0jpeg").unwrap();
    let db = out.join("alerts.db");
    {
        let mut s = AlertStore::open(&db).unwrap();
        s.insert(&alert("a", "gate", "2026-11-28T10:00:00.000Z"))
            .unwrap();
        s.insert(&with_clip(
            alert("a", "gate", "2026-11-28T10:00:00.000Z"),
            "evidence/clip.mp4",
        ))
        .unwrap();
        s.insert(&alert("b", "lot", "2026-11-28T11:00:00.000Z"))
            .unwrap();
        s.insert(&with_clip(
            alert("b", "lot", "2026-11-28T11:00:00.000Z"),
            "../../../../etc/passwd",
        ))
        .unwrap();
        s.record_camera_status(&CameraId::new("gate"), false, "connection refused")
            .unwrap();
    }
    let events = Events::default();
    let config = ServeConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        tokens: tokens(),
        db,
        out_dir: out.to_path_buf(),
        cameras: vec!["gate".into(), "lot".into()],
        district: None,
        tls: None,
        users: None,
        alarm: Default::default(),
        names: Default::default(),
        live: None,
        rules: None,
        transcoder: None,
    };
    let metrics: vigil_serve::MetricsFn = Arc::new(|out: &mut String| {
        vigil_serve::prom::family(out, "vigil_test_pipeline", "From the pipeline.", "gauge");
        vigil_serve::prom::sample(out, "vigil_test_pipeline", &[], 7.0);
    });
    let server = vigil_serve::start(config, events.clone(), metrics).unwrap();
    let base = format!("http://{}", server.addr());
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    Fixture {
        server: Some(server),
        events,
        _dir: dir,
        base,
        agent,
    }
}

impl Fixture {
    fn get(&self, path: &str, token: Option<&str>) -> (u16, String) {
        let mut r = self.agent.get(format!("{}{path}", self.base));
        if let Some(t) = token {
            r = r.header("Authorization", &format!("Bearer {t}"));
        }
        let mut res = r.call().unwrap();
        let status = res.status().as_u16();
        (status, res.body_mut().read_to_string().unwrap_or_default())
    }

    fn post(&self, path: &str, token: Option<&str>, body: &str) -> (u16, String) {
        let mut r = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Content-Type", "application/json");
        if let Some(t) = token {
            r = r.header("Authorization", &format!("Bearer {t}"));
        }
        let mut res = r.send(body).unwrap();
        let status = res.status().as_u16();
        (status, res.body_mut().read_to_string().unwrap_or_default())
    }
}

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("{e}: {s}"))
}

#[test]
fn tokens_and_roles_guard_every_api_route() {
    let f = fixture();
    for path in [
        "/api/alerts",
        "/api/alerts/a",
        "/api/alerts/a/clip",
        "/api/cameras",
        "/metrics",
        "/api/events",
    ] {
        assert_eq!(f.get(path, None).0, 401, "{path} without a token");
        assert_eq!(
            f.get(path, Some("wrong")).0,
            401,
            "{path} with a wrong token"
        );
    }
    assert_eq!(f.get("/api/alerts", Some(VIEWER)).0, 200);
    assert_eq!(f.post("/api/alerts/a/ack", Some(VIEWER), "{}").0, 403);
    assert_eq!(f.post("/api/alerts/nope/ack", Some(OPERATOR), "{}").0, 404);
    let (status, body) = f.post(
        "/api/alerts/a/ack",
        Some(OPERATOR),
        r#"{"comment":"car moved"}"#,
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["ack"]["by"], "guard");
    // The page is public; it carries the security headers like every response.
    let res = f.agent.get(format!("{}/", f.base)).call().unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let csp = res
        .headers()
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(csp.contains("default-src 'self'"));
    assert_eq!(
        res.headers().get("x-content-type-options").unwrap(),
        "nosniff"
    );
}

#[test]
fn a_session_cookie_stands_in_for_the_header_and_is_http_only() {
    let f = fixture();
    assert_eq!(f.post("/api/session", None, r#"{"token":"nope"}"#).0, 401);
    let res = f
        .agent
        .post(format!("{}/api/session", f.base))
        .header("Content-Type", "application/json")
        .send(format!(r#"{{"token":"{OPERATOR}"}}"#))
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let cookie = res
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let pair = cookie.split(';').next().unwrap();
    let mut res = f
        .agent
        .get(format!("{}/api/session", f.base))
        .header("Cookie", pair)
        .call()
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let me = json(&res.body_mut().read_to_string().unwrap());
    assert_eq!(
        (me["name"].as_str(), me["role"].as_str()),
        (Some("guard"), Some("operator"))
    );
}

#[test]
fn alerts_list_with_filters_and_paging_and_show_their_lifecycle() {
    let f = fixture();
    let ids = |q: &str| -> Vec<String> {
        let (s, body) = f.get(&format!("/api/alerts{q}"), Some(VIEWER));
        assert_eq!(s, 200, "{body}");
        json(&body)["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["alert"]["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids(""), ["b", "a"]);
    assert_eq!(ids("?camera=gate"), ["a"]);
    assert_eq!(ids("?kind=dwell&since=2026-11-28T10:30:00Z"), ["b"]);
    assert_eq!(
        ids("?until=2026-11-28T12:30:00%2B02:00"),
        ["a"],
        "offsets are honoured"
    );
    f.post("/api/alerts/a/ack", Some(OPERATOR), "{}");
    assert_eq!(ids("?acknowledged=true"), ["a"]);
    assert_eq!(ids("?acknowledged=false"), ["b"]);
    let (_, page) = f.get("/api/alerts?limit=1", Some(VIEWER));
    let cursor = json(&page)["next_before"].as_i64().unwrap();
    assert_eq!(ids(&format!("?limit=1&before={cursor}")), ["a"]);
    assert_eq!(f.get("/api/alerts?since=yesterday", Some(VIEWER)).0, 400);
    assert_eq!(f.get("/api/alerts?kind=fire", Some(VIEWER)).0, 400);
    // Handling: the ack alone leaves it pending; a step moves it.
    assert_eq!(ids("?handling=pending"), ["b", "a"]);
    let (s, body) = f.post(
        "/api/alerts/b/handling",
        Some(OPERATOR),
        r#"{"step": "take"}"#,
    );
    assert_eq!(s, 200, "{body}");
    assert_eq!(ids("?handling=in_progress"), ["b"]);
    assert_eq!(ids("?handling=pending"), ["a"]);
    let (s, body) = f.get("/api/alerts?handling=closed", Some(VIEWER));
    assert_eq!(s, 400);
    assert!(
        body.contains("none of pending, in_progress, done, false_alarm"),
        "{body}"
    );
    let (s, body) = f.post(
        "/api/alerts/b/handling",
        Some(VIEWER),
        r#"{"step": "take"}"#,
    );
    assert_eq!(s, 403, "a viewer cannot: {body}");
    let (s, _) = f.post(
        "/api/alerts/b/handling",
        Some(OPERATOR),
        r#"{"step": "fly"}"#,
    );
    assert_eq!(s, 400);

    let (s, body) = f.get("/api/alerts/a", Some(VIEWER));
    assert_eq!(s, 200);
    let v = json(&body);
    assert_eq!(
        v["alert"]["alert"]["evidence"]["clip"]["path"],
        "evidence/clip.mp4"
    );
    assert_eq!(v["records"].as_array().unwrap().len(), 2);
    assert_eq!(f.get("/api/alerts/zzz", Some(VIEWER)).0, 404);

    let (_, cams) = f.get("/api/cameras", Some(VIEWER));
    let cams = json(&cams);
    assert_eq!(cams["cameras"][0]["camera"], "gate");
    assert_eq!(cams["cameras"][0]["online"], false);
    assert_eq!(cams["cameras"][1]["camera"], "lot");
    assert!(cams["cameras"][1]["online"].is_null());
}

#[test]
fn clips_are_served_by_alert_id_with_range_and_nothing_outside_evidence_is() {
    let f = fixture();
    let mut res = f
        .agent
        .get(format!("{}/api/alerts/a/clip", f.base))
        .header("Authorization", &format!("Bearer {VIEWER}"))
        .header("Range", "bytes=100-199")
        .call()
        .unwrap();
    assert_eq!(res.status().as_u16(), 206);
    assert_eq!(
        res.headers().get("content-range").unwrap(),
        "bytes 100-199/10000"
    );
    assert_eq!(res.headers().get("content-type").unwrap(), "video/mp4");
    let body = res.body_mut().read_to_vec().unwrap();
    let expected: Vec<u8> = (100..200u32).map(|i| (i % 251) as u8).collect();
    assert_eq!(body, expected);
    let (s, _) = f.get("/api/alerts/a/snapshot", Some(VIEWER));
    assert_eq!(s, 200);

    // Traversal through the id: it is only ever a key into the store.
    for path in [
        "/api/alerts/..%2F..%2Fetc%2Fpasswd/clip",
        "/api/alerts/%2Fetc%2Fpasswd/clip",
        "/api/alerts/a%00/clip",
        "/api/alerts/../alerts.db",
    ] {
        let (s, body) = f.get(path, Some(VIEWER));
        assert!(s == 404 || s == 400, "{path}: {s} {body}");
        assert!(!body.contains("root:"), "{path}");
    }
    // A record naming a file outside evidence/ (a tampered store) is refused.
    let (s, body) = f.get("/api/alerts/b/clip", Some(VIEWER));
    assert!(s == 403 || s == 410, "{s} {body}");
    assert!(!body.contains("root:"));
    let (s, _) = f.get("/api/alerts/a/snapshot?clean=true", Some(VIEWER));
    assert_eq!(s, 403, "evidence/../alerts.db resolves outside evidence/");
    // Copies for browsers: only H.264 is made, and a server without a transcoder makes none;
    // a tampered record's clip is refused before anything is made of it.
    let (s, body) = f.get("/api/alerts/a/clip?rendition=vp9", Some(VIEWER));
    assert_eq!((s, body.contains("only h264")), (400, true), "{body}");
    let (s, body) = f.get("/api/alerts/a/clip?rendition=h264", Some(VIEWER));
    assert_eq!((s, body.contains("no copies")), (404, true), "{body}");
    let (s, body) = f.get("/api/alerts/b/clip?rendition=h264", Some(VIEWER));
    assert!(s == 403 || s == 410, "{s} {body}");
}

#[test]
fn live_events_stream_over_sse() {
    let f = fixture();
    let res = f
        .agent
        .get(format!("{}/api/events", f.base))
        .header("Authorization", &format!("Bearer {VIEWER}"))
        .call()
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert!(
        res.headers()
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    // The subscription exists once the response started; publish, then read it back.
    let events = f.events.clone();
    std::thread::Builder::new()
        .name("publisher".into())
        .spawn(move || {
            for _ in 0..50 {
                events.publish(LiveEvent::Alert {
                    record: Box::new(alert("c", "gate", "2026-11-28T12:00:00.000Z")),
                });
                std::thread::sleep(Duration::from_millis(100));
            }
        })
        .unwrap();
    let mut lines = BufReader::new(res.into_body().into_reader()).lines();
    let mut event = None;
    let mut data = None;
    for line in lines.by_ref().take(50) {
        let line = line.unwrap();
        if let Some(e) = line.strip_prefix("event: ") {
            event = Some(e.to_string());
        } else if let Some(d) = line.strip_prefix("data: ") {
            data = Some(d.to_string());
            break;
        }
    }
    assert_eq!(event.as_deref(), Some("alert"));
    let v = json(&data.unwrap());
    assert_eq!(
        (v["type"].as_str(), v["record"]["id"].as_str()),
        (Some("alert"), Some("c"))
    );
}

#[test]
fn metrics_report_alerts_outbox_and_pipeline_in_prometheus_text() {
    let f = fixture();
    let (s, text) = f.get("/metrics", Some(VIEWER));
    assert_eq!(s, 200);
    assert!(text.contains("# TYPE vigil_alerts_total counter"), "{text}");
    assert!(
        text.contains("vigil_alerts_total{camera=\"gate\",kind=\"dwell\"} 1"),
        "{text}"
    );
    assert!(text.contains("vigil_sse_clients 0"), "{text}");
    assert!(text.contains("vigil_test_pipeline 7"), "{text}");
}
