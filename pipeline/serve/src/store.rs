//! The API's access to its databases — the alert store and the named accounts — each one
//! connection behind a lock, used off the async threads.

use crate::AppState;
use crate::error::ApiError;
use crate::users::{UserError, Users};
use axum::http::StatusCode;
use std::sync::Arc;
use vigil_deliver::AlertStore;

/// Runs `f` on the store off the async threads.
pub(crate) async fn with_store<T: Send + 'static>(
    state: &Arc<AppState>,
    f: impl FnOnce(&mut AlertStore) -> Result<T, vigil_deliver::DeliverError> + Send + 'static,
) -> Result<T, ApiError> {
    let state = state.clone();
    tokio::task::spawn_blocking(move || {
        let mut store = state.store.lock().map_err(|_| {
            ApiError(
                StatusCode::INTERNAL_SERVER_ERROR,
                "store lock poisoned".into(),
            )
        })?;
        f(&mut store).map_err(|e| {
            tracing::error!(error = %e, "store query failed");
            ApiError(
                StatusCode::INTERNAL_SERVER_ERROR,
                "store unavailable".into(),
            )
        })
    })
    .await
    .map_err(|_| {
        ApiError(
            StatusCode::INTERNAL_SERVER_ERROR,
            "store task failed".into(),
        )
    })?
}

/// Runs `f` on the users database off the async threads (500 without one, or on its error).
pub async fn with_users<T: Send + 'static>(
    state: &Arc<AppState>,
    f: impl FnOnce(&mut Users) -> Result<T, UserError> + Send + 'static,
) -> Result<T, ApiError> {
    let state = state.clone();
    let failed = |what: String| {
        tracing::error!(error = %what, "users database");
        ApiError(
            StatusCode::INTERNAL_SERVER_ERROR,
            "users unavailable".into(),
        )
    };
    tokio::task::spawn_blocking(move || {
        let users = state
            .users
            .as_ref()
            .ok_or_else(|| failed("no users database".into()))?;
        let mut users = users.lock().map_err(|_| failed("lock poisoned".into()))?;
        f(&mut users).map_err(|e| failed(e.to_string()))
    })
    .await
    .map_err(|_| failed("task failed".into()))?
}
