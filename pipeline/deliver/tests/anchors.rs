//! A hash chain alone cannot show that its tail was cut, or that someone edited a record and
//! recomputed every hash after it: `verify` finds both chains intact. A signed anchor of the
//! chain's head, kept off the box, finds both — and an anchor signed with another key is refused.

use std::path::Path;
use vigil_core::Alert;
use vigil_deliver::AlertStore;
use vigil_deliver::anchor;
use vigil_deliver::keys::{self, SigningKey};

const INSTANCE: &str = "gate-box";

struct Site {
    out: tempfile::TempDir,
    /// Another mount, in a real site: the key and the anchors are not in the output folder.
    elsewhere: tempfile::TempDir,
    public: String,
}

impl Site {
    fn anchors(&self) -> std::path::PathBuf {
        self.elsewhere.path().join("anchors.jsonl")
    }

    fn check(&self) -> anchor::AnchorCheck {
        anchor::check(self.out.path(), &self.anchors(), &self.public, INSTANCE).unwrap()
    }

    fn sql(&self, statement: &str) {
        let c = rusqlite::Connection::open(self.out.path().join("alerts.db")).unwrap();
        c.execute_batch(statement).unwrap();
    }
}

/// Six records, and the head anchored after them.
fn site() -> Site {
    let out = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let key_path = elsewhere.path().join("anchor.key");
    let public = keys::generate(&key_path).unwrap();
    let mut store = AlertStore::open(&out.path().join("alerts.db")).unwrap();
    for id in ["a", "b", "c", "d", "e", "f"] {
        store.insert(&vigil_testkit::alert(id, "gate")).unwrap();
    }
    let key = SigningKey::load(&key_path).unwrap();
    let (seq, hash) = anchor::head(&out.path().join("alerts.db"))
        .unwrap()
        .unwrap();
    let site = Site {
        out,
        elsewhere,
        public,
    };
    anchor::append(
        &site.anchors(),
        &anchor::sign(&key, INSTANCE, seq, &hash, 1_764_750_000_000),
    )
    .unwrap();
    site
}

fn chain_intact(dir: &Path) -> bool {
    vigil_deliver::verify::verify(dir).unwrap().intact()
}

#[test]
fn an_untouched_store_matches_its_anchor() {
    let s = site();
    let c = s.check();
    assert_eq!(c.valid, 1);
    assert!(c.findings.is_empty(), "{:?}", c.findings);
    assert!(chain_intact(s.out.path()));
}

#[test]
fn a_cut_tail_passes_the_chain_but_not_the_anchor() {
    let s = site();
    s.sql("DELETE FROM alerts WHERE id IN ('e', 'f')");
    assert!(chain_intact(s.out.path()), "the chain alone cannot tell");
    let c = s.check();
    assert_eq!(c.findings.len(), 1, "{:?}", c.findings);
    assert!(
        c.findings[0].starts_with("the store ends at record 4 but the anchor of ")
            && c.findings[0].ends_with("names record 6: its tail was cut"),
        "{:?}",
        c.findings
    );
}

/// Edits record `c` and recomputes every hash after it, as someone without the key would.
fn rewrite_from_c(s: &Site) {
    let c = rusqlite::Connection::open(s.out.path().join("alerts.db")).unwrap();
    let rows: Vec<(i64, String, String)> = c
        .prepare("SELECT seq, id, json FROM alerts ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut prev: Option<String> = None;
    for (seq, id, json) in rows {
        let mut record: Alert = serde_json::from_str(&json).unwrap();
        if id == "c" {
            record.severity = vigil_core::Severity::Low;
        }
        if let Some(p) = &prev {
            record.prev_hash = Some(p.clone());
        }
        let json = serde_json::to_string(&record).unwrap();
        let hash = vigil_deliver::sha256_hex(json.as_bytes());
        c.execute(
            "UPDATE alerts SET json = ?1, hash = ?2 WHERE seq = ?3",
            rusqlite::params![json, hash, seq],
        )
        .unwrap();
        prev = Some(hash);
    }
}

#[test]
fn a_rewritten_chain_passes_the_chain_but_not_the_anchor() {
    let s = site();
    rewrite_from_c(&s);
    assert!(chain_intact(s.out.path()), "the rewrite is self-consistent");
    let c = s.check();
    assert_eq!(c.findings.len(), 1, "{:?}", c.findings);
    assert!(
        c.findings[0].starts_with("record 6 differs from its anchor of ")
            && c.findings[0].ends_with("the chain was rewritten"),
        "{:?}",
        c.findings
    );
}

#[test]
fn an_anchor_signed_with_another_key_is_refused() {
    let s = site();
    rewrite_from_c(&s);
    // The rewriter anchors the new head with a key of their own and removes the real anchors.
    let forger = s.elsewhere.path().join("forger.key");
    keys::generate(&forger).unwrap();
    let (seq, hash) = anchor::head(&s.out.path().join("alerts.db"))
        .unwrap()
        .unwrap();
    std::fs::remove_file(s.anchors()).unwrap();
    let forged = anchor::sign(
        &SigningKey::load(&forger).unwrap(),
        INSTANCE,
        seq,
        &hash,
        1_764_760_000_000,
    );
    anchor::append(&s.anchors(), &forged).unwrap();
    let c = s.check();
    assert_eq!(c.valid, 0);
    assert_eq!(
        c.findings,
        [
            format!(
                "{}:1: anchor of record 6 not signed by this key (forged or another key's)",
                s.anchors().display()
            ),
            format!(
                "{}: no anchor of instance {INSTANCE} signed by this key",
                s.anchors().display()
            ),
        ]
    );
}

#[test]
fn a_key_is_never_written_over_and_a_bad_public_key_is_an_error() {
    let s = site();
    let again = keys::generate(&s.elsewhere.path().join("anchor.key"));
    assert!(again.is_err(), "an existing key was overwritten");
    let bad = anchor::check(s.out.path(), &s.anchors(), "abcd", INSTANCE);
    assert!(bad.unwrap_err().contains("64 hex digits"));
}

#[test]
fn the_access_chain_is_anchored_too_and_a_cut_tail_of_it_is_found() {
    use vigil_deliver::access::{Accessor, Action};
    let s = site();
    let db = s.out.path().join("alerts.db");
    {
        let mut store = AlertStore::open(&db).unwrap();
        let guard = Accessor {
            who: "guard".into(),
            role: "operator".into(),
            from: "10.0.0.7:5000".into(),
        };
        for id in ["a", "b", "c"] {
            store.record_access(&guard, Action::Clip, id).unwrap();
        }
    }
    // A run anchors both chains (and once more as it stops).
    let target = anchor::AnchorTarget {
        key: s.elsewhere.path().join("anchor.key"),
        file: s.anchors(),
        every_records: 100,
        every: std::time::Duration::from_secs(3600),
    };
    anchor::spawn(s.out.path(), &target, INSTANCE)
        .unwrap()
        .stop();
    let text = std::fs::read_to_string(s.anchors()).unwrap();
    assert!(text.contains("\"chain\":\"access\""), "{text}");
    let c = s.check();
    assert!(c.findings.is_empty(), "{:?}", c.findings);
    assert_eq!(c.access_valid, 1);

    // Whoever can write the store hides the last view: the chain alone cannot tell.
    s.sql("DELETE FROM access WHERE seq = (SELECT MAX(seq) FROM access)");
    assert!(
        chain_intact(s.out.path()),
        "the access chain alone cannot tell"
    );
    let c = s.check();
    assert_eq!(c.findings.len(), 1, "{:?}", c.findings);
    assert!(
        c.findings[0].starts_with("the access chain ends at access record 3 but the anchor of ")
            && c.findings[0].ends_with("names access record 4: its tail was cut"),
        "{:?}",
        c.findings
    );
    // An alert-chain anchor's signature does not pass for an access-chain one.
    let key = SigningKey::load(&s.elsewhere.path().join("anchor.key")).unwrap();
    let mut swapped = anchor::sign(&key, INSTANCE, 4, "x", 1);
    swapped.chain = anchor::Chain::Access;
    anchor::append(&s.anchors(), &swapped).unwrap();
    let c = s.check();
    assert!(
        c.findings
            .iter()
            .any(|f| f.contains("anchor of access record 4 not signed by this key")),
        "{:?}",
        c.findings
    );
}
