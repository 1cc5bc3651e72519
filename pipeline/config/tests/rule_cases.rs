//! Every declarative rule case under `rules/tests/` passes (the same runner as `vigil test-rules`).

use std::path::PathBuf;

#[test]
fn every_rule_case_passes() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../rules/tests");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 7, "{} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        match vigil_config::cases::run_case(case) {
            Ok(out) if out.passed() => {}
            Ok(out) => failures.push(format!(
                "{}: {}\n  produced: {:?}",
                case.display(),
                out.problems.join("; "),
                out.produced
            )),
            Err(e) => failures.push(format!("{}: {e}", case.display())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
