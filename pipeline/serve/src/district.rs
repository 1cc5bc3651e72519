//! Many instances, one district: when the config has a shared store, this server also answers for
//! the alerts other instances hold. Their list and live events come from the shared store; one
//! alert, its clip and snapshot, and its acknowledgement are forwarded to the instance that holds
//! it — the address it keeps in the shared store — with the caller's own token, so the holder
//! checks the role and records who acknowledged, and its store stays the one truth about the
//! alert. A forwarded request carries [`FORWARDED`] and is answered from the local store only,
//! so requests never go round in circles.

use crate::error::{ApiError, not_found};
use crate::{AppState, LiveEvent};
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use std::io::Read;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use vigil_deliver::shared::{Owner, SharedReader};

/// Marks a request one instance sends another on a caller's behalf; names the sender.
pub const FORWARDED: &str = "x-vigil-forwarded";

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

/// Bytes of one answer passed back at most (a clip is a few MB).
const MAX_BODY: u64 = 1 << 30;

/// Where this server finds the district.
#[derive(Clone, Debug)]
pub struct DistrictConfig {
    pub database: vigil_deliver::shared::Database,
    /// This instance's name in the shared store.
    pub instance: String,
}

/// The shared store, and the client that reaches the other instances.
pub struct District {
    pub(crate) reader: Mutex<SharedReader>,
    pub(crate) instance: String,
    agent: ureq::Agent,
    pub(crate) counters: Arc<DistrictCounters>,
}

/// What the district side did, for `/metrics`.
#[derive(Debug, Default)]
pub struct DistrictCounters {
    /// Requests forwarded to the instance holding the alert that answered (any status).
    pub forwarded: AtomicU64,
    /// Requests for an alert whose holder could not be reached or never said where it is.
    pub unreachable: AtomicU64,
    /// Live events from the shared store passed to the page's clients.
    pub events: AtomicU64,
}

impl District {
    pub fn new(config: &DistrictConfig) -> Result<Self, String> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_connect(Some(Duration::from_secs(3)))
            .timeout_recv_response(Some(Duration::from_secs(15)))
            .timeout_per_read(Some(Duration::from_secs(30)))
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(concat!("vigil/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Ok(Self {
            reader: Mutex::new(SharedReader::new(&config.database)?),
            instance: config.instance.clone(),
            agent,
            counters: Arc::default(),
        })
    }
}

/// Runs `f` on the shared store's reader off the async threads; a failure is a 503.
pub(crate) async fn with_reader<T: Send + 'static>(
    state: &Arc<AppState>,
    f: impl FnOnce(&mut SharedReader) -> Result<T, String> + Send + 'static,
) -> Result<T, ApiError> {
    if state.district.is_none() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "no shared store configured (outputs.postgres)",
        ));
    }
    let state = state.clone();
    tokio::task::spawn_blocking(move || {
        let district = state.district.as_ref().expect("checked above");
        let mut reader = district
            .reader
            .lock()
            .map_err(|_| "shared store lock poisoned".to_string())?;
        f(&mut reader)
    })
    .await
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
    .map_err(|e| {
        tracing::warn!(error = %e, "shared store query failed");
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "shared store unavailable")
    })
}

/// The answer for alert `id` (`tail`: what follows `/api/alerts/{id}`, query included) when this
/// instance does not hold it: the holder's answer, forwarded. 404 when no instance does (or
/// without a shared store, or for a request that was itself forwarded); 502 when the holder
/// cannot be reached.
pub(crate) async fn forward(
    state: &Arc<AppState>,
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
    let owner: Owner = with_reader(state, move |r| r.owner(&key))
        .await?
        .ok_or_else(not_found)?;
    if owner.instance == district.instance {
        // Ours by name but not in our store (the store was replaced): nothing to ask.
        return Err(not_found());
    }
    let unreachable = |why: String| {
        district
            .counters
            .unreachable
            .fetch_add(1, Ordering::Relaxed);
        ApiError::new(StatusCode::BAD_GATEWAY, why)
    };
    let Some(info) = owner.info.as_ref().filter(|i| i.url.is_some()) else {
        return Err(unreachable(format!(
            "alert held by instance {}, which has not said where its API is",
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
    let base = info.url.clone().expect("filtered above");
    let url = format!(
        "{}/api/alerts/{}{tail}",
        base.trim_end_matches('/'),
        encode(id)
    );
    let token = crate::auth::presented(headers).unwrap_or_default();
    let mut request = ureq::http::Request::builder()
        .method(method.as_str())
        .uri(&url)
        .header("authorization", format!("Bearer {token}"))
        .header(FORWARDED, &district.instance);
    for name in REQUEST_HEADERS {
        if let Some(v) = headers.get(name) {
            request = request.header(name, v.as_bytes());
        }
    }
    let agent = district.agent.clone();
    let holder = owner.instance.clone();
    let (head_tx, head_rx) = tokio::sync::oneshot::channel();
    let (body_tx, body_rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    // The holder's answer is read on a blocking thread and streamed on as it comes (a clip is
    // never held whole in memory); the small channel makes a slow viewer slow the reading.
    tokio::task::spawn_blocking(move || {
        let sent = match body {
            Some(body) => request.body(body.to_vec()).map(|r| agent.run(r)),
            None => request.body(()).map(|r| agent.run(r)),
        };
        let response = match sent
            .map_err(|e| e.to_string())
            .and_then(|r| r.map_err(|e| e.to_string()))
        {
            Ok(r) => r,
            Err(e) => {
                let _ = head_tx.send(Err(e));
                return;
            }
        };
        let (parts, body) = response.into_parts();
        if head_tx.send(Ok(parts)).is_err() {
            return;
        }
        let mut reader = body.into_with_config().limit(MAX_BODY).reader();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let chunk = match reader.read(&mut buf) {
                Ok(0) => return,
                Ok(n) => Ok(Bytes::copy_from_slice(&buf[..n])),
                Err(e) => Err(e),
            };
            let failed = chunk.is_err();
            if body_tx.blocking_send(chunk).is_err() || failed {
                return;
            }
        }
    });
    let answered = head_rx
        .await
        .map_err(|_| ApiError::new(StatusCode::BAD_GATEWAY, "forwarding failed"))?;
    let counter = match answered {
        Ok(_) => &district.counters.forwarded,
        Err(_) => &district.counters.unreachable,
    };
    counter.fetch_add(1, Ordering::Relaxed);
    let parts = answered.map_err(|e| {
            tracing::warn!(instance = %holder, %url, error = %e, "cannot reach the instance holding an alert");
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                format!("instance {holder}, which holds this alert, cannot be reached: {e}"),
            )
        })?;
    let mut response = Response::builder().status(parts.status.as_u16());
    for name in RESPONSE_HEADERS {
        if let Some(v) = parts.headers.get(name) {
            response = response.header(name, v.as_bytes());
        }
    }
    response
        .header(
            ANSWERED_BY,
            HeaderValue::from_str(&holder).unwrap_or(HeaderValue::from_static("?")),
        )
        .body(Body::from_stream(
            tokio_stream::wrappers::ReceiverStream::new(body_rx),
        ))
        .map_err(|e| ApiError::new(StatusCode::BAD_GATEWAY, e.to_string()))
}

/// Percent-encodes `s` for one path segment.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Starts passing the shared store's live events to the page's clients (other instances'
/// records and acknowledgements; this instance's own come from its pipeline already).
pub(crate) fn listen(
    config: &DistrictConfig,
    events: crate::Events,
    counters: Arc<DistrictCounters>,
    stop: Arc<AtomicBool>,
) -> Result<std::thread::JoinHandle<()>, String> {
    use vigil_deliver::shared::listen::{DistrictEvent, spawn};
    spawn(&config.database, stop, move |event| {
        counters.events.fetch_add(1, Ordering::Relaxed);
        events.publish(match event {
            DistrictEvent::Record { instance, record } => {
                LiveEvent::DistrictAlert { instance, record }
            }
            DistrictEvent::Ack { id, instance, ack } => {
                LiveEvent::DistrictAck { id, instance, ack }
            }
            DistrictEvent::Resync => LiveEvent::DistrictResync,
        })
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_encoded_as_one_path_segment() {
        assert_eq!(super::encode("cam-1.r_2~x"), "cam-1.r_2~x");
        assert_eq!(super::encode("a/../b c:%"), "a%2F..%2Fb%20c%3A%25");
        assert_eq!(super::encode("门"), "%E9%97%A8");
    }
}
