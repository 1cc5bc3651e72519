//! The broken rule-file corpus: every file under `rules/tests/broken/` is loaded as a rule file
//! of a small site config, and must fail with exactly the messages `expected.yaml` lists for it
//! (`file:line:col: message`). `VIGIL_BLESS=1` rewrites `expected.yaml` from what the loader says
//! now — review the diff before committing it.

use std::collections::BTreeMap;
use std::path::PathBuf;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn errors_for(rule_file: &std::path::Path) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("site.yaml");
    std::fs::write(
        &config,
        format!(
            "cameras:
  - name: lot
    file: footage/person-bicycle-car-detection.gif
    zones:
      lane: [[0.0, 0.3], [0.45, 0.3], [0.45, 1.0], [0.0, 1.0]]
  - name: overhead
    file: footage/car-detection.mp4
detector:
  manifest: {}
rule_files:
  - {}
",
            repo().join("models/yolox-nano.yaml").display(),
            rule_file.display()
        ),
    )
    .unwrap();
    let assets = std::env::var_os("VIGIL_ASSETS").map(PathBuf::from);
    match vigil_config::load(&config, assets.as_deref()) {
        Ok(_) => Vec::new(),
        Err(errors) => errors
            .0
            .iter()
            .map(|e| {
                let file = e.file.file_name().unwrap_or_default().to_string_lossy();
                format!("{file}:{}:{}: {}", e.line, e.column, e.message)
            })
            .collect(),
    }
}

#[test]
fn every_broken_rule_file_fails_with_the_expected_messages() {
    let corpus = repo().join("rules/tests/broken");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml") && !p.ends_with("expected.yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 30, "the corpus has {} files", files.len());
    let actual: BTreeMap<String, Vec<String>> = files
        .iter()
        .map(|f| {
            let name = f.file_name().unwrap().to_string_lossy().to_string();
            (name, errors_for(f))
        })
        .collect();
    let expected_path = corpus.join("expected.yaml");
    if std::env::var_os("VIGIL_BLESS").is_some() {
        let mut text = String::from(
            "# What `vigil check` says about each broken rule file (see pipeline/config/tests/rule_corpus.rs).\n",
        );
        for (name, errors) in &actual {
            text.push_str(&format!("{name}:\n"));
            for e in errors {
                text.push_str(&format!("  - {}\n", serde_json::to_string(e).unwrap()));
            }
        }
        std::fs::write(&expected_path, text).unwrap();
    }
    let expected: BTreeMap<String, Vec<String>> =
        serde_saphyr::from_str(&std::fs::read_to_string(&expected_path).unwrap()).unwrap();
    for (name, errors) in &actual {
        assert!(!errors.is_empty(), "{name} loaded without an error");
        assert!(
            errors.iter().all(|e| !e.contains(":0:0:")),
            "{name}: every error has a position: {errors:#?}"
        );
        assert_eq!(Some(errors), expected.get(name), "{name}");
    }
    assert_eq!(
        actual.len(),
        expected.len(),
        "expected.yaml lists files that are gone"
    );
}
