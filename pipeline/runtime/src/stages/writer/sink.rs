//! Where the alert writer puts records: the SQLite store (hash-chained, with every
//! receiver's outbox), `alerts.jsonl`, the terminal and the live events; retention of clips;
//! and, at start, what a killed run left unfinished.

use anyhow::Result;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};
use vigil_core::{Alert, AlertEvent};
use vigil_evidence::retention::{EvidenceFile, RetentionLimits};

/// Why an alert raised by a run that was killed has no clip.
pub const INTERRUPTED: &str =
    "vigil stopped (killed or crashed) before this alert's clip was written";

/// Where the writer puts alert records: the SQLite store, `alerts.jsonl`, and the terminal.
pub struct AlertSink {
    store: vigil_deliver::AlertStore,
    log: vigil_deliver::JsonlLog,
    print: bool,
    dir: PathBuf,
    /// Wake the delivery workers (full: a wake-up is already queued).
    nudgers: Vec<crossbeam_channel::Sender<()>>,
    /// Every stored record goes to the live-event clients.
    events: vigil_serve::Events,
    /// When the delivery log and status history were last pruned.
    pruned: Option<Instant>,
}

/// How often the delivery log and status history are pruned (retention runs far more often).
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// Days the delivery log and camera status history are kept (alert records are kept for good;
/// their clips follow the evidence retention).
const HISTORY_DAYS: i64 = 90;

/// How often retention runs when nothing else happens (it also runs after every clip).
pub const RETENTION_EVERY: Duration = Duration::from_secs(30);

impl AlertSink {
    /// Cleans up after a run that was killed: removes half-written evidence files (`*.part`:
    /// clips and snapshots are written to a temporary name and renamed when complete) and gives
    /// every alert whose clip never came an `evidence` record saying why, so each alert's record
    /// set is complete and receivers hear about it.
    pub fn recover_interrupted(&mut self, evidence: &Path) {
        let mut removed = 0;
        let mut folders = vec![evidence.to_path_buf()];
        while let Some(dir) = folders.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries.flatten() {
                let path = e.path();
                if path.is_dir() {
                    folders.push(path);
                } else if path.extension().is_some_and(|x| x == "part")
                    && std::fs::remove_file(&path).is_ok()
                {
                    removed += 1;
                }
            }
        }
        if removed > 0 {
            tracing::warn!(
                removed,
                "removed half-written evidence files left by a killed run"
            );
        }
        let records = match self.store.all() {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the store to finish interrupted alerts");
                return;
            }
        };
        let mut waiting: BTreeMap<vigil_core::AlertId, Alert> = BTreeMap::new();
        for r in records {
            match r.event {
                AlertEvent::Start => {
                    waiting.insert(r.id.clone(), r);
                }
                AlertEvent::Evidence | AlertEvent::Expired => {
                    waiting.remove(&r.id);
                }
                _ => {}
            }
        }
        let marked = waiting.len();
        for (_, mut alert) in waiting {
            alert.event = AlertEvent::Evidence;
            alert.evidence.error = Some(INTERRUPTED.to_string());
            self.write(&alert);
        }
        if marked > 0 {
            tracing::warn!(marked, "alerts of a killed run marked as without a clip");
        }
    }

    pub fn open(
        dir: &Path,
        print: bool,
        routes: Vec<vigil_deliver::Route>,
        nudgers: Vec<crossbeam_channel::Sender<()>>,
        events: vigil_serve::Events,
    ) -> Result<Self> {
        Ok(Self {
            store: vigil_deliver::AlertStore::open(&dir.join("alerts.db"))?.with_routes(routes),
            log: vigil_deliver::JsonlLog::open(&dir.join("alerts.jsonl"))?,
            print,
            dir: dir.to_path_buf(),
            nudgers,
            events,
            pruned: None,
        })
    }

    /// Deletes clips beyond the retention budgets, oldest first, and records each deletion (an
    /// `expired` record per alert that shared the file) so `vigil verify` stays intact.
    pub fn enforce_retention(&mut self, limits: &RetentionLimits) {
        // The delivery log and camera status history are kept for HISTORY_DAYS: pruned at the
        // first pass and then hourly, not at every pass.
        if self.pruned.is_none_or(|t| t.elapsed() >= PRUNE_EVERY) {
            self.pruned = Some(Instant::now());
            let cutoff = vigil_deliver::now_ms() - HISTORY_DAYS * 86_400_000;
            if let Err(e) = self.store.prune_history(cutoff) {
                tracing::warn!(error = %e, "retention: cannot prune the delivery and status history");
            }
        }
        let live = match self.store.live_clips() {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "retention: cannot list clips");
                return;
            }
        };
        // One query for every acknowledgement, not one per clip.
        let acked = self.store.acknowledged_ids().unwrap_or_else(|e| {
            tracing::warn!(error = %e, "retention: cannot read acknowledgements");
            Default::default()
        });
        let mut files: Vec<EvidenceFile> = Vec::new();
        for a in &live {
            let Some(clip) = a.evidence.clip.as_ref() else {
                continue;
            };
            let acknowledged = acked.contains(a.id.as_str());
            if let Some(f) = files.iter_mut().find(|f| f.path == clip.path) {
                // Shared by several alerts: acknowledged only when all of them are.
                f.acknowledged &= acknowledged;
                continue;
            }
            let meta = std::fs::metadata(self.dir.join(&clip.path)).ok();
            files.push(EvidenceFile {
                camera: a.camera.to_string(),
                path: clip.path.clone(),
                bytes: meta.as_ref().map_or(0, |m| m.len()),
                created: meta
                    .and_then(|m| m.modified().ok())
                    .unwrap_or_else(SystemTime::now),
                acknowledged,
            });
        }
        let now = SystemTime::now();
        for (i, why) in vigil_evidence::retention::plan(&files, *limits, now) {
            let f = &files[i];
            match std::fs::remove_file(self.dir.join(&f.path)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::warn!(path = %f.path, error = %e, "retention: cannot delete clip");
                    continue;
                }
            }
            tracing::info!(path = %f.path, reason = why.describe(), "retention: clip deleted");
            let sharing = live
                .iter()
                .filter(|a| a.evidence.clip.as_ref().is_some_and(|c| c.path == f.path));
            for snap in sharing.filter_map(|a| a.evidence.snapshot.as_ref()) {
                for p in [&snap.path, &snap.clean_path] {
                    let _ = std::fs::remove_file(self.dir.join(p));
                }
            }
            let sharing = live
                .iter()
                .filter(|a| a.evidence.clip.as_ref().is_some_and(|c| c.path == f.path));
            let grounds = vigil_evidence::retention::grounds(&files, i, &why, *limits, now);
            for a in sharing {
                let mut record = a.clone();
                record.event = a.event.expiry();
                record.evidence.error = Some(format!("deleted by retention: {}", why.describe()));
                record.evidence.retention = Some(grounds.clone());
                self.write(&record);
            }
        }
    }

    /// Stores one record; false (logged) when it could not be stored.
    pub fn write(&mut self, alert: &Alert) -> bool {
        let stored = self.store.insert(alert).and_then(|record| {
            self.log.append(&record)?;
            Ok(record)
        });
        match stored {
            Ok(record) => {
                for n in &self.nudgers {
                    let _ = n.try_send(());
                }
                self.events.publish(vigil_serve::LiveEvent::Alert {
                    record: Box::new(record.clone()),
                });
                if self.print {
                    println!("{}", crate::describe::describe(&record));
                }
                true
            }
            Err(e) => {
                tracing::error!(alert = %alert.id, error = %e, "cannot store alert");
                false
            }
        }
    }
}
