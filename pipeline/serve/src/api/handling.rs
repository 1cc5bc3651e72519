//! Handling alerts and the handling report:
//!
//! - `POST /api/alerts/{id}/handling` (operator): one step — `{"step": "take"}`,
//!   `{"step": "assign", "to": "王师傅"}`, `{"step": "comment", "text": "…"}`,
//!   `{"step": "done", "text": "…"}`, `{"step": "false_alarm", "reason": "…"}`,
//!   `{"step": "reopen"}` ([`vigil_deliver::handling`]). `409` with the reason when the step does
//!   not fit where the alert stands. Live event `handling`.
//! - `GET /api/report?since=2026-12-01&until=2026-12-31&period=day|month&format=csv|xlsx`
//!   (viewer): per period, camera and kind, the counts and median minutes to acknowledge and to
//!   handle; each download is an `export` record in the access chain.

use super::not_yours;
use crate::audit::{Peer, accessor};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::store::with_store;
use crate::{AppState, LiveEvent};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::sync::Arc;
use vigil_config::Role;
use vigil_deliver::AlertStore;
use vigil_deliver::access::{AccessQuery, Action};
use vigil_deliver::handling::Step;
use vigil_deliver::report::{HEADERS, Period};

pub(super) async fn handle(
    caller: Caller,
    Peer(peer): Peer,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    caller.require(Role::Operator)?;
    let step: Step = serde_json::from_slice(&body).map_err(|e| {
        ApiError(
            StatusCode::BAD_REQUEST,
            format!(
                "expected {{\"step\": \"take\" | \"assign\" (to) | \"comment\" (text) | \"done\" (text) | \"false_alarm\" (reason) | \"reopen\"}}: {e}"
            ),
        )
    })?;
    let by = accessor(&caller, &peer);
    let (key, scope) = (id.clone(), caller.clone());
    let taken = with_store(&state, move |s| match s.get(&key)? {
        Some(a) if !scope.sees(a.camera.as_str()) => Ok(None),
        Some(a) => Ok(s
            .handle_as(&key, &by, &step)?
            .map(|taken| (a.camera.to_string(), taken))),
        None => Ok(None),
    })
    .await?;
    let (camera, (handling, ack)) = match taken {
        None => return Err(not_yours()),
        Some((_, Err(why))) => return Err(ApiError(StatusCode::CONFLICT, why)),
        Some((camera, Ok(done))) => (camera, done),
    };
    tracing::info!(alert = %id, by = %caller.name, state = handling.state.as_str(), "alert handled");
    if let Some(ack) = &ack {
        state.events.publish(LiveEvent::Ack {
            id: id.clone(),
            ack: ack.clone(),
        });
    }
    state.events.publish(LiveEvent::Handling {
        id: id.clone(),
        camera,
        handling: handling.clone(),
    });
    Ok(Json(serde_json::json!({ "id": id, "handling": handling, "ack": ack })).into_response())
}

/// Alert `id`'s handling steps, oldest first: who, when, which step, its text.
pub(super) fn steps_of(
    s: &AlertStore,
    id: &str,
) -> Result<Vec<serde_json::Value>, vigil_deliver::DeliverError> {
    let records = s.accesses(&AccessQuery {
        alert_id: Some(id.to_string()),
        limit: 10_000,
        ..Default::default()
    })?;
    Ok(records
        .into_iter()
        .filter(|r| Step::from_record(r.action, &r.detail).is_some())
        .map(|r| {
            serde_json::json!({
                "who": r.who, "at_ms": r.at_ms, "step": r.action.as_str(), "text": r.detail
            })
        })
        .collect())
}

#[derive(Deserialize)]
pub(super) struct ReportParams {
    /// First day (Beijing time), `2026-12-01`.
    since: String,
    /// Last day, included.
    until: String,
    #[serde(default)]
    period: Option<String>,
    #[serde(default)]
    format: Option<String>,
}

/// Midnight of Beijing day `day` (`YYYY-MM-DD`) as a stored wall time (UTC), plus `days`.
fn day_start(day: &str, days: u64) -> Option<String> {
    let valid = day.len() == 10
        && day.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if !valid {
        return None;
    }
    let midnight = vigil_core::time::parse_rfc3339(&format!("{day}T00:00:00Z"))?;
    let utc = midnight + std::time::Duration::from_secs(days * 86_400)
        - std::time::Duration::from_secs(8 * 3600);
    Some(vigil_core::time::rfc3339(utc))
}

pub(super) async fn report(
    caller: Caller,
    Peer(peer): Peer,
    State(state): State<Arc<AppState>>,
    Query(p): Query<ReportParams>,
) -> Result<Response, ApiError> {
    let bad = |m: &str| ApiError(StatusCode::BAD_REQUEST, m.to_string());
    let since = day_start(&p.since, 0).ok_or_else(|| bad("since must be a day: 2026-12-01"))?;
    let until = day_start(&p.until, 1).ok_or_else(|| bad("until must be a day: 2026-12-31"))?;
    if since >= until {
        return Err(bad("until is before since"));
    }
    let period = Period::parse(p.period.as_deref().unwrap_or("day"))
        .ok_or_else(|| bad("period is day or month"))?;
    let xlsx = match p.format.as_deref().unwrap_or("csv") {
        "csv" => false,
        "xlsx" => true,
        _ => return Err(bad("format is csv or xlsx")),
    };
    let by = accessor(&caller, &peer);
    let what = format!(
        "report {}..{} {} {}",
        p.since,
        p.until,
        if period == Period::Day {
            "day"
        } else {
            "month"
        },
        if xlsx { "xlsx" } else { "csv" }
    );
    let scope = caller.clone();
    let rows = with_store(&state, move |s| {
        // An export is recorded before it is served, like every access.
        s.record_event(&by, Action::Export, &what)?;
        s.report(&since, &until, period, |c| scope.sees(c))
    })
    .await?;
    let name = format!("vigil-report-{}-{}", p.since, p.until);
    let (body, content_type, ext) = if xlsx {
        let mut table = vec![HEADERS.iter().map(|h| h.to_string()).collect::<Vec<_>>()];
        table.extend(rows.iter().map(|r| r.cells().to_vec()));
        (
            vigil_deliver::report::xlsx::workbook("告警处理", &table),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        )
    } else {
        (
            vigil_deliver::report::csv(&rows).into_bytes(),
            "text/csv; charset=utf-8",
            "csv",
        )
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.{ext}\""),
            ),
        ],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_beijing_day_starts_at_sixteen_hundred_utc_the_day_before() {
        assert_eq!(
            super::day_start("2026-12-03", 0).as_deref(),
            Some("2026-12-02T16:00:00.000Z")
        );
        assert_eq!(
            super::day_start("2026-12-31", 1).as_deref(),
            Some("2026-12-31T16:00:00.000Z")
        );
        assert_eq!(super::day_start("2026-12-3", 0), None);
        assert_eq!(super::day_start("2026-13-45", 0), None);
    }
}
