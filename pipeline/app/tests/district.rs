//! One district, two live instances (`vigil run`, each its own camera, API and store) on one real
//! PostgreSQL: each answers for the other's alerts — the alert, its clip (with HTTP Range) and
//! snapshot, and its acknowledgement are forwarded to the instance that holds it, signed by the
//! forwarding instance on the caller's behalf (recorded as `guard@box-a`; a request claiming to
//! be forwarded without that signature is refused) — the district list pages and filters, and the
//! shared store's live events
//! reach the other instance's page clients. An instance that stopped is said to be offline and
//! its evidence unreachable (502, naming it); an acknowledgement made while the database is down
//! reaches it once it is back. The district is set up with `vigil district setup` and
//! `add-instance`: each instance connects as the database role of its own name.

mod common;

use common::{Answer, api};
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use vigil_testkit::{Postgres, eventually, free_port, looping_lot_config, wait_for_port};

const OPERATOR: &str = "district-operator-token";
const VIEWER: &str = "district-viewer-token";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The looping parking-lot camera as `camera`, a 1 s dwell rule on it, clips with 1 s of
/// post-roll, the shared store and the API on `port` with an operator and a viewer token.
fn config(dir: &Path, camera: &str, postgres: &str, port: u16, identity: &str) -> PathBuf {
    let extra = format!(
        "rules:
  - {{ name: lane_blocked, kind: dwell, camera: {camera}, zone: lane, classes: [vehicle], min_score: 0.3, dwell_secs: 1.0 }}
evidence:
  post_roll_secs: 1
outputs:
  postgres:
    url: {postgres}
{identity}api:
  listen: 127.0.0.1:{port}
  tokens:
    - {{ name: guard, role: operator, sha256: {} }}
    - {{ name: desk, role: viewer, sha256: {} }}
",
        vigil_deliver::sha256_hex(OPERATOR.as_bytes()),
        vigil_deliver::sha256_hex(VIEWER.as_bytes()),
    );
    let text = looping_lot_config(&repo().join("models"), &extra)
        .replace("  - name: lot\n", &format!("  - name: {camera}\n"));
    let path = dir.join(format!("{camera}.yaml"));
    std::fs::write(&path, text).unwrap();
    path
}

/// A running instance, stopped (Ctrl-C) when dropped — also when the test fails.
struct Running(Child);

impl Running {
    /// Ctrl-C, and the wait for the process to finish.
    fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-INT", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            self.stop();
        }
    }
}

/// The instances of the district: (name, API port) — box-a, box-b, and a registered "ghost" that
/// never answers.
type Registry<'a> = [(&'a str, u16); 3];

fn start(
    dir: &Path,
    instance: &str,
    camera: &str,
    postgres: &str,
    port: u16,
    registry: &Registry,
) -> Running {
    let identity = common::district_identity(dir, instance, registry);
    let child = Running(
        Command::new(env!("CARGO_BIN_EXE_vigil"))
            .current_dir(repo())
            .env("RUST_LOG", "warn")
            .args(["run", "--instance", instance, "-c"])
            .arg(config(dir, camera, postgres, port, &identity))
            .arg("--out")
            .arg(dir.join(instance))
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    assert!(
        wait_for_port(port, Duration::from_secs(60)),
        "{instance}'s API did not come up"
    );
    child
}

fn get(port: u16, path: &str) -> Answer {
    api(port, "GET", path, VIEWER, &[], b"")
}

/// The live events of the API on `port`: (event name, data) as they come.
fn events(port: u16) -> crossbeam_channel::Receiver<(String, serde_json::Value)> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "GET /api/events HTTP/1.0\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {VIEWER}\r\n\r\n"
    )
    .unwrap();
    let lines = common::lines(s);
    // Full: the reader waits (and so does the server's stream to it).
    let (tx, rx) = crossbeam_channel::bounded(4096);
    let reader = std::thread::Builder::new().name("sse-events".into());
    reader
        .spawn(move || {
            let mut name = String::new();
            for line in lines {
                if let Some(n) = line.strip_prefix("event: ") {
                    name = n.to_string();
                } else if let Some(d) = line.strip_prefix("data: ") {
                    let data = serde_json::from_str(d).unwrap_or_default();
                    if tx.send((name.clone(), data)).is_err() {
                        return;
                    }
                }
            }
        })
        .unwrap();
    rx
}

/// The district's alerts as the API on `port` lists them (`query` added).
fn district(port: u16, query: &str) -> serde_json::Value {
    let a = get(port, &format!("/api/district/alerts?limit=100{query}"));
    assert_eq!(a.status, 200, "{}", a.text());
    a.json()
}

#[test]
fn instances_answer_for_each_others_alerts_through_the_shared_store() {
    let mut pg = Postgres::start().expect("PostgreSQL (scripts/setup installs it)");
    let tmp = tempfile::tempdir().unwrap();
    let (pa, pb) = (free_port(), free_port());
    let silent = free_port();
    let registry = [("box-a", pa), ("box-b", pb), ("ghost", silent)];
    let vigil = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_vigil"))
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    vigil(&["district", "setup", "--db", &pg.url()]);
    for name in ["box-a", "box-b"] {
        let password = vigil(&["district", "add-instance", name, "--db", &pg.url()]);
        assert_eq!(password.trim().len(), 48, "{password}");
    }
    let role = |name: &str| pg.url().replacen("vigil@", &format!("{name}@"), 1);
    let mut a = start(tmp.path(), "box-a", "lot-a", &role("box-a"), pa, &registry);
    let live = events(pa);
    let mut b = start(tmp.path(), "box-b", "lot-b", &role("box-b"), pb, &registry);

    // An alert of box-b's, with its clip, in the district list box-a serves.
    let found = eventually(Duration::from_secs(90), || {
        let list = district(pa, "");
        let alerts = list["alerts"].as_array().unwrap().clone();
        let of_b = alerts
            .iter()
            .find(|v| v["instance"] == "box-b" && v["alert"]["evidence"]["clip"].is_object())?;
        alerts
            .iter()
            .any(|v| v["instance"] == "box-a")
            .then(|| of_b.clone())
    })
    .expect("both instances' alerts in the shared store, one of box-b's with its clip");
    let id = found["alert"]["id"].as_str().unwrap().to_string();
    assert_eq!(found["alert"]["camera"], "lot-b");

    // The alert itself, through box-a: box-b's own answer.
    let via_a = get(pa, &format!("/api/alerts/{id}"));
    assert_eq!(via_a.status, 200, "{}", via_a.text());
    assert_eq!(via_a.header("x-vigil-instance"), Some("box-b"));
    let direct = get(pb, &format!("/api/alerts/{id}"));
    assert_eq!(via_a.json()["records"], direct.json()["records"]);
    assert!(!via_a.json()["records"].as_array().unwrap().is_empty());
    // Its clip, whole and by range, and its snapshot: the same bytes box-b serves.
    let clip = get(pa, &format!("/api/alerts/{id}/clip"));
    assert_eq!(clip.status, 200);
    assert_eq!(clip.header("content-type"), Some("video/mp4"));
    assert_eq!(&clip.body[4..8], b"ftyp");
    assert_eq!(clip.body, get(pb, &format!("/api/alerts/{id}/clip")).body);
    let range = [("Range", "bytes=100-1123")];
    let part = api(
        pa,
        "GET",
        &format!("/api/alerts/{id}/clip"),
        VIEWER,
        &range,
        b"",
    );
    assert_eq!(part.status, 206, "{}", part.text());
    assert_eq!(part.body, clip.body[100..1124]);
    assert_eq!(
        part.header("content-range"),
        Some(format!("bytes 100-1123/{}", clip.body.len()).as_str())
    );
    // What forwarding costs, measured side by side (printed, not asserted: the machine is noisy).
    let clip_path = format!("/api/alerts/{id}/clip");
    let (mut direct, mut forwarded) = (Vec::new(), Vec::new());
    for _ in 0..15 {
        for (port, times) in [(pb, &mut direct), (pa, &mut forwarded)] {
            let t = std::time::Instant::now();
            assert_eq!(get(port, &clip_path).body.len(), clip.body.len());
            times.push(t.elapsed().as_secs_f64() * 1e3);
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    eprintln!(
        "clip of {} bytes, median of 15 interleaved GETs: {:.2} ms from its instance, {:.2} ms through the other",
        clip.body.len(),
        median(&mut direct),
        median(&mut forwarded)
    );
    let snapshot = get(pa, &format!("/api/alerts/{id}/snapshot?clean=true"));
    assert_eq!(snapshot.status, 200);
    assert_eq!(snapshot.header("content-type"), Some("image/jpeg"));
    assert_eq!(
        snapshot.body,
        get(pb, &format!("/api/alerts/{id}/snapshot?clean=true")).body
    );
    // A request that says it was forwarded by box-b but carries no signature of box-b's is
    // refused, whatever token comes with it.
    let forged = api(
        pa,
        "GET",
        &format!("/api/alerts/{id}"),
        VIEWER,
        &[("X-Vigil-Forwarded", "box-b")],
        b"",
    );
    assert_eq!(forged.status, 401, "{}", forged.text());
    assert_eq!(get(pa, "/api/alerts/no-such-alert").status, 404);

    // Acknowledged through box-a: a viewer may not, an operator may; box-b's store records who,
    // the shared store has it, and box-a's live events say so.
    let ack_path = format!("/api/alerts/{id}/ack");
    let body = br#"{"comment":"guard sent"}"#;
    let denied = api(pa, "POST", &ack_path, VIEWER, &[], body);
    assert_eq!(denied.status, 403);
    let acked = api(
        pa,
        "POST",
        &ack_path,
        OPERATOR,
        &[("Content-Type", "application/json")],
        body,
    );
    assert_eq!(acked.status, 200, "{}", acked.text());
    // Who, and through which instance: box-a signed it on guard's behalf.
    assert_eq!(acked.json()["ack"]["by"], "guard@box-a");
    let held = get(pb, &format!("/api/alerts/{id}")).json();
    assert_eq!(held["alert"]["ack"]["by"], "guard@box-a");
    assert_eq!(held["alert"]["ack"]["comment"], "guard sent");
    let shared_ack = eventually(Duration::from_secs(10), || {
        let row = pg
            .psql(&format!(
                "select instance || ' ' || by || ' ' || comment from vigil_acks where alert_id = '{id}'"
            ))
            .ok()?;
        (!row.is_empty()).then_some(row)
    })
    .expect("the acknowledgement in the shared store");
    assert_eq!(shared_ack, "box-b guard@box-a guard sent");
    let acked_list = district(pa, "&acknowledged=true");
    let acked_ids: Vec<&str> = acked_list["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["alert"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(acked_ids, [id.as_str()]);
    assert_eq!(acked_list["alerts"][0]["ack"]["by"], "guard@box-a");
    let unacked = district(pa, "&acknowledged=false");
    assert!(
        unacked["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v["alert"]["id"] != id.as_str() && v["ack"].is_null())
    );

    // box-a's live events carried box-b's alert and the acknowledgement.
    let mut seen = Vec::new();
    let got = eventually(Duration::from_secs(10), || {
        seen.extend(live.try_iter());
        let record = seen.iter().any(|(n, d)| {
            n == "district_alert" && d["record"]["id"] == id.as_str() && d["instance"] == "box-b"
        });
        let ack = seen.iter().any(|(n, d)| {
            n == "district_ack" && d["id"] == id.as_str() && d["ack"]["by"] == "guard@box-a"
        });
        (record && ack).then_some(())
    });
    assert!(
        got.is_some(),
        "{:?}",
        seen.iter().map(|(n, _)| n).collect::<Vec<_>>()
    );

    // Paging: one alert a page, newest first, every alert once.
    let all: Vec<String> = district(pa, "")["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["alert"]["id"].as_str().unwrap().to_string())
        .collect();
    assert!(all.len() >= 2);
    let mut paged = Vec::new();
    let mut before = String::new();
    while paged.len() < all.len() {
        let page = get(pa, &format!("/api/district/alerts?limit=1{before}")).json();
        let alerts = page["alerts"].as_array().unwrap();
        assert_eq!(alerts.len(), 1, "{page}");
        paged.push(alerts[0]["alert"]["id"].as_str().unwrap().to_string());
        before = format!("&before={}", page["next_before"].as_i64().unwrap());
    }
    // The list may have grown at its head meanwhile; what was there comes in the same order.
    let from = paged.iter().position(|i| *i == all[0]).unwrap_or(0);
    assert_eq!(paged[from..], all[..paged.len() - from]);
    assert_eq!(
        paged.iter().collect::<BTreeSet<_>>().len(),
        paged.len(),
        "no alert twice"
    );
    let of_b = district(pa, "&camera=lot-b&kind=dwell");
    assert!(
        of_b["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v["alert"]["camera"] == "lot-b" && v["instance"] == "box-b")
    );
    assert_eq!(get(pa, "/api/district/alerts?kind=nonsense").status, 400);
    // By wall time: every alert raised before 2100, none since.
    let count = |q: &str| district(pa, q)["alerts"].as_array().unwrap().len();
    assert_eq!(count("&until=2100-01-01T00:00:00Z"), count(""));
    assert_eq!(count("&since=2100-01-01T00:00:00Z"), 0);
    assert_eq!(count("&since=2000-01-01T00:00:00%2B08:00"), count(""));
    assert_eq!(get(pa, "/api/district/alerts?since=yesterday").status, 400);

    // Who is out there.
    let instances = get(pa, "/api/district/instances").json();
    let listed: Vec<(String, String, bool)> = instances["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["instance"].as_str().unwrap().to_string(),
                i["url"].as_str().unwrap().to_string(),
                i["online"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            ("box-a".into(), format!("http://127.0.0.1:{pa}"), true),
            ("box-b".into(), format!("http://127.0.0.1:{pb}"), true)
        ]
    );
    assert_eq!(instances["instances"][1]["cameras"][0], "lot-b");

    // box-b stops: it says so, and its evidence cannot be had through box-a.
    b.stop();
    let b_info = get(pa, "/api/district/instances").json()["instances"][1].clone();
    assert_eq!(b_info["online"], false, "{b_info}");
    assert!(b_info["stopped_ms"].is_i64(), "{b_info}");
    let gone = get(pa, &format!("/api/alerts/{id}/clip"));
    assert_eq!(gone.status, 502);
    assert!(
        gone.text()
            .contains("instance box-b, which is offline (since "),
        "{}",
        gone.text()
    );
    // One that says it is up but does not answer: tried (at its registered address), and a 502
    // saying so.
    let now = "(extract(epoch from now()) * 1000)::bigint";
    pg.psql(&format!(
        "insert into vigil_instances values ('ghost', 'http://127.0.0.1:{silent}', null, '[]', {now}, {now}, null);
         insert into vigil_records (alert_id, event, instance, camera, instance_seq, record, received_ms)
           select 'ghost-1', event, 'ghost', camera, instance_seq, replace(record, alert_id, 'ghost-1'), received_ms
           from vigil_records where alert_id = '{id}' and event = 'start'"
    ))
    .unwrap();
    let silent = get(pa, "/api/alerts/ghost-1");
    assert_eq!(silent.status, 502);
    assert!(
        silent
            .text()
            .contains("instance ghost, which holds this alert, cannot be reached"),
        "{}",
        silent.text()
    );

    // The database down while box-a's operator acknowledges one of box-a's alerts: the
    // acknowledgement is stored at once and reaches the shared store when it is back.
    let own = district(pa, "")["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["instance"] == "box-a")
        .unwrap()["alert"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    pg.stop();
    let acked = api(
        pa,
        "POST",
        &format!("/api/alerts/{own}/ack"),
        OPERATOR,
        &[],
        b"",
    );
    assert_eq!(acked.status, 200, "{}", acked.text());
    assert_eq!(get(pa, "/api/district/alerts").status, 503);
    pg.restart().unwrap();
    let arrived = eventually(Duration::from_secs(20), || {
        let n = pg
            .psql(&format!(
                "select count(*) from vigil_acks where alert_id = '{own}' and instance = 'box-a'"
            ))
            .ok()?;
        (n == "1").then_some(())
    });
    // What box-a counted: the forwarded requests, the one that found box-b gone, the live events,
    // and its own acknowledgement shared after failed attempts.
    let counter = |name: &str| -> u64 {
        get(pa, "/metrics")
            .text()
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name} "))?.parse().ok())
            .unwrap_or_else(|| panic!("{name} not in /metrics"))
    };
    // The alert, its clip whole and by range, its snapshot, the operator's acknowledgement (the
    // viewer's was refused here, the circular and unknown ones never left).
    assert_eq!(counter("vigil_district_forwarded_total"), 5 + 15);
    assert_eq!(counter("vigil_district_unreachable_total"), 2);
    assert!(counter("vigil_district_events_total") >= 2);
    assert!(counter("vigil_shared_presence_failures_total") >= 1);
    let shared_once = eventually(Duration::from_secs(5), || {
        (counter("vigil_shared_acks_total") == 1).then_some(())
    });
    a.stop();
    assert!(
        arrived.is_some(),
        "box-a's acknowledgement never reached the shared store"
    );
    assert!(shared_once.is_some(), "vigil_shared_acks_total is not 1");

    // The shared store's copy of each instance's records is what their chains hold; a copy
    // edited or deleted there is found.
    let verify = |instance: &str| {
        Command::new(env!("CARGO_BIN_EXE_vigil"))
            .args(["verify", "--shared", &pg.url(), "--instance", instance])
            .arg(tmp.path().join(instance))
            .output()
            .unwrap()
    };
    for instance in ["box-a", "box-b"] {
        let out = verify(instance);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "{instance}: {text}");
        assert!(
            text.contains(&format!("of instance {instance} compared, 0 still pending")),
            "{text}"
        );
    }
    let starts: usize = pg
        .psql("select count(*) from vigil_records where instance = 'box-a' and event = 'start'")
        .unwrap()
        .parse()
        .unwrap();
    pg.psql("update vigil_records set record = replace(record, '\"lot-a\"', '\"lot-x\"') where instance = 'box-a' and event = 'start'")
        .unwrap();
    let out = verify("box-a");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(!out.status.success(), "{text}");
    assert_eq!(
        text.matches("start record in the shared store differs from this instance's")
            .count(),
        starts,
        "{text}"
    );
    pg.psql("delete from vigil_records where instance = 'box-a' and event = 'start'")
        .unwrap();
    let text = String::from_utf8_lossy(&verify("box-a").stdout).into_owned();
    assert_eq!(
        text.matches("start record delivered to the shared store is missing there")
            .count(),
        starts,
        "{text}"
    );
}
