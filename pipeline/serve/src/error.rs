//! The API's error response (JSON `{"error": …}` with a status), shared by the local routes
//! (`api`) and the forwarding to other instances (`district`). A leaf module.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// A JSON error response.
pub struct ApiError(pub(crate) StatusCode, pub(crate) String);

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self(status, message.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(serde_json::json!({ "error": self.1 }))).into_response()
    }
}

impl From<(StatusCode, &'static str)> for ApiError {
    fn from((s, m): (StatusCode, &'static str)) -> Self {
        Self(s, m.to_string())
    }
}

pub(crate) fn not_found() -> ApiError {
    ApiError(StatusCode::NOT_FOUND, "no such alert".into())
}
