//! Many boxes: instances started with `--shard I/N` on one camera list share the cameras out by
//! rendezvous hashing — each camera processed by exactly one instance; going from 3 to 4
//! instances moves only the cameras the new one wins, and every camera still raises the same
//! alerts — all publishing to one real mosquitto (each with its own liveness topic and last
//! will) and writing every record into one real PostgreSQL (the shared store) exactly once, also
//! through an outage of the database.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use vigil_config::shard::owner;
use vigil_core::{Alert, AlertEvent};
use vigil_testkit::{Mosquitto, MqttSubscriber, Postgres, eventually};

const CAMERAS: usize = 9;

/// A viewer token of the live instance's API, and its sha256 for the config.
const TOKEN: &str = "vigil-district-test-token";
const TOKEN_SHA256: &str = "847c8f8ccbaa51eaac605c48017a20dd1d58ede430b5958401019a68b222c5ed";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn names() -> Vec<String> {
    (1..=CAMERAS).map(|i| format!("cam-{i}")).collect()
}

/// Nine file cameras (the parking-lot clip, 3.3 s) with one `enter` rule each, all to the
/// broker on `port` and the shared store at `postgres`; with the HTTP API on `api` if given.
fn config(dir: &Path, port: u16, postgres: &str, api: Option<u16>) -> PathBuf {
    let mut text = format!(
        "detector:\n  manifest: {}\n  detect_fps: 6\n\
         outputs:\n  mqtt:\n    host: 127.0.0.1\n    port: {port}\n    client_id: vigil\n    keep_alive_secs: 2\n\
         \x20 postgres:\n    url: {postgres}\n\
         evidence:\n  enabled: false\ncameras:\n",
        repo().join("models/yolox-nano.yaml").display()
    );
    for c in names() {
        text.push_str(&format!(
            "  - name: {c}\n    file: footage/person-bicycle-car-detection.gif\n    zones:\n      all: [[0, 0], [1, 0], [1, 1], [0, 1]]\n"
        ));
    }
    text.push_str("rules:\n");
    for c in names() {
        text.push_str(&format!(
            "  - {{ name: {c}-vehicle, kind: enter, camera: {c}, zone: all, classes: [vehicle], min_score: 0.3 }}\n"
        ));
    }
    if let Some(api) = api {
        text.push_str(&format!(
            "api:\n  listen: 127.0.0.1:{api}\n  tokens:\n    - {{ name: test, role: viewer, sha256: {TOKEN_SHA256} }}\n"
        ));
    }
    let path = dir.join(format!("config-{}.yaml", api.unwrap_or(0)));
    std::fs::write(&path, text).unwrap();
    path
}

fn vigil(args: &[&str], config: &Path, out: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vigil"));
    c.current_dir(repo())
        .env("RUST_LOG", "warn")
        .args(args)
        .arg("-c")
        .arg(config)
        .arg("--out")
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    c
}

/// What one instance did: the cameras it decoded, its alerts' start records per camera, and
/// every record it stored (`id:event`).
struct Run {
    cameras: BTreeSet<String>,
    starts: BTreeMap<String, Vec<String>>,
    records: BTreeSet<String>,
}

fn read_run(out: &Path) -> Run {
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let cameras = summary["ingest"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, s)| s["received"].as_u64().unwrap_or(0) > 0)
        .map(|(c, _)| c.clone())
        .collect();
    let mut starts: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut records = BTreeSet::new();
    for line in std::fs::read_to_string(out.join("alerts.jsonl"))
        .unwrap_or_default()
        .lines()
    {
        let a: Alert = serde_json::from_str(line).unwrap();
        records.insert(format!("{}:{}", a.id, a.event.as_str()));
        if a.event == AlertEvent::Start {
            starts
                .entry(a.camera.to_string())
                .or_default()
                .push(a.id.to_string());
        }
    }
    Run {
        cameras,
        starts,
        records,
    }
}

/// Replays the config as `count` instances at once; returns each one's run.
fn replay_sharded(config: &Path, dir: &Path, count: u32) -> Vec<Run> {
    let children: Vec<(PathBuf, Child)> = (0..count)
        .map(|i| {
            let out = dir.join(format!("{count}-shards-{i}"));
            let shard = format!("{i}/{count}");
            let name = format!("vigil-{i}");
            let child = vigil(
                &["replay", "--shard", &shard, "--instance", &name],
                config,
                &out,
            )
            .spawn()
            .unwrap();
            (out, child)
        })
        .collect();
    children
        .into_iter()
        .map(|(out, child)| {
            let done = child.wait_with_output().unwrap();
            assert!(
                done.status.success(),
                "{}",
                String::from_utf8_lossy(&done.stderr)
            );
            read_run(&out)
        })
        .collect()
}

/// Start records per camera over all runs; panics if a camera ran in two instances.
fn by_camera(runs: &[Run], count: u32) -> BTreeMap<String, usize> {
    let mut seen = BTreeMap::new();
    for (i, r) in runs.iter().enumerate() {
        let want: BTreeSet<String> = names()
            .into_iter()
            .filter(|c| owner(c, count) == i as u32)
            .collect();
        assert_eq!(
            r.cameras, want,
            "instance {i}/{count}: the cameras hashing gives it"
        );
        for c in &r.cameras {
            let n = r.starts.get(c).map_or(0, Vec::len);
            assert!(seen.insert(c.clone(), n).is_none(), "{c} ran twice");
        }
    }
    assert_eq!(seen.len(), CAMERAS, "every camera ran: {seen:?}");
    seen
}

#[test]
fn sharded_instances_split_the_cameras_and_a_fourth_takes_only_its_share() {
    let broker = Mosquitto::start();
    let mut pg = Postgres::start().expect("PostgreSQL (scripts/setup installs it)");
    let tmp = tempfile::tempdir().unwrap();
    let config_path = config(tmp.path(), broker.port, &pg.url(), None);
    let config = config_path.as_path();
    let alerts = MqttSubscriber::connect(broker.port, "vigil/alerts");
    let liveness = MqttSubscriber::connect(broker.port, "vigil/instance/+/status");

    // Three instances.
    let three = replay_sharded(config, tmp.path(), 3);
    let per_camera = by_camera(&three, 3);
    assert!(
        per_camera.values().all(|&n| n >= 1),
        "the car in the clip raises an alert on every camera: {per_camera:?}"
    );
    // Every start record reached the shared broker exactly once.
    let stored: BTreeSet<String> = three
        .iter()
        .flat_map(|r| r.starts.values().flatten().cloned())
        .collect();
    let published = eventually(Duration::from_secs(30), || {
        let got: Vec<String> = alerts
            .messages()
            .iter()
            .filter_map(|m| serde_json::from_slice::<Alert>(&m.payload).ok())
            .filter(|a| a.event == AlertEvent::Start)
            .map(|a| a.id.to_string())
            .collect();
        (got.iter().collect::<BTreeSet<_>>().len() == stored.len()).then_some(got)
    })
    .expect("every alert on vigil/alerts");
    assert_eq!(published.len(), stored.len(), "no start record twice");
    assert_eq!(published.into_iter().collect::<BTreeSet<_>>(), stored);
    // Every record of every instance is in the shared store once, under its instance's name.
    let shared = |pg: &Postgres| -> Vec<String> {
        let rows = pg
            .psql("select alert_id || ':' || event || ' ' || instance from vigil_records order by seq")
            .unwrap();
        rows.lines().map(str::to_string).collect()
    };
    let want: BTreeSet<String> = three
        .iter()
        .enumerate()
        .flat_map(|(i, r)| r.records.iter().map(move |k| format!("{k} vigil-{i}")))
        .collect();
    let rows = shared(&pg);
    assert_eq!(rows.len(), want.len(), "{rows:?}");
    assert_eq!(rows.into_iter().collect::<BTreeSet<_>>(), want);
    // Each instance said who it is and which cameras it has, and went offline at the end.
    let said = |name: &str| -> Vec<serde_json::Value> {
        liveness
            .messages()
            .iter()
            .filter(|m| m.topic == format!("vigil/instance/{name}/status"))
            .filter_map(|m| serde_json::from_slice(&m.payload).ok())
            .collect()
    };
    for (i, run) in three.iter().enumerate() {
        let name = format!("vigil-{i}");
        let msgs = eventually(Duration::from_secs(10), || {
            let m = said(&name);
            m.iter().any(|v| v["state"] == "offline").then_some(m)
        })
        .unwrap_or_else(|| panic!("{name} said nothing: {:?}", said(&name)));
        let online = msgs
            .iter()
            .find(|v| v["state"] == "online")
            .expect("online first");
        assert_eq!(online["shard"], format!("{i}/3"));
        let cameras: BTreeSet<String> = online["cameras"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_string())
            .collect();
        assert_eq!(cameras, run.cameras);
    }

    // Four instances: only the cameras the new shard wins move, all to it; every camera raises
    // what it raised before.
    let four = replay_sharded(config, tmp.path(), 4);
    let per_camera_4 = by_camera(&four, 4);
    assert_eq!(per_camera_4, per_camera, "no alert lost or duplicated");
    let moved: Vec<String> = names()
        .into_iter()
        .filter(|c| owner(c, 3) != owner(c, 4))
        .collect();
    assert_eq!(
        four[3].cameras,
        moved.iter().cloned().collect::<BTreeSet<_>>(),
        "what moved went to the new instance"
    );
    assert!(moved.len() < CAMERAS / 2, "{moved:?}");
    eprintln!(
        "3 shards: {:?}; 4 shards: {:?}; moved to the fourth: {moved:?}",
        three.iter().map(|r| &r.cameras).collect::<Vec<_>>(),
        four.iter().map(|r| &r.cameras).collect::<Vec<_>>()
    );

    // A live instance (with its HTTP API, which `vigil health` asks as a container's health
    // check would) killed outright: the broker publishes its last will.
    let api = vigil_testkit::free_port();
    let live_config = self::config(tmp.path(), broker.port, &pg.url(), Some(api));
    let out = tmp.path().join("live");
    let health = || {
        Command::new(env!("CARGO_BIN_EXE_vigil"))
            .args([
                "health",
                "--url",
                &format!("http://127.0.0.1:{api}/healthz"),
            ])
            .status()
            .unwrap()
            .success()
    };
    assert!(!health(), "nothing listens yet");
    let mut live = vigil(
        &["run", "--shard", "0/4", "--instance", "vigil-live"],
        &live_config,
        &out,
    )
    .spawn()
    .unwrap();
    assert!(
        eventually(Duration::from_secs(60), || health().then_some(())).is_some(),
        "vigil health never saw the API up"
    );
    // Its API lists the alerts of every instance from the shared store, newest first.
    let starts_in_store: usize = pg
        .psql("select count(*) from vigil_records where event = 'start'")
        .unwrap()
        .parse()
        .unwrap();
    let (status, body) = common::api_get(api, "/api/district/alerts?limit=500", TOKEN);
    assert_eq!(status, 200, "{body}");
    let listed: serde_json::Value = serde_json::from_str(&body).unwrap();
    let listed = listed["alerts"].as_array().unwrap();
    assert!(
        listed.len() >= starts_in_store,
        "{} < {starts_in_store}",
        listed.len()
    );
    let instances: BTreeSet<&str> = listed
        .iter()
        .map(|a| a["instance"].as_str().unwrap())
        .collect();
    assert!(
        ["vigil-0", "vigil-1", "vigil-2", "vigil-3"]
            .iter()
            .all(|i| instances.contains(i)),
        "{instances:?}"
    );
    let (_, body) = common::api_get(api, "/api/district/alerts?camera=cam-4", TOKEN);
    let cam4: serde_json::Value = serde_json::from_str(&body).unwrap();
    let cam4 = cam4["alerts"].as_array().unwrap();
    assert!(
        !cam4.is_empty() && cam4.iter().all(|a| a["alert"]["camera"] == "cam-4"),
        "{body}"
    );
    // Exactly the cam-4 alerts both rounds of instances raised.
    let listed: BTreeSet<&str> = cam4
        .iter()
        .map(|a| a["alert"]["id"].as_str().unwrap())
        .collect();
    let raised: BTreeSet<&str> = three
        .iter()
        .chain(&four)
        .filter_map(|r| r.starts.get("cam-4"))
        .flatten()
        .map(String::as_str)
        .collect();
    assert_eq!(listed, raised, "{body}");
    let online = eventually(Duration::from_secs(60), || {
        said("vigil-live")
            .iter()
            .any(|v| v["state"] == "online")
            .then_some(())
    });
    live.kill().unwrap();
    live.wait().unwrap();
    assert!(online.is_some(), "the live instance never said online");
    eventually(Duration::from_secs(15), || {
        said("vigil-live")
            .iter()
            .any(|v| v["state"] == "offline")
            .then_some(())
    })
    .expect("the last will: offline within 1.5 keep-alives (2 s) of the kill");

    // The shared store down while an instance stores its alerts: they wait in its outbox and
    // arrive once the database is back, each once.
    let before = shared(&pg).len();
    pg.stop();
    let out = tmp.path().join("outage");
    let mut run = vigil(
        &[
            "replay",
            "--shard",
            "1/3",
            "--instance",
            "vigil-1",
            "--drain-secs",
            "60",
        ],
        config,
        &out,
    )
    .spawn()
    .unwrap();
    std::thread::sleep(Duration::from_secs(4));
    pg.restart().unwrap();
    let done = run.wait().unwrap();
    assert!(done.success());
    let run = read_run(&out);
    assert!(!run.records.is_empty());
    // It did find the database down, and left nothing behind.
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let shared_sink = &summary["delivery"]["postgres"];
    assert!(
        shared_sink["failed_attempts"].as_u64().unwrap() >= 1,
        "{shared_sink}"
    );
    assert_eq!(shared_sink["pending"], 0, "{shared_sink}");
    let rows = shared(&pg);
    let new: BTreeSet<String> = rows[before..].iter().cloned().collect();
    let want: BTreeSet<String> = run.records.iter().map(|k| format!("{k} vigil-1")).collect();
    assert_eq!(rows.len() - before, want.len(), "{new:?}");
    assert_eq!(new, want);
}
