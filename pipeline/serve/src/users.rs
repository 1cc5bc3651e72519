//! Named accounts (`api.users`: a SQLite file of its own, kept with `vigil user …`): each person
//! signs in with a name and password (argon2id), gets a server-side session that expires after
//! [`SESSION_LIFETIME`] and ends when they sign out, change their password or are disabled;
//! machines (an NVR, a script) get random tokens tied to a name, stored salted. Each account has
//! a role (viewer < operator < admin) and, optionally, the cameras it may see (names or `*`
//! patterns: `b3-*` for building 3's cameras).
//!
//! ```sql
//! users (name text primary key, role text, cameras text /* JSON list; [] = all */,
//!        password text /* PHC string, argon2id; NULL: tokens only */, disabled_ms integer,
//!        created_ms integer)
//! sessions (id_sha256 text primary key, name text, created_ms integer, expires_ms integer,
//!           from_addr text)
//! tokens (id text primary key, name text, salt blob, sha256 blob, created_ms integer,
//!         revoked_ms integer)
//! ```
//!
//! Secrets never rest in the file: a session id and a token's secret are stored as hashes only.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use ring::rand::{SecureRandom, SystemRandom};
use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::time::Duration;
use subtle::ConstantTimeEq;
use vigil_config::Role;

/// How long a session lasts from sign-in: a long night shift.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(14 * 3600);

/// The shortest password taken.
pub const MIN_PASSWORD_CHARS: usize = 10;

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS users (
        name TEXT PRIMARY KEY,
        role TEXT NOT NULL,
        cameras TEXT NOT NULL,
        password TEXT,
        disabled_ms INTEGER,
        created_ms INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS sessions (
        id_sha256 TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        expires_ms INTEGER NOT NULL,
        from_addr TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS sessions_name ON sessions (name);
    CREATE TABLE IF NOT EXISTS tokens (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        salt BLOB NOT NULL,
        sha256 BLOB NOT NULL,
        created_ms INTEGER NOT NULL,
        revoked_ms INTEGER
    );";

/// An account.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct User {
    pub name: String,
    #[serde(serialize_with = "role_str")]
    pub role: Role,
    /// Camera names or `*` patterns it may see; empty: every camera.
    pub cameras: Vec<String>,
    pub disabled: bool,
    /// Whether it signs in with a password (else tokens only).
    pub has_password: bool,
}

fn role_str<S: serde::Serializer>(role: &Role, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(role.as_str())
}

/// What went wrong, for the CLI and the logs.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("users database {0}: {1}")]
    Db(String, rusqlite::Error),
    #[error("{0}")]
    Invalid(String),
    #[error("no user {0:?}")]
    NoSuchUser(String),
}

/// The users database.
pub struct Users {
    conn: Connection,
    path: String,
}

/// A name of letters, digits, `_`, `-` and `.`, 1 to 64 long (it is shown and logged).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// Whether camera `camera` is in `scope` (names or `*` patterns; empty: all).
pub fn in_scope(scope: &[String], camera: &str) -> bool {
    scope.is_empty() || scope.iter().any(|p| glob(p.as_bytes(), camera.as_bytes()))
}

/// `*` matches any run of characters; everything else itself.
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((b'*', rest)) => (0..=text.len()).any(|i| glob(rest, &text[i..])),
        Some((c, rest)) => text.first() == Some(c) && glob(rest, &text[1..]),
    }
}

fn random(bytes: &mut [u8]) -> Result<(), UserError> {
    SystemRandom::new()
        .fill(bytes)
        .map_err(|_| UserError::Invalid("no randomness from the system".into()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha256_hex(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

/// The argon2id hash of `password` (OWASP's parameters: 19 MiB, 2 passes), as a PHC string.
fn hash_password(password: &str) -> Result<String, UserError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(UserError::Invalid(format!(
            "a password has at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    let mut salt = [0u8; 16];
    random(&mut salt)?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| UserError::Invalid(e.to_string()))?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| UserError::Invalid(e.to_string()))
}

/// Whether `password` is the one `phc` was made from.
fn password_matches(phc: &str, password: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A hash of a wrong password to check against when the name is unknown, so the time taken
/// says nothing about whether it exists.
static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();

fn now_ms() -> i64 {
    vigil_deliver::now_ms()
}

impl Users {
    /// Opens (creating) the users database at `path`.
    pub fn open(path: &Path) -> Result<Self, UserError> {
        let p = path.display().to_string();
        let conn = Connection::open(path).map_err(|e| UserError::Db(p.clone(), e))?;
        conn.busy_timeout(Duration::from_secs(5))
            .and_then(|()| conn.pragma_update(None, "journal_mode", "WAL"))
            .and_then(|()| conn.execute_batch(SCHEMA))
            .map_err(|e| UserError::Db(p.clone(), e))?;
        #[cfg(unix)]
        {
            // Hashes only, but nobody else's business.
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
        }
        Ok(Self { conn, path: p })
    }

    fn db(&self) -> impl Fn(rusqlite::Error) -> UserError + '_ {
        db_err(&self.path)
    }

    /// Adds account `name`; with a password it signs in, without it uses tokens only.
    pub fn add(
        &mut self,
        name: &str,
        role: Role,
        cameras: &[String],
        password: Option<&str>,
    ) -> Result<(), UserError> {
        if !valid_name(name) {
            return Err(UserError::Invalid(format!(
                "user name {name:?}: letters, digits, '_', '-' and '.', at most 64"
            )));
        }
        let pattern_ok = |c: &String| {
            !c.is_empty()
                && c.len() <= 128
                && c.chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '_' | '-' | '.' | '*'))
        };
        if let Some(bad) = cameras.iter().find(|c| !pattern_ok(c)) {
            return Err(UserError::Invalid(format!(
                "camera {bad:?}: a camera name, or a pattern with * (letters, digits, '_', '-', '.')"
            )));
        }
        let phc = password.map(hash_password).transpose()?;
        let cameras = serde_json::to_string(cameras).expect("strings serialise");
        let added = self
            .conn
            .execute(
                "INSERT OR IGNORE INTO users (name, role, cameras, password, created_ms) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![name, role.as_str(), cameras, phc, now_ms()],
            )
            .map_err(self.db())?;
        if added == 0 {
            return Err(UserError::Invalid(format!("user {name} exists already")));
        }
        Ok(())
    }

    /// Sets `name`'s password and ends its sessions.
    pub fn set_password(&mut self, name: &str, password: &str) -> Result<(), UserError> {
        let phc = hash_password(password)?;
        let err = db_err(&self.path);
        let tx = self.conn.transaction().map_err(&err)?;
        let n = tx
            .execute(
                "UPDATE users SET password = ?2 WHERE name = ?1",
                params![name, phc],
            )
            .map_err(&err)?;
        if n == 0 {
            return Err(UserError::NoSuchUser(name.into()));
        }
        tx.execute("DELETE FROM sessions WHERE name = ?1", [name])
            .map_err(&err)?;
        tx.commit().map_err(&err)
    }

    /// Disables (or enables again) `name`: a disabled account's sessions end at once, its tokens
    /// stop working and it cannot sign in.
    pub fn set_disabled(&mut self, name: &str, disabled: bool) -> Result<(), UserError> {
        let err = db_err(&self.path);
        let tx = self.conn.transaction().map_err(&err)?;
        let n = tx
            .execute(
                "UPDATE users SET disabled_ms = ?2 WHERE name = ?1",
                params![name, disabled.then(now_ms)],
            )
            .map_err(&err)?;
        if n == 0 {
            return Err(UserError::NoSuchUser(name.into()));
        }
        if disabled {
            tx.execute("DELETE FROM sessions WHERE name = ?1", [name])
                .map_err(&err)?;
        }
        tx.commit().map_err(&err)
    }

    /// Ends every session of `name`; how many there were.
    pub fn end_sessions(&mut self, name: &str) -> Result<usize, UserError> {
        self.conn
            .execute("DELETE FROM sessions WHERE name = ?1", [name])
            .map_err(self.db())
    }

    /// Every account, by name.
    pub fn list(&self) -> Result<Vec<User>, UserError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT name, role, cameras, password IS NOT NULL, disabled_ms IS NOT NULL \
                 FROM users ORDER BY name",
            )
            .map_err(self.db())?;
        let rows = stmt.query_map([], user_row).map_err(self.db())?;
        rows.collect::<Result<Vec<_>, _>>().map_err(self.db())
    }

    /// Account `name`, if it exists.
    pub fn get(&self, name: &str) -> Result<Option<User>, UserError> {
        self.conn
            .query_row(
                "SELECT name, role, cameras, password IS NOT NULL, disabled_ms IS NOT NULL \
                 FROM users WHERE name = ?1",
                [name],
                user_row,
            )
            .optional()
            .map_err(self.db())
    }

    /// Checks `password` for `name`: the account when it matches and is enabled. Takes an
    /// argon2id verification's time whether or not the name exists.
    pub fn check_password(&self, name: &str, password: &str) -> Result<Option<User>, UserError> {
        let row: Option<(Option<String>, User)> = self
            .conn
            .query_row(
                "SELECT password, name, role, cameras, password IS NOT NULL, \
                 disabled_ms IS NOT NULL FROM users WHERE name = ?1",
                [name],
                |r| Ok((r.get(0)?, user_at(r, 1)?)),
            )
            .optional()
            .map_err(self.db())?;
        let dummy =
            DUMMY.get_or_init(|| hash_password("not the password of anyone").unwrap_or_default());
        match row {
            Some((Some(phc), user)) => {
                let ok = password_matches(&phc, password);
                Ok((ok && !user.disabled).then_some(user))
            }
            _ => {
                let _ = password_matches(dummy, password);
                Ok(None)
            }
        }
    }

    /// Starts a session for `name` (from `from`): its id, to hand to the browser (stored as a
    /// hash only).
    pub fn start_session(&mut self, name: &str, from: &str) -> Result<String, UserError> {
        let mut id = [0u8; 32];
        random(&mut id)?;
        let id = hex(&id);
        let now = now_ms();
        self.conn
            .execute(
                "INSERT INTO sessions (id_sha256, name, created_ms, expires_ms, from_addr) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    sha256_hex(&id),
                    name,
                    now,
                    now + SESSION_LIFETIME.as_millis() as i64,
                    from
                ],
            )
            .map_err(self.db())?;
        // Expired sessions are forgotten as new ones start.
        self.conn
            .execute("DELETE FROM sessions WHERE expires_ms < ?1", [now])
            .map_err(self.db())?;
        Ok(id)
    }

    /// The account of session `id`, while it lasts and the account is enabled.
    pub fn session(&self, id: &str) -> Result<Option<User>, UserError> {
        self.conn
            .query_row(
                "SELECT u.name, u.role, u.cameras, u.password IS NOT NULL, \
                 u.disabled_ms IS NOT NULL FROM sessions s JOIN users u ON u.name = s.name \
                 WHERE s.id_sha256 = ?1 AND s.expires_ms > ?2 AND u.disabled_ms IS NULL",
                params![sha256_hex(id), now_ms()],
                user_row,
            )
            .optional()
            .map_err(self.db())
    }

    /// Ends session `id`.
    pub fn end_session(&mut self, id: &str) -> Result<(), UserError> {
        self.conn
            .execute(
                "DELETE FROM sessions WHERE id_sha256 = ?1",
                [sha256_hex(id)],
            )
            .map(|_| ())
            .map_err(self.db())
    }

    /// Mints a token for `name`: `vgt_<id>_<secret>`, shown once; stored as its id, a random
    /// salt and sha256(salt ‖ secret).
    pub fn mint_token(&mut self, name: &str) -> Result<String, UserError> {
        if self.get(name)?.is_none() {
            return Err(UserError::NoSuchUser(name.into()));
        }
        let (mut id, mut secret, mut salt) = ([0u8; 8], [0u8; 32], [0u8; 16]);
        random(&mut id)?;
        random(&mut secret)?;
        random(&mut salt)?;
        let (id, secret) = (hex(&id), hex(&secret));
        let digest = salted(&salt, &secret);
        self.conn
            .execute(
                "INSERT INTO tokens (id, name, salt, sha256, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id, name, salt.to_vec(), digest.to_vec(), now_ms()],
            )
            .map_err(self.db())?;
        Ok(format!("vgt_{id}_{secret}"))
    }

    /// Revokes every token of `name`; how many.
    pub fn revoke_tokens(&mut self, name: &str) -> Result<usize, UserError> {
        self.conn
            .execute(
                "UPDATE tokens SET revoked_ms = ?2 WHERE name = ?1 AND revoked_ms IS NULL",
                params![name, now_ms()],
            )
            .map_err(self.db())
    }

    /// The account of token `presented` (`vgt_…`), when it is valid and the account enabled.
    pub fn token(&self, presented: &str) -> Result<Option<User>, UserError> {
        let Some((id, secret)) = presented
            .strip_prefix("vgt_")
            .and_then(|rest| rest.split_once('_'))
        else {
            return Ok(None);
        };
        let row: Option<(Vec<u8>, Vec<u8>, User)> = self
            .conn
            .query_row(
                "SELECT t.salt, t.sha256, u.name, u.role, u.cameras, u.password IS NOT NULL, \
                 u.disabled_ms IS NOT NULL FROM tokens t JOIN users u ON u.name = t.name \
                 WHERE t.id = ?1 AND t.revoked_ms IS NULL",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, user_at(r, 2)?)),
            )
            .optional()
            .map_err(self.db())?;
        Ok(row.and_then(|(salt, stored, user)| {
            let matches = bool::from(salted(&salt, secret).ct_eq(stored.as_slice()));
            (matches && !user.disabled).then_some(user)
        }))
    }
}

fn db_err(path: &str) -> impl Fn(rusqlite::Error) -> UserError + '_ {
    move |e| UserError::Db(path.to_string(), e)
}

fn salted(salt: &[u8], secret: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(salt);
    h.update(secret.as_bytes());
    h.finalize().into()
}

fn user_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    user_at(r, 0)
}

/// A user from columns `at..at+5`: name, role, cameras, has password, disabled.
fn user_at(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<User> {
    let role: String = r.get(at + 1)?;
    let cameras: String = r.get(at + 2)?;
    Ok(User {
        name: r.get(at)?,
        role: role.parse().unwrap_or(Role::Viewer),
        cameras: serde_json::from_str(&cameras).unwrap_or_default(),
        has_password: r.get(at + 3)?,
        disabled: r.get(at + 4)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_match_names_and_patterns() {
        let scope = vec!["b3-*".to_string(), "gate".to_string()];
        assert!(in_scope(&scope, "b3-east"));
        assert!(in_scope(&scope, "gate"));
        assert!(!in_scope(&scope, "gate-2"));
        assert!(!in_scope(&scope, "b4-east"));
        assert!(in_scope(&[], "anything"));
    }

    #[test]
    fn passwords_sessions_and_tokens() {
        let dir = tempfile::tempdir().unwrap();
        let mut users = Users::open(&dir.path().join("users.db")).unwrap();
        assert!(
            users
                .add("guard", Role::Operator, &[], Some("short"))
                .is_err()
        );
        users
            .add(
                "guard",
                Role::Operator,
                &["b3-*".into()],
                Some("correct horse battery"),
            )
            .unwrap();
        assert!(
            users.add("guard", Role::Viewer, &[], None).is_err(),
            "twice"
        );
        assert!(
            users
                .check_password("guard", "wrong password!")
                .unwrap()
                .is_none()
        );
        assert!(
            users
                .check_password("nobody", "correct horse battery")
                .unwrap()
                .is_none()
        );
        let guard = users
            .check_password("guard", "correct horse battery")
            .unwrap()
            .unwrap();
        assert_eq!(
            (guard.role, guard.cameras.clone()),
            (Role::Operator, vec!["b3-*".into()])
        );
        let session = users.start_session("guard", "10.0.0.7:5000").unwrap();
        assert_eq!(users.session(&session).unwrap(), Some(guard.clone()));
        // A new password ends the sessions.
        users
            .set_password("guard", "another long password")
            .unwrap();
        assert_eq!(users.session(&session).unwrap(), None);
        let session = users.start_session("guard", "").unwrap();
        users.set_disabled("guard", true).unwrap();
        assert_eq!(users.session(&session).unwrap(), None);
        assert!(
            users
                .check_password("guard", "another long password")
                .unwrap()
                .is_none()
        );
        users.set_disabled("guard", false).unwrap();

        users.add("nvr", Role::Viewer, &[], None).unwrap();
        let token = users.mint_token("nvr").unwrap();
        assert_eq!(users.token(&token).unwrap().unwrap().name, "nvr");
        let stored: Vec<u8> = users
            .conn
            .query_row("SELECT sha256 FROM tokens", [], |r| r.get(0))
            .unwrap();
        assert!(
            !token.contains(&hex(&stored)),
            "the secret is not what is stored"
        );
        assert!(users.token(&format!("{token}x")).unwrap().is_none());
        assert!(users.token("vgt_nothing_here").unwrap().is_none());
        assert_eq!(users.revoke_tokens("nvr").unwrap(), 1);
        assert!(users.token(&token).unwrap().is_none());
    }
}
