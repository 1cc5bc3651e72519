//! A stand-in for the WeCom, DingTalk and Feishu robot servers, on 127.0.0.1, speaking each API as
//! documented: WeCom at `/wecom/send?key=KEY` (markdown and image messages; the image's md5 must
//! match its base64), DingTalk at `/dingtalk/robot/send?access_token=TOKEN&timestamp=&sign=` (the
//! signature checked with the secret, within an hour), Feishu at `/feishu/hook/TOKEN` (`timestamp`
//! and `sign` in the body). Accepted messages are kept; refusals answer as the real servers do
//! (`errcode`/`code` not 0). [`Robots::outage`] makes every endpoint refuse (rate-limited) until
//! [`Robots::recover`]; [`Robots::refuse_images`] only WeCom's image messages.

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::routing::post;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

pub const WECOM_KEY: &str = "wecom-key-0001";
pub const DINGTALK_TOKEN: &str = "dingtalk-token-0001";
pub const DINGTALK_SECRET: &str = "SECdingtalk-secret-0001";
pub const FEISHU_HOOK: &str = "feishu-hook-0001";
pub const FEISHU_SECRET: &str = "feishu-secret-0001";

/// One accepted message.
#[derive(Clone, Debug)]
pub struct RobotMessage {
    /// `wecom`, `dingtalk` or `feishu`.
    pub robot: &'static str,
    pub body: Value,
    /// A WeCom image message's picture, decoded.
    pub image: Option<Vec<u8>>,
}

#[derive(Default)]
struct Shared {
    received: Mutex<Vec<RobotMessage>>,
    down: AtomicBool,
    /// WeCom image messages are refused (rate-limited) while set.
    images_down: AtomicBool,
    refused: AtomicU64,
    /// Requests refused for a bad signature, key or image.
    rejected: Mutex<Vec<String>>,
}

/// The three robot servers on one port.
pub struct Robots {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Robots {
    pub fn start() -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let shared = Arc::new(Shared::default());
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        let state = shared.clone();
        rt.spawn(async move {
            let app = Router::new()
                .route("/wecom/send", post(wecom))
                .route("/dingtalk/robot/send", post(dingtalk))
                .route("/feishu/hook/{token}", post(feishu))
                .with_state(state);
            let _ = axum::serve(listener, app).await;
        });
        Self {
            addr,
            shared,
            runtime: Some(rt),
        }
    }

    pub fn wecom_url(&self) -> String {
        format!("http://{}/wecom/send?key={WECOM_KEY}", self.addr)
    }

    pub fn dingtalk_url(&self) -> String {
        format!(
            "http://{}/dingtalk/robot/send?access_token={DINGTALK_TOKEN}",
            self.addr
        )
    }

    pub fn feishu_url(&self) -> String {
        format!("http://{}/feishu/hook/{FEISHU_HOOK}", self.addr)
    }

    /// Every endpoint refuses (as rate-limited) until [`recover`](Self::recover).
    pub fn outage(&self) {
        self.shared.down.store(true, Ordering::SeqCst);
    }

    pub fn recover(&self) {
        self.shared.down.store(false, Ordering::SeqCst);
        self.shared.images_down.store(false, Ordering::SeqCst);
    }

    /// WeCom refuses image messages (only) until [`recover`](Self::recover): a record's text
    /// gets through and its picture does not.
    pub fn refuse_images(&self) {
        self.shared.images_down.store(true, Ordering::SeqCst);
    }

    pub fn refused(&self) -> u64 {
        self.shared.refused.load(Ordering::SeqCst)
    }

    /// Why requests were rejected (bad key, signature or image), in order.
    pub fn rejected(&self) -> Vec<String> {
        self.shared.rejected.lock().expect("lock").clone()
    }

    pub fn received(&self) -> Vec<RobotMessage> {
        self.shared.received.lock().expect("lock").clone()
    }
}

impl Drop for Robots {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

fn hmac_b64(key: &[u8], message: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    mac.update(message);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

impl Shared {
    /// The answer during an outage, if there is one.
    fn down(&self, code_field: &str) -> Option<Json<Value>> {
        self.down.load(Ordering::SeqCst).then(|| {
            self.refused.fetch_add(1, Ordering::SeqCst);
            Json(json!({ code_field: 45009, "errmsg": "api freq out of limit", "msg": "rate limited" }))
        })
    }

    /// The refusal of a request, if it is refused: during an outage, or when its key is wrong.
    fn gate(&self, code_field: &str, key_ok: bool, code: i64, why: &str) -> Option<Json<Value>> {
        self.down(code_field)
            .or_else(|| (!key_ok).then(|| self.reject(code_field, code, why.to_string())))
    }

    fn reject(&self, code_field: &str, code: i64, why: String) -> Json<Value> {
        self.rejected.lock().expect("lock").push(why.clone());
        Json(json!({ code_field: code, "errmsg": why, "msg": why }))
    }

    fn accept(&self, robot: &'static str, body: Value, image: Option<Vec<u8>>) {
        self.received
            .lock()
            .expect("lock")
            .push(RobotMessage { robot, body, image });
    }
}

async fn wecom(
    State(s): State<Arc<Shared>>,
    Query(q): Query<HashMap<String, String>>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let key_ok = q.get("key").map(String::as_str) == Some(WECOM_KEY);
    if let Some(refusal) = s.gate("errcode", key_ok, 93000, "invalid webhook url") {
        return refusal;
    }
    let image = match body["msgtype"].as_str() {
        Some("markdown") if body["markdown"]["content"].is_string() => None,
        Some("image") if s.images_down.load(Ordering::SeqCst) => {
            s.refused.fetch_add(1, Ordering::SeqCst);
            return Json(json!({"errcode": 45009, "errmsg": "api freq out of limit"}));
        }
        Some("image") => {
            let b64 = body["image"]["base64"].as_str().unwrap_or_default();
            let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(b64) else {
                return s.reject("errcode", 40009, "image not base64".into());
            };
            use md5::Digest;
            let md5: String = md5::Md5::digest(&bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            if body["image"]["md5"].as_str() != Some(md5.as_str()) || bytes.len() > 2 << 20 {
                return s.reject("errcode", 40009, "image md5 or size wrong".into());
            }
            Some(bytes)
        }
        _ => return s.reject("errcode", 40008, format!("bad message {body}")),
    };
    s.accept("wecom", body, image);
    Json(json!({"errcode": 0, "errmsg": "ok"}))
}

async fn dingtalk(
    State(s): State<Arc<Shared>>,
    Query(q): Query<HashMap<String, String>>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let token_ok = q.get("access_token").map(String::as_str) == Some(DINGTALK_TOKEN);
    if let Some(refusal) = s.gate("errcode", token_ok, 300001, "token is not exist") {
        return refusal;
    }
    let ts = q.get("timestamp").cloned().unwrap_or_default();
    let expected = hmac_b64(
        DINGTALK_SECRET.as_bytes(),
        format!("{ts}\n{DINGTALK_SECRET}").as_bytes(),
    );
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let fresh = ts
        .parse::<i64>()
        .is_ok_and(|t| (now_ms - t).abs() < 3_600_000);
    // The query's sign was URL-decoded by the extractor.
    if q.get("sign") != Some(&expected) || !fresh {
        return s.reject("errcode", 310000, format!("sign not match ({ts})"));
    }
    if body["msgtype"] != "markdown" || !body["markdown"]["text"].is_string() {
        return s.reject("errcode", 40035, format!("bad message {body}"));
    }
    s.accept("dingtalk", body, None);
    Json(json!({"errcode": 0, "errmsg": "ok"}))
}

async fn feishu(
    State(s): State<Arc<Shared>>,
    Path(token): Path<String>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let why = "param invalid: incoming webhook access token invalid";
    if let Some(refusal) = s.gate("code", token == FEISHU_HOOK, 19001, why) {
        return refusal;
    }
    let ts = body["timestamp"].as_str().unwrap_or_default().to_string();
    let expected = hmac_b64(format!("{ts}\n{FEISHU_SECRET}").as_bytes(), b"");
    if body["sign"].as_str() != Some(expected.as_str()) {
        return s.reject("code", 19021, format!("sign match fail ({ts})"));
    }
    if body["msg_type"] != "post" || !body["content"]["post"]["zh_cn"]["content"].is_array() {
        return s.reject("code", 9499, format!("bad message {body}"));
    }
    s.accept("feishu", body, None);
    Json(json!({"code": 0, "msg": "success", "data": {}}))
}
