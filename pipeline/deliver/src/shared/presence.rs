//! An instance's own rows in the shared store, kept by a thread of its own ([`spawn`]): where it
//! can be reached (refreshed every [`HEARTBEAT`]; marked stopped when it stops) and the
//! acknowledgements its operators made (polled from its SQLite store every second, each written
//! once and then marked shared there — so one made while the database is down arrives later).

use super::Connection;
use crate::{Ack, AlertStore, now_ms};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How often an instance refreshes its row.
pub const HEARTBEAT: Duration = Duration::from_secs(5);

/// How often the store is asked for new acknowledgements.
const ACK_POLL: Duration = Duration::from_secs(1);

/// What an instance says of itself.
#[derive(Clone, Debug)]
pub struct Announce {
    pub instance: String,
    /// Where the other instances reach its API (`http://host:port`), if it has one.
    pub url: Option<String>,
    pub shard: Option<String>,
    pub cameras: Vec<String>,
}

/// What the thread did, for `/metrics`.
#[derive(Debug, Default)]
pub struct PresenceCounters {
    /// Acknowledgements written to the shared store.
    pub acks_shared: AtomicU64,
    /// Heartbeats or acknowledgement writes that failed (retried at the next turn).
    pub failures: AtomicU64,
}

/// The running thread; [`Presence::stop`] marks the instance stopped and joins it.
pub struct Presence {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Presence {
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Starts keeping `announce`'s row and the acknowledgements of the store at `store` in the
/// shared store.
pub fn spawn(
    store: &Path,
    shared: &super::Database,
    announce: Announce,
    counters: Arc<PresenceCounters>,
) -> Result<Presence, String> {
    let store = AlertStore::open(store).map_err(|e| e.to_string())?;
    let connection = Connection::writer(shared, &announce.instance)?;
    let stop = Arc::new(AtomicBool::new(false));
    let mut keeper = Keeper {
        connection,
        store,
        cameras: serde_json::to_string(&announce.cameras).expect("strings serialise"),
        announce,
        started_ms: now_ms(),
        counters: counters.clone(),
        failing: false,
    };
    let flag = stop.clone();
    let thread = std::thread::Builder::new()
        .name("shared-presence".into())
        .spawn(move || keeper.run(&flag))
        .map_err(|e| format!("cannot start the shared-presence thread: {e}"))?;
    Ok(Presence {
        stop,
        thread: Some(thread),
    })
}

struct Keeper {
    connection: Connection,
    store: AlertStore,
    announce: Announce,
    cameras: String,
    started_ms: i64,
    counters: Arc<PresenceCounters>,
    /// Whether the last turn failed (to log a failure once, and the recovery).
    failing: bool,
}

impl Keeper {
    fn run(&mut self, stop: &AtomicBool) {
        let mut next_beat = Instant::now();
        while !stop.load(Ordering::SeqCst) {
            let mut result = self.share_acks();
            if result.is_ok() && Instant::now() >= next_beat {
                result = self.beat();
                next_beat = Instant::now() + HEARTBEAT;
            }
            self.note(result);
            let until = Instant::now() + ACK_POLL;
            while Instant::now() < until && !stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        // Said once more on the way out, so nothing acknowledged at the last moment waits for
        // the next start.
        let last = self.share_acks().and_then(|()| self.stopped());
        self.note(last);
    }

    fn note(&mut self, result: Result<(), String>) {
        match result {
            Ok(()) if self.failing => {
                self.failing = false;
                tracing::info!("shared store reachable again");
            }
            Ok(()) => {}
            Err(e) => {
                self.counters.failures.fetch_add(1, Ordering::Relaxed);
                if !self.failing {
                    tracing::warn!(error = %e, "cannot update this instance's rows in the shared store; retrying");
                }
                self.failing = true;
            }
        }
    }

    fn beat(&mut self) -> Result<(), String> {
        let a = &self.announce;
        let (cameras, started) = (&self.cameras, self.started_ms);
        self.connection
            .with(|c| {
                // Seen by the database's clock, which every reader compares with.
                c.execute(
                    concat!(
                        "INSERT INTO vigil_instances \
                         (instance, url, shard, cameras, started_ms, seen_ms, stopped_ms) \
                         VALUES ($1, $2, $3, $4, $5, ",
                        db_now_ms!(),
                        ", NULL) ON CONFLICT (instance) DO UPDATE SET url = $2, shard = $3, \
                         cameras = $4, started_ms = $5, seen_ms = EXCLUDED.seen_ms, \
                         stopped_ms = NULL"
                    ),
                    &[&a.instance, &a.url, &a.shard, cameras, &started],
                )
            })
            .map(|_| ())
    }

    fn stopped(&mut self) -> Result<(), String> {
        let name = &self.announce.instance;
        self.connection
            .with(|c| {
                c.execute(
                    concat!(
                        "UPDATE vigil_instances SET stopped_ms = ",
                        db_now_ms!(),
                        " WHERE instance = $1"
                    ),
                    &[name],
                )
            })
            .map(|_| ())
    }

    /// Writes the acknowledgements not yet shared; the first one of an alert wins there as it
    /// does in the store.
    fn share_acks(&mut self) -> Result<(), String> {
        let acks: Vec<(String, Ack)> = self.store.unshared_acks(100).map_err(|e| e.to_string())?;
        if acks.is_empty() {
            return Ok(());
        }
        let instance = &self.announce.instance;
        self.connection.with(|c| {
            let mut tx = c.transaction()?;
            for (id, ack) in &acks {
                tx.execute(
                    "WITH ins AS (INSERT INTO vigil_acks \
                     (alert_id, instance, by, at_ms, comment, received_ms) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (alert_id) DO NOTHING \
                     RETURNING alert_id) SELECT pg_notify($7, alert_id) FROM ins",
                    &[
                        id,
                        instance,
                        &ack.by,
                        &ack.at_ms,
                        &ack.comment,
                        &now_ms(),
                        &super::ACKS_CHANNEL,
                    ],
                )?;
            }
            tx.commit()
        })?;
        let ids: Vec<String> = acks.into_iter().map(|(id, _)| id).collect();
        self.store.acks_shared(&ids).map_err(|e| e.to_string())?;
        self.counters
            .acks_shared
            .fetch_add(ids.len() as u64, Ordering::Relaxed);
        Ok(())
    }
}
