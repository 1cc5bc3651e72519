//! Repeated warnings, rate-limited: a condition that can hold for every frame (a detector that
//! fails, a file that cannot be written) is logged at most once per interval, with how many
//! occurrences the pause swallowed.

use std::time::{Duration, Instant};

/// Lets one occurrence through per `every`; counts the rest.
#[derive(Debug)]
pub struct Throttle {
    every: Duration,
    last: Option<Instant>,
    suppressed: u64,
}

impl Throttle {
    pub fn new(every: Duration) -> Self {
        Self {
            every,
            last: None,
            suppressed: 0,
        }
    }

    /// `Some(n)` when this occurrence should be logged, `n` being how many were swallowed since
    /// the last one logged; `None` to stay quiet.
    pub fn allow(&mut self) -> Option<u64> {
        self.allow_at(Instant::now())
    }

    fn allow_at(&mut self, now: Instant) -> Option<u64> {
        if self
            .last
            .is_some_and(|t| now.duration_since(t) < self.every)
        {
            self.suppressed += 1;
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.suppressed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_per_interval_with_the_count_swallowed() {
        let mut t = Throttle::new(Duration::from_secs(10));
        let t0 = Instant::now();
        assert_eq!(t.allow_at(t0), Some(0));
        let quiet: Vec<_> = (1..=25)
            .map(|i| t.allow_at(t0 + Duration::from_millis(i * 200)))
            .collect();
        assert!(quiet.iter().all(Option::is_none), "{quiet:?}");
        assert_eq!(t.allow_at(t0 + Duration::from_secs(10)), Some(25));
        assert_eq!(t.allow_at(t0 + Duration::from_secs(11)), None);
        assert_eq!(t.allow_at(t0 + Duration::from_secs(21)), Some(1));
    }
}
