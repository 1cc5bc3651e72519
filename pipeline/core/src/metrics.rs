//! Per-stage counters: every stage counts what it received, sent and dropped (with the reason).
//! Lock-free atomics, read by `snapshot()` for logs, `vigil bench` and (later) `/metrics`.

use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};

/// Why a stage dropped an item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    /// The downstream queue was full and its policy is drop-oldest.
    QueueFull,
    /// Not selected by `detect_fps` sampling (expected, not a loss).
    Sampling,
    /// The item could not be processed (inference failure, malformed buffer).
    Error,
    /// Arrived after a newer item of the same camera (out of order).
    Stale,
}

impl DropReason {
    pub const ALL: [DropReason; 4] = [
        DropReason::QueueFull,
        DropReason::Sampling,
        DropReason::Error,
        DropReason::Stale,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::QueueFull => "queue_full",
            DropReason::Sampling => "sampling",
            DropReason::Error => "error",
            DropReason::Stale => "stale",
        }
    }
}

/// Counters of one stage (for one camera, or for all).
#[derive(Debug, Default)]
pub struct StageCounters {
    received: AtomicU64,
    sent: AtomicU64,
    dropped: [AtomicU64; DropReason::ALL.len()],
}

/// A point-in-time copy of [`StageCounters`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct StageSnapshot {
    pub received: u64,
    pub sent: u64,
    pub dropped_queue_full: u64,
    pub dropped_sampling: u64,
    pub dropped_error: u64,
    pub dropped_stale: u64,
}

impl StageSnapshot {
    /// Losses: drops other than the intended sampling ones.
    pub fn lost(&self) -> u64 {
        self.dropped_queue_full + self.dropped_error + self.dropped_stale
    }
}

impl StageCounters {
    pub fn received(&self) {
        self.received.fetch_add(1, Ordering::Relaxed);
    }

    pub fn sent(&self) {
        self.sent.fetch_add(1, Ordering::Relaxed);
    }

    pub fn dropped(&self, reason: DropReason) {
        self.dropped[reason as usize].fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> StageSnapshot {
        let d = |r: DropReason| self.dropped[r as usize].load(Ordering::Relaxed);
        StageSnapshot {
            received: self.received.load(Ordering::Relaxed),
            sent: self.sent.load(Ordering::Relaxed),
            dropped_queue_full: d(DropReason::QueueFull),
            dropped_sampling: d(DropReason::Sampling),
            dropped_error: d(DropReason::Error),
            dropped_stale: d(DropReason::Stale),
        }
    }
}
