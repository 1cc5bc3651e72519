//! Validation of `outputs.robots`: the WeCom (企业微信), DingTalk (钉钉) and Feishu (飞书) group
//! robots alerts are pushed to, each a receiver with its own outbox.

use crate::check::Validator;
use crate::outputs::{Secret, env_secret, filter};
use crate::raw::RawRobot;
use crate::tls::loopback_host;
use vigil_core::{AlertEvent, AlertFilter};

/// Which robot API a receiver speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RobotKind {
    WeCom,
    DingTalk,
    Feishu,
}

impl RobotKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RobotKind::WeCom => "wecom",
            RobotKind::DingTalk => "dingtalk",
            RobotKind::Feishu => "feishu",
        }
    }
}

/// One group robot.
#[derive(Clone, Debug, PartialEq)]
pub struct RobotConfig {
    /// Unique among the robots; names its outbox (`robot:<name>`).
    pub name: String,
    pub kind: RobotKind,
    /// The webhook URL, with the robot's key in it.
    pub url: Secret,
    /// DingTalk's and Feishu's signing secret.
    pub secret: Option<Secret>,
    /// The page's address: each message links to `<link_base>/#alert=<id>`.
    pub link_base: Option<String>,
    /// By default the `evidence` record of each alert (it carries the snapshot), or its `start`
    /// when evidence is off.
    pub filter: AlertFilter,
}

pub(crate) fn validate(
    v: &mut Validator<'_>,
    raw: &[RawRobot],
    cameras: &[&str],
    evidence_enabled: bool,
) -> Vec<RobotConfig> {
    let mut robots: Vec<RobotConfig> = Vec::new();
    for r in raw {
        let name = &r.name.value;
        v.check(
            crate::check::is_id(name) && name.len() <= 64,
            &r.name,
            "robot names use letters, digits, '_' and '-'",
        );
        if robots.iter().any(|o| &o.name == name) {
            v.error(&r.name, format!("robot \"{name}\" is defined twice"));
        }
        let kind = match r.kind.value.as_str() {
            "wecom" => RobotKind::WeCom,
            "dingtalk" => RobotKind::DingTalk,
            "feishu" => RobotKind::Feishu,
            other => {
                v.error(
                    &r.kind,
                    format!("robot kind \"{other}\" is none of wecom, dingtalk, feishu"),
                );
                continue;
            }
        };
        let url = match (&r.url, &r.url_env) {
            (Some(u), None) => Some((Secret::new(u.value.trim()), u)),
            (None, Some(env)) => env_secret(v, env).map(|s| (s, env)),
            _ => {
                v.error(
                    &r.name,
                    "give the robot's webhook URL as url_env (or url), once",
                );
                None
            }
        };
        let Some((url, at)) = url else { continue };
        let text = url.expose();
        let https = text.starts_with("https://");
        let plain = text.strip_prefix("http://");
        if !https && plain.is_none() {
            v.error(
                at,
                "a robot's url is https://… (as the robot's settings give it)",
            );
        }
        let host = plain
            .unwrap_or_default()
            .split(['/', '?', ':'])
            .next()
            .unwrap_or_default();
        let plaintext_allowed = r.insecure_plaintext.as_ref().is_some_and(|p| p.value);
        if plain.is_some() && !loopback_host(host) && !plaintext_allowed {
            v.error(
                at,
                "the robot's key and the alert would cross the network in the clear: use https://, or insecure_plaintext: true",
            );
        }
        let secret = r.secret_env.as_ref().and_then(|s| {
            v.check(
                kind != RobotKind::WeCom,
                s,
                "a WeCom robot signs nothing: its key is in the url",
            );
            env_secret(v, s)
        });
        let link_base = r.link_base.as_ref().map(|l| {
            let base = l.value.trim().trim_end_matches('/');
            v.check(
                base.starts_with("https://") || base.starts_with("http://"),
                l,
                "link_base is the page's address, http[s]://host[:port]",
            );
            base.to_string()
        });
        let mut f = r
            .filter
            .as_ref()
            .map(|raw| filter(v, raw, cameras))
            .unwrap_or_default();
        if r.filter.as_ref().is_none_or(|f| f.events.is_empty()) {
            f.events = vec![if evidence_enabled {
                AlertEvent::Evidence
            } else {
                AlertEvent::Start
            }];
        }
        robots.push(RobotConfig {
            name: name.clone(),
            kind,
            url,
            secret,
            link_base,
            filter: f,
        });
    }
    robots
}
