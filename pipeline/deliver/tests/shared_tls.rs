//! The shared store over TLS, against a real PostgreSQL that takes TLS connections only: with the
//! CA that signed the server's certificate, records go in and come back; without TLS the server
//! refuses; with another CA, vigil refuses the server.

use vigil_deliver::AlertQuery;
use vigil_deliver::OutboxItem;
use vigil_deliver::shared::{Database, SharedReader, SharedStore};
use vigil_deliver::worker::Transport;
use vigil_testkit::Postgres;
use vigil_testkit::postgres::make_ca;

fn start(id: &str) -> OutboxItem {
    let alert = vigil_testkit::alert(id, "gate");
    OutboxItem {
        seq: 1,
        alert_seq: 1,
        camera: "gate".into(),
        alert_id: alert.id.to_string(),
        event: "start".into(),
        json: serde_json::to_string(&alert).unwrap(),
        attempts: 0,
        created_ms: 0,
    }
}

#[test]
fn the_shared_store_speaks_tls_to_a_server_it_can_verify_and_to_no_other() {
    let pg = Postgres::start_tls().expect("PostgreSQL with TLS (scripts/setup installs it)");
    let db = |ca_file| Database {
        url: pg.url(),
        password: None,
        ca_file,
    };

    // The server takes TLS only: a plain connection is refused by it.
    let plain = SharedStore::new(&db(None), "box-a")
        .unwrap()
        .send(&start("01a2240a-0000-7000-8000-0000000000a1"))
        .unwrap_err();
    assert!(plain.contains("no encryption"), "{plain}");

    // Verified against the right CA: in, and back out.
    let trusted = db(pg.ca_file.clone());
    let mut store = SharedStore::new(&trusted, "box-a").unwrap();
    store
        .send(&start("01a2240a-0000-7000-8000-0000000000a2"))
        .unwrap();
    let listed = SharedReader::new(&trusted)
        .unwrap()
        .recent(&AlertQuery {
            limit: 10,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].instance, "box-a");
    assert_eq!(
        listed[0].view.alert.id,
        "01a2240a-0000-7000-8000-0000000000a2"
    );
    assert_eq!(
        pg.psql("select count(*) from pg_stat_ssl s join pg_stat_activity a using (pid) where a.application_name = 'vigil-box-a' and s.ssl")
            .unwrap(),
        "1",
        "the connection is encrypted"
    );

    // A server whose certificate another CA signed is not the one configured.
    let dir = tempfile::tempdir().unwrap();
    let other = make_ca(dir.path(), "other").unwrap();
    let refused = SharedStore::new(&db(Some(other)), "box-a")
        .unwrap()
        .send(&start("01a2240a-0000-7000-8000-0000000000a3"))
        .unwrap_err();
    assert!(refused.to_lowercase().contains("certificate"), "{refused}");

    // A file without certificates is refused when the connection is set up.
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "not a certificate\n").unwrap();
    let err = SharedStore::new(&db(Some(empty)), "box-a").err().unwrap();
    assert!(err.contains("no certificate"), "{err}");
    assert_eq!(
        pg.psql("select count(*) from vigil_records").unwrap(),
        "1",
        "only the verified connection wrote"
    );
}
