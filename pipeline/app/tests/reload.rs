//! Hot reload against a running `vigil run`: a broken edit of a rule file is rejected with its
//! error and the rules in force kept — a number no clock holds (`dwell_secs: 1e30`, which once
//! panicked the reload thread and left every later edit ignored) among them; a good edit is in
//! force within seconds, without the camera reconnecting.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use vigil_testkit::{eventually, lane_blocked_rule, looping_lot_config};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Collects a child's output lines as they come.
fn collect(reader: impl std::io::Read + Send + 'static) -> Arc<Mutex<Vec<String>>> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let l = lines.clone();
    std::thread::Builder::new()
        .name("child-output".into())
        .spawn(move || {
            for line in BufReader::new(reader).lines().map_while(Result::ok) {
                l.lock().unwrap().push(line);
            }
        })
        .unwrap();
    lines
}

fn has(lines: &Arc<Mutex<Vec<String>>>, needle: &str) -> bool {
    lines.lock().unwrap().iter().any(|l| l.contains(needle))
}

#[test]
fn rule_edits_apply_while_running_and_broken_ones_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let rule_file = dir.path().join("lane.yaml");
    std::fs::write(&rule_file, lane_blocked_rule("3600")).unwrap();
    let config = dir.path().join("site.yaml");
    let extra = "evidence:\n  enabled: false\nrule_files: [lane.yaml]\n";
    std::fs::write(&config, looping_lot_config(&repo().join("models"), extra)).unwrap();
    let out = dir.path().join("out");
    let mut child = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .current_dir(repo())
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .args(["run", "-c"])
        .arg(&config)
        .arg("--out")
        .arg(&out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = collect(child.stdout.take().unwrap());
    let stderr = collect(child.stderr.take().unwrap());
    let up = eventually(Duration::from_secs(60), || {
        has(&stderr, "camera online").then_some(())
    });

    // Broken edits: rejected, located, the old rule kept.
    let rejections = || {
        let lines = stderr.lock().unwrap();
        lines
            .iter()
            .filter(|l| l.contains("the rules in force are kept"))
            .count()
    };
    let mut rejected = Vec::new();
    for (i, edit) in ["soon", "1e30"].into_iter().enumerate() {
        std::fs::write(&rule_file, lane_blocked_rule(edit)).unwrap();
        rejected.push(eventually(Duration::from_secs(20), || {
            (rejections() > i).then_some(())
        }));
    }
    // A good edit: a 1 s dwell, in force at the next frame.
    std::fs::write(&rule_file, lane_blocked_rule("1")).unwrap();
    let written = Instant::now();
    let in_force = eventually(Duration::from_secs(20), || {
        let lines = stderr.lock().unwrap();
        lines
            .iter()
            .filter(|l| l.contains("new rules applied"))
            .count()
            .eq(&1)
            .then(|| written.elapsed())
    });
    let alerted = eventually(Duration::from_secs(60), || {
        has(&stdout, "ALERT dwell").then_some(())
    });
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let _ = child.wait();
    let err = stderr.lock().unwrap().join("\n");
    assert!(up.is_some(), "camera never came up:\n{err}");
    assert!(
        rejected.iter().all(Option::is_some),
        "broken edits not rejected ({rejected:?}):\n{err}"
    );
    assert!(
        err.contains(&format!(
            "{}:8:17: dwell_secs must be a number of seconds between 0 and 604800",
            rule_file.display()
        )),
        "the rejection names file:line:col:\n{err}"
    );
    let took = in_force.unwrap_or_else(|| panic!("good edit never in force:\n{err}"));
    eprintln!("rule edit in force {} ms after the write", took.as_millis());
    assert!(alerted.is_some(), "no alert under the new rule:\n{err}");
    assert!(
        !err.contains("camera offline"),
        "the camera was not reconnected by the reload:\n{err}"
    );
}
