//! The bounded hand-off between stages, with its policy stated at the edge ([`WhenFull`]).
//!
//! Live cameras use [`WhenFull::DropOldest`]: a detector that falls behind sees the newest frames,
//! and every frame pushed out is counted as [`DropReason::QueueFull`] on the sender's counters.
//! Replay uses [`WhenFull::Block`]: the file source waits, so results do not depend on speed.

use crate::metrics::{DropReason, StageCounters};
use crossbeam_channel::{Receiver, SendTimeoutError, Sender, TrySendError};
use std::sync::{Arc, Weak};
use std::time::Duration;

/// What a sender does when the queue is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WhenFull {
    /// Push out the oldest queued item (counted) and enqueue the new one. Never blocks.
    DropOldest,
    /// Wait for room (backpressure to the producer).
    Block,
}

/// The receiver side has gone: the pipeline is shutting down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Disconnected;

/// Sending half of a bounded queue.
pub struct QueueSender<T> {
    tx: Sender<T>,
    /// Kept to pop the oldest item under [`WhenFull::DropOldest`].
    oldest: Receiver<T>,
    policy: WhenFull,
    counters: Arc<StageCounters>,
    /// Dead once every [`QueueReceiver`] is dropped (`oldest` keeps the channel itself open).
    receivers: Weak<()>,
}

impl<T> Clone for QueueSender<T> {
    fn clone(&self) -> Self {
        Self {
            tx: self.tx.clone(),
            oldest: self.oldest.clone(),
            policy: self.policy,
            counters: self.counters.clone(),
            receivers: self.receivers.clone(),
        }
    }
}

/// Receiving half of a bounded queue; [`QueueReceiver::inner`] joins a `crossbeam_channel::Select`.
pub struct QueueReceiver<T> {
    rx: Receiver<T>,
    _alive: Arc<()>,
}

impl<T> Clone for QueueReceiver<T> {
    fn clone(&self) -> Self {
        Self {
            rx: self.rx.clone(),
            _alive: self._alive.clone(),
        }
    }
}

/// Creates a queue of `capacity` items whose sender counts into `counters`.
pub fn bounded<T>(
    capacity: usize,
    policy: WhenFull,
    counters: Arc<StageCounters>,
) -> (QueueSender<T>, QueueReceiver<T>) {
    let (tx, rx) = crossbeam_channel::bounded(capacity.max(1));
    let alive = Arc::new(());
    let sender = QueueSender {
        tx,
        oldest: rx.clone(),
        policy,
        counters,
        receivers: Arc::downgrade(&alive),
    };
    (sender, QueueReceiver { rx, _alive: alive })
}

impl<T> QueueSender<T> {
    /// Sends by the queue's policy; counts `sent` and any drop.
    pub fn send(&self, item: T) -> Result<(), Disconnected> {
        if self.receivers.strong_count() == 0 {
            return Err(Disconnected);
        }
        let mut item = item;
        match self.policy {
            WhenFull::Block => loop {
                match self.tx.send_timeout(item, Duration::from_millis(100)) {
                    Ok(()) => break,
                    Err(SendTimeoutError::Timeout(back)) => {
                        if self.receivers.strong_count() == 0 {
                            return Err(Disconnected);
                        }
                        item = back;
                    }
                    Err(SendTimeoutError::Disconnected(_)) => return Err(Disconnected),
                }
            },
            WhenFull::DropOldest => loop {
                match self.tx.try_send(item) {
                    Ok(()) => break,
                    Err(TrySendError::Full(back)) => {
                        if self.oldest.try_recv().is_ok() {
                            self.counters.dropped(DropReason::QueueFull);
                        }
                        item = back;
                    }
                    Err(TrySendError::Disconnected(_)) => return Err(Disconnected),
                }
            },
        }
        self.counters.sent();
        Ok(())
    }

    pub fn counters(&self) -> &Arc<StageCounters> {
        &self.counters
    }

    pub fn len(&self) -> usize {
        self.tx.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tx.is_empty()
    }
}

impl<T> QueueReceiver<T> {
    pub fn inner(&self) -> &Receiver<T> {
        &self.rx
    }

    pub fn recv(&self) -> Option<T> {
        self.rx.recv().ok()
    }

    pub fn try_recv(&self) -> Option<T> {
        self.rx.try_recv().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drop_oldest_keeps_newest_and_counts() {
        let counters = Arc::new(StageCounters::default());
        let (tx, rx) = bounded(2, WhenFull::DropOldest, counters.clone());
        for i in 0..5 {
            tx.send(i).unwrap();
        }
        assert_eq!(rx.try_recv(), Some(3));
        assert_eq!(rx.try_recv(), Some(4));
        assert_eq!(rx.try_recv(), None);
        let snap = counters.snapshot();
        assert_eq!((snap.sent, snap.dropped_queue_full), (5, 3));
    }

    #[test]
    fn blocked_sender_wakes_when_receiver_goes() {
        for policy in [WhenFull::Block, WhenFull::DropOldest] {
            let (tx, rx) = bounded::<u8>(1, policy, Arc::default());
            tx.send(1).unwrap();
            let dropper = std::thread::Builder::new()
                .name("drop-receiver".into())
                .spawn(move || {
                    std::thread::sleep(Duration::from_millis(50));
                    drop(rx);
                })
                .unwrap();
            if policy == WhenFull::Block {
                // Waits on the full queue, then gives up when the receiver goes.
                assert_eq!(tx.send(2), Err(Disconnected));
                dropper.join().unwrap();
            } else {
                dropper.join().unwrap();
                assert_eq!(tx.send(2), Err(Disconnected));
            }
        }
    }
}
