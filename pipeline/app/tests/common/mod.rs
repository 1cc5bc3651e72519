//! Helpers shared by the binary's end-to-end tests.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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

/// The alert records an output folder's `alerts.jsonl` holds.
#[allow(dead_code)] // not every test binary reads alerts
pub fn alerts(dir: &Path) -> Vec<vigil_core::Alert> {
    std::fs::read_to_string(dir.join("alerts.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// `vigil <synth> --only <only> --out TMP/set` (a synthetic scene set with its config `config`
/// and labels), then `vigil eval` of it into TMP/eval. Returns what eval printed, its report,
/// its folder, and the true positives, false positives and misses over all its rules.
#[allow(dead_code)] // not every test binary scores rendered scenes
pub fn synth_and_eval(
    tmp: &Path,
    synth: &str,
    only: &str,
    config: &str,
) -> (String, serde_json::Value, std::path::PathBuf, [u64; 3]) {
    let set = tmp.join("set");
    run_ok(
        vigil()
            .args([synth, "--only", only, "--out"])
            .arg(&set)
            .env("VIGIL_ASSETS", assets()),
    );
    let eval = tmp.join("eval");
    let text = run_ok(
        vigil()
            .arg("eval")
            .arg("-c")
            .arg(set.join(config))
            .arg("--labels")
            .arg(set.join("labels.yaml"))
            .arg("--out")
            .arg(&eval)
            .env("VIGIL_ASSETS", assets()),
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(eval.join("eval.json")).unwrap()).unwrap();
    let mut totals = [0; 3];
    for s in report["rules"].as_object().unwrap().values() {
        for (t, field) in totals
            .iter_mut()
            .zip(["true_positives", "false_positives", "missed"])
        {
            *t += s[field].as_u64().unwrap();
        }
    }
    (text, report, eval, totals)
}

/// The shared assets: `$VIGIL_ASSETS`, else `../shared` beside the repository.
#[allow(dead_code)]
pub fn assets() -> std::path::PathBuf {
    std::env::var_os("VIGIL_ASSETS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared"))
}

/// An answer of vigil's API: status, headers (names lower-case) and body.
#[allow(dead_code)] // not every test binary asks the API
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

#[allow(dead_code)]
impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {} {}", self.status, self.text()))
    }
}

/// `method path` to vigil's API on 127.0.0.1:`port` (HTTP/1.0, so the body ends with the
/// connection) as the holder of `token`, with `headers` and `body`.
#[allow(dead_code)] // not every test binary asks the API
pub fn api(
    port: u16,
    method: &str,
    path: &str,
    token: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Answer {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(raw.len());
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Answer {
        status,
        headers,
        body: raw.get(split + 4..).unwrap_or_default().to_vec(),
    }
}

/// GET `path` from vigil's API on 127.0.0.1:`port` as the holder of `token`: the status and the
/// body.
#[allow(dead_code)] // not every test binary asks the API
pub fn api_get(port: u16, path: &str, token: &str) -> (u16, String) {
    let a = api(port, "GET", path, token, &[], b"");
    (a.status, a.text())
}

/// The `outputs.postgres` lines (indented for it) that give instance `me` its identity key and
/// register `instances` — (name, API port on 127.0.0.1) — with their public keys. Keys are made
/// in `dir` as `<name>.key` the first time they are asked for. (The district tests' only.)
#[allow(dead_code)]
pub fn district_identity(dir: &std::path::Path, me: &str, instances: &[(&str, u16)]) -> String {
    let key = |name: &str| {
        let path = dir.join(format!("{name}.key"));
        if !path.exists() {
            vigil_deliver::keys::generate(&path).unwrap();
        }
        let public = vigil_deliver::keys::SigningKey::load(&path)
            .unwrap()
            .public_hex();
        (path, public)
    };
    let mut out = format!(
        "    identity_key: {}\n    instances:\n",
        key(me).0.display()
    );
    for (name, port) in instances {
        out += &format!(
            "      - {{ name: {name}, url: \"http://127.0.0.1:{port}\", public_key: {} }}\n",
            key(name).1
        );
    }
    out
}

/// The repository's root.
#[allow(dead_code)]
pub fn repo() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The page drivers' folder (`pipeline/serve/tests/browser`), once playwright-core and Debian's
/// Chromium are there (`scripts/setup` installs both; a test never skips without them).
#[allow(dead_code)]
pub fn browser() -> std::path::PathBuf {
    let browser = repo().join("pipeline/serve/tests/browser");
    assert!(
        browser.join("node_modules/playwright-core").is_dir()
            && std::path::Path::new("/usr/bin/chromium").exists(),
        "playwright-core or chromium missing: run scripts/setup"
    );
    browser
}

/// `vigil`, run from the repository's root with warnings only.
#[allow(dead_code)]
pub fn vigil() -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_vigil"));
    c.current_dir(repo()).env("RUST_LOG", "warn");
    c
}

/// `vigil replay -c config --out out`, to its end.
#[allow(dead_code)]
pub fn replay(config: &std::path::Path, out: &std::path::Path) -> std::process::Output {
    vigil()
        .args(["replay", "-c"])
        .arg(config)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

/// `vigil run -c config --out out` (its stdout dropped), once its API answers on `port`.
#[allow(dead_code)]
pub fn run_serving(
    config: &std::path::Path,
    out: &std::path::Path,
    port: u16,
) -> std::process::Child {
    let child = vigil()
        .args(["run", "-c"])
        .arg(config)
        .arg("--out")
        .arg(out)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    assert!(
        vigil_testkit::wait_for_port(port, std::time::Duration::from_secs(60)),
        "API did not come up"
    );
    child
}

/// Stops a `vigil run` as Ctrl-C does, and waits for it.
#[allow(dead_code)]
pub fn interrupt(mut child: std::process::Child) {
    let _ = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

/// A `vigil bench-server` child serving byte-stream files (`.h265`: H.265) at
/// `rtsp://127.0.0.1:PORT/NAME`, looped at 25 frames/s; killed when dropped.
#[allow(dead_code)]
pub struct Server {
    child: Child,
}

#[allow(dead_code)]
impl Server {
    /// Starts it on `port` and returns once it says it accepts connections (with that instant).
    pub fn start(port: u16, mounts: &[(&str, &Path)]) -> (Self, Instant) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let mut child = Command::new(env!("CARGO_BIN_EXE_vigil"))
                .args(["bench-server", "--port", &port.to_string()])
                .args(
                    mounts
                        .iter()
                        .map(|(name, file)| format!("{name}={}:25/1", file.display())),
                )
                .env("RUST_LOG", "warn")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let mut line = String::new();
            let _ = BufReader::new(child.stdout.take().unwrap()).read_line(&mut line);
            if line.starts_with("port ") {
                return (Self { child }, Instant::now());
            }
            // The port may still be held by the killed server's socket for a moment.
            let _ = child.kill();
            let _ = child.wait();
            assert!(
                Instant::now() < deadline,
                "RTSP server cannot listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill {sig}");
    }

    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
