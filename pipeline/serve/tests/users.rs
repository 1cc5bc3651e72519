//! Named accounts through the real API and a real users database: sign-in with name and password
//! gives a server-side session that sign-out, a password change or disabling ends at once;
//! guessing locks the name (and then the address); an account kept to building 3's cameras sees
//! only their alerts, cameras and events, and no metrics; machine tokens work until revoked; only
//! admins read who accessed an alert.

mod common;

use common::{alert, with_clip};
use vigil_config::Role;
use vigil_deliver::AlertStore;
use vigil_serve::users::Users;

const GATE: &str = "01a2240a-0000-7000-8000-00000000bb01";
const B3: &str = "01a2240a-0000-7000-8000-00000000bb02";
const PASSWORD: &str = "correct horse battery";

struct Site {
    _out: tempfile::TempDir,
    db: std::path::PathBuf,
    server: vigil_serve::Server,
    base: String,
}

fn site() -> Site {
    let out = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(out.path().join("evidence")).unwrap();
    std::fs::write(out.path().join("evidence/clip.mp4"), vec![0u8; 4096]).unwrap();
    let mut store = AlertStore::open(&out.path().join("alerts.db")).unwrap();
    for (id, camera) in [(GATE, "gate"), (B3, "b3-east")] {
        let start = alert(id, camera, "2026-12-03T08:00:00.000Z");
        store.insert(&start).unwrap();
        store
            .insert(&with_clip(start, "evidence/clip.mp4"))
            .unwrap();
    }
    let db = out.path().join("users.db");
    let mut users = Users::open(&db).unwrap();
    users
        .add("guard", Role::Operator, &[], Some(PASSWORD))
        .unwrap();
    users
        .add("b3-guard", Role::Viewer, &["b3-*".into()], Some(PASSWORD))
        .unwrap();
    users
        .add("chief", Role::Admin, &[], Some(PASSWORD))
        .unwrap();
    users.add("nvr", Role::Viewer, &[], None).unwrap();
    let config = vigil_serve::ServeConfig {
        users: Some(db.clone()),
        ..common::config(out.path(), &["gate", "b3-east"])
    };
    let server = common::start(config, vigil_serve::Events::default());
    let base = format!("http://{}", server.addr());
    Site {
        _out: out,
        db,
        server,
        base,
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// (status, Set-Cookie's `name=value`, body) of a sign-in.
fn sign_in(base: &str, user: &str, password: &str) -> (u16, Option<String>, String) {
    let mut answer = agent()
        .post(format!("{base}/api/session"))
        .header("Content-Type", "application/json")
        .send(serde_json::json!({"user": user, "password": password}).to_string())
        .unwrap();
    let cookie = answer
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::to_string);
    let status = answer.status().as_u16();
    (status, cookie, answer.body_mut().read_to_string().unwrap())
}

/// (status, body) of a GET with `auth`: `Cookie: …` or `Authorization: …`.
fn get(base: &str, path: &str, auth: (&str, &str)) -> (u16, String) {
    let mut answer = agent()
        .get(format!("{base}{path}"))
        .header(auth.0, auth.1)
        .call()
        .unwrap();
    let status = answer.status().as_u16();
    (status, answer.body_mut().read_to_string().unwrap())
}

#[test]
fn a_session_lasts_until_sign_out_a_new_password_or_disabling() {
    let site = site();
    let base = &site.base;
    let (status, _, body) = sign_in(base, "guard", "not the password");
    assert_eq!(status, 401, "{body}");
    let (status, cookie, body) = sign_in(base, "guard", PASSWORD);
    assert_eq!(status, 200, "{body}");
    let cookie = cookie.unwrap();
    assert!(cookie.starts_with("vigil_session="), "{cookie}");
    let me: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (me["name"].as_str(), me["role"].as_str()),
        (Some("guard"), Some("operator"))
    );
    let with = ("Cookie", cookie.as_str());
    assert_eq!(get(base, "/api/alerts", with).0, 200);

    // Signed out: the same cookie is refused (the session is gone on the server).
    let out = agent()
        .delete(format!("{base}/api/session"))
        .header("Cookie", &cookie)
        .call()
        .unwrap();
    assert_eq!(out.status(), 204);
    assert_eq!(get(base, "/api/alerts", with).0, 401);

    // A new password, or disabling, ends a session at its next request.
    let (_, cookie, _) = sign_in(base, "guard", PASSWORD);
    let cookie = cookie.unwrap();
    let with = ("Cookie", cookie.as_str());
    assert_eq!(get(base, "/api/alerts", with).0, 200);
    Users::open(&site.db)
        .unwrap()
        .set_password("guard", "a brand new password")
        .unwrap();
    assert_eq!(get(base, "/api/alerts", with).0, 401);
    let (_, cookie, _) = sign_in(base, "guard", "a brand new password");
    let cookie = cookie.unwrap();
    let with = ("Cookie", cookie.as_str());
    Users::open(&site.db)
        .unwrap()
        .set_disabled("guard", true)
        .unwrap();
    assert_eq!(get(base, "/api/alerts", with).0, 401);
    assert_eq!(sign_in(base, "guard", "a brand new password").0, 401);

    // The session id is not what the database holds.
    let id = cookie.trim_start_matches("vigil_session=");
    let stored = rusqlite::Connection::open(&site.db)
        .unwrap()
        .query_row("SELECT group_concat(id_sha256) FROM sessions", [], |r| {
            r.get::<_, Option<String>>(0)
        })
        .unwrap()
        .unwrap_or_default();
    assert!(!stored.contains(id), "the session id is stored as it is");
    site.server.stop();
}

#[test]
fn guessing_locks_the_name_then_the_address() {
    let site = site();
    let base = &site.base;
    for _ in 0..vigil_serve::session::NAME_FAILURES {
        assert_eq!(sign_in(base, "guard", "guess guess guess").0, 401);
    }
    // Locked: even the right password is refused, with when to come back.
    let locked = agent()
        .post(format!("{base}/api/session"))
        .header("Content-Type", "application/json")
        .send(serde_json::json!({"user": "guard", "password": PASSWORD}).to_string())
        .unwrap();
    assert_eq!(locked.status(), 429);
    let retry: u64 = locked.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 800 && retry <= 900, "{retry}");
    // Other names from this address still sign in — until the address has failed too often.
    assert_eq!(sign_in(base, "chief", PASSWORD).0, 200);
    let mut failures = vigil_serve::session::NAME_FAILURES;
    let mut n = 0;
    while failures < vigil_serve::session::ADDRESS_FAILURES {
        n += 1;
        assert_eq!(
            sign_in(base, &format!("nobody-{n}"), "guess guess guess").0,
            401
        );
        failures += 1;
    }
    assert_eq!(
        sign_in(base, "chief", PASSWORD).0,
        429,
        "the address is locked"
    );
    site.server.stop();
}

#[test]
fn an_account_kept_to_building_3_sees_only_building_3() {
    let site = site();
    let base = &site.base;
    let (_, cookie, _) = sign_in(base, "b3-guard", PASSWORD);
    let cookie = cookie.unwrap();
    let with = ("Cookie", cookie.as_str());
    let (status, body) = get(base, "/api/alerts", with);
    assert_eq!(status, 200);
    let list: serde_json::Value = serde_json::from_str(&body).unwrap();
    let ids: Vec<&str> = list["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["alert"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [B3]);
    assert_eq!(get(base, &format!("/api/alerts/{B3}"), with).0, 200);
    for path in [
        format!("/api/alerts/{GATE}"),
        format!("/api/alerts/{GATE}/clip"),
        format!("/api/alerts/{GATE}/snapshot"),
    ] {
        assert_eq!(get(base, &path, with).0, 404, "{path}");
    }
    let ack = agent()
        .post(format!("{base}/api/alerts/{GATE}/ack"))
        .header("Cookie", &cookie)
        .send("")
        .unwrap();
    assert_eq!(ack.status(), 403, "a viewer may not acknowledge");
    let (_, cameras) = get(base, "/api/cameras", with);
    assert!(
        cameras.contains("b3-east") && !cameras.contains("gate"),
        "{cameras}"
    );
    assert_eq!(get(base, "/metrics", with).0, 403);
    // The operator without a scope sees both.
    let (_, cookie, _) = sign_in(base, "guard", PASSWORD);
    let cookie = cookie.unwrap();
    let (_, body) = get(base, "/api/alerts", ("Cookie", cookie.as_str()));
    assert!(body.contains(GATE) && body.contains(B3));
    site.server.stop();
}

#[test]
fn machine_tokens_work_until_revoked_and_only_admins_read_the_access_history() {
    let site = site();
    let base = &site.base;
    let token = Users::open(&site.db).unwrap().mint_token("nvr").unwrap();
    let bearer = format!("Bearer {token}");
    let with = ("Authorization", bearer.as_str());
    assert_eq!(get(base, "/api/alerts", with).0, 200);
    let wrong = format!("Bearer {token}0");
    assert_eq!(
        get(base, "/api/alerts", ("Authorization", wrong.as_str())).0,
        401
    );

    let history = format!("/api/alerts/{B3}/access");
    let (_, guard, _) = sign_in(base, "guard", PASSWORD);
    let guard = guard.unwrap();
    assert_eq!(get(base, &history, ("Cookie", guard.as_str())).0, 403);
    let (_, chief, _) = sign_in(base, "chief", PASSWORD);
    let chief = chief.unwrap();
    assert_eq!(get(base, &format!("/api/alerts/{B3}"), with).0, 200);
    let (status, body) = get(base, &history, ("Cookie", chief.as_str()));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"who\":\"nvr\""), "{body}");

    Users::open(&site.db).unwrap().revoke_tokens("nvr").unwrap();
    assert_eq!(get(base, "/api/alerts", with).0, 401);
    site.server.stop();
}
