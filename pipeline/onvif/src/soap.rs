//! SOAP 1.2 over HTTP as ONVIF devices speak it: each request signed with a WS-Security
//! UsernameToken whose password is sent as a digest (Base64(SHA-1(nonce ‖ created ‖ password)),
//! never in clear), answers parsed with namespaces, faults turned into errors that say what the
//! device refused. A device is not trusted: answers are read up to [`MAX_ANSWER`] bytes, within
//! the client's timeout, and no redirect is followed.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ring::rand::SecureRandom;
use std::time::{Duration, SystemTime};

/// The largest answer read from a device.
pub const MAX_ANSWER: u64 = 1 << 20;

pub const NS_SOAP: &str = "http://www.w3.org/2003/05/soap-envelope";
pub const NS_SCHEMA: &str = "http://www.onvif.org/ver10/schema";
pub const NS_DEVICE: &str = "http://www.onvif.org/ver10/device/wsdl";
pub const NS_MEDIA: &str = "http://www.onvif.org/ver10/media/wsdl";
const NS_WSSE: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
const NS_WSU: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd";
const PASSWORD_DIGEST: &str = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest";
const BASE64_BINARY: &str = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary";

#[derive(Debug, thiserror::Error)]
pub enum OnvifError {
    #[error("cannot reach {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("{url} refused the user name or password ({detail})")]
    NotAuthorized { url: String, detail: String },
    #[error("{url} answered with a SOAP fault: {detail}")]
    Fault { url: String, detail: String },
    #[error("{url} answered HTTP {status} without a SOAP fault")]
    Http { url: String, status: u16 },
    #[error("{url} sent an answer that is not ONVIF: {reason}")]
    Malformed { url: String, reason: String },
}

/// Calls to one device's services as one user.
pub struct Client {
    agent: ureq::Agent,
    user: Option<(String, String)>,
}

impl Client {
    /// A client signing its requests as `user` with `password` (none: unsigned, as discovery
    /// and some devices' `GetSystemDateAndTime` allow); each call within `timeout`.
    pub fn new(user: Option<(&str, &str)>, timeout: Duration) -> Self {
        Self {
            agent: ureq::Agent::config_builder()
                .timeout_global(Some(timeout))
                .http_status_as_error(false)
                .max_redirects(0)
                .user_agent(concat!("vigil/", env!("CARGO_PKG_VERSION")))
                .build()
                .into(),
            user: user.map(|(u, p)| (u.to_string(), p.to_string())),
        }
    }

    /// Posts `body` (one operation element, with its namespace declared) to `url`; the
    /// answer's text when the device answered without a fault.
    pub fn call(&self, url: &str, action: &str, body: &str) -> Result<String, OnvifError> {
        let header = match &self.user {
            Some((user, password)) => security_header(user, password, &nonce(), &now_rfc3339()),
            None => String::new(),
        };
        let envelope = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="{NS_SOAP}"><s:Header>{header}</s:Header><s:Body>{body}</s:Body></s:Envelope>"#
        );
        let unreachable = |reason: String| OnvifError::Unreachable {
            url: url.to_string(),
            reason,
        };
        let mut answer = self
            .agent
            .post(url)
            .header(
                "Content-Type",
                &format!("application/soap+xml; charset=utf-8; action=\"{action}\""),
            )
            .send(envelope.as_bytes())
            .map_err(|e| unreachable(e.to_string()))?;
        let status = answer.status().as_u16();
        let text = answer
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER)
            .read_to_string()
            .map_err(|e| unreachable(format!("reading the answer: {e}")))?;
        if let Some(fault) = fault(&text) {
            let detail = fault.text;
            return Err(match fault.not_authorized || status == 401 {
                true => OnvifError::NotAuthorized {
                    url: url.to_string(),
                    detail,
                },
                false => OnvifError::Fault {
                    url: url.to_string(),
                    detail,
                },
            });
        }
        match status {
            200..=299 => Ok(text),
            401 | 403 => Err(OnvifError::NotAuthorized {
                url: url.to_string(),
                detail: format!("HTTP {status}"),
            }),
            _ => Err(OnvifError::Http {
                url: url.to_string(),
                status,
            }),
        }
    }
}

/// The WS-Security header for `user`: the password as Base64(SHA-1(nonce ‖ created ‖ password)).
pub fn security_header(user: &str, password: &str, nonce: &[u8], created: &str) -> String {
    format!(
        r#"<wsse:Security s:mustUnderstand="1" xmlns:wsse="{NS_WSSE}" xmlns:wsu="{NS_WSU}"><wsse:UsernameToken><wsse:Username>{}</wsse:Username><wsse:Password Type="{PASSWORD_DIGEST}">{}</wsse:Password><wsse:Nonce EncodingType="{BASE64_BINARY}">{}</wsse:Nonce><wsu:Created>{created}</wsu:Created></wsse:UsernameToken></wsse:Security>"#,
        escape(user),
        password_digest(nonce, created, password),
        B64.encode(nonce)
    )
}

/// Base64(SHA-1(nonce ‖ created ‖ password)), as the UsernameToken profile defines it.
pub fn password_digest(nonce: &[u8], created: &str, password: &str) -> String {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY);
    ctx.update(nonce);
    ctx.update(created.as_bytes());
    ctx.update(password.as_bytes());
    B64.encode(ctx.finish().as_ref())
}

/// Text for an XML element or attribute.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn nonce() -> [u8; 16] {
    let mut n = [0u8; 16];
    // The system's random source does not fail on Linux; a zero nonce would still be a
    // valid (if weaker) token.
    let _ = ring::rand::SystemRandom::new().fill(&mut n);
    n
}

/// Now as `YYYY-MM-DDTHH:MM:SSZ` (UTC), computed from the Unix time.
fn now_rfc3339() -> String {
    let secs = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// (year, month, day) of the day `days` after 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// A SOAP fault in an answer.
struct Fault {
    text: String,
    not_authorized: bool,
}

fn fault(text: &str) -> Option<Fault> {
    let doc = roxmltree::Document::parse(text).ok()?;
    let f = doc
        .descendants()
        .find(|n| n.has_tag_name((NS_SOAP, "Fault")))?;
    let reason = f
        .descendants()
        .find(|n| n.has_tag_name((NS_SOAP, "Text")))
        .and_then(|n| n.text())
        .unwrap_or("no reason given")
        .trim()
        .to_string();
    let codes: Vec<&str> = f
        .descendants()
        .filter(|n| n.has_tag_name((NS_SOAP, "Value")))
        .filter_map(|n| n.text())
        .collect();
    let not_authorized = codes.iter().any(|c| c.ends_with("NotAuthorized"));
    let mut text = reason;
    if !codes.is_empty() {
        text = format!("{text} [{}]", codes.join(" / "));
    }
    Some(Fault {
        text,
        not_authorized,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_is_the_onvif_programmers_guides_example() {
        // ONVIF Application Programmer's Guide, "user authentication": nonce
        // LKqI6G/AikKCQrN0zqZFlg==, created 2010-09-16T07:50:45Z, password userpassword.
        let nonce = B64.decode("LKqI6G/AikKCQrN0zqZFlg==").unwrap();
        assert_eq!(
            password_digest(&nonce, "2010-09-16T07:50:45Z", "userpassword"),
            "tuOSpGlFlIXsozq4HFNeeGeFLEI="
        );
    }

    #[test]
    fn the_header_carries_the_digest_never_the_password() {
        let h = security_header(
            "ad<min",
            "s3cret",
            b"0123456789abcdef",
            "2026-12-03T00:00:00Z",
        );
        assert!(
            h.contains("<wsse:Username>ad&lt;min</wsse:Username>"),
            "{h}"
        );
        assert!(!h.contains("s3cret"));
        assert!(
            h.contains("MDEyMzQ1Njc4OWFiY2RlZg=="),
            "the nonce in Base64: {h}"
        );
    }

    #[test]
    fn dates_are_utc_calendar_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_790), (2026, 12, 3));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(now_rfc3339().len(), 20);
    }

    #[test]
    fn faults_say_what_was_refused() {
        let text = format!(
            r#"<s:Envelope xmlns:s="{NS_SOAP}" xmlns:ter="http://www.onvif.org/ver10/error"><s:Body><s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>ter:NotAuthorized</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en">Sender not Authorized</s:Text></s:Reason></s:Fault></s:Body></s:Envelope>"#
        );
        let f = fault(&text).unwrap();
        assert!(f.not_authorized);
        assert_eq!(
            f.text,
            "Sender not Authorized [s:Sender / ter:NotAuthorized]"
        );
        assert!(fault("<a/>").is_none());
        assert!(fault("not xml").is_none());
    }
}
