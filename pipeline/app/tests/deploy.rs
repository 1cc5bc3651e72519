//! The deployment files: there is no Docker engine or Kubernetes cluster here, so they are checked
//! by what can run — hadolint on the Dockerfile, the compose specification's JSON schema on the
//! compose file, kubernetes-validate (strict) on every manifest, each also shown a broken file it
//! must reject — and every config they hand vigil passes `vigil check` laid out as the container
//! sees it.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A linter from `.vigil/lint` (scripts/setup installs them, pinned).
fn lint(tool: &str) -> Command {
    let bin = repo().join(".vigil/lint/bin").join(tool);
    assert!(
        bin.is_file(),
        "{} is missing: run scripts/setup (it installs the deployment linters)",
        bin.display()
    );
    let mut c = Command::new(bin);
    c.current_dir(repo());
    c
}

fn passes(c: &mut Command) -> (bool, String) {
    let out = c.output().unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn manifests() -> Vec<PathBuf> {
    let mut m: Vec<PathBuf> = std::fs::read_dir(repo().join("deploy/k8s"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    m.sort();
    m
}

#[test]
fn the_dockerfile_compose_file_and_manifests_pass_their_linters() {
    let tmp = tempfile::tempdir().unwrap();
    let (ok, text) = passes(lint("hadolint").arg("docker/Dockerfile"));
    assert!(ok, "hadolint: {text}");
    let bad = tmp.path().join("Dockerfile");
    std::fs::write(&bad, "FROM debian\nRUN apt-get install curl\n").unwrap();
    let (ok, text) = passes(lint("hadolint").arg(&bad));
    assert!(
        !ok,
        "hadolint accepted an untagged base and an unpinned install: {text}"
    );

    let schema = ["--builtin-schema", "vendor.compose-spec"];
    let (ok, text) = passes(
        lint("check-jsonschema")
            .args(schema)
            .arg("docker/compose.yaml"),
    );
    assert!(ok, "compose schema: {text}");
    let bad = tmp.path().join("compose.yaml");
    std::fs::write(
        &bad,
        "services:\n  vigil:\n    image: vigil\n    ports: 8080\n",
    )
    .unwrap();
    let (ok, text) = passes(lint("check-jsonschema").args(schema).arg(&bad));
    assert!(!ok, "the compose schema accepted ports: 8080: {text}");

    let files = manifests();
    assert!(files.len() >= 4, "{files:?}");
    let (ok, text) = passes(lint("kubernetes-validate").arg("--strict").args(&files));
    assert!(ok, "kubernetes-validate: {text}");
    let bad = tmp.path().join("statefulset.yaml");
    let broken = std::fs::read_to_string(repo().join("deploy/k8s/statefulset.yaml"))
        .unwrap()
        .replace("replicas: 3", "replicas: three");
    std::fs::write(&bad, broken).unwrap();
    let (ok, text) = passes(lint("kubernetes-validate").arg("--strict").arg(&bad));
    assert!(!ok, "kubernetes-validate accepted replicas: three: {text}");
}

/// `vigil check` on `config` copied into a fresh `/etc/vigil`-like folder beside the repository's
/// rules, with the image's model folder pointed at the repository's.
fn check_as_in_the_container(config_text: &str, env: &[(&str, &str)]) {
    let etc = tempfile::tempdir().unwrap();
    let text = config_text.replace(
        "/usr/local/share/vigil/models/",
        &format!("{}/", repo().join("models").display()),
    );
    let config = etc.path().join("vigil.yaml");
    std::fs::write(&config, text).unwrap();
    copy_dir(&repo().join("rules"), &etc.path().join("rules"));
    let out = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .current_dir(etc.path())
        .envs(env.iter().copied())
        .arg("check")
        .arg("-c")
        .arg(&config)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{config_text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        if p.is_file() {
            std::fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
        }
    }
}

#[test]
fn every_config_the_deployment_hands_vigil_passes_vigil_check() {
    for f in ["docker/vigil.yaml", "docker/footage.yaml"] {
        check_as_in_the_container(&std::fs::read_to_string(repo().join(f)).unwrap(), &[]);
    }
    // The ConfigMap's vigil.yaml, with the Secret's variable set as the StatefulSet sets it.
    let map: serde_json::Value = serde_saphyr::from_str(
        &std::fs::read_to_string(repo().join("deploy/k8s/configmap.yaml")).unwrap(),
    )
    .unwrap();
    let config = map["data"]["vigil.yaml"].as_str().unwrap();
    let secret = [
        ("VIGIL_CAMERA_PASSWORD", "from-the-secret"),
        ("VIGIL_PG_PASSWORD", "from-the-secret"),
    ];
    check_as_in_the_container(config, &secret);

    // The StatefulSet's shard count is its replica count, and its pods run `--shard auto`.
    let set: serde_json::Value = serde_saphyr::from_str(
        &std::fs::read_to_string(repo().join("deploy/k8s/statefulset.yaml")).unwrap(),
    )
    .unwrap();
    let container = &set["spec"]["template"]["spec"]["containers"][0];
    let count = container["env"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "VIGIL_SHARD_COUNT")
        .and_then(|e| e["value"].as_str())
        .unwrap();
    assert_eq!(count, set["spec"]["replicas"].to_string());
    let args: Vec<&str> = container["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(
        args.windows(2).any(|w| w == ["--shard", "auto"]),
        "{args:?}"
    );
}

#[test]
fn the_image_installs_with_the_setup_script_profiles_that_exist() {
    let dockerfile = std::fs::read_to_string(repo().join("docker/Dockerfile")).unwrap();
    let profiles: Vec<&str> = dockerfile
        .split("setup --profile ")
        .skip(1)
        .filter_map(|rest| rest.split_whitespace().next())
        .collect();
    assert_eq!(profiles, ["build", "runtime"], "{dockerfile}");
    let setup = std::fs::read_to_string(repo().join("scripts/setup")).unwrap();
    for p in profiles {
        assert!(
            setup.contains(&format!("{p})")),
            "scripts/setup has no profile {p}"
        );
    }
    let bad = Command::new(repo().join("scripts/setup"))
        .args(["--profile", "everything"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2), "an unknown profile is refused");
    // What the compose file runs exists.
    let out = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["serve-footage", "--help"])
        .output()
        .unwrap();
    assert!(out.status.success());
}
