//! Who is calling. Named accounts ([`crate::users`]) sign in for a server-side session
//! ([`crate::session`]) or use their machine tokens (`vgt_…`, stored salted); configured bearer
//! tokens have roles too — the config holds each one's sha256, never the token, and a presented
//! token is hashed and compared with every configured hash in constant time. Browsers present it
//! as an `HttpOnly; SameSite=Strict` cookie set by `POST /api/session` (an `<video>` element or
//! an `EventSource` cannot send headers); everything else sends `Authorization: Bearer <token>`.
//! No token: 401. A viewer asking to acknowledge: 403. A request another instance forwards carries
//! no token but that instance's signature ([`crate::peers`]).

use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use subtle::ConstantTimeEq;
use vigil_config::{ApiToken, Role};

/// The cookie a configured token's session lives in.
pub const COOKIE: &str = "vigil_token";

/// The cookie a named account's session lives in (its id).
pub const SESSION_COOKIE: &str = "vigil_session";

/// The configured tokens.
pub struct Tokens(Vec<ApiToken>);

impl Tokens {
    pub fn new(tokens: Vec<ApiToken>) -> Self {
        Self(tokens)
    }

    /// Who holds `presented`, if anyone. Looks at every token whatever matches, so the time
    /// taken says nothing about which (or whether one) matched.
    pub fn check(&self, presented: &str) -> Option<Caller> {
        let hash: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        let mut found: Option<&ApiToken> = None;
        for t in &self.0 {
            if bool::from(t.sha256.ct_eq(&hash)) {
                found = Some(t);
            }
        }
        found.map(|t| Caller {
            name: t.name.clone(),
            role: t.role,
            cameras: Vec::new(),
        })
    }
}

/// The authenticated caller of a request.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Caller {
    pub name: String,
    #[serde(serialize_with = "role_str")]
    pub role: Role,
    /// The cameras it may see (names or `*` patterns); empty: every camera.
    pub cameras: Vec<String>,
}

fn role_str<S: serde::Serializer>(role: &Role, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(role.as_str())
}

impl From<crate::users::User> for Caller {
    fn from(u: crate::users::User) -> Self {
        Self {
            name: u.name,
            role: u.role,
            cameras: u.cameras,
        }
    }
}

impl Caller {
    /// Whether the caller may see camera `camera`'s alerts.
    pub fn sees(&self, camera: &str) -> bool {
        crate::users::in_scope(&self.cameras, camera)
    }

    /// The caller's camera patterns, when it may not see every camera.
    pub fn scope(&self) -> Option<Vec<String>> {
        (!self.cameras.is_empty()).then(|| self.cameras.clone())
    }

    /// 403 unless the caller's role reaches `role`.
    pub fn require(&self, role: Role) -> Result<(), (StatusCode, &'static str)> {
        if self.role >= role {
            Ok(())
        } else {
            Err((StatusCode::FORBIDDEN, "this token may not do that"))
        }
    }
}

/// The enabled account `find` finds in the users database, as a caller.
async fn account(
    state: &Arc<AppState>,
    find: impl FnOnce(
        &mut crate::users::Users,
    ) -> Result<Option<crate::users::User>, crate::users::UserError>
    + Send
    + 'static,
) -> Option<Caller> {
    crate::store::with_users(state, find)
        .await
        .ok()
        .flatten()
        .map(Caller::from)
}

/// The token a request presents: `Authorization: Bearer …`, else the token cookie.
pub fn presented(headers: &HeaderMap) -> Option<String> {
    if let Some(v) = headers.get(header::AUTHORIZATION) {
        let v = v.to_str().ok()?;
        let (scheme, token) = v.split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim().to_string());
    }
    cookie(headers, COOKIE)
}

/// The value of cookie `name`, if the request carries it.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = axum::response::Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        use axum::response::IntoResponse;
        let unauthorized = || {
            (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                axum::Json(serde_json::json!({"error": "a valid token is needed"})),
            )
                .into_response()
        };
        // Another instance's request on a caller's behalf: its signature, never a token.
        if let Some(from) = parts
            .headers
            .get(crate::peers::FORWARDED)
            .and_then(|v| v.to_str().ok())
        {
            let identity = state.district.as_ref().and_then(|d| d.identity.as_deref());
            let path = parts
                .uri
                .path_and_query()
                .map_or(parts.uri.path(), |p| p.as_str());
            return crate::peers::verify(identity, from, &parts.method, path, &parts.headers)
                .map(|(name, role)| Caller {
                    name,
                    role,
                    cameras: Vec::new(),
                })
                .map_err(|why| {
                    tracing::warn!(from, why, "refused a forwarded request");
                    (
                        StatusCode::UNAUTHORIZED,
                        axum::Json(serde_json::json!({ "error": why })),
                    )
                        .into_response()
                });
        }
        // A token in the header; else a named account's session (the page); else the token
        // cookie. A token is configured, or (`vgt_…`) an account's machine token.
        let session = cookie(&parts.headers, SESSION_COOKIE);
        if let Some(id) = session
            .filter(|_| state.users.is_some() && !parts.headers.contains_key(header::AUTHORIZATION))
        {
            return account(state, move |u| u.session(&id))
                .await
                .ok_or_else(unauthorized);
        }
        let token = presented(&parts.headers).ok_or_else(unauthorized)?;
        if token.starts_with("vgt_") && state.users.is_some() {
            return account(state, move |u| u.token(&token))
                .await
                .ok_or_else(unauthorized);
        }
        state.tokens.check(&token).ok_or_else(unauthorized)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(name: &str, role: Role, secret: &str) -> ApiToken {
        ApiToken {
            name: name.into(),
            role,
            sha256: Sha256::digest(secret.as_bytes()).into(),
        }
    }

    #[test]
    fn tokens_are_matched_by_hash_and_roles_are_ordered() {
        let tokens = Tokens::new(vec![
            token("desk", Role::Viewer, "view-123"),
            token("guard", Role::Operator, "op-456"),
        ]);
        assert_eq!(tokens.check("view-123").unwrap().name, "desk");
        let guard = tokens.check("op-456").unwrap();
        assert!(guard.require(Role::Operator).is_ok());
        assert!(
            tokens
                .check("view-123")
                .unwrap()
                .require(Role::Operator)
                .is_err()
        );
        assert!(tokens.check("op-45").is_none());
        assert!(tokens.check("").is_none());
    }
}
