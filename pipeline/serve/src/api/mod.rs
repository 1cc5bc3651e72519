//! Routes.
//!
//! | method | path | role | what |
//! |---|---|---|---|
//! | GET | `/`, `/app.js`, `/live.js`, `/style.css`, `/alarm.wav` | – | the page (`live.js`: the live view and the zone editor) and its alarm sound |
//! | GET | `/healthz` | – | `ok` |
//! | POST / GET / DELETE | `/api/session` | – / viewer / – | start (token in the body → cookie), who am I (and the alarm's `min_severity`), end |
//! | GET | `/api/alerts` | viewer | list: `camera`, `kind`, `since`, `until` (RFC 3339), `acknowledged`, `handling`, `before` (cursor), `limit` |
//! | GET | `/api/alerts/{id}` | viewer | one alert with its lifecycle records and handling steps |
//! | POST | `/api/alerts/{id}/ack` | operator | acknowledge, `{"comment": "…"}` |
//! | POST | `/api/alerts/{id}/handling` | operator | one handling step (`take`, `assign`, `comment`, `done`, `false_alarm`, `reopen`: [`handling`]) |
//! | GET | `/api/report` | viewer | the handling report, CSV or XLSX: `since`, `until` (days), `period`, `format` |
//! | GET | `/api/alerts/{id}/clip` | viewer | the MP4 (Range requests); `?end=true`: the clip of a long alert's end |
//! | GET | `/api/alerts/{id}/snapshot` | viewer | the annotated JPEG (`?clean=true`: without overlays; `?end=true`: at the end) |
//! | GET | `/api/cameras` | viewer | each camera's latest status (and `display_name`, where set) |
//! | GET | `/api/cameras/{id}/live` | viewer | the camera's next live picture (JPEG, its boxes in headers): `after` (the last picture's `x-vigil-seq`), `viewer` ([`live`]) |
//! | GET, PUT | `/api/cameras/{id}/zones` | viewer, operator | the camera's zones, lines, fill lines, facade corners and lane ground corners; a change to one ([`zones`]) |
//! | POST | `/api/cameras/{id}/zones/undo` | operator | a rule file's previous version back ([`zones`]) |
//! | GET | `/api/district/alerts` | viewer | every instance's alerts from the shared store, newest first: the filters, cursor and limit of `/api/alerts`; 404 without one |
//! | GET | `/api/district/instances` | viewer | the instances writing to the shared store: address, shard, cameras, online |
//! | GET | `/api/events` | viewer | SSE: `alert`, `ack`, `handling`, `camera`, `resync`; with a shared store also `district_alert`, `district_ack`, `district_resync` |
//! | GET | `/metrics` | viewer | Prometheus text |
//!
//! With a shared store, `/api/alerts/{id}` and what lies under it answer for other instances'
//! alerts too, by forwarding the request to the instance that holds the alert
//! ([`crate::district`]).
//!
//! Evidence is found by alert id only: the id selects a record in the store, the record names
//! the file, and the file must resolve inside `<out>/evidence` — nothing in the request becomes a
//! path.

use crate::audit::Peer;
use crate::auth::Caller;
pub use crate::error::ApiError;
pub(crate) use crate::store::with_store;
use crate::{AppState, LiveEvent};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::from_fn_with_state;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use vigil_config::Role;
use vigil_core::{AlertKind, CameraId};
use vigil_deliver::AlertQuery;
use vigil_deliver::access::{AccessQuery, Action};

mod evidence;
mod handling;
mod live;
pub mod zones;

use evidence::{clip, snapshot};

const INDEX_HTML: &str = include_str!("../page/index.html");
const APP_JS: &str = include_str!("../page/app.js");
const LIVE_JS: &str = include_str!("../page/live.js");
const STYLE_CSS: &str = include_str!("../page/style.css");

/// Every route, each API route under its class's limits ([`crate::limits`]).
pub fn routes(state: Arc<AppState>) -> Router {
    let limits = state.limits.clone();
    let json = Router::new()
        .route(
            "/api/session",
            post(crate::session::start)
                .get(crate::session::whoami)
                .delete(crate::session::end),
        )
        .route("/api/alerts", get(list_alerts))
        .route("/api/alerts/{id}", get(one_alert))
        .route("/api/alerts/{id}/ack", post(acknowledge))
        .route("/api/alerts/{id}/access", get(access_history))
        .route("/api/alerts/{id}/handling", post(handling::handle))
        .route("/api/report", get(handling::report))
        .route("/api/cameras", get(cameras))
        .route(
            "/api/cameras/{id}/zones",
            get(zones::list).put(zones::change),
        )
        .route("/api/cameras/{id}/zones/undo", post(zones::undo))
        .route("/api/district/alerts", get(district_alerts))
        .route("/api/district/instances", get(district_instances))
        .route("/metrics", get(metrics))
        .route_layer(from_fn_with_state(limits.clone(), crate::limits::api));
    let evidence = Router::new()
        .route("/api/alerts/{id}/clip", get(clip))
        .route("/api/alerts/{id}/snapshot", get(snapshot))
        .route("/api/cameras/{id}/live", get(live::picture))
        .route_layer(from_fn_with_state(limits.clone(), crate::limits::evidence));
    let events = Router::new()
        .route("/api/events", get(events))
        .route_layer(from_fn_with_state(limits, crate::limits::events));
    page_routes()
        .merge(json)
        .merge(evidence)
        .merge(events)
        .with_state(state)
}

/// The page and the health check: static, unlimited.
fn page_routes() -> Router<Arc<AppState>> {
    Router::new()
        .route(
            "/",
            get(|| async { page(INDEX_HTML, "text/html; charset=utf-8") }),
        )
        .route(
            "/app.js",
            get(|| async { page(APP_JS, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/live.js",
            get(|| async { page(LIVE_JS, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/style.css",
            get(|| async { page(STYLE_CSS, "text/css; charset=utf-8") }),
        )
        .route("/alarm.wav", get(crate::alarm::sound))
        .route("/healthz", get(|| async { "ok" }))
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
}

fn page(body: &'static str, content_type: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

#[derive(Deserialize, Default)]
struct ListParams {
    camera: Option<String>,
    kind: Option<String>,
    since: Option<String>,
    until: Option<String>,
    acknowledged: Option<bool>,
    before: Option<i64>,
    limit: Option<usize>,
    handling: Option<String>,
}

/// The `kind` parameter: none when empty, 400 when unknown.
fn kind_param(kind: Option<String>) -> Result<Option<AlertKind>, ApiError> {
    match kind.as_deref().filter(|k| !k.is_empty()) {
        Some(k) => AlertKind::parse(k)
            .map(Some)
            .ok_or_else(|| ApiError(StatusCode::BAD_REQUEST, format!("unknown kind \"{k}\""))),
        None => Ok(None),
    }
}

/// RFC 3339 in, the store's form out (`2026-11-28T12:00:00.000Z`, UTC), so strings compare.
fn wall_time(field: &str, value: &str) -> Result<String, ApiError> {
    chrono::DateTime::parse_from_rfc3339(value)
        .map(|t| {
            t.with_timezone(&chrono::Utc)
                .format("%Y-%m-%dT%H:%M:%S%.3fZ")
                .to_string()
        })
        .map_err(|e| {
            ApiError(
                StatusCode::BAD_REQUEST,
                format!("{field}: expected RFC 3339 time like 2026-11-28T12:00:00Z ({e})"),
            )
        })
}

impl ListParams {
    /// The query these parameters ask for (the local and the district list take the same).
    /// The query, kept to the cameras `caller` may see.
    fn query(self, caller: &Caller) -> Result<AlertQuery, ApiError> {
        Ok(AlertQuery {
            cameras: caller.scope(),
            camera: self.camera.filter(|c| !c.is_empty()).map(CameraId::new),
            kind: kind_param(self.kind)?,
            since: self.since.map(|s| wall_time("since", &s)).transpose()?,
            until: self.until.map(|s| wall_time("until", &s)).transpose()?,
            acknowledged: self.acknowledged,
            before: self.before,
            limit: self.limit.unwrap_or(50).clamp(1, 500),
            handling: match self.handling.filter(|h| !h.is_empty()) {
                Some(h) if vigil_deliver::handling::FILTERS.contains(&h.as_str()) => Some(h),
                Some(h) => {
                    return Err(ApiError(
                        StatusCode::BAD_REQUEST,
                        format!(
                            "handling \"{h}\" is none of pending, in_progress, done, false_alarm"
                        ),
                    ));
                }
                None => None,
            },
        })
    }
}

async fn list_alerts(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    Query(p): Query<ListParams>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let q = p.query(&caller)?;
    let limit = q.limit;
    let alerts = with_store(&state, move |s| s.list(&q)).await?;
    Ok(page_of(alerts, limit, |a| a.seq))
}

/// One page of a newest-first list, with the cursor of the next when the page is full.
fn page_of<T: serde::Serialize>(
    alerts: Vec<T>,
    limit: usize,
    seq: impl Fn(&T) -> i64,
) -> Json<serde_json::Value> {
    let next = (alerts.len() == limit)
        .then(|| alerts.last().map(seq))
        .flatten();
    Json(serde_json::json!({ "alerts": alerts, "next_before": next }))
}

/// The alerts of every instance writing to the shared store, newest first.
async fn district_alerts(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    Query(p): Query<ListParams>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let q = p.query(&caller)?;
    if q.handling.is_some() {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            "handling is kept by each box: filter one box's alerts by it".into(),
        ));
    }
    let limit = q.limit;
    let alerts = crate::district::with_reader(&state, move |r| r.recent(&q)).await?;
    Ok(page_of(alerts, limit, |a| a.view.seq))
}

/// The instances writing to the shared store.
async fn district_instances(
    _: Caller,
    State(state): State<Arc<AppState>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let instances = crate::district::with_reader(&state, |r| r.instances()).await?;
    Ok(Json(serde_json::json!({ "instances": instances })))
}

async fn one_alert(
    caller: Caller,
    Peer(peer): Peer,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let key = id.clone();
    let found = with_store(&state, move |s| {
        let Some(view) = s.view(&key)? else {
            return Ok(None);
        };
        let steps = handling::steps_of(s, &key)?;
        Ok(Some((view, s.records_of(&key)?, steps)))
    })
    .await?;
    match found {
        Some((view, ..)) if !caller.sees(view.alert.camera.as_str()) => Err(not_yours()),
        Some((view, records, steps)) => {
            crate::audit::record(&state, &caller, &peer, Action::View, &id).await?;
            Ok(
                Json(serde_json::json!({ "alert": view, "records": records, "steps": steps }))
                    .into_response(),
            )
        }
        None => {
            crate::district::forward(&state, &caller, &id, "", Method::GET, &headers, None).await
        }
    }
}

#[derive(Deserialize, Default)]
struct AckRequest {
    #[serde(default)]
    comment: String,
}

async fn acknowledge(
    caller: Caller,
    Peer(peer): Peer,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    caller.require(Role::Operator)?;
    if headers.contains_key(crate::peers::FORWARDED) && !crate::peers::body_matches(&headers, &body)
    {
        return Err(ApiError(
            StatusCode::UNAUTHORIZED,
            "the body is not the one the forwarding instance signed".into(),
        ));
    }
    let request: AckRequest = if body.is_empty() {
        AckRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError(
                StatusCode::BAD_REQUEST,
                format!("expected {{\"comment\": \"…\"}}: {e}"),
            )
        })?
    };
    let comment = request.comment;
    if comment.chars().count() > 2000 {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            "comment is longer than 2000 characters".into(),
        ));
    }
    let by = crate::audit::accessor(&caller, &peer);
    let key = id.clone();
    let scope = caller.clone();
    let acked = with_store(&state, move |s| match s.get(&key)? {
        Some(a) if !scope.sees(a.camera.as_str()) => Ok(Err(not_yours())),
        Some(_) => Ok(Ok(s.acknowledge_as(&key, &by, &comment)?)),
        None => Ok(Ok(None)),
    })
    .await??;
    let Some(ack) = acked else {
        return crate::district::forward(
            &state,
            &caller,
            &id,
            "/ack",
            Method::POST,
            &headers,
            Some(body),
        )
        .await;
    };
    tracing::info!(alert = %id, by = %ack.by, "alert acknowledged");
    state.events.publish(LiveEvent::Ack {
        id: id.clone(),
        ack: ack.clone(),
    });
    Ok(Json(serde_json::json!({ "id": id, "ack": ack })).into_response())
}

/// Who opened, played or acknowledged alert `id`, oldest first (admins, who see every camera;
/// forwarded to the instance that holds it).
async fn access_history(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    caller.require(Role::Admin)?;
    let key = id.clone();
    let found = with_store(&state, move |s| {
        if s.get(&key)?.is_none() {
            return Ok(None);
        }
        let q = AccessQuery {
            alert_id: Some(key),
            who: None,
            limit: 1000,
        };
        Ok(Some(s.accesses(&q)?))
    })
    .await?;
    match found {
        Some(accesses) => {
            Ok(Json(serde_json::json!({ "id": id, "access": accesses })).into_response())
        }
        None => {
            crate::district::forward(&state, &caller, &id, "/access", Method::GET, &headers, None)
                .await
        }
    }
}

async fn cameras(
    caller: Caller,
    State(state): State<Arc<AppState>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    // Each camera's status and, for a camera with a main stream, that stream's beside it: one
    // trip to the store.
    let (statuses, records) = with_store(&state, |s| {
        Ok((s.camera_status()?, s.stream_status(vigil_deliver::RECORD)?))
    })
    .await?;
    let list: Vec<serde_json::Value> = state
        .cameras
        .iter()
        .filter(|c| caller.sees(c))
        .map(|c| {
            let mut entry = match statuses.iter().find(|s| &s.camera == c) {
                Some(s) => serde_json::to_value(s).unwrap_or_default(),
                None => serde_json::json!({ "camera": c, "online": null, "at_ms": null, "detail": "no status yet" }),
            };
            if let (Some(name), Some(o)) = (state.names.camera(c), entry.as_object_mut()) {
                o.insert("display_name".into(), name.into());
            }
            if let (Some(r), Some(o)) = (
                records.iter().find(|s| &s.camera == c),
                entry.as_object_mut(),
            ) {
                o.insert("record".into(), serde_json::to_value(r).unwrap_or_default());
            }
            entry
        })
        .collect();
    Ok(Json(serde_json::json!({ "cameras": list })))
}

async fn events(
    caller: Caller,
    State(state): State<Arc<AppState>>,
) -> Sse<impl futures_core::Stream<Item = Result<Event, Infallible>>> {
    let mut rx = state.events.subscribe();
    let stream = async_stream(move |tx| async move {
        loop {
            let event = match rx.recv().await {
                Ok(ev) if !visible(&caller, &ev) => continue,
                Ok(ev) => Event::default()
                    .event(ev.name())
                    .json_data(&ev)
                    .unwrap_or_else(|_| Event::default().event("resync").data("{}")),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    tracing::debug!(missed = n, "SSE client fell behind; asking it to resync");
                    Event::default()
                        .event("resync")
                        .data(format!("{{\"missed\":{n}}}"))
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            };
            if tx.send(Ok(event)).await.is_err() {
                return;
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

/// Whether `caller` may see live event `ev`: alerts and camera states of its cameras; a
/// caller kept to some cameras gets no acknowledgements (they do not name the camera).
fn visible(caller: &Caller, ev: &LiveEvent) -> bool {
    match ev {
        LiveEvent::Alert { record } | LiveEvent::DistrictAlert { record, .. } => {
            caller.sees(record.camera.as_str())
        }
        LiveEvent::Camera { status } => caller.sees(&status.camera),
        LiveEvent::Handling { camera, .. } => caller.sees(camera),
        LiveEvent::Ack { .. } | LiveEvent::DistrictAck { .. } => caller.scope().is_none(),
        LiveEvent::DistrictResync => true,
    }
}

/// The answer for an alert the caller may not see: as if it did not exist.
fn not_yours() -> ApiError {
    ApiError(StatusCode::NOT_FOUND, "no such alert".into())
}

/// A stream fed by an async task through a small bounded channel (back-pressure: the task waits
/// for the client; the broadcast behind it drops for it and says `resync`).
fn async_stream<T: Send + 'static, F>(
    body: impl FnOnce(tokio::sync::mpsc::Sender<T>) -> F,
) -> tokio_stream::wrappers::ReceiverStream<T>
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    tokio::spawn(body(tx));
    tokio_stream::wrappers::ReceiverStream::new(rx)
}

async fn metrics(caller: Caller, State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    if caller.scope().is_some() {
        // Counted per camera, every camera.
        return Err(ApiError(
            StatusCode::FORBIDDEN,
            "metrics name every camera: not for an account kept to some".into(),
        ));
    }
    let (counts, depths) =
        with_store(&state, |s| Ok((s.alert_counts()?, s.outbox_depths()?))).await?;
    let mut out = String::new();
    crate::prom::store_metrics(&mut out, &counts, &depths, vigil_deliver::now_ms());
    crate::prom::family(
        &mut out,
        "vigil_sse_clients",
        "Connected live-event clients.",
        "gauge",
    );
    crate::prom::sample(
        &mut out,
        "vigil_sse_clients",
        &[],
        state.events.clients() as f64,
    );
    crate::prom::http_limits(&mut out, &state.limits);
    if let Some(d) = &state.district {
        crate::prom::counters(
            &mut out,
            &[
                (
                    "vigil_district_forwarded_total",
                    "Requests for another instance's alert answered by that instance.",
                    &d.counters.forwarded,
                ),
                (
                    "vigil_district_unreachable_total",
                    "Requests for another instance's alert that could not reach it.",
                    &d.counters.unreachable,
                ),
                (
                    "vigil_district_events_total",
                    "Live events from the shared store passed to the page's clients.",
                    &d.counters.events,
                ),
            ],
        );
    }
    if let Some(live) = &state.live {
        crate::prom::live(&mut out, live);
    }
    (state.metrics)(&mut out);
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response())
}
