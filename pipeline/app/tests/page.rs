//! The page for security staff in a real headless Chromium, against `vigil run` on a looping
//! file camera: sign in, an alert arrives live, its clip plays, it is acknowledged; then the
//! "all boxes" scope (a real PostgreSQL as the shared store) lists an alert of an instance that
//! never said where it is, with the reason its evidence cannot be had, and an alert of a second
//! live instance, whose clip plays through the first and which is acknowledged from there —
//! into the second instance's store. Leaves a screenshot at `$CARGO_TARGET_TMPDIR/page.png`.

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use vigil_deliver::AlertStore;
use vigil_deliver::worker::Transport;
use vigil_testkit::{Postgres, free_port, lane_blocked_rule, looping_lot_config};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

const TOKEN: &str = "page-test-operator-token";
/// The page signs in as the named account `guard` (an admin) with this password.
const PASSWORD: &str = "page-test-password";

#[test]
fn page_shows_a_live_alert_plays_its_clip_and_acknowledges_it() {
    let browser = common::browser();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let hash = vigil_deliver::sha256_hex(TOKEN.as_bytes());
    // Another instance's alert in the shared store, written as that instance writes it.
    let pg = Postgres::start().expect("PostgreSQL (scripts/setup installs it)");
    let elsewhere = vigil_testkit::alert("01a2240a-0000-7000-8000-000000000001", "gate-far");
    let mut shared = vigil_deliver::shared::SharedStore::new(
        &vigil_deliver::shared::Database {
            url: pg.url(),
            password: None,
            ca_file: None,
        },
        "vigil-elsewhere",
    )
    .unwrap();
    shared
        .send(&vigil_deliver::OutboxItem {
            seq: 1,
            alert_seq: 1,
            camera: "gate-far".into(),
            alert_id: elsewhere.id.to_string(),
            event: "start".into(),
            json: serde_json::to_string(&elsewhere).unwrap(),
            attempts: 0,
            created_ms: 0,
        })
        .unwrap();
    let config = dir.path().join("config.yaml");
    let extra = format!(
        "{}evidence:
  post_roll_secs: 1
outputs:
  postgres:
    url: {}
IDENTITY
api:
  listen: 127.0.0.1:{port}
  users: users.db
  tokens:
    - name: guard
      role: operator
      sha256: {hash}
",
        // A car stays in the lane for the whole looping clip: one stay, raised again every
        // 5 s while it lasts, so alerts keep arriving while the page watches.
        lane_blocked_rule("1.0") + "    repeat_after_secs: 5\n",
        pg.url()
    );
    // A second live instance on the same shared store: its camera, its API, its store; the two
    // know each other by their identity keys.
    let other_port = free_port();
    let registry = [("vigil", port), ("box-b", other_port)];
    let identity = |me: &str| common::district_identity(dir.path(), me, &registry);
    let extra_b = extra.replace("IDENTITY\n", &identity("box-b"));
    let extra = extra.replace("IDENTITY\n", &identity("vigil"));
    // Named as a site names them: the page shows 3号楼东门 and 消防通道, the snapshots' captions too.
    let named = |text: String, camera: &str, name: &str| {
        text.replace(
            &format!("  - name: {camera}\n"),
            &format!(
                "  - name: {camera}\n    display_name: {name}\n    zone_names: {{lane: 消防通道}}\n"
            ),
        )
    };
    std::fs::write(
        &config,
        named(
            looping_lot_config(&repo().join("models"), &extra),
            "lot",
            "3号楼东门",
        ),
    )
    .unwrap();
    let other_config = dir.path().join("other.yaml");
    std::fs::write(
        &other_config,
        looping_lot_config(
            &repo().join("models"),
            &extra_b.replace(
                &format!("listen: 127.0.0.1:{port}\n"),
                &format!("listen: 127.0.0.1:{other_port}\n"),
            ),
        )
        .replace("name: lot\n", "name: gate\n")
        .replace("camera: lot\n", "camera: gate\n"),
    )
    .unwrap();
    std::fs::write(
        &other_config,
        named(
            std::fs::read_to_string(&other_config).unwrap(),
            "gate",
            "北门岗亭",
        ),
    )
    .unwrap();
    let other_out = dir.path().join("other");
    let other = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .current_dir(repo())
        .env("RUST_LOG", "warn")
        .args(["run", "--instance", "box-b", "-c"])
        .arg(&other_config)
        .arg("--out")
        .arg(&other_out)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // The account the page signs in with, made as an admin makes it.
    let mut add = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["user", "--db"])
        .arg(dir.path().join("users.db"))
        .args(["add", "guard", "--role", "admin"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(add.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    assert!(add.wait().unwrap().success(), "vigil user add");
    let out = dir.path().join("out");
    let vigil = common::run_serving(&config, &out, port);

    let screenshot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("page.png");
    let result = Command::new("timeout")
        .arg("180")
        .arg("node")
        .arg(browser.join("page.mjs"))
        .arg(format!("http://127.0.0.1:{port}"))
        .arg(format!("guard:{PASSWORD}"))
        .arg(&screenshot)
        .arg("1")
        .arg(elsewhere.id.as_str())
        .arg("box-b")
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    common::interrupt(vigil);
    common::interrupt(other);
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(result.status.success(), "page test failed: {stdout}");
    let seen: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert!(seen["video"]["readyState"].as_i64().unwrap() >= 4);
    assert!(screenshot.is_file());
    let district = &seen["district"];
    assert!(
        district["rowText"]
            .as_str()
            .unwrap()
            .contains("vigil-elsewhere"),
        "{district}"
    );
    assert!(district["ackDisabled"].as_bool().unwrap(), "{district}");
    // Both live instances listed, online, by name (this one is "vigil": it runs unnamed).
    let instances: Vec<(&str, bool)> = district["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["name"].as_str().unwrap(), i["online"].as_bool().unwrap()))
        .collect();
    assert_eq!(instances, [("box-b", true), ("vigil", true)], "{district}");
    eprintln!("screenshot: {}", screenshot.display());

    // The acknowledgement the page made is in the store, under the token's name.
    let id = seen["id"].as_str().unwrap();
    let ack_in = |out: &std::path::Path, id: &str| {
        AlertStore::open(&out.join("alerts.db"))
            .unwrap()
            .ack(id)
            .unwrap()
            .unwrap_or_else(|| panic!("{id} acknowledged in {}", out.display()))
    };
    let ack = ack_in(&out, id);
    assert_eq!(
        (ack.by.as_str(), ack.comment.as_str()),
        ("guard", "已通知车主挪车")
    );
    // The other instance's alert played here (through this instance) and was acknowledged in
    // that instance's store.
    let played = &district["other"];
    assert!(
        played["video"]["readyState"].as_i64().unwrap() >= 4,
        "{played}"
    );
    let other_id = played["id"].as_str().unwrap();
    let ack = ack_in(&other_out, other_id);
    assert_eq!(
        (ack.by.as_str(), ack.comment.as_str()),
        ("guard@vigil", "已派保安")
    );
    assert!(
        AlertStore::open(&out.join("alerts.db"))
            .unwrap()
            .get(other_id)
            .unwrap()
            .is_none(),
        "the other instance's alert is not copied here"
    );
}
