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
