//! Validation of where alerts go — webhooks, the shared store (MQTT: [`crate::mqtt`]) — and of the HTTP API's listener and tokens.
//! Secrets come from environment variables named in the file (or, for tests and demos, the file
//! itself) and never print: [`Secret`]'s `Debug` is `***`.

use crate::check::Validator;
use crate::raw::{RawApi, RawFilter, RawOutputs, RawPostgres};
use crate::tls::{PEM_CERTIFICATE, PEM_KEY, loopback_host, pem_file};
use serde_saphyr::Spanned;
use std::net::SocketAddr;
use std::time::Duration;
use vigil_core::{AlertEvent, AlertFilter, AlertKind, CameraId, Severity};

/// A secret value; `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// One webhook endpoint.
#[derive(Clone, Debug, PartialEq)]
pub struct WebhookConfig {
    /// Unique among the webhooks; names the endpoint's outbox (`webhook:<name>`).
    pub name: String,
    pub url: String,
    /// HMAC-SHA256 key for `X-Vigil-Signature`; unsigned without one.
    pub secret: Option<Secret>,
    pub timeout: Duration,
    pub filter: AlertFilter,
}

/// What a token may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Reads alerts, evidence, status and metrics.
    Viewer,
    /// Also acknowledges alerts.
    Operator,
    /// Also reads who accessed which alert.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "viewer" => Ok(Role::Viewer),
            "operator" => Ok(Role::Operator),
            "admin" => Ok(Role::Admin),
            other => Err(format!(
                "role \"{other}\" is none of viewer, operator, admin"
            )),
        }
    }
}

/// A bearer token, kept as its sha256.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiToken {
    pub name: String,
    pub role: Role,
    pub sha256: [u8; 32],
}

/// The HTTP API and the page for security staff.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiConfig {
    pub listen: SocketAddr,
    pub tokens: Vec<ApiToken>,
    /// HTTPS with this certificate chain and key (PEM files); plain HTTP without.
    pub tls: Option<TlsFiles>,
    /// The named accounts' database (`vigil user …`); none: tokens only.
    pub users: Option<std::path::PathBuf>,
    /// What the page does when a new alert arrives.
    pub alarm: Alarm,
    /// The page's live view.
    pub live: Live,
}

/// The live view: each watched camera's latest detect frame as JPEG, at most `fps` a second,
/// to at most `max_viewers` viewers at once.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Live {
    pub fps: f64,
    pub max_viewers: u32,
    pub quality: u8,
}

impl Default for Live {
    fn default() -> Self {
        Self {
            fps: 5.0,
            max_viewers: 16,
            quality: 70,
        }
    }
}

/// The page's alarm: a new alert at or above `min_severity` sounds, flashes and raises a
/// browser notification until someone acknowledges it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Alarm {
    pub min_severity: Severity,
}

impl Default for Alarm {
    fn default() -> Self {
        Self {
            min_severity: Severity::High,
        }
    }
}

/// A certificate chain and its private key, PEM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert_file: std::path::PathBuf,
    pub key_file: std::path::PathBuf,
}

/// The severity named at `s`, or an error there.
pub(crate) fn severity(v: &mut Validator<'_>, s: &Spanned<String>) -> Option<Severity> {
    named(
        v,
        s,
        "severity",
        "severities",
        &Severity::ALL,
        Severity::as_str,
    )
}

/// The one of `all` whose name (`name`) is written at `at`, or an error there listing them.
fn named<T: Copy>(
    v: &mut Validator<'_>,
    at: &Spanned<String>,
    what: &str,
    plural: &str,
    all: &[T],
    name: fn(T) -> &'static str,
) -> Option<T> {
    let found = all.iter().copied().find(|t| name(*t) == at.value);
    if found.is_none() {
        let names: Vec<&str> = all.iter().map(|t| name(*t)).collect();
        v.error(
            at,
            format!(
                "unknown {what} \"{}\" ({plural}: {})",
                at.value,
                names.join(", ")
            ),
        );
    }
    found
}

pub(crate) fn filter(v: &mut Validator<'_>, raw: &RawFilter, cameras: &[&str]) -> AlertFilter {
    let mut out = AlertFilter {
        min_severity: raw.min_severity.as_ref().and_then(|s| severity(v, s)),
        ..AlertFilter::default()
    };
    for c in &raw.cameras {
        if cameras.contains(&c.value.as_str()) {
            out.cameras.push(CameraId::new(&c.value));
        } else {
            v.error(
                c,
                format!("filter names camera \"{}\", which is not defined", c.value),
            );
        }
    }
    for k in &raw.kinds {
        out.kinds.extend(named(
            v,
            k,
            "alert kind",
            "kinds",
            &AlertKind::ALL,
            AlertKind::as_str,
        ));
    }
    for e in &raw.events {
        out.events.extend(named(
            v,
            e,
            "alert event",
            "events",
            &AlertEvent::ALL,
            AlertEvent::as_str,
        ));
    }
    out
}

/// The value of environment variable `name`, or an error at `at`.
pub(crate) fn env_secret(v: &mut Validator<'_>, name: &Spanned<String>) -> Option<Secret> {
    match std::env::var(&name.value) {
        Ok(s) if !s.is_empty() => Some(Secret(s)),
        _ => {
            v.error(
                name,
                format!(
                    "environment variable {} is not set (it holds the secret)",
                    name.value
                ),
            );
            None
        }
    }
}

/// The webhooks of `outputs` (MQTT: [`crate::mqtt`]; the shared store: [`shared_store`]).
pub(crate) fn webhooks(
    v: &mut Validator<'_>,
    raw: &RawOutputs,
    cameras: &[&str],
) -> Vec<WebhookConfig> {
    let mut webhooks: Vec<WebhookConfig> = Vec::new();
    for w in &raw.webhooks {
        v.check(
            crate::check::is_id(&w.name.value),
            &w.name,
            "webhook names use letters, digits, '_' and '-'",
        );
        if webhooks.iter().any(|o| o.name == w.name.value) {
            v.error(
                &w.name,
                format!("webhook \"{}\" is defined twice", w.name.value),
            );
        }
        let url = w.url.value.trim();
        let url_ok = (url.starts_with("http://") || url.starts_with("https://"))
            && url.split("://").nth(1).is_some_and(|r| !r.is_empty());
        v.check(
            url_ok,
            &w.url,
            "webhook url must be http://host[:port]/path or https://…",
        );
        let plaintext_allowed = w.insecure_plaintext.as_ref().is_some_and(|p| p.value);
        if url_ok && !plaintext_allowed && !url.starts_with("https://") && !loopback_url(url) {
            v.error(
                &w.url,
                "alerts would cross the network in the clear: use https://, or insecure_plaintext: true on this webhook",
            );
        }
        let secret = match (&w.secret_env, &w.secret) {
            (Some(env), None) => env_secret(v, env),
            (None, Some(s)) => Some(Secret(s.value.clone())),
            (None, None) => None,
            (Some(env), Some(_)) => {
                v.error(
                    env,
                    "give the secret either as secret_env or as secret, not both",
                );
                None
            }
        };
        let mut timeout = Duration::from_secs(5);
        if let Some(t) = &w.timeout_secs {
            let ok = t.value.is_finite() && t.value > 0.0 && t.value <= 120.0;
            v.check(ok, t, "timeout_secs must be in (0, 120]");
            if ok {
                timeout = Duration::from_secs_f64(t.value);
            }
        }
        webhooks.push(WebhookConfig {
            name: w.name.value.clone(),
            url: url.to_string(),
            secret,
            timeout,
            filter: filter(v, &w.filter, cameras),
        });
    }
    webhooks
}

/// The shared PostgreSQL store every instance also writes its records to.
#[derive(Clone, Debug)]
pub struct SharedStoreConfig {
    /// `postgres://user@host:port/database` (no password: that comes from `password_env`).
    pub url: String,
    pub password: Option<Secret>,
    /// The CA certificate(s) that signed the server's: TLS required and verified.
    pub ca_file: Option<std::path::PathBuf>,
    pub filter: AlertFilter,
    /// This instance's identity key and the district's registered instances.
    pub district: crate::district::DistrictIdentity,
}

pub(crate) fn shared_store(
    v: &mut Validator<'_>,
    raw: &RawPostgres,
    cameras: &[&str],
    base: &std::path::Path,
) -> SharedStoreConfig {
    let url = raw.url.value.trim();
    let rest = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"));
    let ok = rest.is_some_and(|r| {
        let (authority, database) = r.split_once('/').unwrap_or((r, ""));
        let host = authority.rsplit('@').next().unwrap_or("");
        let host_ok = match host.rsplit_once(':') {
            Some((h, port)) => !h.is_empty() && port.parse::<u16>().is_ok(),
            None => !host.is_empty(),
        };
        host_ok && !database.is_empty()
    });
    v.check(
        ok,
        &raw.url,
        "postgres url must be postgres://user@host[:port]/database",
    );
    let inline_password = rest
        .and_then(|r| r.split('/').next())
        .and_then(|a| a.split_once('@'))
        .is_some_and(|(user, _)| user.contains(':'));
    v.check(
        !inline_password,
        &raw.url,
        "keep the password out of the url: give it as password_env",
    );
    v.check(
        !url.contains("sslmode="),
        &raw.url,
        "TLS is set with ca_file (required and verified), not sslmode in the url",
    );
    let ca_file = raw.ca_file.as_ref().and_then(|f| {
        let path = base.join(&f.value);
        let pem = std::fs::read_to_string(&path).unwrap_or_default();
        let ok = pem.contains("-----BEGIN CERTIFICATE-----");
        v.check(
            ok,
            f,
            &format!(
                "ca_file {}: not a readable PEM file of CA certificates",
                path.display()
            ),
        );
        ok.then_some(path)
    });
    SharedStoreConfig {
        url: url.to_string(),
        password: raw.password_env.as_ref().and_then(|p| env_secret(v, p)),
        ca_file,
        filter: filter(v, &raw.filter, cameras),
        district: crate::district::identity(v, raw, base),
    }
}

/// Whether an `http://` url names this machine (`localhost`, `127.0.0.0/8`, `[::1]`).
fn loopback_url(url: &str) -> bool {
    let rest = url.split("://").nth(1).unwrap_or("");
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    loopback_host(host)
}

pub(crate) fn validate_api(
    v: &mut Validator<'_>,
    raw: &RawApi,
    base: &std::path::Path,
) -> ApiConfig {
    let listen = match raw.listen.value.parse::<SocketAddr>() {
        Ok(a) => a,
        Err(_) => {
            v.error(&raw.listen, "listen must be ip:port, e.g. 127.0.0.1:8080");
            SocketAddr::from(([127, 0, 0, 1], 0))
        }
    };
    let mut tokens: Vec<ApiToken> = Vec::new();
    for t in &raw.tokens {
        let role = t.role.value.parse().unwrap_or_else(|e: String| {
            v.error(&t.role, e);
            Role::Viewer
        });
        let sha256: Option<[u8; 32]> =
            vigil_core::hex::decode(t.sha256.value.trim()).and_then(|bytes| bytes.try_into().ok());
        let Some(sha256) = sha256 else {
            v.error(
                &t.sha256,
                "sha256 must be 64 hex digits: the sha256 of the token (e.g. `printf %s TOKEN | sha256sum`)",
            );
            continue;
        };
        if tokens.iter().any(|o| o.name == t.name.value) {
            v.error(
                &t.name,
                format!("token \"{}\" is defined twice", t.name.value),
            );
        }
        tokens.push(ApiToken {
            name: t.name.value.clone(),
            role,
            sha256,
        });
    }
    let tls = raw.tls.as_ref().and_then(|t| {
        let cert_file = pem_file(v, base, &t.cert_file, PEM_CERTIFICATE, "certificates");
        let key_file = pem_file(v, base, &t.key_file, PEM_KEY, "a private key");
        Some(TlsFiles {
            cert_file: cert_file?,
            key_file: key_file?,
        })
    });
    let plaintext_allowed = raw.insecure_plaintext.as_ref().is_some_and(|p| p.value);
    if raw.tls.is_none() && !listen.ip().is_loopback() && !plaintext_allowed {
        v.error(
            &raw.listen,
            "the API would take tokens and serve footage in the clear on the network: give api.tls (cert_file, key_file), or insecure_plaintext: true when a TLS proxy is in front",
        );
    }
    let users = raw.users.as_ref().and_then(|u| {
        let path = base.join(&u.value);
        let folder_ok = path
            .parent()
            .is_some_and(|p| p.as_os_str().is_empty() || p.is_dir());
        v.check(
            folder_ok && !u.value.trim().is_empty(),
            u,
            &format!(
                "users {}: no such folder (the file is made by `vigil user add`)",
                path.display()
            ),
        );
        folder_ok.then_some(path)
    });
    let alarm = raw
        .alarm
        .as_ref()
        .and_then(|a| severity(v, &a.min_severity))
        .map_or_else(Alarm::default, |min_severity| Alarm { min_severity });
    let live = raw.live.as_ref().map_or_else(Live::default, |l| live(v, l));
    ApiConfig {
        listen,
        tokens,
        tls,
        users,
        alarm,
        live,
    }
}

/// `api.live`, every number range-checked (the default where one is out of range).
fn live(v: &mut Validator<'_>, raw: &crate::raw::RawLive) -> Live {
    let mut live = Live::default();
    if let Some(f) = &raw.fps {
        let ok = f.value.is_finite() && (0.2..=15.0).contains(&f.value);
        v.check(
            ok,
            f,
            "live.fps must be between 0.2 and 15 pictures a second",
        );
        if ok {
            live.fps = f.value;
        }
    }
    if let Some(m) = &raw.max_viewers {
        let ok = (1..=256).contains(&m.value);
        v.check(ok, m, "live.max_viewers must be between 1 and 256");
        if ok {
            live.max_viewers = m.value;
        }
    }
    if let Some(q) = &raw.quality {
        let ok = (30..=95).contains(&q.value);
        v.check(
            ok,
            q,
            "live.quality must be a JPEG quality between 30 and 95",
        );
        if ok {
            live.quality = q.value as u8;
        }
    }
    live
}
