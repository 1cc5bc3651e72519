//! How instances know each other: each has an ed25519 identity key, and the config lists the
//! district's instances (name, address, public key), kept by an admin. A request forwarded on a
//! guard's behalf carries **no token of the guard's**: the forwarding instance signs who it is,
//! whom it acts for and with what role, the method, path, time and a hash of the body, and the
//! holder checks that signature against the registered key. So the holder trusts the instances
//! the admin registered, never an address or a name read from the shared store.

use axum::http::{HeaderMap, HeaderValue, Method};
use std::sync::Arc;
use vigil_config::Role;
use vigil_deliver::keys::{PublicKey, SigningKey};

/// Marks a request one instance sends another on a caller's behalf; names the sender.
pub const FORWARDED: &str = "x-vigil-forwarded";

/// Whom the forwarding instance acts for (the caller's name there).
pub const ON_BEHALF: &str = "x-vigil-on-behalf";
/// That caller's role there.
pub const ROLE: &str = "x-vigil-role";
/// When the request was signed, milliseconds since the epoch.
pub const SENT: &str = "x-vigil-sent-ms";
/// Hex sha256 of the request body.
pub const BODY: &str = "x-vigil-body-sha256";
/// The forwarding instance's signature of [`message`].
pub const SIGNATURE: &str = "x-vigil-instance-signature";

/// How far a forwarded request's signing time may be from the holder's clock.
pub const WINDOW_MS: i64 = 30_000;

/// An instance the admin registered.
pub struct Peer {
    pub name: String,
    /// `http[s]://host:port` of its API.
    pub url: String,
    pub key: PublicKey,
}

/// This instance's key and the registered instances.
pub struct Identity {
    pub key: Arc<SigningKey>,
    pub peers: Vec<Peer>,
    /// TLS to `https://` peers, trusting the district's CA only.
    pub tls: Option<Arc<rustls::ClientConfig>>,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("public_key", &self.key.public_hex())
            .field(
                "peers",
                &self.peers.iter().map(|p| &p.name).collect::<Vec<_>>(),
            )
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

impl Identity {
    pub fn peer(&self, name: &str) -> Option<&Peer> {
        self.peers.iter().find(|p| p.name == name)
    }
}

/// What is signed, one field a line under a domain tag.
#[allow(clippy::too_many_arguments)]
fn message(
    from: &str,
    method: &str,
    path: &str,
    on_behalf: &str,
    role: &str,
    sent_ms: &str,
    body_sha256: &str,
) -> Vec<u8> {
    format!("vigil-forward-v1\n{from}\n{method}\n{path}\n{on_behalf}\n{role}\n{sent_ms}\n{body_sha256}\n")
        .into_bytes()
}

/// The headers that say `from` sends `method path` (with `body`) on behalf of its caller `name`
/// (of `role`).
pub fn sign(
    identity: &Identity,
    from: &str,
    method: &Method,
    path: &str,
    (name, role): (&str, Role),
    body: &[u8],
) -> Vec<(&'static str, String)> {
    let sent = vigil_deliver::now_ms().to_string();
    let body_sha = vigil_deliver::sha256_hex(body);
    let role = role.as_str();
    let sig = identity.key.sign_bytes(&message(
        from,
        method.as_str(),
        path,
        name,
        role,
        &sent,
        &body_sha,
    ));
    vec![
        (ON_BEHALF, name.to_string()),
        (ROLE, role.to_string()),
        (SENT, sent),
        (BODY, body_sha),
        (SIGNATURE, sig),
    ]
}

/// The caller of a request forwarded by instance `from` — `name@from`, with the role it had there
/// — if the signature is a registered instance's and fresh; else why not.
pub fn verify(
    identity: Option<&Identity>,
    from: &str,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
) -> Result<(String, Role), &'static str> {
    let identity = identity.ok_or("this instance takes no forwarded requests (no identity_key)")?;
    let peer = identity
        .peer(from)
        .ok_or("forwarded by an instance that is not registered")?;
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    let (Some(on_behalf), Some(role), Some(sent), Some(body), Some(sig)) = (
        get(ON_BEHALF),
        get(ROLE),
        get(SENT),
        get(BODY),
        get(SIGNATURE),
    ) else {
        return Err("a forwarded request must carry its instance's signature");
    };
    let m = message(from, method.as_str(), path, on_behalf, role, sent, body);
    if !peer.key.verifies(&m, sig) {
        return Err("the forwarding instance's signature does not hold");
    }
    let sent: i64 = sent.parse().map_err(|_| "unreadable signing time")?;
    if (vigil_deliver::now_ms() - sent).abs() > WINDOW_MS {
        return Err("a forwarded request signed too long ago (or clocks apart)");
    }
    let role: Role = role.parse().map_err(|_| "unknown role")?;
    Ok((format!("{on_behalf}@{from}"), role))
}

/// Whether `body` is the one a forwarded request's signature covers.
pub fn body_matches(headers: &HeaderMap, body: &[u8]) -> bool {
    headers
        .get(BODY)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|h| h == vigil_deliver::sha256_hex(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Instance "a" whose registry holds itself, so it can check its own signatures.
    fn a() -> (tempfile::TempDir, Identity) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.key");
        let public = vigil_deliver::keys::generate(&path).unwrap();
        let identity = Identity {
            key: Arc::new(SigningKey::load(&path).unwrap()),
            peers: vec![Peer {
                name: "a".into(),
                url: "http://a:1".into(),
                key: PublicKey::parse(&public).unwrap(),
            }],
            tls: None,
        };
        (dir, identity)
    }

    fn headers(pairs: &[(&'static str, String)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn a_signed_request_names_its_caller_and_nothing_in_it_can_change() {
        let (_dir, id) = a();
        let path = "/api/alerts/x/ack";
        let signed = sign(
            &id,
            "a",
            &Method::POST,
            path,
            ("guard", Role::Operator),
            b"{}",
        );
        let h = headers(&signed);
        let caller = verify(Some(&id), "a", &Method::POST, path, &h).unwrap();
        assert_eq!(caller, ("guard@a".to_string(), Role::Operator));
        assert!(body_matches(&h, b"{}") && !body_matches(&h, b"{\"comment\":\"x\"}"));
        // Another path, method or sender; a raised role: refused.
        assert!(verify(Some(&id), "a", &Method::POST, "/api/alerts/y/ack", &h).is_err());
        assert!(verify(Some(&id), "a", &Method::GET, path, &h).is_err());
        assert!(verify(Some(&id), "b", &Method::POST, path, &h).is_err());
        let mut raised = headers(&sign(
            &id,
            "a",
            &Method::POST,
            path,
            ("desk", Role::Viewer),
            b"",
        ));
        raised.insert(ROLE, "operator".parse().unwrap());
        assert!(verify(Some(&id), "a", &Method::POST, path, &raised).is_err());
        // Without an identity of its own, an instance takes no forwarded request.
        assert!(verify(None, "a", &Method::POST, path, &h).is_err());
    }

    #[test]
    fn a_signature_older_than_the_window_is_refused() {
        let (_dir, id) = a();
        let sent = (vigil_deliver::now_ms() - WINDOW_MS - 1_000).to_string();
        let body = vigil_deliver::sha256_hex(b"");
        let m = message("a", "GET", "/api/alerts/x", "desk", "viewer", &sent, &body);
        let h = headers(&[
            (ON_BEHALF, "desk".into()),
            (ROLE, "viewer".into()),
            (SENT, sent.clone()),
            (BODY, body),
            (SIGNATURE, id.key.sign_bytes(&m)),
        ]);
        let refused = verify(Some(&id), "a", &Method::GET, "/api/alerts/x", &h);
        assert_eq!(
            refused.unwrap_err(),
            "a forwarded request signed too long ago (or clocks apart)"
        );
    }
}
