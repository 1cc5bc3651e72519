//! The access audit on the API's side: an alert's record, clip or snapshot is served only once
//! its access is in the store's access chain (`vigil_deliver::access`) — who (the caller, or
//! `guard@box-a` through another instance), their role, the peer's address, what and when. If
//! the record cannot be written, nothing is served (500). The same caller fetching the same
//! thing again within [`COALESCE`] is the same access (a `<video>` fetches a clip in many
//! ranges, a page reopens an alert), so it is recorded once.

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::store::with_store;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use vigil_deliver::access::{Accessor, Action};
use vigil_deliver::{AlertStore, DeliverError};

/// Repeats within this long are one access.
pub const COALESCE: Duration = Duration::from_secs(60);

/// At most this many recent accesses are remembered (older ones are forgotten first).
const REMEMBERED: usize = 4096;

/// The peer a request came from, `ip:port` ("" when unknown).
pub struct Peer(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Peer(peer_of(&parts.extensions)))
    }
}

/// The peer address the accept loop put in `extensions`.
pub fn peer_of(extensions: &axum::http::Extensions) -> String {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.to_string())
        .unwrap_or_default()
}

/// Who is accessing, as the access chain records it.
pub fn accessor(caller: &Caller, peer: &str) -> Accessor {
    Accessor {
        who: caller.name.clone(),
        role: caller.role.as_str().to_string(),
        from: peer.to_string(),
    }
}

/// The accesses recorded within [`COALESCE`]: (who, action, alert) → when.
#[derive(Default)]
pub struct Recent(Mutex<HashMap<(String, Action, String), Instant>>);

impl Recent {
    /// Whether this access was recorded within [`COALESCE`]; if not, it counts as recorded
    /// from now (and is forgotten again if recording fails: [`Recent::forget`]).
    fn seen(&self, key: &(String, Action, String)) -> bool {
        let mut recent = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if recent
            .get(key)
            .is_some_and(|at| now.duration_since(*at) < COALESCE)
        {
            return true;
        }
        if recent.len() >= REMEMBERED {
            recent.retain(|_, at| now.duration_since(*at) < COALESCE);
            if recent.len() >= REMEMBERED {
                recent.clear();
            }
        }
        recent.insert(key.clone(), now);
        false
    }

    fn forget(&self, key: &(String, Action, String)) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
    }
}

/// Records `caller`'s `action` on no alert (a live view: `detail` names the camera) before it
/// is served; repeats within [`COALESCE`] are one access.
pub async fn record_event(
    state: &Arc<AppState>,
    caller: &Caller,
    peer: &str,
    action: Action,
    detail: &str,
) -> Result<(), ApiError> {
    coalesced(
        state,
        caller,
        peer,
        action,
        detail,
        AlertStore::record_event,
    )
    .await
}

/// Records `caller`'s `action` on alert `id` (held by this instance) before it is served.
pub async fn record(
    state: &Arc<AppState>,
    caller: &Caller,
    peer: &str,
    action: Action,
    id: &str,
) -> Result<(), ApiError> {
    coalesced(state, caller, peer, action, id, AlertStore::record_access).await
}

/// How an access is appended: [`AlertStore::record_access`] (of an alert) or
/// [`AlertStore::record_event`] (of no alert).
type Append = fn(&mut AlertStore, &Accessor, Action, &str) -> Result<(), DeliverError>;

/// Appends the access of `target` with `append`, unless it was recorded within [`COALESCE`].
async fn coalesced(
    state: &Arc<AppState>,
    caller: &Caller,
    peer: &str,
    action: Action,
    target: &str,
    append: Append,
) -> Result<(), ApiError> {
    let key = (caller.name.clone(), action, target.to_string());
    if state.recent_access.seen(&key) {
        return Ok(());
    }
    let by = accessor(caller, peer);
    let what = target.to_string();
    let written = with_store(state, move |s| append(s, &by, action, &what)).await;
    if written.is_err() {
        state.recent_access.forget(&key);
    }
    written
}
