//! Many instances, one district: when the config has a shared store, this server also answers for
//! the alerts other instances hold. Their list and live events come from the shared store; one
//! alert, its clip and snapshot, and its acknowledgement are forwarded to the instance that holds
//! it — at the address the config registers for it, never one read from the shared store — signed
//! by this instance on the caller's behalf ([`crate::peers`]; the caller's token never leaves this
//! instance), so the holder checks the signature and the role, records who acknowledged, and its
//! store stays the one truth about the alert. A forwarded request carries [`FORWARDED`] and is
//! answered from the local store only, so requests never go round in circles. How a request is forwarded, and what an answer must
//! be to be passed back: [`forward`].

mod forward;

use crate::error::ApiError;
use crate::{AppState, LiveEvent};
use axum::http::StatusCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use vigil_deliver::shared::SharedReader;

pub use crate::peers::FORWARDED;
pub use forward::ANSWERED_BY;
pub(crate) use forward::forward;

/// Where this server finds the district.
#[derive(Clone, Debug)]
pub struct DistrictConfig {
    pub database: vigil_deliver::shared::Database,
    /// This instance's name in the shared store.
    pub instance: String,
    /// Its identity key and the registered instances; none: it neither forwards requests nor
    /// takes forwarded ones.
    pub identity: Option<Arc<crate::peers::Identity>>,
}

/// The shared store, and the client that reaches the other instances.
pub struct District {
    pub(crate) reader: Mutex<SharedReader>,
    pub(crate) instance: String,
    pub(crate) identity: Option<Arc<crate::peers::Identity>>,
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
        Ok(Self {
            reader: Mutex::new(SharedReader::new(&config.database)?),
            instance: config.instance.clone(),
            identity: config.identity.clone(),
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

/// Percent-encodes `s` for one path segment.
pub(crate) fn encode_segment(s: &str) -> String {
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

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_encoded_as_one_path_segment() {
        assert_eq!(super::encode_segment("cam-1.r_2~x"), "cam-1.r_2~x");
        assert_eq!(super::encode_segment("a/../b c:%"), "a%2F..%2Fb%20c%3A%25");
        assert_eq!(super::encode_segment("门"), "%E9%97%A8");
    }
}
