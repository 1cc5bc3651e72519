//! Anchors: the head of the store's hash chain (a record's `seq` and hash), signed with an
//! ed25519 key kept outside the output folder, and written off the box — appended to a file on
//! another mount. A hash chain alone proves nothing against someone who can write the store: they
//! can cut its tail, or edit a record and recompute every hash after it. Neither survives an
//! anchor they cannot sign: [`check`] finds the chain's record at each anchored `seq` and compares
//! hashes, and reports a store that ends before the newest anchor.
//!
//! The access chain ([`crate::access`]) is anchored the same way, so a cut tail of who-saw-what
//! is found too.
//!
//! An anchor is one JSON line: `{"v":1,"instance","seq","hash","at_ms","sig"}` (and `"chain":
//! "access"` for the access chain), `sig` being the hex ed25519 signature of [`message`]. The key is a PKCS#8 file made by [`generate`] (`vigil
//! keygen`); the public half, 64 hex digits, is what `vigil verify --public-key` takes.

use crate::keys::SigningKey;
use crate::{DeliverError, store_err};
use rusqlite::{Connection, OpenFlags};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Which hash chain of the store an anchor signs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Chain {
    /// The alert records (`alerts`).
    #[default]
    Alerts,
    /// Who accessed which alert (`access`).
    Access,
}

impl Chain {
    fn is_alerts(&self) -> bool {
        *self == Chain::Alerts
    }

    fn table(self) -> &'static str {
        match self {
            Chain::Alerts => "alerts",
            Chain::Access => "access",
        }
    }

    /// How findings name the whole chain.
    fn whole(self) -> &'static str {
        match self {
            Chain::Alerts => "the store",
            Chain::Access => "the access chain",
        }
    }

    /// How findings name its records.
    fn records(self) -> &'static str {
        match self {
            Chain::Alerts => "record",
            Chain::Access => "access record",
        }
    }
}

/// One signed chain head.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anchor {
    /// Format version (1).
    pub v: u32,
    #[serde(default, skip_serializing_if = "Chain::is_alerts")]
    pub chain: Chain,
    pub instance: String,
    /// The `seq` of the chain's last record when it was signed.
    pub seq: i64,
    /// That record's hash.
    pub hash: String,
    pub at_ms: i64,
    /// Hex ed25519 signature of [`message`].
    pub sig: String,
}

/// What is signed: every field but the signature, on lines of their own under a domain tag (one
/// per chain, so an anchor of one chain never passes for the other's).
pub fn message(chain: Chain, instance: &str, seq: i64, hash: &str, at_ms: i64) -> Vec<u8> {
    let tag = match chain {
        Chain::Alerts => "vigil-anchor-v1",
        Chain::Access => "vigil-anchor-access-v1",
    };
    format!("{tag}\n{instance}\n{seq}\n{hash}\n{at_ms}\n").into_bytes()
}

/// The anchor of the alert chain's head (`seq`, `hash`) at `at_ms`, signed with `key`.
pub fn sign(key: &SigningKey, instance: &str, seq: i64, hash: &str, at_ms: i64) -> Anchor {
    sign_chain(key, Chain::Alerts, instance, seq, hash, at_ms)
}

/// The anchor of `chain`'s head (`seq`, `hash`) at `at_ms`, signed with `key`.
pub fn sign_chain(
    key: &SigningKey,
    chain: Chain,
    instance: &str,
    seq: i64,
    hash: &str,
    at_ms: i64,
) -> Anchor {
    Anchor {
        v: 1,
        chain,
        instance: instance.to_string(),
        seq,
        hash: hash.to_string(),
        at_ms,
        sig: key.sign_bytes(&message(chain, instance, seq, hash, at_ms)),
    }
}

/// The chain's head in the store at `db`: the last record's `seq` and hash (none when empty).
pub fn head(db: &Path) -> Result<Option<(i64, String)>, DeliverError> {
    let p = db.display().to_string();
    let conn = open(db)?;
    head_of(&conn, Chain::Alerts).map_err(store_err(&p))
}

/// The store at `db`, read-only.
fn open(db: &Path) -> Result<Connection, DeliverError> {
    Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(store_err(&db.display().to_string()))
}

/// `chain`'s head on an open connection (none when empty, or when the store predates it).
fn head_of(conn: &Connection, chain: Chain) -> rusqlite::Result<Option<(i64, String)>> {
    if !has_table(conn, chain)? {
        return Ok(None);
    }
    let row = conn.query_row(
        &format!(
            "SELECT seq, hash FROM {} ORDER BY seq DESC LIMIT 1",
            chain.table()
        ),
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    );
    match row {
        Ok(h) => Ok(Some(h)),
        Err(rusqlite::Error::QueryReturnedNoRows) => Ok(None),
        Err(e) => Err(e),
    }
}

fn has_table(conn: &Connection, chain: Chain) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)",
        [chain.table()],
        |r| r.get(0),
    )
}

/// Appends `anchor` as one line to the file at `path` (created if absent) and syncs it.
pub fn append(path: &Path, anchor: &Anchor) -> Result<(), String> {
    let line = serde_json::to_string(anchor).map_err(|e| e.to_string())? + "\n";
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    file.write_all(line.as_bytes())
        .and_then(|()| file.sync_data())
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// What [`check`] found.
#[derive(Debug, Default)]
pub struct AnchorCheck {
    /// Anchors of this instance's alert chain whose signature holds.
    pub valid: usize,
    /// … and of its access chain.
    pub access_valid: usize,
    /// The newest of them, if any.
    pub newest: Option<Anchor>,
    pub findings: Vec<String>,
}

/// Checks the store in `dir` against the anchors of `instance` in the file at `anchors`, signed by
/// `public_key` (64 hex digits): each anchor's signature, then for each valid anchor the store's
/// record at its `seq` must exist and have its hash. An anchor file without one valid anchor of
/// the instance is itself a finding (the anchors were removed, or the key is not theirs).
pub fn check(
    dir: &Path,
    anchors: &Path,
    public_key: &str,
    instance: &str,
) -> Result<AnchorCheck, String> {
    let key = crate::keys::PublicKey::parse(public_key)?;
    let text =
        std::fs::read_to_string(anchors).map_err(|e| format!("{}: {e}", anchors.display()))?;
    let db = dir.join("alerts.db");
    let p = db.display().to_string();
    let conn = open(&db).map_err(|e| e.to_string())?;
    let mut last: [Option<i64>; 2] = [None, None];
    for (i, chain) in [Chain::Alerts, Chain::Access].into_iter().enumerate() {
        if has_table(&conn, chain).map_err(|e| format!("{p}: {e}"))? {
            last[i] = conn
                .query_row(
                    &format!("SELECT MAX(seq) FROM {}", chain.table()),
                    [],
                    |r| r.get(0),
                )
                .map_err(|e| format!("{p}: {e}"))?;
        }
    }
    let mut out = AnchorCheck::default();
    let shown = anchors.display();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let n = i + 1;
        let anchor: Anchor = match serde_json::from_str(line) {
            Ok(a) => a,
            Err(e) => {
                out.findings
                    .push(format!("{shown}:{n}: not an anchor ({e})"));
                continue;
            }
        };
        if anchor.instance != instance {
            continue;
        }
        let chain = anchor.chain;
        let records = chain.records();
        let m = message(
            chain,
            &anchor.instance,
            anchor.seq,
            &anchor.hash,
            anchor.at_ms,
        );
        let signed = key.verifies(&m, &anchor.sig);
        if !signed {
            out.findings.push(format!(
                "{shown}:{n}: anchor of {records} {} not signed by this key (forged or another key's)",
                anchor.seq
            ));
            continue;
        }
        let last = last[chain as usize];
        if chain == Chain::Access {
            out.access_valid += 1;
        } else {
            out.valid += 1;
        }
        let stored: Option<String> = if last.is_none() {
            None
        } else {
            conn.query_row(
                &format!("SELECT hash FROM {} WHERE seq = ?1", chain.table()),
                [anchor.seq],
                |r| r.get(0),
            )
            .map(Some)
            .or_else(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Ok(None),
                e => Err(format!("{p}: {e}")),
            })?
        };
        let at = vigil_core::time::rfc3339(
            std::time::UNIX_EPOCH + std::time::Duration::from_millis(anchor.at_ms.max(0) as u64),
        );
        match stored {
            Some(h) if h == anchor.hash => {}
            Some(_) => out.findings.push(format!(
                "{records} {} differs from its anchor of {at}: the chain was rewritten",
                anchor.seq
            )),
            None if last.is_none_or(|l| l < anchor.seq) => out.findings.push(format!(
                "{} ends at {records} {} but the anchor of {at} names {records} {}: its tail was cut",
                chain.whole(),
                last.unwrap_or(0),
                anchor.seq
            )),
            None => out.findings.push(format!(
                "{records} {} named by the anchor of {at} is gone from the store",
                anchor.seq
            )),
        }
        if chain == Chain::Alerts && out.newest.as_ref().is_none_or(|a| a.seq <= anchor.seq) {
            out.newest = Some(anchor);
        }
    }
    if out.valid == 0 {
        out.findings.push(format!(
            "{shown}: no anchor of instance {instance} signed by this key"
        ));
    }
    Ok(out)
}

/// Where the anchors of a run go, and how often.
#[derive(Clone, Debug)]
pub struct AnchorTarget {
    pub key: PathBuf,
    pub file: PathBuf,
    /// Anchor once this many records were added since the last anchor …
    pub every_records: u32,
    /// … or this long after the last one, when anything was added.
    pub every: std::time::Duration,
}

/// How often the anchoring thread looks at the chain's head.
const POLL: std::time::Duration = std::time::Duration::from_secs(1);

/// The anchoring thread of a run; [`Anchoring::stop`] anchors the final head and joins it.
pub struct Anchoring {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Anchoring {
    pub fn stop(mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Whether `inner` lies inside `folder` (both resolved; `inner` may not exist yet).
fn inside(inner: &Path, folder: &Path) -> bool {
    let resolve = |p: &Path| {
        p.canonicalize().ok().or_else(|| {
            let parent = p.parent()?.canonicalize().ok()?;
            Some(parent.join(p.file_name()?))
        })
    };
    match (resolve(inner), folder.canonicalize().ok()) {
        (Some(i), Some(f)) => i.starts_with(f),
        _ => false,
    }
}

/// Starts anchoring the chain of the store in `out` as `instance`: the key and the anchor file
/// must lie outside `out` (whoever can rewrite the folder must not reach them), and the key must
/// load. Anchors every [`AnchorTarget::every_records`] records, every [`AnchorTarget::every`]
/// when anything was added, and once more when stopped.
pub fn spawn(out: &Path, target: &AnchorTarget, instance: &str) -> Result<Anchoring, String> {
    for (what, path) in [("key", &target.key), ("anchor file", &target.file)] {
        if inside(path, out) {
            return Err(format!(
                "the anchor {what} {} lies inside the output folder {}: keep it on another mount, or the anchors prove nothing",
                path.display(),
                out.display()
            ));
        }
    }
    let key = SigningKey::load(&target.key)?;
    let db = out.join("alerts.db");
    let target = target.clone();
    let instance = instance.to_string();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = stop.clone();
    tracing::info!(public_key = %key.public_hex(), file = %target.file.display(), "anchoring the alert chain");
    let thread = std::thread::Builder::new()
        .name("anchor".into())
        .spawn(move || {
            // Per chain (alerts, access): the last anchored seq and when.
            let mut anchored: [Option<(i64, std::time::Instant)>; 2] = [None, None];
            let mut last_error: Option<String> = None;
            // One connection for the run, opened again only after an error.
            let mut conn: Option<Connection> = None;
            loop {
                let stopping = flag.load(std::sync::atomic::Ordering::SeqCst);
                let due = |chain: Chain, seq: i64| match anchored[chain as usize] {
                    None => true,
                    Some((done, at)) => {
                        seq > done
                            && (stopping
                                || seq - done >= i64::from(target.every_records)
                                || at.elapsed() >= target.every)
                    }
                };
                let heads = match conn.take() {
                    Some(c) => Ok(c),
                    None => open(&db),
                }
                .map_err(|e| e.to_string())
                .and_then(|c| {
                    let both = [Chain::Alerts, Chain::Access]
                        .map(|chain| head_of(&c, chain).map(|h| h.map(|h| (chain, h))));
                    let [alerts, access] = both;
                    let heads = alerts
                        .and_then(|a| access.map(|b| [a, b]))
                        .map_err(|e| format!("{}: {e}", db.display()))?;
                    conn = Some(c);
                    Ok(heads)
                });
                let result = heads.and_then(|heads| {
                    let mut signed = Vec::new();
                    for (chain, (seq, hash)) in heads.into_iter().flatten() {
                        if due(chain, seq) {
                            let a = sign_chain(&key, chain, &instance, seq, &hash, crate::now_ms());
                            append(&target.file, &a)?;
                            signed.push((chain, seq));
                        }
                    }
                    Ok(signed)
                });
                match result {
                    Ok(signed) => {
                        for (chain, seq) in signed {
                            anchored[chain as usize] = Some((seq, std::time::Instant::now()));
                        }
                        last_error = None;
                    }
                    Err(e) => {
                        if last_error.as_deref() != Some(e.as_str()) {
                            tracing::warn!(error = %e, "cannot anchor the store's chains (retried every second)");
                        }
                        last_error = Some(e);
                    }
                }
                if stopping {
                    return;
                }
                std::thread::sleep(POLL);
            }
        })
        .map_err(|e| format!("cannot start the anchor thread: {e}"))?;
    Ok(Anchoring {
        stop,
        thread: Some(thread),
    })
}
