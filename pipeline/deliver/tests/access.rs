//! The access chain in a real SQLite store: who opened, played and acknowledged which alert is
//! listed as recorded, and `verify` finds every way of rewriting that history in the table — a
//! record deleted, one of its columns edited, its content edited, an acknowledgement written
//! into the table without its record, the chain emptied.

use std::path::Path;
use vigil_deliver::AlertStore;
use vigil_deliver::access::{AccessQuery, Accessor, Action};
use vigil_deliver::verify::verify;

const A1: &str = "01a2240a-0000-7000-8000-0000000000a1";
const A2: &str = "01a2240a-0000-7000-8000-0000000000a2";

fn guard(from: &str) -> Accessor {
    Accessor {
        who: "guard".into(),
        role: "operator".into(),
        from: from.into(),
    }
}

/// A store with two alerts: guard opened and played A1 and acknowledged it; desk opened A2.
fn site() -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    std::fs::create_dir(out.path().join("evidence")).unwrap();
    let mut store = AlertStore::open(&out.path().join("alerts.db")).unwrap();
    store.insert(&vigil_testkit::alert(A1, "gate")).unwrap();
    store.insert(&vigil_testkit::alert(A2, "lot")).unwrap();
    let g = guard("10.0.0.7:51000");
    store.record_access(&g, Action::View, A1).unwrap();
    store.record_access(&g, Action::Clip, A1).unwrap();
    store.acknowledge_as(A1, &g, "car moved").unwrap();
    // A second acknowledgement changes nothing and records nothing.
    store.acknowledge_as(A1, &g, "again").unwrap();
    let desk = Accessor {
        who: "desk@box-b".into(),
        role: "viewer".into(),
        from: "10.0.0.9:40000".into(),
    };
    store.record_access(&desk, Action::View, A2).unwrap();
    out
}

fn findings(dir: &Path) -> Vec<String> {
    verify(dir)
        .unwrap()
        .findings
        .iter()
        .map(|f| f.to_string())
        .collect()
}

fn sql(dir: &Path, statement: &str) {
    let c = rusqlite::Connection::open(dir.join("alerts.db")).unwrap();
    c.execute_batch(statement).unwrap();
}

#[test]
fn accesses_are_listed_as_recorded_and_verify_as_intact() {
    let out = site();
    let store = AlertStore::open(&out.path().join("alerts.db")).unwrap();
    let all = store
        .accesses(&AccessQuery {
            limit: 100,
            ..Default::default()
        })
        .unwrap();
    let seen: Vec<(&str, &str, &str, &str)> = all
        .iter()
        .map(|a| {
            (
                a.action.as_str(),
                a.alert_id.as_str(),
                a.who.as_str(),
                a.detail.as_str(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("view", A1, "guard", ""),
            ("clip", A1, "guard", ""),
            ("ack", A1, "guard", "car moved"),
            ("view", A2, "desk@box-b", ""),
        ]
    );
    assert_eq!(all[0].from, "10.0.0.7:51000");
    assert_eq!(all[3].role, "viewer");
    let of_a2 = store
        .accesses(&AccessQuery {
            alert_id: Some(A2.into()),
            limit: 100,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(of_a2.len(), 1);
    let newest = store
        .accesses(&AccessQuery {
            who: Some("guard".into()),
            limit: 2,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(newest.len(), 2);
    assert_eq!(newest[1].action, Action::Ack, "the newest, oldest first");

    let report = verify(out.path()).unwrap();
    assert!(report.intact(), "{:?}", report.findings);
    assert_eq!(report.accesses, 5, "the start record and four accesses");
}

#[test]
fn every_rewrite_of_the_access_history_is_found() {
    let cases: [(&str, &str); 6] = [
        (
            "DELETE FROM access WHERE action = 'clip'",
            "access chain broken before record 4: a record was deleted, inserted or reordered",
        ),
        (
            "UPDATE access SET who = 'someone' WHERE action = 'clip'",
            "access record 3: its columns differ from the hashed record (edited in the table)",
        ),
        (
            "UPDATE access SET json = replace(json, '10.0.0.7', '10.0.0.8') WHERE action = 'view'",
            "access record 2 modified (its hash does not match its content)",
        ),
        (
            "DELETE FROM access WHERE action IN ('start', 'view') AND seq < 3",
            "the access chain does not begin with its start record",
        ),
        (
            "DELETE FROM access",
            "the access chain is empty: its start record was deleted",
        ),
        (
            "INSERT INTO acks (alert_id, by, at_ms, comment) \
             VALUES ('01a2240a-0000-7000-8000-0000000000a2', 'mallory', 9999999999999, 'fine')",
            "alert 01a2240a-0000-7000-8000-0000000000a2: acknowledgement by mallory is not in the \
             access chain (written into the table)",
        ),
    ];
    for (statement, expected) in cases {
        let out = site();
        assert!(findings(out.path()).is_empty());
        sql(out.path(), statement);
        let found = findings(out.path());
        assert!(
            found.iter().any(|f| f == expected),
            "{statement}: {found:?}"
        );
    }
}

#[test]
fn a_store_from_before_the_access_chain_gets_one_that_begins_then() {
    let out = tempfile::tempdir().unwrap();
    std::fs::create_dir(out.path().join("evidence")).unwrap();
    let db = out.path().join("alerts.db");
    // As version 3 left it: an acknowledgement, and no access table.
    {
        let mut store = AlertStore::open(&db).unwrap();
        store.insert(&vigil_testkit::alert(A1, "gate")).unwrap();
    }
    sql(
        out.path(),
        "DROP TABLE access; DROP TABLE handling; PRAGMA user_version = 3; \
         INSERT INTO acks (alert_id, by, at_ms, comment) \
         VALUES ('01a2240a-0000-7000-8000-0000000000a1', 'guard', 1, 'before');",
    );
    assert!(
        findings(out.path()).is_empty(),
        "a version-3 store is checked as it was"
    );
    // Opened by this vigil: migrated, the chain starts now; the old acknowledgement predates it.
    AlertStore::open(&db).unwrap();
    let report = verify(out.path()).unwrap();
    assert!(report.intact(), "{:?}", report.findings);
    assert_eq!(report.accesses, 1);
}
