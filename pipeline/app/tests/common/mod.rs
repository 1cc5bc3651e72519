//! Helpers shared by the binary's end-to-end tests.

use std::io::{BufRead, BufReader};

/// The lines a child prints, as they come, read on a thread of their own.
#[allow(dead_code)] // not every test binary reads a child's output as it comes
pub fn lines(out: impl std::io::Read + Send + 'static) -> crossbeam_channel::Receiver<String> {
    let (tx, rx) = crossbeam_channel::bounded::<String>(64);
    std::thread::Builder::new()
        .name("child-stdout".into())
        .spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        })
        .expect("spawn the reader thread");
    rx
}

/// Runs `c` to its end; panics with everything it printed unless it succeeded. Returns its
/// stdout and stderr.
#[allow(dead_code)] // not every test binary runs commands to their end
pub fn run_ok(c: &mut std::process::Command) -> String {
    let out = c.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    text
}

/// GET `path` from vigil's API on 127.0.0.1:`port` as the holder of `token`: the status and the
/// body.
#[allow(dead_code)] // not every test binary asks the API
pub fn api_get(port: u16, path: &str, token: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, body.to_string())
}
