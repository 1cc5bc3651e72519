//! Instances trust the instances the admin registered, never the shared store. Against a real
//! PostgreSQL: a presence row pointing at another address (a compromised box, or anyone with the
//! database password, rewrote it) is not followed — the registered address is; an alert held by
//! an unregistered instance is not forwarded at all; and the forwarded request carries no token of
//! the guard's, only the forwarding instance's signature. A request claiming to be forwarded
//! without a registered instance's valid signature is refused, whatever token it carries. An
//! instance registered at `https://` is reached over TLS, its certificate checked against the
//! district's CA.

mod common;

use common::{
    OPERATOR, VIEWER, alert, announce, database, district, district_with, get, holder_store, serve,
    serve_with, share,
};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use vigil_testkit::{Postgres, eventually};

/// A stand-in instance on 127.0.0.1 that keeps each request head it gets and answers `{}`.
struct Recorder {
    addr: SocketAddr,
    heads: Arc<Mutex<Vec<String>>>,
}

fn recorder() -> Recorder {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let heads = Arc::new(Mutex::new(Vec::new()));
    let kept = heads.clone();
    std::thread::Builder::new()
        .name("recorder".into())
        .spawn(move || {
            for mut s in listener.incoming().map_while(Result::ok) {
                let mut buf = [0u8; 8192];
                let n = s.read(&mut buf).unwrap_or(0);
                kept.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&buf[..n]).to_ascii_lowercase());
                let _ = write!(
                    s,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"
                );
            }
        })
        .unwrap();
    Recorder { addr, heads }
}

#[test]
fn forwarding_follows_the_registry_not_the_shared_store_and_sends_no_token() {
    let pg = Postgres::start().expect("PostgreSQL (scripts/setup installs it)");
    let db = database(&pg);
    let registered = recorder();
    let rewritten = recorder();
    // c's alert, and a presence row that points at another address than the registered one.
    let c_dir = tempfile::tempdir().unwrap();
    share(&db, "c", &holder_store(c_dir.path(), "held-by-c"));
    let _c = announce(c_dir.path(), &db, "c", format!("http://{}", rewritten.addr));
    // d is not registered at all.
    let d_dir = tempfile::tempdir().unwrap();
    share(
        &db,
        "d",
        &[alert("held-by-d", "gate", "2026-12-03T08:00:00.000Z")],
    );
    let _d = announce(d_dir.path(), &db, "d", format!("http://{}", rewritten.addr));

    let a_dir = tempfile::tempdir().unwrap();
    let a = serve(
        a_dir.path(),
        &["lot"],
        district(
            &db,
            a_dir.path(),
            "a",
            &[("c", format!("http://{}", registered.addr))],
        ),
    );
    let answered = eventually(Duration::from_secs(20), || {
        let (status, _, body) = get(a.addr(), "/api/alerts/held-by-c", 1 << 16);
        (status == 200).then_some(body)
    });
    assert_eq!(
        answered.as_deref(),
        Some(&b"{}"[..]),
        "answered by the registered address"
    );
    let heads = registered.heads.lock().unwrap().clone();
    assert_eq!(heads.len(), 1, "{heads:?}");
    let head = &heads[0];
    assert!(
        !head.contains("authorization"),
        "the guard's token was sent on: {head}"
    );
    assert!(!head.contains(VIEWER), "{head}");
    for signed in [
        "x-vigil-forwarded: a",
        "x-vigil-on-behalf: desk",
        "x-vigil-role: viewer",
        "x-vigil-instance-signature: ",
    ] {
        assert!(head.contains(signed), "no {signed:?} in {head}");
    }

    let (status, _, body) = get(a.addr(), "/api/alerts/held-by-d", 1 << 16);
    let body = String::from_utf8_lossy(&body);
    assert_eq!(status, 502, "{body}");
    assert!(body.contains("not registered"), "{body}");
    assert!(
        rewritten.heads.lock().unwrap().is_empty(),
        "the address in the shared store was contacted"
    );
    a.stop();
}

/// A raw request to `addr` with `headers`; the status.
fn status_of(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)]) -> u16 {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
    for (k, v) in headers {
        request += &format!("{k}: {v}\r\n");
    }
    request += "Content-Length: 0\r\n\r\n";
    s.write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

#[test]
fn a_forwarded_request_without_a_registered_signature_is_refused() {
    let pg = Postgres::start().expect("PostgreSQL (scripts/setup installs it)");
    let keys = tempfile::tempdir().unwrap();
    let b_dir = tempfile::tempdir().unwrap();
    holder_store(b_dir.path(), "far");
    let b = serve(
        b_dir.path(),
        &["gate"],
        district(
            &database(&pg),
            keys.path(),
            "b",
            &[("a", "http://a.invalid".into())],
        ),
    );
    let bearer = format!("Bearer {OPERATOR}");
    // The token alone still works…
    assert_eq!(
        status_of(
            b.addr(),
            "GET",
            "/api/alerts/far",
            &[("Authorization", &bearer)]
        ),
        200
    );
    // …but a request that says it was forwarded needs a registered instance's signature.
    let forged: [&[(&str, &str)]; 3] = [
        &[("X-Vigil-Forwarded", "a"), ("Authorization", &bearer)],
        &[
            ("X-Vigil-Forwarded", "a"),
            ("X-Vigil-On-Behalf", "guard"),
            ("X-Vigil-Role", "operator"),
            ("X-Vigil-Sent-Ms", "1764750000000"),
            ("X-Vigil-Body-Sha256", "00"),
            ("X-Vigil-Instance-Signature", &"ab".repeat(64)),
        ],
        &[("X-Vigil-Forwarded", "mallory"), ("Authorization", &bearer)],
    ];
    for headers in forged {
        assert_eq!(
            status_of(b.addr(), "POST", "/api/alerts/far/ack", headers),
            401,
            "{headers:?}"
        );
    }
    b.stop();
}

#[test]
fn an_https_instance_is_reached_over_tls_checked_against_the_district_ca() {
    let pg = Postgres::start().expect("PostgreSQL (scripts/setup installs it)");
    let db = database(&pg);
    let keys = tempfile::tempdir().unwrap();
    let certs = tempfile::tempdir().unwrap();
    vigil_testkit::postgres::make_certificates(certs.path()).unwrap();
    let other_ca = vigil_testkit::postgres::make_ca(certs.path(), "other").unwrap();

    // b holds the alert and serves HTTPS only.
    let b_dir = tempfile::tempdir().unwrap();
    share(&db, "b", &holder_store(b_dir.path(), "held-by-b"));
    let b = serve_with(
        b_dir.path(),
        &["gate"],
        district(&db, keys.path(), "b", &[("a", "https://a.invalid".into())]),
        Some(vigil_config::TlsFiles {
            cert_file: certs.path().join("server.pem"),
            key_file: certs.path().join("server.key"),
        }),
    );
    let b_url = format!("https://127.0.0.1:{}", b.addr().port());
    let _b = announce(b_dir.path(), &db, "b", b_url.clone());

    let asked = |ca: Option<&std::path::Path>| {
        let a_dir = tempfile::tempdir().unwrap();
        let a = serve(
            a_dir.path(),
            &["lot"],
            district_with(&db, keys.path(), "a", &[("b", b_url.clone())], ca),
        );
        let answer = eventually(Duration::from_secs(20), || {
            let (status, _, body) = get(a.addr(), "/api/alerts/held-by-b", 1 << 16);
            (status != 404).then(|| (status, String::from_utf8_lossy(&body).into_owned()))
        });
        a.stop();
        answer.expect("an answer other than 404")
    };
    let (status, body) = asked(Some(&certs.path().join("ca.pem")));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("held-by-b"), "{body}");
    let (status, body) = asked(Some(&other_ca));
    assert_eq!(status, 502, "{body}");
    assert!(
        body.contains("TLS"),
        "a certificate of another CA was taken: {body}"
    );
    let (status, body) = asked(None);
    assert_eq!(status, 502, "{body}");
    assert!(body.contains("no instances_ca_file"), "{body}");
    b.stop();
}
