//! The API's access to the alert store: one connection behind a lock, used off the async threads.

use crate::AppState;
use crate::error::ApiError;
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
