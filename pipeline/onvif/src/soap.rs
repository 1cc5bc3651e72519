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
    /// The device's clock minus ours, in seconds: tokens are dated in the device's time (it
    /// refuses a token created far from its own clock).
    offset_secs: std::sync::atomic::AtomicI64,
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
            offset_secs: std::sync::atomic::AtomicI64::new(0),
        }
    }

    /// Dates this client's tokens by the device's clock from now on: its `GetSystemDateAndTime`
    /// (which devices answer without credentials) against ours. Returns the offset in seconds;
    /// a device that does not answer leaves the offset at 0.
    pub fn sync_clock(&self, url: &str) -> Result<i64, OnvifError> {
        let unsigned = Client {
            agent: self.agent.clone(),
            user: None,
            offset_secs: std::sync::atomic::AtomicI64::new(0),
        };
        let text = unsigned.call(
            url,
            &format!("{NS_DEVICE}/GetSystemDateAndTime"),
            &format!(r#"<tds:GetSystemDateAndTime xmlns:tds="{NS_DEVICE}"/>"#),
        )?;
        let device = device_utc(&text).ok_or_else(|| OnvifError::Malformed {
            url: url.to_string(),
            reason: "GetSystemDateAndTime gives no UTCDateTime".into(),
        })?;
        let offset = device - unix_now();
        self.offset_secs
            .store(offset, std::sync::atomic::Ordering::Relaxed);
        Ok(offset)
    }

    /// Posts `body` (one operation element, with its namespace declared) to `url`; the
    /// answer's text when the device answered without a fault.
    pub fn call(&self, url: &str, action: &str, body: &str) -> Result<String, OnvifError> {
        let header = match &self.user {
            Some((user, password)) => {
                let offset = self.offset_secs.load(std::sync::atomic::Ordering::Relaxed);
                security_header(user, password, &random_16(), &rfc3339(unix_now() + offset))
            }
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

/// 16 bytes from the system's random source: a token's nonce, a discovery probe's message id.
pub(crate) fn random_16() -> [u8; 16] {
    let mut n = [0u8; 16];
    // The system's random source does not fail on Linux; a zero nonce would still be a
    // valid (if weaker) token.
    let _ = ring::rand::SystemRandom::new().fill(&mut n);
    n
}

/// Seconds since 1970 on this machine's clock.
fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Unix time `secs` (from 1970 on) as `YYYY-MM-DDTHH:MM:SSZ` (UTC).
pub fn rfc3339(secs: i64) -> String {
    let t = SystemTime::UNIX_EPOCH + Duration::from_secs(secs.max(0) as u64);
    vigil_core::time::rfc3339_seconds(t)
}

/// The Unix time of a `GetSystemDateAndTimeResponse`'s `tt:UTCDateTime`.
fn device_utc(text: &str) -> Option<i64> {
    let doc = roxmltree::Document::parse(text).ok()?;
    let utc = doc
        .descendants()
        .find(|n| n.has_tag_name((NS_SCHEMA, "UTCDateTime")))?;
    let part = |group: &str, name: &str| -> Option<u64> {
        utc.children()
            .find(|n| n.has_tag_name((NS_SCHEMA, group)))?
            .children()
            .find(|n| n.has_tag_name((NS_SCHEMA, name)))?
            .text()?
            .trim()
            .parse()
            .ok()
    };
    let (y, mo, d) = (
        part("Date", "Year")?,
        part("Date", "Month")?,
        part("Date", "Day")?,
    );
    let (h, mi, s) = (
        part("Time", "Hour")?,
        part("Time", "Minute")?,
        part("Time", "Second")?,
    );
    let text = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z");
    let t = vigil_core::time::parse_rfc3339(&text)?;
    Some(t.duration_since(SystemTime::UNIX_EPOCH).ok()?.as_secs() as i64)
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
        assert_eq!(rfc3339(unix_now()).len(), 20);
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(20_790 * 86_400 + 3661), "2026-12-03T01:01:01Z");
    }

    #[test]
    fn a_devices_utc_clock_is_read() {
        let text = format!(
            r#"<s:Envelope xmlns:s="{NS_SOAP}" xmlns:tt="{NS_SCHEMA}"><s:Body><tds:GetSystemDateAndTimeResponse xmlns:tds="{NS_DEVICE}"><tds:SystemDateAndTime><tt:DateTimeType>NTP</tt:DateTimeType><tt:UTCDateTime><tt:Time><tt:Hour>7</tt:Hour><tt:Minute>50</tt:Minute><tt:Second>45</tt:Second></tt:Time><tt:Date><tt:Year>2010</tt:Year><tt:Month>9</tt:Month><tt:Day>16</tt:Day></tt:Date></tt:UTCDateTime></tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse></s:Body></s:Envelope>"#
        );
        let t = device_utc(&text).unwrap();
        assert_eq!(rfc3339(t), "2010-09-16T07:50:45Z");
        assert_eq!(
            device_utc(&text.replace("<tt:Month>9<", "<tt:Month>13<")),
            None
        );
        assert_eq!(device_utc("<x/>"), None);
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
