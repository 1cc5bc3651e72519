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

/// `docker/make-secrets` run into `dir` (a CA, the broker's and the API's certificates, the
/// broker's password file, mqtt.env); the password it made.
fn make_secrets(dir: &Path) -> String {
    let out = Command::new(repo().join("docker/make-secrets"))
        .arg(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "make-secrets: {out:?}");
    let again = Command::new(repo().join("docker/make-secrets"))
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        !again.status.success(),
        "make-secrets overwrote its secrets"
    );
    let env = std::fs::read_to_string(dir.join("mqtt.env")).unwrap();
    env.trim()
        .strip_prefix("VIGIL_MQTT_PASSWORD=")
        .expect("mqtt.env holds the password")
        .to_string()
}

/// `vigil check` on `config` copied into a fresh `/etc/vigil`-like folder beside the repository's
/// rules and the secrets `docker/make-secrets` makes (`secrets/`, and as the Kubernetes Secret
/// `vigil-tls` lays them out, `tls/`), with the image's model folder pointed at the repository's.
fn check_as_in_the_container(config_text: &str, env: &[(&str, &str)]) {
    let etc = tempfile::tempdir().unwrap();
    make_secrets(&etc.path().join("secrets"));
    let tls = etc.path().join("tls");
    std::fs::create_dir(&tls).unwrap();
    for (from, to) in [
        ("ca.pem", "ca.crt"),
        ("vigil.pem", "tls.crt"),
        ("vigil.key", "tls.key"),
    ] {
        std::fs::copy(etc.path().join("secrets").join(from), tls.join(to)).unwrap();
    }
    let text = config_text
        .replace(
            "/usr/local/share/vigil/models/",
            &format!("{}/", repo().join("models").display()),
        )
        .replace("/etc/vigil/tls/", &format!("{}/", tls.display()));
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
        check_as_in_the_container(
            &std::fs::read_to_string(repo().join(f)).unwrap(),
            &[("VIGIL_MQTT_PASSWORD", "from-mqtt.env")],
        );
    }
    // The ConfigMap's vigil.yaml, with the Secret's variable set as the StatefulSet sets it.
    let map: serde_json::Value = serde_saphyr::from_str(
        &std::fs::read_to_string(repo().join("deploy/k8s/configmap.yaml")).unwrap(),
    )
    .unwrap();
    let config = map["data"]["vigil.yaml"].as_str().unwrap();
    let secret = [
        ("VIGIL_CAMERA_PASSWORD", "from-the-secret"),
        ("VIGIL_MQTT_PASSWORD", "from-the-secret"),
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

/// A process killed when dropped (also when the test fails).
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The compose demo's broker, run from `docker/mosquitto.conf` with the secrets
/// `docker/make-secrets` made: it refuses anonymous clients, a wrong password and plaintext;
/// vigil, with the `outputs.mqtt` of `docker/vigil.yaml` (TLS, user `vigil`), publishes its
/// alerts there and a signed-in subscriber receives them.
#[test]
fn the_compose_broker_takes_vigil_over_tls_and_refuses_anonymous_clients() {
    use std::os::unix::fs::PermissionsExt;
    use std::process::Stdio;
    use std::time::Duration;
    let dir = tempfile::tempdir().unwrap();
    // Started as root, mosquitto drops to its own user, which must reach these.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let secrets = dir.path().join("secrets");
    let password = make_secrets(&secrets);
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o777)).unwrap();
    let port = vigil_testkit::free_port();
    let conf = std::fs::read_to_string(repo().join("docker/mosquitto.conf")).unwrap();
    let conf = conf
        .replace("listener 8883", &format!("listener {port} 127.0.0.1"))
        .replace("/mosquitto/secrets/", &format!("{}/", secrets.display()))
        .replace("/mosquitto/data/", &format!("{}/", data.display()));
    assert!(
        conf.contains(&secrets.display().to_string()) && conf.contains("allow_anonymous false")
    );
    std::fs::write(dir.path().join("mosquitto.conf"), &conf).unwrap();
    let _broker = Running(
        Command::new(vigil_testkit::Mosquitto::BINARY)
            .arg("-c")
            .arg(dir.path().join("mosquitto.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto (scripts/setup installs it)"),
    );
    assert!(vigil_testkit::wait_for_port(port, Duration::from_secs(10)));
    let ca = secrets.join("ca.pem").display().to_string();
    let port_text = port.to_string();
    let publish = |extra: &[&str]| {
        let out = Command::new("mosquitto_pub")
            .args(["-h", "127.0.0.1", "-p", &port_text, "-q", "1"])
            .args(["-t", "vigil/alerts", "-m", "{\"forged\": true}"])
            .args(extra)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, text) = publish(&["--cafile", &ca]);
    assert!(!ok, "an anonymous client published");
    assert!(text.contains("not authorised"), "{text}");
    let (ok, text) = publish(&["--cafile", &ca, "-u", "vigil", "-P", "guessed"]);
    assert!(!ok, "a wrong password published: {text}");
    let (ok, _) = publish(&["-u", "vigil", "-P", &password]);
    assert!(!ok, "a plaintext client published");

    // A reader signed in, then vigil with the compose file's broker settings.
    let reader = Command::new("mosquitto_sub")
        .args(["-h", "127.0.0.1", "-p", &port_text, "--cafile", &ca])
        .args([
            "-u",
            "vigil",
            "-P",
            &password,
            "-t",
            "vigil/alerts",
            "-C",
            "1",
            "-W",
            "120",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let compose = std::fs::read_to_string(repo().join("docker/vigil.yaml")).unwrap();
    let outputs = compose
        .split_once("\noutputs:\n")
        .and_then(|(_, rest)| rest.split_once("\napi:\n"))
        .map(|(outputs, _)| format!("outputs:\n{outputs}\n"))
        .expect("docker/vigil.yaml has outputs before api");
    let mut mqtt = outputs.clone();
    for (from, to) in [
        ("host: mosquitto", "host: 127.0.0.1".to_string()),
        ("port: 8883", format!("port: {port}")),
        ("ca_file: secrets/ca.pem", format!("ca_file: {ca}")),
    ] {
        assert!(
            mqtt.contains(from),
            "docker/vigil.yaml: no {from:?} in {outputs}"
        );
        mqtt = mqtt.replace(from, &to);
    }
    let config = dir.path().join("vigil.yaml");
    std::fs::write(
        &config,
        vigil_testkit::overhead_config(&repo().join("models"), &mqtt),
    )
    .unwrap();
    let replay = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .current_dir(repo())
        .env("VIGIL_MQTT_PASSWORD", &password)
        .args(["replay", "-c"])
        .arg(&config)
        .arg("--out")
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert!(replay.status.success(), "{replay:?}");
    let read = reader.wait_with_output().unwrap();
    let message = String::from_utf8_lossy(&read.stdout);
    assert!(
        read.status.success(),
        "no alert reached the reader: {read:?}"
    );
    let alert: serde_json::Value = serde_json::from_str(message.trim()).unwrap();
    assert_eq!(alert["camera"], "overhead", "{alert}");
}
