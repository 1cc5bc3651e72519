//! Group robots — WeCom (企业微信), DingTalk (钉钉), Feishu (飞书) — as receivers: each robot has
//! its own outbox like a webhook (filters, retries with backoff, nothing lost), and each record
//! becomes a message in Chinese: kind and severity, camera, zone, rule, time (Beijing), where a
//! thrown object came from, and a link to the alert on the page.
//!
//! - **WeCom**: a `markdown` message, then the snapshot as an `image` message (base64 and its
//!   md5, at most 2 MB), both to the robot's URL; `errcode` 0 acknowledges.
//! - **DingTalk**: a `markdown` message; with a secret ("加签") the URL carries `timestamp`
//!   (ms) and `sign` = urlencode(base64(HMAC-SHA256(secret, "<timestamp>\n<secret>"))).
//!   DingTalk's robots take no uploaded image (a markdown image must be a public URL).
//! - **Feishu**: a `post` (rich text) message; with a secret ("签名校验") the body carries
//!   `timestamp` (s) and `sign` = base64(HMAC-SHA256(key "<timestamp>\n<secret>", empty)); `code`
//!   0 acknowledges. Custom bots take no uploaded image either.
//!
//! A record whose messages were partly accepted (WeCom's text, then an outage before the image)
//! resumes where it stopped on the retry, so each message lands once while this process lives.

use crate::outbox::OutboxItem;
use crate::worker::Transport;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;
use vigil_core::{Alert, AlertEvent, AlertKind, Severity};

/// WeCom's limit on an image message, before base64.
pub const WECOM_IMAGE_MAX: usize = 2 << 20;

/// Which robot API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    WeCom,
    DingTalk,
    Feishu,
}

/// One robot.
#[derive(Clone)]
pub struct RobotSettings {
    pub kind: Kind,
    /// The robot's webhook URL (its key in it).
    pub url: String,
    pub secret: Option<Vec<u8>>,
    /// The page's address, for the link to the alert.
    pub link_base: Option<String>,
    /// The output folder the snapshots are under.
    pub out_dir: PathBuf,
    pub timeout: Duration,
}

/// The transport of one robot.
pub struct Robot {
    agent: ureq::Agent,
    settings: RobotSettings,
    /// Messages already accepted of records not yet wholly sent (by idempotency key).
    accepted: HashMap<String, usize>,
}

impl Robot {
    pub fn new(settings: RobotSettings) -> Self {
        Self {
            agent: crate::webhook::agent(settings.timeout),
            settings,
            accepted: HashMap::new(),
        }
    }

    /// The messages for `alert`, in the order they are sent.
    fn messages(&self, alert: &Alert) -> Vec<serde_json::Value> {
        let s = &self.settings;
        let (title, lines) = text(alert);
        let link = s
            .link_base
            .as_ref()
            .map(|base| format!("{base}/#alert={}", alert.id));
        match s.kind {
            Kind::WeCom => {
                let mut content = format!("**{title}**\n");
                for (k, v) in &lines {
                    content.push_str(&format!("> {k}：{v}\n"));
                }
                if let Some(l) = &link {
                    content.push_str(&format!("[查看告警]({l})"));
                }
                let mut out = vec![serde_json::json!({
                    "msgtype": "markdown",
                    "markdown": { "content": content },
                })];
                if let Some(image) = self.snapshot(alert) {
                    use md5::Digest;
                    let md5 = vigil_core::hex::encode(&md5::Md5::digest(&image));
                    out.push(serde_json::json!({
                        "msgtype": "image",
                        "image": {
                            "base64": base64::engine::general_purpose::STANDARD.encode(&image),
                            "md5": md5,
                        },
                    }));
                }
                out
            }
            Kind::DingTalk => {
                let mut text = format!("### {title}\n\n");
                for (k, v) in &lines {
                    text.push_str(&format!("- {k}：{v}\n"));
                }
                if let Some(l) = &link {
                    text.push_str(&format!("\n[查看告警]({l})\n"));
                }
                vec![serde_json::json!({
                    "msgtype": "markdown",
                    "markdown": { "title": title, "text": text },
                })]
            }
            Kind::Feishu => {
                let mut rows: Vec<serde_json::Value> = lines
                    .iter()
                    .map(|(k, v)| serde_json::json!([{ "tag": "text", "text": format!("{k}：{v}") }]))
                    .collect();
                if let Some(l) = &link {
                    rows.push(serde_json::json!([{ "tag": "a", "text": "查看告警", "href": l }]));
                }
                vec![serde_json::json!({
                    "msg_type": "post",
                    "content": { "post": { "zh_cn": { "title": title, "content": rows } } },
                })]
            }
        }
    }

    /// The annotated snapshot's bytes, when the record has one that WeCom takes.
    fn snapshot(&self, alert: &Alert) -> Option<Vec<u8>> {
        let snap = alert.evidence.snapshot.as_ref()?;
        let bytes = std::fs::read(self.settings.out_dir.join(&snap.path)).ok()?;
        (bytes.len() <= WECOM_IMAGE_MAX).then_some(bytes)
    }

    /// Posts one message; Ok when the robot accepted it.
    fn post(&self, mut body: serde_json::Value) -> Result<(), String> {
        let s = &self.settings;
        let mut url = s.url.clone();
        match (s.kind, &s.secret) {
            (Kind::DingTalk, Some(secret)) => {
                let ms = crate::now_ms();
                let sign = dingtalk_sign(secret, ms);
                let sep = if url.contains('?') { '&' } else { '?' };
                url.push_str(&format!("{sep}timestamp={ms}&sign={}", url_encode(&sign)));
            }
            (Kind::Feishu, Some(secret)) => {
                let secs = crate::now_ms() / 1000;
                body["timestamp"] = serde_json::json!(secs.to_string());
                body["sign"] = serde_json::json!(feishu_sign(secret, secs));
            }
            _ => {}
        }
        let mut answer = self
            .agent
            .post(&url)
            .header("Content-Type", "application/json; charset=utf-8")
            .send(body.to_string())
            .map_err(|e| e.to_string())?;
        let status = answer.status().as_u16();
        let text = answer
            .body_mut()
            .with_config()
            .limit(64 << 10)
            .read_to_string()
            .unwrap_or_default();
        if !(200..300).contains(&status) {
            return Err(format!("HTTP {status}: {}", clip(&text)));
        }
        let reply: serde_json::Value =
            serde_json::from_str(&text).map_err(|_| format!("not JSON: {}", clip(&text)))?;
        let code = reply
            .get("errcode")
            .or_else(|| reply.get("code"))
            .or_else(|| reply.get("StatusCode"))
            .and_then(|c| c.as_i64());
        match code {
            Some(0) => Ok(()),
            _ => Err(format!("refused: {}", clip(&text))),
        }
    }
}

fn clip(text: &str) -> String {
    text.chars().take(200).collect()
}

impl Transport for Robot {
    fn send(&mut self, item: &OutboxItem) -> Result<(), String> {
        let alert: Alert = serde_json::from_str(&item.json).map_err(|e| e.to_string())?;
        let key = format!("{}:{}", item.alert_id, item.event);
        let done = self.accepted.get(&key).copied().unwrap_or(0);
        for (i, message) in self.messages(&alert).into_iter().enumerate().skip(done) {
            self.post(message)?;
            self.accepted.insert(key.clone(), i + 1);
        }
        self.accepted.remove(&key);
        Ok(())
    }
}

/// DingTalk's signature of a request at `ms`: base64 of HMAC-SHA256 under `secret` of
/// `"<ms>\n<secret>"` (to be URL-encoded into the query).
pub fn dingtalk_sign(secret: &[u8], ms: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(ms.to_string().as_bytes());
    mac.update(b"\n");
    mac.update(secret);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Feishu's signature at `secs`: base64 of HMAC-SHA256 keyed by `"<secs>\n<secret>"` over
/// nothing.
pub fn feishu_sign(secret: &[u8], secs: i64) -> String {
    let mut key = format!("{secs}\n").into_bytes();
    key.extend_from_slice(secret);
    let mac = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes keys of any length");
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Percent-encoding of everything but unreserved characters.
fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn kind_zh(kind: AlertKind) -> &'static str {
    match kind {
        AlertKind::Dwell => "区域滞留",
        AlertKind::Enter => "进入区域",
        AlertKind::Count => "数量超限",
        AlertKind::LineCross => "越线",
        AlertKind::FallingObject => "高空抛物",
        AlertKind::WasteLeft => "垃圾遗留",
        AlertKind::BinOverflow => "垃圾桶满溢",
        AlertKind::UnsortedWaste => "垃圾未分类",
        AlertKind::LaneObstructed => "通道占用",
    }
}

fn severity_zh(s: Severity) -> &'static str {
    match s {
        Severity::Low => "低",
        Severity::Medium => "中",
        Severity::High => "高",
        Severity::Critical => "紧急",
    }
}

/// A display name with the id the config uses beside it (`3号楼东门（gate_2）`), or the id alone.
fn named(name: &str, id: &str) -> String {
    if name == id {
        id.to_string()
    } else {
        format!("{name}（{id}）")
    }
}

/// The message's title and its lines (label, value).
fn text(alert: &Alert) -> (String, Vec<(&'static str, String)>) {
    let state = match alert.event {
        AlertEvent::End | AlertEvent::EndExpired => "（已结束）",
        _ => "",
    };
    let title = format!(
        "【{}】{}{state}",
        severity_zh(alert.severity),
        kind_zh(alert.kind)
    );
    let mut lines = vec![
        ("摄像头", named(alert.camera_name(), alert.camera.as_str())),
        (
            "区域",
            alert.zone.as_ref().map_or("—".to_string(), |z| {
                named(alert.zone_name().unwrap_or(z.as_str()), z.as_str())
            }),
        ),
        ("规则", named(alert.rule_name(), alert.rule.as_str())),
        (
            "时间",
            format!(
                "{}（北京时间）",
                vigil_core::time::beijing(&alert.wall_time)
            ),
        ),
        ("级别", severity_zh(alert.severity).to_string()),
    ];
    if let Some(o) = alert.trajectory.as_ref().map(|t| &t.origin) {
        lines.push((
            "抛出位置",
            format!(
                "{} 层（{}–{} 层），第 {} 列窗户",
                o.floor, o.floor_range[0], o.floor_range[1], o.column
            ),
        ));
    }
    if let Some(e) = &alert.evidence.error {
        lines.push(("证据", e.clone()));
    }
    (title, lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_follow_the_documented_recipes() {
        // HMAC-SHA256 known answers, computed independently (Python's hmac):
        // base64(hmac.new(b"SEC123", b"1700000000000\nSEC123", sha256).digest())
        assert_eq!(
            dingtalk_sign(b"SEC123", 1_700_000_000_000),
            "lkcPI1uoxBY1gUnCnnPH1Kkru0Hqjo7rFpA3haIVhEQ="
        );
        // base64(hmac.new(b"1700000000\nabc", b"", sha256).digest())
        assert_eq!(
            feishu_sign(b"abc", 1_700_000_000),
            "VIS10b0EBvzzSdFnuk4tznEmK5wHaruvf/WnViv2yR4="
        );
        assert_eq!(url_encode("a+b/c=d"), "a%2Bb%2Fc%3Dd");
    }

    #[test]
    fn messages_name_things_as_people_call_them_with_the_id_beside() {
        let mut alert = vigil_testkit::alert("a", "gate_2");
        alert.zone = Some(vigil_core::ZoneId::new("fire_lane"));
        alert.names = vigil_core::DisplayNames {
            camera: Some("3号楼东门".into()),
            zone: Some("消防通道".into()),
            rule: None,
        };
        let (_, lines) = text(&alert);
        let line = |label: &str| lines.iter().find(|(l, _)| *l == label).unwrap().1.clone();
        assert_eq!(line("摄像头"), "3号楼东门（gate_2）");
        assert_eq!(line("区域"), "消防通道（fire_lane）");
        assert_eq!(line("规则"), "no_parking", "no display name: the id alone");
    }
}
