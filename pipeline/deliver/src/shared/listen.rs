//! Live events from the shared store: a thread LISTENs on the channels inserts notify, reads each
//! new record or acknowledgement by its key and hands it on. A notification is delivered at
//! commit, so none is skipped the way polling by sequence number can skip a row committed late;
//! after a lost connection the listener says [`DistrictEvent::Resync`] (what happened meanwhile is
//! in the table, not in the notifications).

use super::{ACKS_CHANNEL, Connection, RECORDS_CHANNEL};
use crate::Ack;
use postgres::fallible_iterator::FallibleIterator;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use vigil_core::Alert;

/// Something that reached the shared store.
#[derive(Clone, Debug)]
pub enum DistrictEvent {
    /// A record stored by `instance`.
    Record {
        instance: String,
        record: Box<Alert>,
    },
    /// An acknowledgement made on `instance`.
    Ack {
        id: String,
        instance: String,
        ack: Ack,
    },
    /// Events may have been missed (the connection was lost): read the table again.
    Resync,
}

/// How long one wait for notifications lasts (and so how soon a stop is noticed).
const WAIT: Duration = Duration::from_millis(500);

/// Starts listening; `on` is called on the listener's thread for every event. The thread ends
/// soon after `stop` is set.
pub fn spawn(
    db: &super::Database,
    stop: Arc<AtomicBool>,
    mut on: impl FnMut(DistrictEvent) + Send + 'static,
) -> Result<std::thread::JoinHandle<()>, String> {
    let mut connection = Connection::new(db, "vigil-listener")?;
    std::thread::Builder::new()
        .name("shared-listen".into())
        .spawn(move || {
            let mut listening = false;
            let mut failing = false;
            while !stop.load(Ordering::SeqCst) {
                match turn(&mut connection, &mut listening, &mut on) {
                    Ok(()) => failing = false,
                    Err(e) => {
                        if !failing {
                            tracing::warn!(error = %e, "lost the shared store's live events; reconnecting");
                        }
                        failing = true;
                        if listening {
                            on(DistrictEvent::Resync);
                        }
                        listening = false;
                        connection.reset();
                        for _ in 0..10 {
                            if stop.load(Ordering::SeqCst) {
                                break;
                            }
                            std::thread::sleep(Duration::from_millis(100));
                        }
                    }
                }
            }
        })
        .map_err(|e| format!("cannot start the shared-listen thread: {e}"))
}

/// One wait for notifications, and the reading of what they name.
fn turn(
    connection: &mut Connection,
    listening: &mut bool,
    on: &mut impl FnMut(DistrictEvent),
) -> Result<(), String> {
    let client = connection.client()?;
    if !*listening {
        client
            .batch_execute(&format!("LISTEN {RECORDS_CHANNEL}; LISTEN {ACKS_CHANNEL};"))
            .map_err(|e| super::describe(&e))?;
        *listening = true;
    }
    let mut keys = Vec::new();
    {
        let mut notifications = client.notifications();
        let mut waiting = notifications.timeout_iter(WAIT);
        while let Some(n) = waiting.next().map_err(|e| super::describe(&e))? {
            keys.push((n.channel().to_string(), n.payload().to_string()));
            if keys.len() >= 256 {
                break;
            }
        }
    }
    for (channel, key) in keys {
        let event = if channel == RECORDS_CHANNEL {
            let Ok(seq) = key.parse::<i64>() else {
                continue;
            };
            let row = client
                .query_opt(
                    "SELECT instance, record FROM vigil_records WHERE seq = $1",
                    &[&seq],
                )
                .map_err(|e| super::describe(&e))?;
            let Some(row) = row else { continue };
            let record: String = row.get(1);
            match serde_json::from_str::<Alert>(&record) {
                Ok(record) => DistrictEvent::Record {
                    instance: row.get(0),
                    record: Box::new(record),
                },
                Err(e) => {
                    tracing::warn!(seq, error = %e, "unreadable record in the shared store");
                    continue;
                }
            }
        } else {
            let row = client
                .query_opt(
                    "SELECT instance, by, at_ms, comment FROM vigil_acks WHERE alert_id = $1",
                    &[&key],
                )
                .map_err(|e| super::describe(&e))?;
            let Some(row) = row else { continue };
            DistrictEvent::Ack {
                id: key,
                instance: row.get(0),
                ack: Ack {
                    by: row.get(1),
                    at_ms: row.get(2),
                    comment: row.get(3),
                },
            }
        };
        on(event);
    }
    Ok(())
}
