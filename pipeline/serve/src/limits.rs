//! What one box serves at once, so no client — slow, greedy or hostile — can stall the API for the
//! others. Each route class has its own cap; a request over its class's cap is answered `503`
//! with `Retry-After` at once (shed, never queued), and the cap is held until its response body
//! is done (a clip being streamed holds its slot to the last byte):
//!
//! | class | routes | at once | also |
//! |---|---|---|---|
//! | api | `/api/*` JSON, `/metrics` | [`API_CONCURRENCY`] | answered within [`API_TIMEOUT`] or `503` |
//! | evidence | clips and snapshots held here | [`EVIDENCE_STREAMS`] | |
//! | forward | another instance's alert, clip or snapshot | [`FORWARDED`] | the peer must answer and send within [`crate::district`]'s limits |
//! | events | `/api/events` (SSE) | [`SSE_CLIENTS`] | |
//!
//! Beneath the classes, the server takes [`CONNECTIONS`] connections at once, reads a request's
//! head within [`HEADER_READ`], and cuts a connection whose peer reads nothing for [`STALL`]
//! ([`crate::stall`]). A shed request counts in `vigil_http_refused_total{class}`.

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::{Frame, SizeHint};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// JSON requests served at once.
pub const API_CONCURRENCY: usize = 64;
/// A JSON request not answered within this is answered `503`.
pub const API_TIMEOUT: Duration = Duration::from_secs(10);
/// Clips and snapshots of this box streamed at once.
pub const EVIDENCE_STREAMS: usize = 64;
/// Requests forwarded to other instances at once.
pub const FORWARDED: usize = 32;
/// Live-event (SSE) clients at once.
pub const SSE_CLIENTS: usize = 64;
/// Connections open at once; more are closed as they arrive.
pub const CONNECTIONS: usize = 1024;
/// A request's head must arrive within this.
pub const HEADER_READ: Duration = Duration::from_secs(10);
/// A connection whose peer takes nothing of what is sent for this long is closed.
pub const STALL: Duration = Duration::from_secs(30);

/// A class of routes with its own cap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    Api,
    Evidence,
    Forward,
    Events,
}

impl Class {
    pub const ALL: [Class; 4] = [Class::Api, Class::Evidence, Class::Forward, Class::Events];

    pub fn name(self) -> &'static str {
        match self {
            Class::Api => "api",
            Class::Evidence => "evidence",
            Class::Forward => "forward",
            Class::Events => "events",
        }
    }

    fn cap(self) -> usize {
        match self {
            Class::Api => API_CONCURRENCY,
            Class::Evidence => EVIDENCE_STREAMS,
            Class::Forward => FORWARDED,
            Class::Events => SSE_CLIENTS,
        }
    }
}

/// The caps of one server, and what they refused.
pub struct Limits {
    slots: [Arc<Semaphore>; 4],
    refused: [AtomicU64; 4],
    /// Connections open now.
    pub connections: Arc<Semaphore>,
    /// Connections closed on arrival because [`CONNECTIONS`] were open.
    pub connections_refused: AtomicU64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            slots: Class::ALL.map(|c| Arc::new(Semaphore::new(c.cap()))),
            refused: Default::default(),
            connections: Arc::new(Semaphore::new(CONNECTIONS)),
            connections_refused: AtomicU64::new(0),
        }
    }
}

impl Limits {
    /// A slot of `class`, or [`Busy`]: the `503` that sheds the request.
    pub fn take(&self, class: Class) -> Result<OwnedSemaphorePermit, Busy> {
        self.slots[class as usize]
            .clone()
            .try_acquire_owned()
            .map_err(|_| {
                self.refused[class as usize].fetch_add(1, Ordering::Relaxed);
                Busy(class)
            })
    }

    /// Slots of `class` in use now.
    pub fn in_use(&self, class: Class) -> usize {
        class.cap() - self.slots[class as usize].available_permits()
    }

    pub fn refused(&self, class: Class) -> u64 {
        self.refused[class as usize].load(Ordering::Relaxed)
    }

    /// Connections open now.
    pub fn open_connections(&self) -> usize {
        CONNECTIONS - self.connections.available_permits()
    }
}

/// A request shed because its class is at its cap.
#[derive(Debug)]
pub struct Busy(pub Class);

impl IntoResponse for Busy {
    fn into_response(self) -> Response {
        busy(self.0)
    }
}

fn busy(class: Class) -> Response {
    let mut response = (
        StatusCode::SERVICE_UNAVAILABLE,
        axum::Json(serde_json::json!({
            "error": format!("busy: too many {} requests at once; try again shortly", class.name())
        })),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    response
}

/// Middleware of the `api` class: a slot, and an answer within [`API_TIMEOUT`].
pub async fn api(State(limits): State<Arc<Limits>>, request: Request, next: Next) -> Response {
    let permit = match limits.take(Class::Api) {
        Ok(p) => p,
        Err(busy) => return busy.into_response(),
    };
    match tokio::time::timeout(API_TIMEOUT, next.run(request)).await {
        Ok(response) => hold(response, permit),
        Err(_) => {
            tracing::warn!("an API request took longer than {API_TIMEOUT:?}: answered 503");
            busy(Class::Api)
        }
    }
}

/// Middleware of the `evidence` class (a clip or snapshot held here or forwarded; the forwarding
/// takes its own slot besides).
pub async fn evidence(State(limits): State<Arc<Limits>>, request: Request, next: Next) -> Response {
    match limits.take(Class::Evidence) {
        Ok(permit) => hold(next.run(request).await, permit),
        Err(busy) => busy.into_response(),
    }
}

/// Middleware of the `events` class.
pub async fn events(State(limits): State<Arc<Limits>>, request: Request, next: Next) -> Response {
    match limits.take(Class::Events) {
        Ok(permit) => hold(next.run(request).await, permit),
        Err(busy) => busy.into_response(),
    }
}

/// `response` with `permit` held until its body is done or dropped.
pub fn hold(response: Response, permit: OwnedSemaphorePermit) -> Response {
    response.map(|body| {
        Body::new(Held {
            body,
            _permit: permit,
        })
    })
}

/// A body that holds a slot for as long as it lives.
struct Held {
    body: Body,
    _permit: OwnedSemaphorePermit,
}

impl http_body::Body for Held {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
