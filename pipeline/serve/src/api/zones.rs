//! The zone editor's routes: a camera's shapes (zones, lines, fill lines, facade and lane ground
//! corners) as its rule files have them, a change to one, and undo.
//!
//! | method | path | role | what |
//! |---|---|---|---|
//! | GET | `/api/cameras/{id}/zones` | viewer | `shapes` (file, kind, name, points) and `files` (name, `version`: the text's sha256, `undo`: a previous version is kept) |
//! | PUT | `/api/cameras/{id}/zones` | operator | `{file, kind, name, points, version}`: the shape redrawn (a new zone added); `409` when the file changed since `version`, `422` with `errors` (file, line, column, message, `at_edit`) when the config would not validate — the file is then untouched |
//! | POST | `/api/cameras/{id}/zones/undo` | operator | `{file}`: the file's previous version put back byte for byte (validated first) |
//!
//! A change is validated as `vigil check` validates the whole config ([`vigil_config::edit`]),
//! recorded in the access chain (`edit_zones`: the file and what changed) before it is written,
//! and written atomically (a temporary file renamed over the old); the version it replaces is
//! kept under `<out>/zone-history/` (the latest [`KEPT`] per file). The pipeline's hot reload
//! puts the new file in force within a second. Edits are made one at a time.

use super::not_yours;
use crate::AppState;
use crate::audit::{Peer, record_event};
use crate::auth::Caller;
use crate::error::ApiError;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::sync::Arc;
use vigil_config::Role;
use vigil_config::edit::{self, Edit, EditError, Files};
use vigil_deliver::access::Action;

/// Previous versions kept per file.
pub const KEPT: usize = 50;

/// Where the rules are, for the zone editor.
#[derive(Clone, Debug)]
pub struct RuleSource {
    /// The config file (it names the rule files).
    pub config: PathBuf,
    /// The assets folder it was loaded with.
    pub assets: Option<PathBuf>,
}

fn source(state: &AppState) -> Result<RuleSource, ApiError> {
    state.rules.clone().ok_or_else(|| {
        ApiError(
            StatusCode::NOT_FOUND,
            "this box has no rule files to edit (the API runs without the pipeline)".into(),
        )
    })
}

fn sha256_hex(text: &str) -> String {
    vigil_core::hex::encode(&Sha256::digest(text.as_bytes()))
}

/// The previous versions of the file at `path`, oldest first.
fn history(state: &AppState, path: &std::path::Path) -> (PathBuf, Vec<PathBuf>) {
    let dir = state
        .out_dir
        .join("zone-history")
        .join(&sha256_hex(&path.to_string_lossy())[..16]);
    let mut kept: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    kept.retain(|p| p.extension().is_some_and(|e| e == "yaml"));
    kept.sort();
    (dir, kept)
}

/// What the page draws: the camera's shapes and the files they may be written to.
fn listing(state: &AppState, files: &Files, camera: &str) -> Result<Value, ApiError> {
    let shapes = edit::shapes(files, camera).map_err(unreadable)?;
    let files: Vec<Value> = files
        .iter()
        .map(|f| {
            json!({
                "file": f.name,
                "version": sha256_hex(&f.text),
                "undo": !history(state, &f.path).1.is_empty(),
            })
        })
        .collect();
    Ok(json!({ "camera": camera, "shapes": shapes, "files": files }))
}

/// [`listing`] of the files as they are now.
fn listing_now(
    state: &AppState,
    config: &std::path::Path,
    camera: &str,
) -> Result<Value, ApiError> {
    let files = Files::read(config).map_err(unreadable)?;
    listing(state, &files, camera)
}

fn unreadable(e: EditError) -> ApiError {
    match e {
        EditError::Unknown(m) => ApiError(StatusCode::BAD_REQUEST, m),
        other => ApiError(StatusCode::INTERNAL_SERVER_ERROR, other.to_string()),
    }
}

fn seen(caller: &Caller, camera: &str) -> Result<(), ApiError> {
    if caller.sees(camera) {
        Ok(())
    } else {
        Err(not_yours())
    }
}

pub(super) async fn list(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    Path(camera): Path<String>,
) -> Result<Json<Value>, ApiError> {
    seen(&caller, &camera)?;
    let src = source(&state)?;
    let st = state.clone();
    blocking(move || listing_now(&st, &src.config, &camera))
        .await
        .map(Json)
}

#[derive(Deserialize)]
pub(super) struct Change {
    #[serde(flatten)]
    edit: Edit,
    /// The file's sha256 the drawing was made on.
    version: String,
}

pub(super) async fn change(
    caller: Caller,
    Peer(peer): Peer,
    State(state): State<Arc<AppState>>,
    Path(camera): Path<String>,
    Json(change): Json<Change>,
) -> Result<Json<Value>, ZoneError> {
    caller.require(Role::Operator).map_err(ApiError::from)?;
    seen(&caller, &camera)?;
    let src = source(&state)?;
    let _one_at_a_time = state.zone_edits.lock().await;
    let (st, cam, config) = (state.clone(), camera.clone(), src.config.clone());
    let Change { edit, version } = change;
    let e = edit.clone();
    let (edited, before) = blocking(move || {
        let files = Files::read(&src.config).map_err(unreadable)?;
        let (file, _) = files.find(&e.file).map_err(unreadable)?;
        if sha256_hex(&file.text) != version {
            return Err(ApiError(
                StatusCode::CONFLICT,
                format!(
                    "{} changed since the drawing began: reload the zones and draw again",
                    e.file
                ),
            )
            .into());
        }
        let edited = edit::apply(&files, src.assets.as_deref(), &cam, &e);
        let edited = edited.map_err(|err| invalid(&st, err))?;
        Ok::<_, ZoneError>((edited, file.text.clone()))
    })
    .await?;
    let what = format!("{}: {:?} {} of {camera}", edit.file, edit.kind, edit.name);
    record_event(&state, &caller, &peer, Action::EditZones, &what).await?;
    let st = state.clone();
    blocking(move || {
        let (dir, kept) = history(&st, &edited.path);
        keep(&dir, &kept, &before)?;
        write_atomically(&edited.path, &edited.after)?;
        tracing::info!(file = %edited.path.display(), change = %what, "zones edited from the page");
        listing_now(&st, &config, &camera)
    })
    .await
    .map(Json)
    .map_err(ZoneError::from)
}

#[derive(Deserialize)]
pub(super) struct Undo {
    file: String,
}

pub(super) async fn undo(
    caller: Caller,
    Peer(peer): Peer,
    State(state): State<Arc<AppState>>,
    Path(camera): Path<String>,
    Json(undo): Json<Undo>,
) -> Result<Json<Value>, ZoneError> {
    caller.require(Role::Operator).map_err(ApiError::from)?;
    seen(&caller, &camera)?;
    let src = source(&state)?;
    let _one_at_a_time = state.zone_edits.lock().await;
    let (st, config) = (state.clone(), src.config.clone());
    let file = undo.file.clone();
    let (path, previous) = blocking(move || {
        let files = Files::read(&src.config).map_err(unreadable)?;
        let path = files.find(&file).map_err(unreadable)?.0.path.clone();
        let (_, kept) = history(&st, &path);
        let previous = kept.last().cloned().ok_or_else(|| {
            ApiError(
                StatusCode::CONFLICT,
                format!("no earlier version of {file} is kept"),
            )
        })?;
        let text = std::fs::read_to_string(&previous).map_err(internal)?;
        edit::validate_with(&files, src.assets.as_deref(), &path, &text).map_err(|errors| {
            let (path, lines) = (path.clone(), (0, 0));
            invalid(
                &st,
                EditError::Invalid {
                    errors,
                    path,
                    lines,
                },
            )
        })?;
        Ok::<_, ZoneError>((path, (previous, text)))
    })
    .await?;
    let what = format!("{}: undo", undo.file);
    record_event(&state, &caller, &peer, Action::EditZones, &what).await?;
    let st = state.clone();
    blocking(move || {
        write_atomically(&path, &previous.1)?;
        std::fs::remove_file(&previous.0).map_err(internal)?;
        tracing::info!(file = %path.display(), "zone edit undone from the page");
        listing_now(&st, &config, &camera)
    })
    .await
    .map(Json)
    .map_err(ZoneError::from)
}

/// A change that cannot be made: `422` with each error, saying which lie in the edited value.
fn invalid(state: &AppState, e: EditError) -> ZoneError {
    let EditError::Invalid {
        errors,
        path,
        lines,
    } = e
    else {
        return unreadable(e).into();
    };
    let base = state
        .rules
        .as_ref()
        .and_then(|r| r.config.parent().map(|p| p.to_path_buf()));
    let list: Vec<Value> = errors
        .0
        .iter()
        .map(|err| {
            let file = base
                .as_deref()
                .and_then(|b| err.file.strip_prefix(b).ok())
                .unwrap_or(&err.file);
            json!({
                "file": file.display().to_string(),
                "line": err.line,
                "column": err.column,
                "message": err.message,
                "at_edit": err.file == path && (lines.0..=lines.1).contains(&err.line),
            })
        })
        .collect();
    let first = errors
        .0
        .first()
        .map_or_else(String::new, |e| e.message.clone());
    ZoneError::Invalid(json!({ "error": format!("not saved: {first}"), "errors": list }))
}

/// An API error, or a change that does not validate (`422` with every error).
pub(super) enum ZoneError {
    Api(ApiError),
    Invalid(Value),
}

impl From<ApiError> for ZoneError {
    fn from(e: ApiError) -> Self {
        Self::Api(e)
    }
}

impl axum::response::IntoResponse for ZoneError {
    fn into_response(self) -> axum::response::Response {
        match self {
            Self::Api(e) => e.into_response(),
            Self::Invalid(body) => (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response(),
        }
    }
}

/// Keeps `before` as the newest previous version, dropping the oldest beyond [`KEPT`].
fn keep(dir: &std::path::Path, kept: &[PathBuf], before: &str) -> Result<(), ApiError> {
    std::fs::create_dir_all(dir).map_err(internal)?;
    let next = kept
        .last()
        .and_then(|p| p.file_stem()?.to_str()?.parse::<u64>().ok())
        .map_or(1, |n| n + 1);
    std::fs::write(dir.join(format!("{next:08}.yaml")), before).map_err(internal)?;
    for old in kept.iter().rev().skip(KEPT - 1) {
        let _ = std::fs::remove_file(old);
    }
    Ok(())
}

/// `text` written to a temporary file beside `path`, then renamed over it.
fn write_atomically(path: &std::path::Path, text: &str) -> Result<(), ApiError> {
    let name = path
        .file_name()
        .map_or_else(Default::default, |n| n.to_string_lossy().into_owned());
    let tmp = path.with_file_name(format!(".{name}.vigil-edit"));
    std::fs::write(&tmp, text).map_err(internal)?;
    if let Ok(meta) = std::fs::metadata(path) {
        let _ = std::fs::set_permissions(&tmp, meta.permissions());
    }
    std::fs::rename(&tmp, path).map_err(internal)
}

fn internal(e: std::io::Error) -> ApiError {
    tracing::error!(error = %e, "zone edit could not be written");
    ApiError(
        StatusCode::INTERNAL_SERVER_ERROR,
        format!("cannot write: {e}"),
    )
}

async fn blocking<T: Send + 'static, E: From<ApiError> + Send + 'static>(
    f: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, E> {
    tokio::task::spawn_blocking(f).await.map_err(|_| {
        E::from(ApiError(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the zone editor failed".into(),
        ))
    })?
}
