//! `GET /api/cameras/{id}/live?after=SEQ&viewer=V`: the camera's next live picture
//! ([`crate::live`]) as JPEG, once there is one newer than `after` — at once when there is,
//! else within [`WAIT`], else `204` (ask again). The picture's number, time, the camera's frame
//! size and its boxes come in headers (`x-vigil-seq`, `x-vigil-time`, `x-vigil-size`,
//! `x-vigil-boxes`: JSON, fractions of the frame). `viewer` names the page instance (each open
//! page is one viewer against `api.live.max_viewers`). Watching is recorded in the access chain
//! (`live`, the camera; once a minute per caller and camera).

use super::not_yours;
use crate::AppState;
use crate::audit::{Peer, record_event};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::live::{LiveBox, Refused};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;
use vigil_deliver::access::Action;

/// How long a request waits for a newer picture.
pub const WAIT: Duration = Duration::from_secs(4);

#[derive(Deserialize)]
pub(super) struct LiveParams {
    #[serde(default)]
    after: u64,
    #[serde(default)]
    viewer: String,
}

pub(super) async fn picture(
    caller: Caller,
    Peer(peer): Peer,
    State(state): State<Arc<AppState>>,
    Path(camera): Path<String>,
    Query(p): Query<LiveParams>,
) -> Result<Response, ApiError> {
    if !caller.sees(&camera) {
        return Err(not_yours());
    }
    let Some(hub) = state.live.clone() else {
        return Err(ApiError(
            StatusCode::NOT_FOUND,
            "this box has no live view (the API runs without the pipeline)".into(),
        ));
    };
    let viewer: String = format!("{}/{}", caller.name, p.viewer)
        .chars()
        .take(128)
        .collect();
    let mut rx = match hub.watch(&camera, &viewer) {
        Ok(rx) => rx,
        Err(Refused::UnknownCamera) => {
            return Err(ApiError(StatusCode::NOT_FOUND, "no such camera".into()));
        }
        Err(Refused::Full(max)) => {
            return Ok((
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::RETRY_AFTER, "5")],
                axum::Json(serde_json::json!({
                    "error": format!("{max} viewers already watch live on this box (api.live.max_viewers)")
                })),
            )
                .into_response());
        }
    };
    record_event(&state, &caller, &peer, Action::Live, &camera).await?;
    let waited = tokio::time::timeout(
        WAIT,
        rx.wait_for(|pic| pic.as_ref().is_some_and(|pic| pic.seq > p.after)),
    )
    .await;
    let picture = match waited {
        Ok(Ok(pic)) => pic.clone(),
        _ => None,
    };
    let Some(picture) = picture else {
        return Ok((
            StatusCode::NO_CONTENT,
            [(header::CACHE_CONTROL, "no-store")],
        )
            .into_response());
    };
    let mut response = (
        [
            (header::CONTENT_TYPE, "image/jpeg"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        axum::body::Body::from(picture.jpeg.clone()),
    )
        .into_response();
    let h = response.headers_mut();
    let mut set = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(HeaderName::from_static(name), v);
        }
    };
    set("x-vigil-seq", picture.seq.to_string());
    set("x-vigil-time", picture.wall_ms.to_string());
    set(
        "x-vigil-size",
        format!("{}x{}", picture.source.width, picture.source.height),
    );
    set("x-vigil-boxes", ascii_json(&picture.boxes));
    Ok(response)
}

/// The boxes as JSON with every character outside ASCII escaped (`\uXXXX`), so it fits a
/// header.
fn ascii_json(boxes: &[LiveBox]) -> String {
    let json = serde_json::to_string(boxes).unwrap_or_else(|_| "[]".into());
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxes_fit_a_header() {
        let b = LiveBox {
            x: 0.5,
            y: 0.25,
            w: 0.1,
            h: 0.2,
            label: "电动车".into(),
            score: 0.5,
        };
        let text = ascii_json(std::slice::from_ref(&b));
        assert!(text.is_ascii());
        let back: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
        assert_eq!(back[0]["label"], "电动车");
        assert!(HeaderValue::from_str(&text).is_ok());
    }
}
