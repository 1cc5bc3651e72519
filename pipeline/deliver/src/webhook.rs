//! Webhook delivery: an HTTP POST of the stored alert record per outbox row.
//!
//! Headers: `Content-Type: application/json`; `Idempotency-Key: <alert id>:<event>`;
//! `X-Vigil-Event`; and, when the endpoint has a secret, `X-Vigil-Timestamp: <unix seconds>` and
//! `X-Vigil-Signature: v1=<hex>` — the HMAC-SHA256 under that secret of the timestamp, a `.` and
//! the exact body bytes ([`signature`]). The timestamp is taken at each attempt, so a retry is
//! signed afresh. Any 2xx acknowledges; anything else (other statuses, refused connections,
//! timeouts) is retried.
//!
//! A receiver checks a delivery with [`verify`]: the signature over timestamp and body, and the
//! timestamp within [`REPLAY_WINDOW`] of its own clock. A delivery captured on the wire replays
//! only within that window, where the `Idempotency-Key` (which the receiver keeps at least that
//! long) makes it a repeat.

use crate::outbox::OutboxItem;
use crate::worker::Transport;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::time::Duration;

/// The header carrying the signing time.
pub const TIMESTAMP_HEADER: &str = "X-Vigil-Timestamp";
/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "X-Vigil-Signature";
/// How far a delivery's timestamp may be from the receiver's clock, either way.
pub const REPLAY_WINDOW: Duration = Duration::from_secs(300);

/// HMAC-SHA256 of `<timestamp>.<body>` under `secret`, not yet finalised.
fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The value of `X-Vigil-Signature` for `body` sent at `timestamp` (Unix seconds) under `secret`.
pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let hex = vigil_core::hex::encode(&mac(secret, timestamp, body).finalize().into_bytes());
    format!("v1={hex}")
}

/// Why a delivery is refused by [`verify`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Rejected {
    #[error("no usable X-Vigil-Timestamp or X-Vigil-Signature")]
    Malformed,
    #[error("signature does not match timestamp and body")]
    BadSignature,
    #[error("signed {skew_secs} s from now: outside the replay window")]
    OutsideWindow { skew_secs: i64 },
}

/// The documented check of a delivery: `signature` (the `X-Vigil-Signature` value; several
/// `v1=` values separated by commas are allowed, as during a key change) must be the HMAC of
/// `timestamp` (the `X-Vigil-Timestamp` value) and `body` under `secret`, compared in constant
/// time, and `timestamp` must be within `window` of `now_secs` (Unix seconds).
pub fn verify(
    secret: &[u8],
    body: &[u8],
    timestamp: &str,
    signature: &str,
    now_secs: i64,
    window: Duration,
) -> Result<(), Rejected> {
    let t: i64 = timestamp.trim().parse().map_err(|_| Rejected::Malformed)?;
    let candidates: Vec<Vec<u8>> = signature
        .split(',')
        .filter_map(|s| s.trim().strip_prefix("v1="))
        .filter_map(vigil_core::hex::decode)
        .collect();
    if candidates.is_empty() {
        return Err(Rejected::Malformed);
    }
    let matches = candidates
        .iter()
        .any(|c| mac(secret, t, body).verify_slice(c).is_ok());
    if !matches {
        return Err(Rejected::BadSignature);
    }
    let skew_secs = now_secs.saturating_sub(t);
    if skew_secs.unsigned_abs() > window.as_secs() {
        return Err(Rejected::OutsideWindow { skew_secs });
    }
    Ok(())
}

/// The current Unix time in seconds.
pub fn unix_now() -> i64 {
    crate::now_ms() / 1000
}

/// The HTTP client of a receiver: the whole exchange within `timeout`, statuses answered (not
/// errors), no redirects followed.
pub(crate) fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent(concat!("vigil/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

/// One webhook endpoint.
pub struct Webhook {
    agent: ureq::Agent,
    url: String,
    secret: Option<Vec<u8>>,
}

impl Webhook {
    pub fn new(url: &str, secret: Option<Vec<u8>>, timeout: Duration) -> Self {
        Self {
            agent: agent(timeout),
            url: url.to_string(),
            secret,
        }
    }
}

impl Transport for Webhook {
    fn send(&mut self, item: &OutboxItem) -> Result<(), String> {
        let body = item.json.as_bytes();
        let mut request = self
            .agent
            .post(&self.url)
            .header("Content-Type", "application/json")
            .header("Idempotency-Key", &item.idempotency_key())
            .header("X-Vigil-Event", &item.event);
        if let Some(secret) = &self.secret {
            let now = unix_now();
            request = request
                .header(TIMESTAMP_HEADER, &now.to_string())
                .header(SIGNATURE_HEADER, &signature(secret, now, body));
        }
        let response = request.send(body).map_err(|e| e.to_string())?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("HTTP {status}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: Duration = REPLAY_WINDOW;

    #[test]
    fn the_signature_is_what_the_readmes_python_check_computes() {
        // Computed by Python's hmac module, as the README's receiver snippet does:
        // hmac.new(b"Jefe", b"1733200000.{}", hashlib.sha256).hexdigest()
        assert_eq!(
            signature(b"Jefe", 1_733_200_000, b"{}"),
            "v1=1927e41e92a31c594f0a89e719a73aa866dc7f407342209719b4eec0db2d57c0"
        );
    }

    #[test]
    fn verify_takes_a_fresh_delivery_and_refuses_tampering_and_replays() {
        let t = 1_733_200_000;
        let body = br#"{"id":"a1"}"#;
        let sig = signature(b"key", t, body);
        let ts = t.to_string();
        assert_eq!(verify(b"key", body, &ts, &sig, t + 1, W), Ok(()));
        assert_eq!(verify(b"key", body, &ts, &sig, t - 299, W), Ok(()));
        assert_eq!(
            verify(b"key", body, &ts, &sig, t + 301, W),
            Err(Rejected::OutsideWindow { skew_secs: 301 })
        );
        // A fresh timestamp put on a captured delivery breaks the signature.
        let later = (t + 3600).to_string();
        assert_eq!(
            verify(b"key", body, &later, &sig, t + 3600, W),
            Err(Rejected::BadSignature)
        );
        assert_eq!(
            verify(b"key", b"{}", &ts, &sig, t, W),
            Err(Rejected::BadSignature)
        );
        assert_eq!(
            verify(b"other", body, &ts, &sig, t, W),
            Err(Rejected::BadSignature)
        );
        // A key change: either signature passes.
        let both = format!("{},{sig}", signature(b"new", t, body));
        assert_eq!(verify(b"key", body, &ts, &both, t, W), Ok(()));
        for (ts, sig) in [("soon", sig.as_str()), (&ts, "sha256=00"), (&ts, "v1=zz")] {
            assert_eq!(
                verify(b"key", body, ts, sig, t, W),
                Err(Rejected::Malformed)
            );
        }
    }
}
