//! A camera with two streams: the sub-stream decoded for detection and the main stream recorded
//! as evidence. Alerts speak the detect stream's time (continuous across its reconnects, outages
//! left out); the record stream's access units carry the pipeline clock's time (GStreamer's
//! monotonic system clock, which every pipeline of the process shares) at their capture. A
//! [`StreamClock`] maps one onto the other through the latest decoded frame: both streams come
//! from the same camera, so the same instant has one clock time.

use std::sync::Mutex;
use std::time::Duration;

/// The latest decoded frame's stream time and pipeline clock time.
#[derive(Debug, Default)]
pub struct StreamClock {
    latest: Mutex<Option<(Duration, Duration)>>,
}

impl StreamClock {
    /// The detect stream handed on the frame at stream time `stream`, captured at pipeline
    /// clock time `clock`.
    pub fn observe(&self, stream: Duration, clock: Duration) {
        *self.latest.lock().unwrap_or_else(|p| p.into_inner()) = Some((stream, clock));
    }

    fn latest(&self) -> Option<(Duration, Duration)> {
        *self.latest.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The clock time of detect stream time `stream` (`None` before the first frame).
    pub fn to_clock(&self, stream: Duration) -> Option<Duration> {
        let (s, c) = self.latest()?;
        Some(match stream >= s {
            true => c + (stream - s),
            false => c.saturating_sub(s - stream),
        })
    }

    /// The detect stream time of clock time `clock` (`None` before the first frame).
    pub fn to_stream(&self, clock: Duration) -> Option<Duration> {
        let (s, c) = self.latest()?;
        Some(match clock >= c {
            true => s + (clock - c),
            false => s.saturating_sub(c - clock),
        })
    }
}

/// Whether a camera's record stream is up, and why not: written by the stream's status reports,
/// read by its evidence recorder (a clip asked for while it is down says so).
#[derive(Debug, Default)]
pub struct StreamHealth {
    down: Mutex<Option<String>>,
}

impl StreamHealth {
    pub fn set_up(&self) {
        *self.down.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    pub fn set_down(&self, reason: &str) {
        *self.down.lock().unwrap_or_else(|p| p.into_inner()) = Some(reason.to_string());
    }

    /// Why the stream is down; `None` while it is up (or not yet known to be down).
    pub fn down(&self) -> Option<String> {
        self.down.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_map_both_ways_through_the_latest_frame() {
        let clock = StreamClock::default();
        let s = Duration::from_secs;
        assert_eq!(clock.to_clock(s(1)), None);
        // Stream time 10 s was captured at clock 1000 s; a reconnect later moved it.
        clock.observe(s(10), s(1000));
        assert_eq!(clock.to_clock(s(7)), Some(s(997)));
        assert_eq!(clock.to_stream(s(1003)), Some(s(13)));
        clock.observe(s(12), s(1030));
        assert_eq!(clock.to_clock(s(12)), Some(s(1030)));
        assert_eq!(clock.to_stream(s(1020)), Some(s(2)));
        assert_eq!(
            clock.to_stream(s(1000)),
            Some(s(0)),
            "no time before the stream began"
        );
    }
}
