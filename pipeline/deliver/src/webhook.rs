//! Webhook delivery: an HTTP POST of the stored alert record per outbox row.
//!
//! Headers: `Content-Type: application/json`; `Idempotency-Key: <alert id>:<event>`;
//! `X-Vigil-Event`; and, when the endpoint has a secret, `X-Vigil-Signature: sha256=<hex>` — the
//! HMAC-SHA256 of the exact body bytes under that secret ([`signature`]). Any 2xx acknowledges;
//! anything else (other statuses, refused connections, timeouts) is retried.

use crate::outbox::OutboxItem;
use crate::worker::Transport;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::time::Duration;

/// HMAC-SHA256 of `body` under `secret`, not yet finalised.
fn mac(secret: &[u8], body: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    mac
}

/// The value of `X-Vigil-Signature` for `body` under `secret`.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    let hex = vigil_core::hex::encode(&mac(secret, body).finalize().into_bytes());
    format!("sha256={hex}")
}

/// Whether `header` is the right signature of `body` under `secret` (constant time), for
/// receivers written in Rust and for tests.
pub fn verify_signature(secret: &[u8], body: &[u8], header: &str) -> bool {
    header
        .strip_prefix("sha256=")
        .and_then(vigil_core::hex::decode)
        .is_some_and(|expected| mac(secret, body).verify_slice(&expected).is_ok())
}

/// One webhook endpoint.
pub struct Webhook {
    agent: ureq::Agent,
    url: String,
    secret: Option<Vec<u8>>,
}

impl Webhook {
    pub fn new(url: &str, secret: Option<Vec<u8>>, timeout: Duration) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(concat!("vigil/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Self {
            agent,
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
            request = request.header("X-Vigil-Signature", &signature(secret, body));
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

    #[test]
    fn signature_matches_the_rfc_4231_test_vector_and_verifies() {
        // RFC 4231 test case 2.
        let sig = signature(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            sig,
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(verify_signature(
            b"Jefe",
            b"what do ya want for nothing?",
            &sig
        ));
        assert!(!verify_signature(
            b"Jefe",
            b"what do ya want for nothing!",
            &sig
        ));
        assert!(!verify_signature(
            b"other",
            b"what do ya want for nothing?",
            &sig
        ));
        assert!(!verify_signature(b"Jefe", b"x", "sha256=zz"));
        assert!(!verify_signature(b"Jefe", b"x", "md5=00"));
    }
}
