//! Evidence by alert id: the clip (HTTP Range) and snapshots of an alert this instance holds,
//! served from `<out>/evidence` only, or the holder's answer when another instance holds it.

use super::with_store;
use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use serde::Deserialize;
use std::convert::Infallible;
use std::sync::Arc;
use tower::ServiceExt;
use vigil_deliver::access::Action;

#[derive(Deserialize, Default)]
pub(super) struct EvidenceParams {
    /// The clean snapshot (no overlays).
    #[serde(default)]
    clean: bool,
    /// The evidence of the alert's end (long alerts have a second clip).
    #[serde(default)]
    end: bool,
    /// `h264`: a copy browsers without the recorded codec (H.265) play ([`crate::rendition`]).
    #[serde(default)]
    rendition: Option<String>,
}

/// Alert `id`'s evidence, or that of its end; `None` when this instance does not hold it.
async fn evidence_of(
    state: &Arc<AppState>,
    caller: &Caller,
    id: String,
    end: bool,
) -> Result<Option<vigil_core::Evidence>, ApiError> {
    let Some(view) = with_store(state, move |s| s.view(&id)).await? else {
        return Ok(None);
    };
    if !caller.sees(view.alert.camera.as_str()) {
        return Err(ApiError(StatusCode::NOT_FOUND, "no such alert".into()));
    }
    if end {
        view.end_evidence.map(Some).ok_or(ApiError(
            StatusCode::NOT_FOUND,
            "this alert has no end clip".into(),
        ))
    } else {
        Ok(Some(view.alert.evidence))
    }
}

pub(super) async fn clip(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(p): Query<EvidenceParams>,
    request: Request,
) -> Result<Response, ApiError> {
    let Some(evidence) = evidence_of(&state, &caller, id.clone(), p.end).await? else {
        return elsewhere(&state, &caller, &id, "/clip", request).await;
    };
    let clip = evidence.clip.ok_or(ApiError(
        StatusCode::NOT_FOUND,
        "this alert has no clip (yet)".into(),
    ))?;
    let peer = crate::audit::peer_of(request.extensions());
    crate::audit::record(&state, &caller, &peer, Action::Clip, &id).await?;
    match p.rendition.as_deref() {
        None => serve_evidence(&state, &clip.path, "video/mp4", request).await,
        Some("h264") => {
            let recorded = inside(
                &state.out_dir.join("evidence"),
                &state.out_dir.join(&clip.path),
            )
            .await?;
            let renditions = state.renditions.as_ref().ok_or(ApiError(
                StatusCode::NOT_FOUND,
                "this server makes no copies of clips".into(),
            ))?;
            let playable = renditions.playable(recorded.clone(), &clip.sha256).await?;
            let root = match playable == recorded {
                true => state.out_dir.join("evidence"),
                false => renditions.dir().to_path_buf(),
            };
            serve_file(&root, &playable, "video/mp4", request).await
        }
        Some(other) => Err(ApiError(
            StatusCode::BAD_REQUEST,
            format!("rendition \"{other}\": only h264 is made"),
        )),
    }
}

pub(super) async fn snapshot(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(p): Query<EvidenceParams>,
    request: Request,
) -> Result<Response, ApiError> {
    let Some(evidence) = evidence_of(&state, &caller, id.clone(), p.end).await? else {
        return elsewhere(&state, &caller, &id, "/snapshot", request).await;
    };
    let snap = evidence.snapshot.ok_or(ApiError(
        StatusCode::NOT_FOUND,
        "this alert has no snapshot (yet)".into(),
    ))?;
    let path = if p.clean { snap.clean_path } else { snap.path };
    let peer = crate::audit::peer_of(request.extensions());
    crate::audit::record(&state, &caller, &peer, Action::Snapshot, &id).await?;
    serve_evidence(&state, &path, "image/jpeg", request).await
}

/// Another instance's evidence of alert `id` (`what`: `/clip` or `/snapshot`), with the request's
/// query and conditional/range headers.
async fn elsewhere(
    state: &Arc<AppState>,
    caller: &Caller,
    id: &str,
    what: &str,
    request: Request,
) -> Result<Response, ApiError> {
    let tail = match request.uri().query() {
        Some(q) => format!("{what}?{q}"),
        None => what.to_string(),
    };
    crate::district::forward(
        state,
        caller,
        id,
        &tail,
        Method::GET,
        request.headers(),
        None,
    )
    .await
}

/// Serves the evidence file a record names, if it lies inside `<out>/evidence` (HTTP Range and
/// conditional requests handled by tower-http).
async fn serve_evidence(
    state: &Arc<AppState>,
    recorded: &str,
    content_type: &'static str,
    request: Request,
) -> Result<Response, ApiError> {
    let root = state.out_dir.join("evidence");
    serve_file(&root, &state.out_dir.join(recorded), content_type, request).await
}

fn gone() -> ApiError {
    ApiError(
        StatusCode::GONE,
        "the evidence file is no longer there".into(),
    )
}

/// `file`, resolved, when it lies inside `root`.
async fn inside(
    root: &std::path::Path,
    file: &std::path::Path,
) -> Result<std::path::PathBuf, ApiError> {
    let root = tokio::fs::canonicalize(root).await.map_err(|_| gone())?;
    let resolved = tokio::fs::canonicalize(file).await.map_err(|_| gone())?;
    if !resolved.starts_with(&root) {
        tracing::warn!(path = %file.display(), "refused evidence outside the evidence folder");
        return Err(ApiError(StatusCode::FORBIDDEN, "refused".into()));
    }
    Ok(resolved)
}

/// Serves `file` if it lies inside `root` (HTTP Range and conditional requests handled by
/// tower-http).
async fn serve_file(
    root: &std::path::Path,
    file: &std::path::Path,
    content_type: &'static str,
    request: Request,
) -> Result<Response, ApiError> {
    let file = inside(root, file).await?;
    let (parts, _) = request.into_parts();
    let request = Request::from_parts(parts, Body::empty());
    let mut response = tower_http::services::ServeFile::new_with_mime(
        &file,
        &content_type.parse().expect("static mime type"),
    )
    .oneshot(request)
    .await
    .map_err(|_: Infallible| gone())?
    .map(Body::new);
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    Ok(response)
}
