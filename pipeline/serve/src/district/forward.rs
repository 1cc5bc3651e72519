//! Forwarding a request for another instance's alert to the instance that holds it — at its
//! registered address, signed by this instance on the caller's behalf ([`crate::peers`]), never with
//! the caller's token — and passing its answer back.
//!
//! The client is async (hyper, one connection per request): a forwarded clip that a slow viewer
//! reads slowly holds a socket and a [`Class::Forward`] slot, never a thread. Each step has a
//! limit — the connection within [`CONNECT`], the answer's head within [`ANSWER`], then the
//! holder must keep sending and the viewer keep reading ([`PEER_STALL`], [`crate::limits::STALL`])
//! — and an answer is passed back only if it is what the API serves: JSON, an MP4 clip or a JPEG
//! snapshot, at most [`MAX_BODY`] bytes, with only the headers in [`RESPONSE_HEADERS`].

use super::encode_segment;
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, not_found};
use crate::limits::{Class, hold};
use crate::peers::{self, FORWARDED};
use crate::stall::Stall;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use http_body_util::{Full, Limited};
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use vigil_deliver::shared::Owner;

/// Names the instance that answered a forwarded request.
pub const ANSWERED_BY: &str = "x-vigil-instance";

/// Headers a forwarded request takes along (the token is sent as `Authorization` whether it
/// came in a header or the page's cookie).
const REQUEST_HEADERS: [&str; 5] = [
    "range",
    "if-range",
    "if-none-match",
    "if-modified-since",
    "content-type",
];

/// Headers of the holder's answer passed back.
const RESPONSE_HEADERS: [&str; 7] = [
    "content-type",
    "content-length",
    "content-range",
    "accept-ranges",
    "etag",
    "last-modified",
    "cache-control",
];

/// The content types an answer may have: what the API itself serves.
const CONTENT_TYPES: [&str; 3] = ["application/json", "video/mp4", "image/jpeg"];

/// Bytes of one answer passed back at most (a clip is a few MB).
const MAX_BODY: usize = 1 << 30;

/// The holder must accept the connection within this.
const CONNECT: Duration = Duration::from_secs(3);
/// … and send its answer's head within this.
const ANSWER: Duration = Duration::from_secs(15);
/// … and then never go this long without sending (or taking) anything.
const PEER_STALL: Duration = Duration::from_secs(30);

/// The answer for alert `id` (`tail`: what follows `/api/alerts/{id}`, query included) when this
/// instance does not hold it: the holder's answer, forwarded. 404 when no instance does (or
/// without a shared store, or for a request that was itself forwarded); 502 when the holder
/// cannot be reached or answers with something the API does not serve; 503 when
/// [`crate::limits::FORWARDED`] requests are being forwarded already.
pub(crate) async fn forward(
    state: &Arc<AppState>,
    caller: &Caller,
    id: &str,
    tail: &str,
    method: Method,
    headers: &HeaderMap,
    body: Option<Bytes>,
) -> Result<Response, ApiError> {
    let Some(district) = &state.district else {
        return Err(not_found());
    };
    if headers.contains_key(FORWARDED) {
        return Err(not_found());
    }
    let key = id.to_string();
    let owner: Owner = super::with_reader(state, move |r| r.owner(&key))
        .await?
        .ok_or_else(not_found)?;
    if !caller.sees(&owner.camera) {
        return Err(not_found());
    }
    if owner.instance == district.instance {
        // Ours by name but not in our store (the store was replaced): nothing to ask.
        return Err(not_found());
    }
    let unreachable = |why: String| {
        district
            .counters
            .unreachable
            .fetch_add(1, Ordering::Relaxed);
        tracing::warn!(instance = %owner.instance, alert = %id, "{why}");
        ApiError::new(StatusCode::BAD_GATEWAY, why)
    };
    let Some(identity) = district.identity.as_deref() else {
        return Err(unreachable(format!(
            "alert held by instance {}; this instance has no identity_key, so it forwards nothing",
            owner.instance
        )));
    };
    let Some(peer) = identity.peer(&owner.instance) else {
        return Err(unreachable(format!(
            "alert held by instance {}, which is not registered (outputs.postgres.instances): not forwarded",
            owner.instance
        )));
    };
    let Some(info) = owner.info.as_ref() else {
        return Err(unreachable(format!(
            "alert held by instance {}, which has never said it is up",
            owner.instance
        )));
    };
    // Not tried when it is known to be gone: the answer is at once, and the caller's token is
    // only ever sent to an instance that is up and says it is.
    if !info.online {
        let since = info.stopped_ms.unwrap_or(info.seen_ms);
        let at = chrono::DateTime::from_timestamp_millis(since)
            .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
            .unwrap_or_default();
        return Err(unreachable(format!(
            "alert held by instance {}, which is offline (since {at})",
            owner.instance
        )));
    }
    // The registered address; the one in the shared store is not trusted.
    let base = peer.url.as_str();
    let Some(target) = parse_base(base) else {
        return Err(unreachable(format!(
            "instance {} gives its address as \"{base}\", not http[s]://host:port",
            owner.instance
        )));
    };
    let slot = match state.limits.take(Class::Forward) {
        Ok(slot) => slot,
        Err(busy) => return Ok(busy.into_response()),
    };
    let path = format!("{}/api/alerts/{}{tail}", target.prefix, encode_segment(id));
    let body = body.unwrap_or_default();
    let mut request = axum::http::Request::builder()
        .method(method.clone())
        .uri(&path)
        .header(header::HOST, &target.authority)
        .header(
            header::USER_AGENT,
            concat!("vigil/", env!("CARGO_PKG_VERSION")),
        )
        .header(FORWARDED, &district.instance);
    let on_behalf = (caller.name.as_str(), caller.role);
    let signed = peers::sign(
        identity,
        &district.instance,
        &method,
        &path,
        on_behalf,
        &body,
    );
    for (name, value) in signed {
        request = request.header(name, value);
    }
    for name in REQUEST_HEADERS {
        if let Some(v) = headers.get(name) {
            request = request.header(name, v);
        }
    }
    let request = request
        .body(Full::new(body))
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.to_string()))?;
    let answer = match send(&target, identity.tls.as_ref(), request).await {
        Ok(a) => a,
        Err(e) => {
            return Err(unreachable(format!(
                "instance {}, which holds this alert, cannot be reached: {e}",
                owner.instance
            )));
        }
    };
    if let Err(e) = acceptable(&answer) {
        return Err(unreachable(format!(
            "instance {}, which holds this alert, answered with {e}: not passed on",
            owner.instance
        )));
    }
    district.counters.forwarded.fetch_add(1, Ordering::Relaxed);
    let (parts, incoming) = answer.into_parts();
    let mut response = Response::builder().status(parts.status.as_u16());
    for name in RESPONSE_HEADERS {
        if let Some(v) = parts.headers.get(name) {
            response = response.header(name, v);
        }
    }
    let response = response
        .header(
            ANSWERED_BY,
            HeaderValue::from_str(&owner.instance).unwrap_or(HeaderValue::from_static("?")),
        )
        .body(Body::new(Limited::new(incoming, MAX_BODY)))
        .map_err(|e| ApiError::new(StatusCode::BAD_GATEWAY, e.to_string()))?;
    Ok(hold(response, slot))
}

/// Where a registered instance's API is.
#[derive(Debug, PartialEq, Eq)]
struct Base {
    /// `https://`: spoken over TLS, its certificate checked against the district's CA.
    tls: bool,
    /// `host:port`.
    authority: String,
    host: String,
    /// The path prefix, without its trailing slash.
    prefix: String,
}

/// `http[s]://host[:port][/prefix]`, nothing else (no credentials, no query).
fn parse_base(base: &str) -> Option<Base> {
    let uri: Uri = base.parse().ok()?;
    let tls = match uri.scheme_str() {
        Some("http") => false,
        Some("https") => true,
        _ => return None,
    };
    if uri.query().is_some() || uri.authority()?.as_str().contains('@') {
        return None;
    }
    let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
    let host = uri.host()?.trim_start_matches('[').trim_end_matches(']');
    Some(Base {
        tls,
        authority: format!("{}:{port}", uri.host()?),
        host: host.to_string(),
        prefix: uri.path().trim_end_matches('/').to_string(),
    })
}

/// Sends `request` to `base` on a connection of its own, within [`CONNECT`] (TLS handshake
/// included) and [`ANSWER`].
async fn send(
    base: &Base,
    tls: Option<&Arc<rustls::ClientConfig>>,
    request: axum::http::Request<Full<Bytes>>,
) -> Result<hyper::Response<hyper::body::Incoming>, String> {
    let connect = async {
        let tcp = tokio::net::TcpStream::connect(&base.authority)
            .await
            .map_err(|e| e.to_string())?;
        let _ = tcp.set_nodelay(true);
        if !base.tls {
            return Ok(Either::Left(tcp));
        }
        let config = tls.ok_or("an https:// instance, and no instances_ca_file to check it")?;
        let connector = tokio_rustls::TlsConnector::from(config.clone());
        let name = rustls::pki_types::ServerName::try_from(base.host.clone())
            .map_err(|e| e.to_string())?;
        let stream = connector
            .connect(name, tcp)
            .await
            .map_err(|e| format!("TLS: {e}"))?;
        Ok::<_, String>(Either::Right(stream))
    };
    let stream = tokio::time::timeout(CONNECT, connect)
        .await
        .map_err(|_| format!("no connection within {} s", CONNECT.as_secs()))??;
    match stream {
        Either::Left(tcp) => exchange(tcp, request).await,
        Either::Right(tls) => exchange(tls, request).await,
    }
}

/// One request and its answer's head over `stream`, within [`ANSWER`].
async fn exchange<S>(
    stream: S,
    request: axum::http::Request<Full<Bytes>>,
) -> Result<hyper::Response<hyper::body::Incoming>, String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let io = TokioIo::new(Stall::both(stream, PEER_STALL));
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!(error = %e, "forwarding connection ended with an error");
        }
    });
    tokio::time::timeout(ANSWER, sender.send_request(request))
        .await
        .map_err(|_| format!("no answer within {} s", ANSWER.as_secs()))?
        .map_err(|e| e.to_string())
}

/// A plain or a TLS connection.
enum Either<A, B> {
    Left(A),
    Right(B),
}

/// Whether an answer may be passed back: one of [`CONTENT_TYPES`], or no body at all (`304`,
/// `204`).
fn acceptable(answer: &hyper::Response<hyper::body::Incoming>) -> Result<(), String> {
    let status = answer.status();
    if status == StatusCode::NOT_MODIFIED || status == StatusCode::NO_CONTENT {
        return Ok(());
    }
    let content_type = answer
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if CONTENT_TYPES.contains(&essence.as_str()) {
        Ok(())
    } else {
        Err(format!("content type \"{content_type}\""))
    }
}

#[cfg(test)]
mod tests {
    use super::{Base, parse_base};

    #[test]
    fn only_http_and_https_bases_without_credentials_are_taken() {
        let base = |tls, authority: &str, host: &str, prefix: &str| Base {
            tls,
            authority: authority.into(),
            host: host.into(),
            prefix: prefix.into(),
        };
        assert_eq!(
            parse_base("http://10.0.0.5:8080"),
            Some(base(false, "10.0.0.5:8080", "10.0.0.5", ""))
        );
        assert_eq!(
            parse_base("http://vigil-b/prefix/"),
            Some(base(false, "vigil-b:80", "vigil-b", "/prefix"))
        );
        assert_eq!(
            parse_base("https://vigil-b.vigil:8080"),
            Some(base(true, "vigil-b.vigil:8080", "vigil-b.vigil", ""))
        );
        assert_eq!(
            parse_base("https://[::1]"),
            Some(base(true, "[::1]:443", "::1", ""))
        );
        for bad in [
            "file:///etc/passwd",
            "gopher://x:70",
            "http://user:pw@x:80",
            "https://user@x",
            "http://x:80/?q=1",
            "not a url",
            "",
        ] {
            assert_eq!(parse_base(bad), None, "{bad}");
        }
    }
}
