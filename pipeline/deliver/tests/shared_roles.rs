//! A district set up with `vigil district setup` against a real PostgreSQL: each instance
//! connects as the role of its own name and can write only its own rows. Before, every instance
//! shared one role, and any of them could point another's presence row at itself (where the
//! others then forwarded guards' requests), write records in its name, or acknowledge its alerts.

use std::sync::Arc;
use std::time::{Duration, Instant};
use vigil_deliver::shared::presence::{self, Announce, PresenceCounters};
use vigil_deliver::shared::setup::{add_instance, setup};
use vigil_deliver::shared::{Database, SharedStore};
use vigil_deliver::worker::Transport;
use vigil_deliver::{AlertStore, OutboxItem};
use vigil_testkit::Postgres;

const ALERT_A: &str = "01a2240a-0000-7000-8000-0000000000a1";

fn as_role(pg: &Postgres, role: &str) -> Database {
    Database {
        url: pg.url().replacen("vigil@", &format!("{role}@"), 1),
        password: None,
        ca_file: None,
    }
}

fn start(id: &str, camera: &str) -> OutboxItem {
    let alert = vigil_testkit::alert(id, camera);
    OutboxItem {
        seq: 1,
        alert_seq: 1,
        camera: camera.into(),
        alert_id: id.into(),
        event: "start".into(),
        json: serde_json::to_string(&alert).unwrap(),
        attempts: 0,
        created_ms: 0,
    }
}

fn connect(pg: &Postgres, role: &str) -> postgres::Client {
    postgres::Client::connect(&as_role(pg, role).url, postgres::NoTls).unwrap()
}

/// The server's complaint about `sql`, which must fail.
fn refused(client: &mut postgres::Client, sql: &str) -> String {
    let e = client.batch_execute(sql).expect_err(sql);
    let db = e.as_db_error().expect("a refusal by the server");
    format!("{} ({})", db.message(), db.code().code())
}

#[test]
fn an_instance_writes_only_its_own_rows() {
    let pg = Postgres::start().expect("PostgreSQL (scripts/setup installs it)");
    // The administrator (the tables' owner) sets the district up, then one role per instance.
    let admin = as_role(&pg, "vigil");
    setup(&admin).unwrap();
    setup(&admin).expect("setting up twice changes nothing");
    for name in ["box-a", "box-b"] {
        let password = add_instance(&admin, name).unwrap();
        assert_eq!(password.len(), 48, "{password}");
        assert!(password.chars().all(|c| c.is_ascii_hexdigit()));
    }
    let again = add_instance(&admin, "box-a").unwrap();
    assert_eq!(
        again.len(),
        48,
        "a second add gives the role a new password"
    );
    assert!(add_instance(&admin, "x\"; DROP TABLE vigil_records; --").is_err());

    // box-a, as itself: its record and its presence row go in.
    SharedStore::new(&as_role(&pg, "box-a"), "box-a")
        .unwrap()
        .send(&start(ALERT_A, "gate"))
        .unwrap();
    let folder = tempfile::tempdir().unwrap();
    let store_path = folder.path().join("alerts.db");
    let mut store = AlertStore::open(&store_path).unwrap();
    store
        .insert(&vigil_testkit::alert(ALERT_A, "gate"))
        .unwrap();
    store.acknowledge(ALERT_A, "guard", "seen").unwrap();
    drop(store);
    let running = presence::spawn(
        &store_path,
        &as_role(&pg, "box-a"),
        Announce {
            instance: "box-a".into(),
            url: Some("https://box-a.example:8080".into()),
            shard: None,
            cameras: vec!["gate".into()],
        },
        Arc::new(PresenceCounters::default()),
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let shared = || {
        pg.psql(
            "SELECT (SELECT url FROM vigil_instances WHERE instance = 'box-a') || ' ' || \
             (SELECT by FROM vigil_acks WHERE alert_id = '01a2240a-0000-7000-8000-0000000000a1')",
        )
        .unwrap()
    };
    while shared() != "https://box-a.example:8080 guard" {
        assert!(Instant::now() < deadline, "box-a's rows: {:?}", shared());
        std::thread::sleep(Duration::from_millis(100));
    }
    running.stop();

    // box-b reads everything …
    let mut b = connect(&pg, "box-b");
    let seen: i64 = b
        .query_one("SELECT count(*) FROM vigil_records", &[])
        .unwrap()
        .get(0);
    assert_eq!(seen, 1);
    // … and can change none of box-a's rows.
    let moved = b
        .execute(
            "UPDATE vigil_instances SET url = 'http://169.254.169.254' WHERE instance = 'box-a'",
            &[],
        )
        .unwrap();
    assert_eq!(moved, 0, "box-b rewrote box-a's presence row");
    let upsert = refused(
        &mut b,
        "INSERT INTO vigil_instances (instance, url, cameras, started_ms, seen_ms) \
         VALUES ('box-a', 'http://evil', '[]', 0, 0) \
         ON CONFLICT (instance) DO UPDATE SET url = EXCLUDED.url",
    );
    assert!(upsert.contains("row-level security"), "{upsert}");
    let forged = refused(
        &mut b,
        "INSERT INTO vigil_records (alert_id, event, instance, camera, instance_seq, record, \
         received_ms) VALUES ('x', 'start', 'box-a', 'gate', 1, '{}', 0)",
    );
    assert!(forged.contains("row-level security"), "{forged}");
    let ack = refused(
        &mut b,
        "INSERT INTO vigil_acks (alert_id, instance, by, at_ms, comment, received_ms) \
         VALUES ('01a2240a-0000-7000-8000-0000000000a1', 'box-b', 'mallory', 0, '', 0)",
    );
    assert!(ack.contains("row-level security"), "{ack}");
    for sql in [
        "DELETE FROM vigil_records",
        "UPDATE vigil_records SET record = '{}'",
        "DELETE FROM vigil_acks",
        "DELETE FROM vigil_instances WHERE instance = 'box-a'",
        "ALTER TABLE vigil_instances DISABLE ROW LEVEL SECURITY",
        "DROP POLICY vigil_own ON vigil_instances",
    ] {
        let e = refused(&mut b, sql);
        assert!(
            e.contains("permission denied") || e.contains("must be owner"),
            "{sql}: {e}"
        );
    }
    assert_eq!(
        shared(),
        "https://box-a.example:8080 guard",
        "box-a's rows as they were"
    );

    // An instance connected as another's role is refused before it writes anything.
    let e = SharedStore::new(&as_role(&pg, "box-b"), "box-a")
        .unwrap()
        .send(&start("01a2240a-0000-7000-8000-0000000000a2", "gate"))
        .unwrap_err();
    assert!(e.contains("connects as role \"box-b\""), "{e}");
}
