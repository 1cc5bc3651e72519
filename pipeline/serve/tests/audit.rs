//! The access audit through the real API: opening an alert, playing its clip (in several ranges,
//! as a `<video>` does), showing its snapshot and acknowledging it each leave one record in the
//! store's access chain — who, with which role, from which address — before anything is served;
//! admins read an alert's history at `/api/alerts/{id}/access`, operators and viewers may not; `vigil
//! verify`'s check finds the chain intact.

mod common;

use common::{ADMIN, OPERATOR, VIEWER, holder_store, serve};

const ID: &str = "01a2240a-0000-7000-8000-00000000aa01";

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// (status, body) of a GET with `token`, and `range` when given.
fn get(base: &str, path: &str, token: &str, range: Option<&str>) -> (u16, Vec<u8>) {
    let mut request = agent()
        .get(format!("{base}{path}"))
        .header("Authorization", format!("Bearer {token}"));
    if let Some(r) = range {
        request = request.header("Range", r);
    }
    let mut answer = request.call().unwrap();
    let status = answer.status().as_u16();
    let body = answer
        .body_mut()
        .with_config()
        .limit(64 << 20)
        .read_to_vec()
        .unwrap();
    (status, body)
}

#[test]
fn every_access_to_an_alert_is_in_the_chain_once_and_admins_can_read_it() {
    let out = tempfile::tempdir().unwrap();
    holder_store(out.path(), ID);
    std::fs::write(out.path().join("evidence/snap.jpg"), b"\xff\xd8jpeg").unwrap();
    let server = serve(out.path(), &["gate"], None);
    let base = format!("http://{}", server.addr());

    // desk opens the alert twice and plays the clip in three ranges: one view, one clip.
    assert_eq!(
        get(&base, &format!("/api/alerts/{ID}"), VIEWER, None).0,
        200
    );
    assert_eq!(
        get(&base, &format!("/api/alerts/{ID}"), VIEWER, None).0,
        200
    );
    for range in ["bytes=0-1023", "bytes=1024-65535", "bytes=65536-"] {
        let (status, _) = get(
            &base,
            &format!("/api/alerts/{ID}/clip"),
            VIEWER,
            Some(range),
        );
        assert_eq!(status, 206, "{range}");
    }
    // guard acknowledges it.
    let ack = agent()
        .post(format!("{base}/api/alerts/{ID}/ack"))
        .header("Authorization", format!("Bearer {OPERATOR}"))
        .header("Content-Type", "application/json")
        .send(r#"{"comment": "bag taken away"}"#)
        .unwrap();
    assert_eq!(ack.status(), 200);
    // An alert that is not here is not "accessed".
    assert_eq!(get(&base, "/api/alerts/no-such-alert", VIEWER, None).0, 404);

    let history = format!("/api/alerts/{ID}/access");
    assert_eq!(get(&base, &history, VIEWER, None).0, 403, "viewers may not");
    assert_eq!(
        get(&base, &history, OPERATOR, None).0,
        403,
        "operators may not"
    );
    let (status, body) = get(&base, &history, ADMIN, None);
    assert_eq!(status, 200);
    let answer: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let records = answer["access"].as_array().unwrap();
    let seen: Vec<(&str, &str, &str)> = records
        .iter()
        .map(|r| {
            (
                r["action"].as_str().unwrap(),
                r["who"].as_str().unwrap(),
                r["role"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("view", "desk", "viewer"),
            ("clip", "desk", "viewer"),
            ("ack", "guard", "operator"),
        ],
        "{answer:#}"
    );
    for r in records {
        assert!(r["from"].as_str().unwrap().starts_with("127.0.0.1:"), "{r}");
        assert_eq!(r["alert_id"], ID);
    }
    assert_eq!(records[2]["detail"], "bag taken away");
    server.stop();

    let report = vigil_deliver::verify::verify(out.path()).unwrap();
    let chain: Vec<String> = report
        .findings
        .iter()
        .map(|f| f.to_string())
        .filter(|f| f.contains("access"))
        .collect();
    assert!(chain.is_empty(), "{chain:?}");
    assert_eq!(report.accesses, 4, "the start record and three accesses");
}
