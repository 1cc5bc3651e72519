//! The API over HTTPS (rustls) with a configured certificate, against curl as the client: a
//! plaintext request to the TLS port gets no answer, a client that does not trust the CA is
//! refused, one that does signs in and gets a `Secure` session cookie and the alert list.

mod common;

use common::OPERATOR;
use std::path::Path;
use std::process::Command;

fn curl(args: &[&str]) -> (bool, String) {
    let out = Command::new("curl")
        .args(["-sS", "-i", "--max-time", "10"])
        .args(args)
        .output()
        .expect("curl (scripts/setup installs it)");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

fn https_server(dir: &Path) -> vigil_serve::Server {
    vigil_testkit::postgres::make_certificates(dir).unwrap();
    std::fs::create_dir_all(dir.join("out/evidence")).unwrap();
    let config = vigil_serve::ServeConfig {
        tls: Some(vigil_config::TlsFiles {
            cert_file: dir.join("server.pem"),
            key_file: dir.join("server.key"),
        }),
        ..common::config(&dir.join("out"), &["gate"])
    };
    common::start(config, vigil_serve::Events::default())
}

#[test]
fn the_api_speaks_https_only_with_a_secure_cookie() {
    let dir = tempfile::tempdir().unwrap();
    let server = https_server(dir.path());
    let port = server.addr().port();
    let ca = dir.path().join("ca.pem");
    let ca = ca.to_str().unwrap();

    // Plaintext to the TLS port: no HTTP answer.
    let (ok, text) = curl(&[&format!("http://127.0.0.1:{port}/healthz")]);
    assert!(!ok && !text.contains("HTTP/1.1 200"), "{text}");
    // A client that does not trust the CA refuses the server.
    let (ok, text) = curl(&[&format!("https://127.0.0.1:{port}/healthz")]);
    assert!(!ok, "{text}");
    // One that does: signed in with a Secure cookie, and the list answers.
    let (ok, text) = curl(&[
        "--cacert",
        ca,
        "-H",
        "Content-Type: application/json",
        "-d",
        &format!("{{\"token\":\"{OPERATOR}\"}}"),
        &format!("https://127.0.0.1:{port}/api/session"),
    ]);
    assert!(ok && text.starts_with("HTTP/1.1 200"), "{text}");
    let cookie = text
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .unwrap_or_else(|| panic!("no cookie: {text}"));
    assert!(
        cookie.contains("; Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    let (ok, text) = curl(&[
        "--cacert",
        ca,
        "-H",
        &format!("Authorization: Bearer {OPERATOR}"),
        &format!("https://127.0.0.1:{port}/api/alerts"),
    ]);
    assert!(ok && text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains("\"alerts\":[]"), "{text}");
    server.stop();
}
