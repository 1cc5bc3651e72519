//! The delivery loop: one named thread per receiver takes due records from its [`Outbox`], hands
//! them to a [`Transport`] one at a time, and on failure schedules a retry with exponential
//! backoff and jitter. Woken at once by a nudge when a record is stored (the nudge queue holds
//! one: nudges coalesce), and at the next retry time otherwise.

use crate::outbox::{Outbox, OutboxItem};
use crate::store::now_ms;
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// A way to hand a record to a receiver.
pub trait Transport: Send {
    /// Delivers one record; `Ok` only once the receiver acknowledged it (HTTP 2xx, MQTT PUBACK).
    fn send(&mut self, item: &OutboxItem) -> Result<(), String>;

    /// Called between deliveries and at least every [`IDLE_TICK`] while idle, with the outbox's
    /// connection to the store (MQTT publishes camera status from it).
    fn tick(&mut self, _store: &rusqlite::Connection) {}

    /// Called once when the worker stops.
    fn close(&mut self) {}
}

/// Longest the loop sleeps without looking at the outbox and calling [`Transport::tick`].
pub const IDLE_TICK: Duration = Duration::from_millis(500);

/// Retry delays: `base · 2^(attempts-1)` capped at `max`, with "equal jitter" (the delay is drawn
/// uniformly from its upper half) so receivers coming back are not hit by every sender at once.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::from_millis(500),
            max: Duration::from_secs(300),
        }
    }
}

impl Backoff {
    /// The delay before the next attempt after `attempts` failed ones (≥ 1); `unit` in [0, 1).
    pub fn delay(&self, attempts: u32, unit: f64) -> Duration {
        let exp = attempts.saturating_sub(1).min(30);
        let full = self.base.saturating_mul(1 << exp).min(self.max);
        full / 2 + full.mul_f64(unit.clamp(0.0, 1.0) / 2.0)
    }
}

/// What one receiver's worker did.
#[derive(Debug, Default)]
pub struct DeliveryCounters {
    pub delivered: AtomicU64,
    pub failed_attempts: AtomicU64,
}

/// A running delivery worker.
pub struct Worker {
    pub sink: String,
    pub counters: Arc<DeliveryCounters>,
    nudge: Sender<()>,
    thread: JoinHandle<()>,
}

impl Worker {
    /// A sender whose `try_send(())` wakes the worker (full means a wake-up is already queued).
    pub fn nudger(&self) -> Sender<()> {
        self.nudge.clone()
    }

    /// Waits for the thread (after `stop` was set).
    pub fn join(self) {
        if self.thread.join().is_err() {
            tracing::error!(sink = %self.sink, "delivery worker panicked");
        }
    }
}

/// Starts the worker of `outbox`'s receiver on a thread named `deliver-<sink>`.
pub fn spawn(
    outbox: Outbox,
    transport: Box<dyn Transport>,
    backoff: Backoff,
    stop: Arc<AtomicBool>,
) -> std::io::Result<Worker> {
    let sink = outbox.sink().to_string();
    let counters = Arc::new(DeliveryCounters::default());
    // One slot: a nudge that finds it full is already represented (coalesced, not lost).
    let (nudge, nudged) = crossbeam_channel::bounded(1);
    let c = counters.clone();
    let thread = std::thread::Builder::new()
        .name(format!("deliver-{sink}"))
        .spawn(move || run(outbox, transport, backoff, stop, nudged, &c))?;
    Ok(Worker {
        sink,
        counters,
        nudge,
        thread,
    })
}

fn run(
    mut outbox: Outbox,
    mut transport: Box<dyn Transport>,
    backoff: Backoff,
    stop: Arc<AtomicBool>,
    nudged: Receiver<()>,
    counters: &DeliveryCounters,
) {
    let sink = outbox.sink().to_string();
    let mut rng = fastrand::Rng::new();
    let mut last_error_logged: Option<std::time::Instant> = None;
    while !stop.load(Ordering::Relaxed) {
        transport.tick(outbox.connection());
        let due = match outbox.due(now_ms(), 64) {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(%sink, error = %e, "outbox unreadable");
                std::thread::sleep(IDLE_TICK);
                continue;
            }
        };
        if due.is_empty() {
            let wait = match outbox.next_due_ms() {
                Ok(Some(at)) => Duration::from_millis((at - now_ms()).max(0) as u64),
                _ => IDLE_TICK,
            };
            match nudged.recv_timeout(wait.min(IDLE_TICK)) {
                Ok(()) | Err(RecvTimeoutError::Timeout) => {}
                // Nobody can nudge any more: keep polling on the timer.
                Err(RecvTimeoutError::Disconnected) => std::thread::sleep(wait.min(IDLE_TICK)),
            }
            continue;
        }
        for item in due {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            let result = transport.send(&item).and_then(|()| {
                outbox
                    .delivered(&item)
                    .map_err(|e| format!("delivered but not recorded (will repeat): {e}"))
            });
            match result {
                Ok(()) => {
                    counters.delivered.fetch_add(1, Ordering::Relaxed);
                    let latency = (now_ms() - item.created_ms).max(0);
                    tracing::debug!(%sink, key = %item.idempotency_key(), latency_ms = latency, "delivered");
                }
                Err(error) => {
                    counters.failed_attempts.fetch_add(1, Ordering::Relaxed);
                    let attempts = item.attempts + 1;
                    let delay = backoff.delay(attempts, rng.f64());
                    // One warning per receiver per 10 s; the rest at debug.
                    let loud =
                        last_error_logged.is_none_or(|t| t.elapsed() > Duration::from_secs(10));
                    if loud {
                        last_error_logged = Some(std::time::Instant::now());
                        tracing::warn!(%sink, key = %item.idempotency_key(), attempts, retry_in_ms = delay.as_millis() as u64, %error, "delivery failed");
                    } else {
                        tracing::debug!(%sink, key = %item.idempotency_key(), attempts, %error, "delivery failed");
                    }
                    let retry_at = now_ms() + delay.as_millis() as i64;
                    if let Err(e) = outbox.failed(&item, &error, retry_at) {
                        tracing::error!(%sink, error = %e, "cannot record failed delivery");
                    }
                }
            }
        }
    }
    transport.close();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_within_jitter_and_is_capped() {
        let b = Backoff {
            base: Duration::from_secs(1),
            max: Duration::from_secs(60),
        };
        assert_eq!(b.delay(1, 0.0), Duration::from_millis(500));
        assert_eq!(b.delay(1, 0.999_999).as_millis(), 999);
        assert_eq!(b.delay(3, 0.0), Duration::from_secs(2));
        assert_eq!(b.delay(40, 1.0), Duration::from_secs(60));
        assert_eq!(b.delay(40, 0.0), Duration::from_secs(30));
    }
}
