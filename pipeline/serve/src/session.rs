//! Signing in and out (`/api/session`). A named account signs in with its name and password and
//! gets a server-side session (cookie [`COOKIE`], `HttpOnly; SameSite=Strict`, `Secure` over
//! HTTPS) that ends at its expiry, at sign-out, or when the account's password changes or it is
//! disabled (`vigil user …`, which the server sees at the next request). A configured token signs
//! in as before (its cookie holds the token).
//!
//! Guessing is slowed: after [`NAME_FAILURES`] wrong passwords for one name within [`WINDOW`],
//! that name is locked for [`LOCKOUT`] — whatever the password — and after [`ADDRESS_FAILURES`]
//! from one address, that address is (`429` with `Retry-After`). At most [`CHECKS`] argon2id
//! verifications (19 MiB each) run at once; more are `503`.

use crate::AppState;
use crate::audit::Peer;
use crate::auth::{self, Caller};
use crate::error::ApiError;
use crate::store::with_users;
use crate::users::User;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use crate::auth::SESSION_COOKIE as COOKIE;

/// Wrong passwords for one name within [`WINDOW`] before it is locked.
pub const NAME_FAILURES: u32 = 5;
/// Failed sign-ins from one address within [`WINDOW`] before it is refused.
pub const ADDRESS_FAILURES: u32 = 20;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
pub const LOCKOUT: Duration = Duration::from_secs(15 * 60);
/// Password verifications at once.
pub const CHECKS: usize = 4;

/// Failed sign-ins per name and per address.
#[derive(Default)]
pub struct Throttle(Mutex<HashMap<String, Failures>>);

struct Failures {
    count: u32,
    since: Instant,
    locked_until: Option<Instant>,
}

/// At most this many names and addresses are followed (the oldest windows go first).
const FOLLOWED: usize = 10_000;

impl Throttle {
    /// How long `key` must still wait, if it is locked.
    fn locked(&self, key: &str) -> Option<Duration> {
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let until = map.get(key)?.locked_until?;
        until.checked_duration_since(Instant::now())
    }

    /// Counts a failure of `key`; locks it at `limit` within [`WINDOW`].
    fn failed(&self, key: &str, limit: u32) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if map.len() >= FOLLOWED {
            map.retain(|_, f| now.duration_since(f.since) < WINDOW);
        }
        let f = map.entry(key.to_string()).or_insert(Failures {
            count: 0,
            since: now,
            locked_until: None,
        });
        if now.duration_since(f.since) >= WINDOW {
            *f = Failures {
                count: 0,
                since: now,
                locked_until: None,
            };
        }
        f.count += 1;
        if f.count >= limit {
            f.locked_until = Some(now + LOCKOUT);
        }
    }

    fn succeeded(&self, key: &str) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SessionRequest {
    token: Option<String>,
    user: Option<String>,
    password: Option<String>,
}

fn cookie_header(
    name: &str,
    value: &str,
    max_age: u64,
    secure: bool,
) -> Result<HeaderValue, ApiError> {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    ))
    .map_err(|_| {
        ApiError(
            StatusCode::BAD_REQUEST,
            "characters a cookie cannot carry".into(),
        )
    })
}

/// `POST /api/session`: `{"user", "password"}` or `{"token"}`.
pub(crate) async fn start(
    State(state): State<Arc<AppState>>,
    Peer(peer): Peer,
    Json(req): Json<SessionRequest>,
) -> Result<Response, ApiError> {
    let secure = state.secure_cookies;
    match (req.user, req.password, req.token) {
        (Some(user), Some(password), None) => sign_in(&state, &peer, user, password).await,
        (None, None, Some(token)) => {
            let caller = state
                .tokens
                .check(&token)
                .ok_or(ApiError(StatusCode::UNAUTHORIZED, "unknown token".into()))?;
            // Checked above to be a token we issued: no cookie injection.
            let cookie = cookie_header(auth::COOKIE, &token, 43_200, secure)?;
            Ok(([(header::SET_COOKIE, cookie)], Json(caller)).into_response())
        }
        _ => Err(ApiError(
            StatusCode::BAD_REQUEST,
            "expected {\"user\": …, \"password\": …} or {\"token\": …}".into(),
        )),
    }
}

async fn sign_in(
    state: &Arc<AppState>,
    peer: &str,
    user: String,
    password: String,
) -> Result<Response, ApiError> {
    if state.users.is_none() {
        return Err(ApiError(
            StatusCode::UNAUTHORIZED,
            "this vigil has no named accounts (api.users)".into(),
        ));
    }
    let ip = peer.rsplit_once(':').map_or(peer, |(ip, _)| ip).to_string();
    let (name_key, addr_key) = (format!("user:{user}"), format!("addr:{ip}"));
    let locked = state
        .throttle
        .locked(&name_key)
        .or_else(|| state.throttle.locked(&addr_key));
    if let Some(wait) = locked {
        tracing::warn!(user = %user, from = %peer, "sign-in refused: locked after failures");
        let retry = HeaderValue::from(wait.as_secs().max(1));
        return Ok((
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, retry)],
            Json(serde_json::json!({"error": "too many failed sign-ins: wait and try again"})),
        )
            .into_response());
    }
    let Ok(_slot) = state.password_checks.clone().try_acquire_owned() else {
        return Ok((
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, HeaderValue::from_static("2"))],
            Json(serde_json::json!({"error": "busy: try again"})),
        )
            .into_response());
    };
    let (name, from) = (user.clone(), peer.to_string());
    let signed_in: Option<(User, String)> = with_users(state, move |u| {
        let Some(found) = u.check_password(&name, &password)? else {
            return Ok(None);
        };
        let session = u.start_session(&found.name, &from)?;
        Ok(Some((found, session)))
    })
    .await?;
    let Some((found, session)) = signed_in else {
        state.throttle.failed(&name_key, NAME_FAILURES);
        state.throttle.failed(&addr_key, ADDRESS_FAILURES);
        tracing::warn!(user = %user, from = %peer, "sign-in failed");
        return Err(ApiError(
            StatusCode::UNAUTHORIZED,
            "wrong name or password".into(),
        ));
    };
    state.throttle.succeeded(&name_key);
    tracing::info!(user = %found.name, from = %peer, "signed in");
    let max_age = crate::users::SESSION_LIFETIME.as_secs();
    let cookie = cookie_header(COOKIE, &session, max_age, state.secure_cookies)?;
    Ok(([(header::SET_COOKIE, cookie)], Json(Caller::from(found))).into_response())
}

/// Who is signed in, and what the page is to do for them.
#[derive(serde::Serialize)]
pub(crate) struct Me {
    #[serde(flatten)]
    caller: Caller,
    alarm: vigil_config::Alarm,
}

/// `GET /api/session`: who is signed in.
pub(crate) async fn whoami(State(state): State<Arc<AppState>>, caller: Caller) -> Json<Me> {
    Json(Me {
        caller,
        alarm: state.alarm,
    })
}

/// `DELETE /api/session`: ends the session server-side and clears both cookies.
pub(crate) async fn end(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if let Some(id) = auth::cookie(&headers, COOKIE).filter(|_| state.users.is_some())
        && let Err(e) = with_users(&state, move |u| u.end_session(&id)).await
    {
        tracing::warn!(error = %e.1, "cannot end a session");
    }
    let secure = state.secure_cookies;
    let mut response = StatusCode::NO_CONTENT.into_response();
    for name in [COOKIE, auth::COOKIE] {
        if let Ok(c) = cookie_header(name, "", 0, secure) {
            response.headers_mut().append(header::SET_COOKIE, c);
        }
    }
    response
}
