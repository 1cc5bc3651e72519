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
    cpu_ns: AtomicU64,
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
    /// CPU time measured inside the stage's own work (see [`StageCounters::add_cpu`]), µs.
    pub cpu_us: u64,
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

    /// Adds CPU time spent in the stage's own work — measured with the thread's CPU clock
    /// ([`crate::cpu::thread_time`]) around it, so waiting on queues is not counted.
    pub fn add_cpu(&self, d: std::time::Duration) {
        self.cpu_ns
            .fetch_add(d.as_nanos() as u64, Ordering::Relaxed);
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
            cpu_us: self.cpu_ns.load(Ordering::Relaxed) / 1000,
        }
    }
}

/// Exact latency samples for a benchmark window: nothing is kept until [`arm`](Self::arm), and at
/// most `cap` samples after it (then they are counted but not kept), so memory stays bounded.
#[derive(Debug)]
pub struct LatencySamples {
    armed: std::sync::atomic::AtomicBool,
    cap: usize,
    samples: std::sync::Mutex<Vec<u32>>,
    overflow: AtomicU64,
}

impl LatencySamples {
    pub fn new(cap: usize) -> Self {
        Self {
            armed: std::sync::atomic::AtomicBool::new(false),
            cap,
            samples: std::sync::Mutex::new(Vec::new()),
            overflow: AtomicU64::new(0),
        }
    }

    /// Starts keeping samples (and forgets any kept before).
    pub fn arm(&self) {
        if let Ok(mut s) = self.samples.lock() {
            s.clear();
        }
        self.armed.store(true, Ordering::Release);
    }

    pub fn disarm(&self) {
        self.armed.store(false, Ordering::Release);
    }

    pub fn observe(&self, d: std::time::Duration) {
        if !self.armed.load(Ordering::Acquire) {
            return;
        }
        let us = u32::try_from(d.as_micros()).unwrap_or(u32::MAX);
        if let Ok(mut s) = self.samples.lock()
            && s.len() < self.cap
        {
            s.push(us);
            return;
        }
        self.overflow.fetch_add(1, Ordering::Relaxed);
    }

    /// Count and quantiles of the samples kept so far.
    pub fn summary(&self) -> LatencySummary {
        let mut v = self.samples.lock().map(|s| s.clone()).unwrap_or_default();
        v.sort_unstable();
        let q = |p: f64| -> Option<f64> {
            // Nearest rank.
            let n = v.len();
            (n > 0).then(|| {
                let rank = ((p * n as f64).ceil() as usize).clamp(1, n);
                f64::from(v[rank - 1]) / 1000.0
            })
        };
        LatencySummary {
            count: v.len() as u64 + self.overflow.load(Ordering::Relaxed),
            p50_ms: q(0.50),
            p90_ms: q(0.90),
            p99_ms: q(0.99),
            max_ms: v.last().map(|&m| f64::from(m) / 1000.0),
        }
    }
}

/// Quantiles of [`LatencySamples`], in milliseconds (`None` without samples).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct LatencySummary {
    pub count: u64,
    pub p50_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub max_ms: Option<f64>,
}

/// A latency histogram with fixed bucket bounds (Prometheus-style: each bucket counts
/// observations ≤ its bound). Lock-free; observing is two atomic adds.
#[derive(Debug)]
pub struct Histogram {
    bounds_secs: &'static [f64],
    /// One per bound, plus the overflow bucket.
    counts: Vec<AtomicU64>,
    sum_us: AtomicU64,
}

/// Bucket bounds for per-frame work, in seconds (1 ms … 1 s).
pub const LATENCY_BUCKETS_SECS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.02, 0.035, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0,
];

/// A point-in-time copy of a [`Histogram`].
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct HistogramSnapshot {
    pub bounds_secs: Vec<f64>,
    /// Cumulative: observations ≤ each bound.
    pub cumulative: Vec<u64>,
    pub count: u64,
    pub sum_secs: f64,
}

impl Default for Histogram {
    /// A histogram with [`LATENCY_BUCKETS_SECS`].
    fn default() -> Self {
        Self::new(LATENCY_BUCKETS_SECS)
    }
}

impl Histogram {
    pub fn new(bounds_secs: &'static [f64]) -> Self {
        Self {
            bounds_secs,
            counts: (0..=bounds_secs.len()).map(|_| AtomicU64::new(0)).collect(),
            sum_us: AtomicU64::new(0),
        }
    }

    pub fn observe(&self, d: std::time::Duration) {
        let secs = d.as_secs_f64();
        let i = self
            .bounds_secs
            .iter()
            .position(|&b| secs <= b)
            .unwrap_or(self.bounds_secs.len());
        self.counts[i].fetch_add(1, Ordering::Relaxed);
        self.sum_us
            .fetch_add(d.as_micros() as u64, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> HistogramSnapshot {
        let mut running = 0;
        let mut cumulative = Vec::with_capacity(self.bounds_secs.len());
        for c in &self.counts[..self.bounds_secs.len()] {
            running += c.load(Ordering::Relaxed);
            cumulative.push(running);
        }
        let count = running + self.counts[self.bounds_secs.len()].load(Ordering::Relaxed);
        HistogramSnapshot {
            bounds_secs: self.bounds_secs.to_vec(),
            cumulative,
            count,
            sum_secs: self.sum_us.load(Ordering::Relaxed) as f64 / 1e6,
        }
    }
}

#[cfg(test)]
mod histogram_tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn latency_samples_keep_nothing_until_armed_and_give_nearest_rank_quantiles() {
        let l = LatencySamples::new(1000);
        l.observe(Duration::from_secs(9));
        assert_eq!(l.summary().count, 0);
        l.arm();
        for ms in 1..=100 {
            l.observe(Duration::from_millis(ms));
        }
        let s = l.summary();
        assert_eq!(s.count, 100);
        assert_eq!(s.p50_ms, Some(50.0));
        assert_eq!(s.p99_ms, Some(99.0));
        assert_eq!(s.max_ms, Some(100.0));
        let capped = LatencySamples::new(2);
        capped.arm();
        for _ in 0..5 {
            capped.observe(Duration::from_millis(1));
        }
        assert_eq!(capped.summary().count, 5);
    }

    #[test]
    fn histogram_counts_cumulatively_with_an_overflow_bucket() {
        let h = Histogram::new(&[0.01, 0.1]);
        for ms in [5, 10, 50, 2000] {
            h.observe(Duration::from_millis(ms));
        }
        let s = h.snapshot();
        assert_eq!(s.cumulative, [2, 3]);
        assert_eq!(s.count, 4);
        assert!((s.sum_secs - 2.065).abs() < 1e-9);
    }
}
